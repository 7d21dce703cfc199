//go:build !js

package ws

import (
	"context"
	"errors"
	"net/http"
	"sync"
)

// Server is the http.Handler that Handler returns: it upgrades each request,
// runs the handler function with the connection, and keeps track of the
// live connections so that Shutdown can close them. It is safe for
// concurrent use.
type Server struct {
	fn  func(context.Context, *Conn)
	cfg *acceptConfig

	life   context.Context // cancelled by Shutdown: every connection's lifetime
	cancel context.CancelFunc

	mu       sync.Mutex
	conns    map[*Conn]struct{}
	active   int           // ServeHTTP calls in flight
	closing  bool          // Shutdown has begun
	finished chan struct{} // closed when closing and active reaches 0
}

// Handler returns an http.Handler that accepts WebSocket connections with
// opts and calls fn with each, on the request's goroutine. When fn returns,
// the connection is closed with 1000 (normal closure), bounded by the close
// grace period, unless it has ended already; then ServeHTTP returns.
//
// fn's ctx carries the request's values and is cancelled when the
// connection ends, so work fn started for the connection can stop with it.
// Shutdown ends the connection with its 1001 close handshake, after the
// message being written: the ctx is not cancelled before, so that a Send
// given it is not cut in the middle of its message. RequestFromContext(ctx)
// returns the upgrade request (its URL, headers, path values and cookies —
// not its Body). The connection itself ends on its own schedule: Incoming is
// closed when it does.
//
// Requests over HTTP/2 that open a WebSocket with an extended CONNECT (RFC
// 8441; see the package doc) are served like HTTP/1.1 upgrades, with the
// same options; ServeHTTP then returns only once the connection has ended,
// since the stream ends with it. Register the Server for every method
// (mux.Handle("/ws", srv), not "GET /ws"): the request's method is
// CONNECT on HTTP/2.
//
// A request that is not a valid upgrade is answered as by Accept, and fn is
// not called. Handler checks opts at once and panics if they are invalid
// (a negative size, a zero grace period, ...), as regexp.MustCompile does
// for a bad pattern: a server that would answer every request with 500 is
// better found at start-up. NewServer returns the error instead.
func Handler(fn func(ctx context.Context, c *Conn), opts ...AcceptOption) *Server {
	s, err := NewServer(fn, opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// NewServer is Handler for options that come from configuration: it
// returns their error instead of panicking.
func NewServer(fn func(ctx context.Context, c *Conn), opts ...AcceptOption) (*Server, error) {
	if fn == nil {
		return nil, errors.New("ws: Handler: nil handler function")
	}
	cfg, err := newAcceptConfig(opts)
	if err != nil {
		return nil, err
	}
	life, cancel := context.WithCancel(context.Background())
	return &Server{
		fn: fn, cfg: cfg,
		life: life, cancel: cancel,
		conns:    make(map[*Conn]struct{}),
		finished: make(chan struct{}),
	}, nil
}

type requestKey struct{}

// RequestFromContext returns the upgrade request of a connection run by a
// Server, from the ctx given to the handler function, or nil. The request's
// Body must not be read: the connection has been hijacked, or, over HTTP/2,
// the Body is the WebSocket's stream.
func RequestFromContext(ctx context.Context) *http.Request {
	r, _ := ctx.Value(requestKey{}).(*http.Request)
	return r
}

// ServeHTTP upgrades r and runs the handler function. During Shutdown it
// answers 503 Service Unavailable instead.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		w.Header().Set("Connection", "close")
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.leave()

	// The connection lives until Shutdown, or until the lifetime the
	// options gave ends, whichever comes first.
	life := s.life
	if base := s.cfg.conn.lifetime; base != nil {
		lctx, lcancel := context.WithCancel(base)
		stop := context.AfterFunc(s.life, lcancel)
		defer stop()
		defer lcancel()
		life = lctx
	}
	c, onStream, err := accept(w, r, s.cfg, life)
	if err != nil {
		return // answered by accept
	}
	if onStream {
		// The stream ends when ServeHTTP returns: not before the
		// connection has, even when its close handshake ran out of time.
		defer c.CloseNow()
	}
	s.track(c, true)
	defer s.track(c, false)

	// fn's ctx ends with the connection, not when Shutdown begins: a Send
	// cancelled in the middle of its message would cut the stream, and the
	// peer would get a reset instead of the 1001 that Shutdown sends after
	// the message.
	ctx, cancel := context.WithCancel(context.WithValue(r.Context(), requestKey{}, r))
	stopEnd := context.AfterFunc(c.Context(), cancel)
	defer stopEnd()
	defer cancel()
	s.fn(ctx, c)

	cctx, ccancel := context.WithTimeout(context.Background(), s.cfg.conn.closeGrace)
	defer ccancel()
	_ = c.Close(cctx, StatusNormalClosure, "")
	select {
	case <-c.Done():
	case <-cctx.Done():
	}
}

// Shutdown closes every connection with 1001 (going away) and waits for the
// handler functions to return. From its start, new requests get 503.
//
// Each connection runs its close handshake bounded by the close grace
// period; a handler function whose connection has ended should return (its
// Incoming is closed and its ctx cancelled). Shutdown returns nil once all
// have returned, or ctx's error when ctx ends first — it then closes the
// remaining connections at once, without waiting for their handlers.
// Shutdown may be called more than once and from several goroutines.
//
// http.Server.Shutdown does not track hijacked connections, and it waits
// for the handlers of HTTP/2 WebSockets (RFC 8441), which run until their
// connection ends; call both, this one first, as in:
//
//	<-ctx.Done()                         // SIGTERM
//	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//	defer cancel()
//	err := errors.Join(wsSrv.Shutdown(sctx), httpSrv.Shutdown(sctx))
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closing {
		s.closing = true
		if s.active == 0 {
			close(s.finished)
		}
	}
	s.mu.Unlock()
	s.cancel()

	select {
	case <-s.finished:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		// A done context makes Close skip the handshake and drop the socket.
		_ = c.Close(ctx, StatusGoingAway, "")
	}
	return ctx.Err()
}

// Len returns the number of live connections.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// enter counts a request in, unless Shutdown has begun.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.active++
	return true
}

// leave counts a request out; the last one out after Shutdown began
// releases it.
func (s *Server) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	if s.closing && s.active == 0 {
		close(s.finished)
	}
}

func (s *Server) track(c *Conn, live bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if live {
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
}
