package reconnect_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/handshake"
	"github.com/wsactor/ws/reconnect"
)

// server is a WebSocket test server on 127.0.0.1 that can be killed and
// started again on the same port. It upgrades with handshake.Server on
// net/http and runs each connection with actor.New.
type server struct {
	t    *testing.T
	addr string
	// handle runs one connection; nil echoes. It returns when it is done
	// with conn; the server then closes conn.
	handle func(ctx context.Context, conn *actor.Conn, r *http.Request)
	// refuse, if set, may answer the HTTP request instead of upgrading
	// (return true when it did).
	refuse func(w http.ResponseWriter, r *http.Request) bool

	mu    sync.Mutex
	ln    net.Listener
	hs    *http.Server
	raw   map[net.Conn]struct{} // hijacked sockets, for kill
	conns []*actor.Conn
	wg    sync.WaitGroup // handlers
	life  context.Context
	end   context.CancelFunc
}

func newServer(t *testing.T, handle func(context.Context, *actor.Conn, *http.Request)) *server {
	t.Helper()
	s := &server{t: t, handle: handle}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.kill)
	return s
}

func (s *server) url() string { return "ws://" + s.addr + "/" }

// start listens again on the same address.
func (s *server) start() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	require.NoError(s.t, err)
	s.serve(ln)
}

func (s *server) serve(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ln = ln
	s.raw = map[net.Conn]struct{}{}
	s.life, s.end = context.WithCancel(context.Background())
	s.hs = &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: 5 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.hs.Serve(ln)
	}()
}

func (s *server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if s.refuse != nil && s.refuse(w, r) {
		return
	}
	s.mu.Lock()
	if s.raw == nil { // killed while the request was read
		s.mu.Unlock()
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1) // under mu: kill waits for this handler
	life := s.life
	s.mu.Unlock()
	defer s.wg.Done()
	acc, err := (&handshake.Server{}).Upgrade(w, r)
	if err != nil {
		return
	}
	conn, err := actor.New(acc.Conn, acc.Reader, frame.Server)
	if err != nil {
		acc.Conn.Close()
		return
	}
	s.mu.Lock()
	if s.raw == nil {
		s.mu.Unlock()
		acc.Conn.Close()
		abort(conn)
		return
	}
	s.raw[acc.Conn] = struct{}{}
	s.conns = append(s.conns, conn)
	s.mu.Unlock()
	if s.handle != nil {
		s.handle(life, conn, r)
	} else {
		for m := range conn.Incoming() {
			if conn.Send(life, m) != nil {
				break
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(ctx, frame.StatusNormalClosure, "")
}

// kill stops the server abruptly: the listener and every socket are closed
// without a close frame, as a crashed process would. It waits for every
// handler to return.
func (s *server) kill() {
	s.mu.Lock()
	if s.raw == nil {
		s.mu.Unlock()
		return
	}
	for c := range s.raw {
		c.Close()
	}
	conns := s.conns
	s.raw, s.conns = nil, nil
	s.end()
	hs := s.hs
	s.mu.Unlock()
	_ = hs.Close()
	for _, c := range conns {
		abort(c) // the socket is closed: this ends a conn blocked on backpressure
	}
	s.wg.Wait()
}

// abort ends conn at once, without a close handshake.
func abort(conn *actor.Conn) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = conn.Close(ctx, frame.StatusGoingAway, "")
}

// recorder reads a client's events on the test goroutine.
type recorder struct {
	t    *testing.T
	ch   <-chan reconnect.Event
	seen []reconnect.Event
}

// until reads events until one satisfies ok and returns it. It fails the
// test if the channel closes first or nothing matches within 20 s (a guard
// against a hang, not a speed assertion).
func (r *recorder) until(ok func(reconnect.Event) bool) reconnect.Event {
	r.t.Helper()
	guard := time.NewTimer(20 * time.Second)
	defer guard.Stop()
	for {
		select {
		case ev, open := <-r.ch:
			if !open {
				r.t.Fatalf("events closed; seen %s", describe(r.seen))
			}
			r.seen = append(r.seen, ev)
			if ok(ev) {
				return ev
			}
		case <-guard.C:
			r.t.Fatalf("no matching event within 20 s; seen %s", describe(r.seen))
		}
	}
}

// rest reads the remaining events until the channel closes.
func (r *recorder) rest() []reconnect.Event {
	r.t.Helper()
	for ev := range r.ch {
		r.seen = append(r.seen, ev)
	}
	return r.seen
}

func is[T reconnect.Event](ev reconnect.Event) bool { _, ok := ev.(T); return ok }

func describe(evs []reconnect.Event) string {
	s := ""
	for _, ev := range evs {
		s += "\n\t" + eventString(ev)
	}
	return s
}

func eventString(ev reconnect.Event) string {
	switch e := ev.(type) {
	case reconnect.Connecting:
		return "Connecting{" + itoa(e.Attempt) + "}"
	case reconnect.Connected:
		return "Connected{" + itoa(e.Attempt) + "}"
	case reconnect.Disconnected:
		return "Disconnected{" + errString(e.Err) + "}"
	case reconnect.Retrying:
		return "Retrying{" + itoa(e.Attempt) + " in " + e.In.String() + ": " + errString(e.Err) + "}"
	case reconnect.GaveUp:
		return "GaveUp{" + errString(e.Err) + "}"
	case reconnect.Dropped:
		return "Dropped{" + string(e.Message.Data) + ": " + errString(e.Err) + "}"
	}
	return "?"
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func itoa(n int) string { return strconv.Itoa(n) }

// kinds lists the event types in order, without repeats of Connecting and
// Retrying loops collapsed, for sequence assertions.
func kinds(evs []reconnect.Event) []string {
	var out []string
	for _, ev := range evs {
		var k string
		switch ev.(type) {
		case reconnect.Connecting:
			k = "Connecting"
		case reconnect.Connected:
			k = "Connected"
		case reconnect.Disconnected:
			k = "Disconnected"
		case reconnect.Retrying:
			k = "Retrying"
		case reconnect.GaveUp:
			k = "GaveUp"
		case reconnect.Dropped:
			k = "Dropped"
		}
		out = append(out, k)
	}
	return out
}

// fastBackoff keeps tests quick: delays in [0, 5 ms), [0, 10 ms), ... capped at 50 ms.
func fastBackoff() reconnect.Option {
	return reconnect.WithBackoff(&reconnect.FullJitter{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond})
}

// start runs c in the background; the returned function waits for Run's
// result.
func start(t *testing.T, ctx context.Context, c *reconnect.Client) func() error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(cctx)
	})
	return func() error {
		select {
		case err := <-errc:
			return err
		case <-time.After(20 * time.Second):
			t.Fatal("Run did not return within 20 s")
			return nil
		}
	}
}

var errTest = errors.New("test error")
