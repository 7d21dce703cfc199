package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wsactor/ws"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echoServer is an echo server on addr that the test can stop and start.
type echoServer struct {
	addr string
	h    *ws.Server
	srv  *http.Server
	done chan struct{}
}

func startEcho(t *testing.T, addr string) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	e := &echoServer{addr: ln.Addr().String(), done: make(chan struct{})}
	e.h = ws.Handler(func(ctx context.Context, c *ws.Conn) {
		for m := range c.Incoming() {
			if c.Send(ctx, m) != nil {
				return
			}
		}
	})
	e.srv = &http.Server{Handler: e.h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(e.done)
		_ = e.srv.Serve(ln)
	}()
	return e
}

// stop closes every connection with 1001 and the listener, as examples/echo
// does on SIGTERM.
func (e *echoServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = e.srv.Shutdown(ctx)
	_ = e.h.Shutdown(ctx)
	<-e.done
}

// TestSurvivesRestart runs the client in at-least-once mode against an echo
// server that is stopped after the third echo and started again on the same
// port: every message comes back exactly once, in order, across the restart.
func TestSurvivesRestart(t *testing.T) {
	srv := startEcho(t, "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	outR, outW := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-at-least-once", "-n", "8", "-every", "20ms", "ws://" + srv.addr + "/"}, outW)
		outW.Close()
		errc <- err
	}()
	lines := bufio.NewScanner(outR)
	var echoes, events []string
	restarted := false
	for lines.Scan() {
		l := lines.Text()
		if strings.HasPrefix(l, "echo ") {
			echoes = append(echoes, l)
		} else {
			events = append(events, l)
		}
		if l == "echo 3" && !restarted {
			srv.stop()
			srv = startEcho(t, srv.addr)
			restarted = true
		}
	}
	require.NoError(t, <-errc)
	srv.stop()
	require.Equal(t, []string{"echo 1", "echo 2", "echo 3", "echo 4", "echo 5", "echo 6", "echo 7", "echo 8"}, echoes)
	connected := 0
	for _, e := range events {
		if e == "connected" {
			connected++
		}
	}
	require.Equal(t, 2, connected, strings.Join(events, "\n"))
	require.Contains(t, strings.Join(events, "\n"), "disconnected after")
}
