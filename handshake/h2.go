package handshake

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"
)

// Request validation errors of RFC 8441, carried by *RejectError like the
// RFC 6455 ones.
var (
	// ErrConnectProtocol: the request is not an extended CONNECT whose
	// :protocol is websocket (RFC 8441 §4, §5).
	ErrConnectProtocol = errors.New("handshake: not an extended CONNECT with :protocol websocket")
	// ErrConnectKey: an HTTP/2 request carries Sec-WebSocket-Key, which
	// RFC 8441 §5 leaves out of the protocol; a client sending it has mixed
	// up the two handshakes.
	ErrConnectKey = errors.New("handshake: Sec-WebSocket-Key in an extended CONNECT")
)

// The ends of a WebSocket's HTTP/2 stream that TCP has no name for, matched
// with errors.Is on the read or write error (and so on actor.Conn.Err).
var (
	// ErrStreamReset: the peer reset the stream (RST_STREAM, RFC 9113
	// §6.4) — the HTTP/2 counterpart of a TCP reset (RFC 8441 §5: "RST_STREAM
	// ... treated as ... a TCP RST"). The peer's error code follows in the
	// text.
	ErrStreamReset = errors.New("handshake: HTTP/2 stream reset")
	// ErrConnectionLost: the HTTP/2 connection carrying the stream ended
	// (closed, broken, or a GOAWAY that did not cover the stream) before
	// the stream did.
	ErrConnectionLost = errors.New("handshake: HTTP/2 connection lost")
	// ErrHandlerReturned: the handler that accepted the stream returned
	// while the WebSocket was still open, which made net/http end the
	// stream. StreamConn reports it instead of letting net/http panic in a
	// Write after the handler's return.
	ErrHandlerReturned = errors.New("handshake: HTTP/2 handler returned before the WebSocket ended")
)

// errNoReadDeadline is StreamConn's answer to every read deadline.
var errNoReadDeadline = fmt.Errorf("handshake: HTTP/2 stream: %w", os.ErrNoDeadline)

// IsConnectRequest reports whether r opens a WebSocket over an HTTP/2
// stream (RFC 8441 §4, §5): method CONNECT, HTTP/2 or later, and the
// :protocol pseudo-header websocket. Use it to route requests;
// UpgradeConnect does the full validation.
//
// net/http's HTTP/2 server passes :protocol in r.Header under the key
// ":protocol", and only when GODEBUG contains http2xconnect=1 (Go 1.26 and
// 1.27): without it the server does not advertise
// SETTINGS_ENABLE_CONNECT_PROTOCOL and resets every stream that sends
// :protocol before a handler sees it.
func IsConnectRequest(r *http.Request) bool {
	return r.Method == http.MethodConnect && r.ProtoMajor >= 2 &&
		strings.EqualFold(r.Header.Get(":protocol"), "websocket")
}

// UpgradeConnect accepts a WebSocket bootstrapped by RFC 8441 over one
// HTTP/2 stream: it validates the extended CONNECT (Sec-WebSocket-Version
// 13, no Sec-WebSocket-Key, well-formed Sec-WebSocket-Protocol and
// -Extensions, the same origin policy as Upgrade), negotiates as Negotiate
// does, answers 200 with the chosen subprotocol and extensions, and returns
// the stream as a *StreamConn in Accepted.Conn, with a reader of it in
// Accepted.Reader. Headers set on w before the call are sent with the 200
// (reserved handshake headers excepted: ErrReservedHeader).
//
// Refusals are answered through w, as Upgrade does, but without
// "Connection: close": on HTTP/2 net/http turns that header into a GOAWAY
// of the whole connection and its other streams. A version other than 13
// gets 400 with Sec-WebSocket-Version: 13, since 426 names an Upgrade
// header that HTTP/2 does not have (RFC 9113 §8.2.2).
//
// The stream lives only as long as the handler: net/http ends it when the
// handler returns, and a ResponseWriter used after that panics. The
// handler must therefore wait for StreamConn.Done (closed by Close) before
// it returns. The 200 is written within HandshakeTimeout; afterwards the
// stream's read and write deadlines, which http.Server's ReadTimeout and
// WriteTimeout set, are cleared, as Upgrade clears the socket's.
func (s *Server) UpgradeConnect(w http.ResponseWriter, r *http.Request) (*Accepted, error) {
	req := &Request{}
	req.fromHTTP(r)
	if rej := s.checkConnect(req); rej != nil {
		writeConnectReject(w, rej)
		return nil, rej
	}
	a := s.Negotiate(req)
	if err := checkHeader(w.Header()); err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return nil, err
	}
	a.Header = w.Header()
	dp, err := req.checkAccept(a)
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return nil, err
	}
	if err := r.Context().Err(); err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	h := w.Header()
	if a.Protocol != "" {
		h.Set("Sec-WebSocket-Protocol", a.Protocol)
	}
	if len(a.Extensions) > 0 {
		h.Set("Sec-WebSocket-Extensions", string(AppendExtensions(nil, a.Extensions)))
	}
	rc := http.NewResponseController(w)
	timeout := s.HandshakeTimeout
	if timeout == 0 {
		timeout = DefaultHandshakeTimeout
	}
	if timeout > 0 {
		// A write deadline that passes resets the stream, which also
		// returns a flush stuck behind a connection the peer does not read.
		_ = rc.SetWriteDeadline(time.Now().Add(timeout))
	}
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, fmt.Errorf("handshake: write response: %w", err)
	}
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		return nil, fmt.Errorf("handshake: clear deadline: %w", err)
	}
	if err := rc.SetReadDeadline(time.Time{}); err != nil {
		return nil, fmt.Errorf("handshake: clear deadline: %w", err)
	}
	c := newStreamConn(w, r, rc)
	return &Accepted{
		Conn:       c,
		Reader:     bufio.NewReaderSize(c, 4096),
		Protocol:   a.Protocol,
		Extensions: a.Extensions,
		Deflate:    dp,
		Request:    req,
		Done:       c.Done(),
	}, nil
}

// checkConnect applies RFC 8441 §5 and the origin policy to a request
// converted by fromHTTP: the HTTP/1.1 checks of validate that concern the
// upgrade mechanism (GET, Upgrade, Connection, the key) are replaced by the
// extended CONNECT's; the header checks are the same.
func (s *Server) checkConnect(r *Request) *RejectError {
	switch {
	case r.method != http.MethodConnect || r.major < 2 || !strings.EqualFold(r.Header(":protocol"), "websocket"):
		return reject(http.StatusBadRequest, ErrConnectProtocol)
	case r.target == "" || r.target[0] != '/':
		return reject(http.StatusBadRequest, ErrMalformedRequest)
	case r.host == "" || r.malformed == ErrMissingHost:
		return reject(http.StatusBadRequest, ErrMissingHost)
	case r.version != "13" || r.malformed == ErrVersion:
		e := reject(http.StatusBadRequest, ErrVersion)
		e.Header = http.Header{"Sec-Websocket-Version": {"13"}}
		return e
	case r.key != "" || r.malformed == ErrKey:
		return reject(http.StatusBadRequest, ErrConnectKey)
	case r.malformed == ErrOrigin:
		return reject(http.StatusBadRequest, ErrMalformedRequest)
	case r.malformed != nil:
		return reject(http.StatusBadRequest, r.malformed)
	}
	if !s.InsecureSkipOriginCheck && !checkOrigin(r.origin, r.host, s.OriginPatterns) {
		return reject(http.StatusForbidden, ErrOrigin)
	}
	return nil
}

// writeConnectReject answers a refused extended CONNECT; unlike
// writeHTTPReject it leaves the connection alone (no "Connection: close").
func writeConnectReject(w http.ResponseWriter, rej *RejectError) {
	h := w.Header()
	for k, vs := range rej.Header {
		h[k] = vs
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(rej.Status)
	_, _ = io.WriteString(w, rej.Reason+"\n")
}

// StreamConn is a WebSocket's HTTP/2 stream (RFC 8441) as a net.Conn: it
// reads the request body and writes the response body, flushing each
// Write into DATA frames at once. UpgradeConnect returns it in
// Accepted.Conn; the frame layer and actor.New use it as they use a TCP
// connection.
//
// Close ends the stream's use and closes Done; the handler that called
// UpgradeConnect must wait for Done and then return, which is what makes
// net/http end the stream (END_STREAM, then RST_STREAM NO_ERROR if the
// client has not finished sending). A half-close by the client (END_STREAM)
// is io.EOF from Read, as a TCP FIN is.
//
// Read deadlines are not supported: SetReadDeadline always fails with an
// error matching os.ErrNoDeadline, because on an HTTP/2 stream an expired
// read deadline closes the request body for good (the stream cannot be
// read again), while a net.Conn user may expect to clear it and read on.
// Write deadlines are passed to the stream; one that passes resets the
// stream (RST_STREAM INTERNAL_ERROR), so a timed-out write ends the
// connection, as it does on TCP in practice.
//
// If the handler returns while the StreamConn is open anyway, net/http
// ends the stream: Read and Write then fail with an error matching
// ErrHandlerReturned (a panic of net/http's on the dead ResponseWriter is
// recovered into it) rather than crash the process.
//
// Read may be called concurrently with Write; Writes are serialised.
type StreamConn struct {
	body          io.ReadCloser
	w             http.ResponseWriter
	rc            *http.ResponseController
	local, remote net.Addr
	done          chan struct{}

	wmu sync.Mutex // held by a Write across the ResponseWriter's write and flush

	// mu guards closed and writing and is held around the deadline calls,
	// so that none reaches rc after Close: once the handler has returned,
	// net/http panics on any use of w.
	mu      sync.Mutex
	closed  bool
	writing bool // a Write is between its write and its flush's return
}

func newStreamConn(w http.ResponseWriter, r *http.Request, rc *http.ResponseController) *StreamConn {
	c := &StreamConn{body: r.Body, w: w, rc: rc, done: make(chan struct{})}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		c.local = a
	} else {
		c.local = streamAddr("")
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		c.remote = net.TCPAddrFromAddrPort(ap)
	} else {
		c.remote = streamAddr(r.RemoteAddr)
	}
	return c
}

// streamAddr is an address net/http gave only as text.
type streamAddr string

func (a streamAddr) Network() string { return "tcp" }
func (a streamAddr) String() string  { return string(a) }

// Read reads from the request body: the client's DATA frames.
func (c *StreamConn) Read(p []byte) (int, error) {
	n, err := c.body.Read(p)
	if err != nil && err != io.EOF {
		err = c.streamError(err)
	}
	return n, err
}

// streamError names what ended the stream. net/http's errors for it are
// unexported, so they are told apart by their text, the same in Go 1.26
// (net/http/h2_bundle.go: http2StreamError.Error, http2errClientDisconnected,
// http2errStreamClosed) and 1.27 (net/http/internal/http2).
func (c *StreamConn) streamError(err error) error {
	if c.isClosed() {
		return net.ErrClosed
	}
	switch msg := err.Error(); {
	case strings.HasPrefix(msg, "stream error: ") && strings.HasSuffix(msg, "; NO_ERROR"):
		// net/http resets with NO_ERROR a stream whose handler returned
		// before the client's END_STREAM (h2_bundle.go, RFC 9113 §8.1); a
		// client abandoning a stream sends CANCEL.
		return fmt.Errorf("%w (%v)", ErrHandlerReturned, err)
	case strings.HasPrefix(msg, "stream error: "), msg == "http2: stream closed":
		return fmt.Errorf("%w (%v)", ErrStreamReset, err)
	case msg == "client disconnected":
		return fmt.Errorf("%w (%v)", ErrConnectionLost, err)
	case msg == "http2: request body closed due to handler exiting", msg == "body closed by handler":
		// The second is Go 1.27's (net/http/internal/http2/server.go:
		// errClosedBody): net/http closes the body once the handler has
		// returned; our own Close is reported above as net.ErrClosed.
		return ErrHandlerReturned
	}
	return err
}

// guard runs f, turning net/http's panic on a ResponseWriter used after
// its handler returned ("Write called after Handler finished", or a nil
// dereference in the deadline and flush methods) into ErrHandlerReturned.
func guard(f func() error) (err error) {
	defer func() {
		if recover() != nil {
			err = ErrHandlerReturned
		}
	}()
	return f()
}

// Write writes p to the response body and flushes it, so that it leaves
// in DATA frames before Write returns (net/http's writer would otherwise
// hold up to 4 KiB back).
func (c *StreamConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0, net.ErrClosed
	}
	c.writing = true
	c.mu.Unlock()
	var n int
	err := guard(func() error {
		var err error
		if n, err = c.w.Write(p); err == nil {
			err = c.rc.Flush()
		}
		return err
	})
	c.mu.Lock()
	c.writing = false
	c.mu.Unlock()
	if err != nil && err != ErrHandlerReturned {
		err = c.streamError(err)
	}
	return n, err
}

// Close unblocks Read and any Write in progress (a Write cut short resets
// the stream), then closes Done. The stream itself ends when the handler
// returns. A second Close returns net.ErrClosed.
func (c *StreamConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return net.ErrClosed
	}
	c.closed = true
	writing := c.writing
	if writing {
		// The flush may wait for flow-control credit the peer never
		// gives; a past write deadline resets the stream and returns it.
		_ = guard(func() error { return c.rc.SetWriteDeadline(time.Unix(1, 0)) })
	}
	c.mu.Unlock()
	_ = c.body.Close() // a blocked Read returns; data not yet read is dropped
	// Done must wait for the Write in progress, if any: the handler's
	// return would pull the ResponseWriter from under it.
	c.wmu.Lock()
	close(c.done)
	c.wmu.Unlock()
	return nil
}

// Done is closed when Close has returned: the handler may then return.
func (c *StreamConn) Done() <-chan struct{} { return c.done }

// LocalAddr returns the server's address of the underlying connection.
func (c *StreamConn) LocalAddr() net.Addr { return c.local }

// RemoteAddr returns the client's address of the underlying connection
// (Request.RemoteAddr).
func (c *StreamConn) RemoteAddr() net.Addr { return c.remote }

// SetDeadline sets the write deadline and, like SetReadDeadline, returns
// an error matching os.ErrNoDeadline.
func (c *StreamConn) SetDeadline(t time.Time) error {
	if err := c.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

// SetReadDeadline fails with an error matching os.ErrNoDeadline (see the
// type's doc). actor.Conn probes it once and then does without: its paused
// reader waits for credit instead of reading ahead.
func (c *StreamConn) SetReadDeadline(time.Time) error { return errNoReadDeadline }

// SetWriteDeadline sets the stream's write deadline through
// http.ResponseController. When it passes, the stream is reset and every
// later Write fails.
func (c *StreamConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	return guard(func() error { return c.rc.SetWriteDeadline(t) })
}

func (c *StreamConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}
