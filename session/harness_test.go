package session_test

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws/reconnect"
	"github.com/wsactor/ws/session"
)

// testServer serves a handler on 127.0.0.1 and can reset every connection
// (kill), or stop listening and reset them all (crash), then listen again
// on the same address.
type testServer struct {
	t    testing.TB
	addr string

	mu    sync.Mutex
	hs    *http.Server
	conns map[net.Conn]struct{}
	bytes atomic.Int64 // read from and written to the sockets
}

func listen(t testing.TB, h http.Handler) *testServer {
	t.Helper()
	s := &testServer{t: t}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.addr = ln.Addr().String()
	s.serve(ln, h)
	t.Cleanup(s.crash)
	return s
}

func (s *testServer) url() string { return "ws://" + s.addr + "/" }

// restart listens again on the same address with h.
func (s *testServer) restart(h http.Handler) {
	s.t.Helper()
	var ln net.Listener
	var err error
	for range 100 { // the port was ours a moment ago
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(s.t, err)
	s.serve(ln, h)
}

func (s *testServer) serve(ln net.Listener, h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns = map[net.Conn]struct{}{}
	s.hs = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second,
		ConnState: func(c net.Conn, st http.ConnState) {
			s.mu.Lock()
			defer s.mu.Unlock()
			switch st {
			case http.StateNew:
				s.conns[c] = struct{}{}
			case http.StateClosed:
				delete(s.conns, c)
			}
		}}
	hs := s.hs
	go func() { _ = hs.Serve(&countingListener{Listener: ln, n: &s.bytes}) }()
}

// kill resets every connection (RST, no close frame), as a network fault
// or a proxy dropping them would; the server keeps listening.
func (s *testServer) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		reset(c)
		delete(s.conns, c)
	}
}

// crash stops listening and resets every connection.
func (s *testServer) crash() {
	s.mu.Lock()
	hs := s.hs
	s.mu.Unlock()
	if hs != nil {
		_ = hs.Close()
	}
	s.kill()
}

func reset(c net.Conn) {
	if cc, ok := c.(*countingConn); ok {
		c = cc.Conn
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: l.n}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// fastRetry makes reconnect clients come back within a few milliseconds.
func fastRetry() reconnect.Option {
	return reconnect.WithBackoff(&reconnect.FullJitter{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond})
}

// newClient makes a session client for url with the extra options, runs
// it, and closes it at the end of the test.
func newClient(t *testing.T, url string, sopts []session.Option, ropts ...reconnect.Option) (*reconnect.Client, *session.Client) {
	t.Helper()
	sc, err := session.NewClient(sopts...)
	require.NoError(t, err)
	opts := append([]reconnect.Option{reconnect.WithLayer(sc), fastRetry(), reconnect.WithResetAfter(0)}, ropts...)
	c, err := reconnect.New(url, opts...)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Close(ctx)
		<-done
	})
	return c, sc
}

// newSessionServer makes a session server and shuts it down at the end.
func newSessionServer(t *testing.T, fn func(context.Context, *session.Session), opts ...session.Option) *session.Server {
	t.Helper()
	srv, err := session.NewServer(fn, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
	})
	return srv
}
