//go:build !js

package ws_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/handshake"
)

// idleConns is how many connections TestIdleMemory holds open at once,
// each with both its ends in this process.
const idleConns = 10_000

// idlePairBudget bounds the memory of one idle connection counting both
// ends (server: the handler's goroutine ranging over Incoming plus the
// connection's reader and writer; client: reader and writer) after one
// echoed message, as Go heap and stacks in use: docs/benchmarks.md
// (Figure 3) has the measured figures; this is them with some margin.
const idlePairBudget = 64 << 10

// TestIdleMemory opens idleConns connections to ws.Handler, echoes one
// message on each and measures what they hold while idle. The connections
// run over in-memory pipes (net.Pipe) through a real http.Server and the
// real client handshake: 20,000 sockets in one process need more open
// files than a test can count on, and a socket's own Go state (netFD and
// poll descriptor, about 0.3 KiB) is in the bench's TCP figures.
func TestIdleMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 10,000 connections; skipped in -short")
	}
	if raceEnabled {
		t.Skip("the race detector changes heap figures; this test runs without -race")
	}
	h := ws.Handler(echo)
	ln := newPipeListener()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		require.NoError(t, h.Shutdown(context.Background()))
		_ = srv.Close()
	}()

	before := inUse()
	conns := make([]*actor.Conn, idleConns)
	var wg sync.WaitGroup
	errs := make(chan error, idleConns)
	const dialers = 32
	for d := range dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := d; i < idleConns; i += dialers {
				c, err := pipeDial(ln)
				if err != nil {
					errs <- err
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	close(errs)
	require.NoError(t, <-errs)
	require.Equal(t, idleConns, h.Len())
	after := inUse()
	if path := os.Getenv("WS_IDLE_HEAPPROFILE"); path != "" {
		f, err := os.Create(path)
		require.NoError(t, err)
		require.NoError(t, pprof.WriteHeapProfile(f))
		require.NoError(t, f.Close())
	}
	per := float64(after-before) / idleConns
	t.Logf("%d idle connections: %.1f KiB per connection, both ends (budget %d KiB); %d goroutines",
		idleConns, per/1024, idlePairBudget>>10, runtime.NumGoroutine())
	require.Less(t, per, float64(idlePairBudget))

	for _, c := range conns {
		_ = c.CloseNow()
	}
	runtime.KeepAlive(conns)
}

// pipeDial opens a connection to ln's server with ws.Dial's handshake and
// defaults, and echoes one message over it.
func pipeDial(ln *pipeListener) (*actor.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := ln.dial()
	if err != nil {
		return nil, err
	}
	acc, err := (&handshake.Client{}).Handshake(ctx, conn, "ws://pipe/")
	if err != nil {
		conn.Close()
		return nil, err
	}
	c, err := actor.New(acc.Conn, acc.Reader, frame.Client,
		actor.WithKeepalive(ws.DefaultKeepaliveInterval, ws.DefaultKeepaliveTimeout),
		actor.WithCloseGracePeriod(ws.DefaultCloseGracePeriod))
	if err != nil {
		conn.Close()
		return nil, err
	}
	if err = c.Send(ctx, ws.Text("hello")); err == nil {
		select {
		case <-c.Incoming():
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err != nil {
		c.CloseNow()
		return nil, err
	}
	return c, nil
}

// pipeListener is a net.Listener of in-memory connections.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) dial() (net.Conn, error) {
	a, b := net.Pipe()
	select {
	case l.conns <- b:
		return a, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// inUse is the heap and stack memory in use after a collection.
func inUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if os.Getenv("WS_IDLE_HEAPPROFILE") != "" {
		println("heap", ms.HeapInuse, "stack", ms.StackInuse)
	}
	return ms.HeapInuse + ms.StackInuse
}
