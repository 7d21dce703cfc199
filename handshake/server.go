package handshake

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wsactor/ws/frame/deflate"
)

// Server answers WebSocket opening handshakes (RFC 6455 §4.2) on raw
// connections (ReadRequest, Handshake) and through net/http (Upgrade). The
// zero value is a usable server that accepts same-origin requests, selects
// no subprotocol and no extension. A Server must not be modified while in
// use; it is safe for concurrent use otherwise.
type Server struct {
	// Subprotocols are the subprotocols the server speaks, most preferred
	// first; the first one the client offered is selected.
	Subprotocols []string
	// SelectSubprotocol, if set, replaces Subprotocols: it returns one of
	// r.Subprotocols(), or "" for none.
	SelectSubprotocol func(r *Request) string
	// Extensions negotiate extensions in this order, which becomes the
	// order of the response (RFC 6455 §9.1). Nil means none.
	Extensions []Negotiator

	// OriginPatterns are extra origins allowed besides the same origin:
	// path.Match patterns on the Origin's host ("*.example.com"), or on the
	// whole origin when they contain "://". Others get 403 (CSRF defence,
	// RFC 6455 §10.2).
	OriginPatterns []string
	// InsecureSkipOriginCheck disables the origin check entirely.
	InsecureSkipOriginCheck bool

	// MaxHeaderBytes bounds the request head; larger heads get 431.
	// Zero means 8 KiB. The connection's read buffer is at least this big.
	MaxHeaderBytes int
	// MaxHeaderLines bounds the number of header fields; more get 431.
	// Zero means 64.
	MaxHeaderLines int
	// HandshakeTimeout bounds the whole handshake, from the first byte read
	// to the last byte of the answer written, via conn.SetDeadline; then
	// the connection is closed. Zero means DefaultHandshakeTimeout (10 s);
	// negative means no limit.
	HandshakeTimeout time.Duration
}

// Accept is the server's acceptance of a handshake (soketto's
// Response::Accept), written with Request.Accept.
type Accept struct {
	// Protocol is the selected subprotocol, one of the offered ones, or "".
	Protocol string
	// Extensions are the response elements, each answering an offer.
	Extensions []Extension
	// Header holds extra response headers. It must not set Upgrade,
	// Connection or a Sec-WebSocket-* header (ErrReservedHeader).
	Header http.Header
}

// Reject is the server's refusal of a handshake (soketto's
// Response::Reject), written with Request.Reject.
type Reject struct {
	// Status is the HTTP status; zero means 400. It must be 4xx or 5xx.
	Status int
	// Header holds extra headers; Content-Length and Connection are set by
	// the server.
	Header http.Header
	// Body is sent as the response body, text/plain unless Header says
	// otherwise. Empty means the status text.
	Body []byte
}

// Accepted is a connection on which the opening handshake has succeeded,
// on either side. Frames must be read through Reader, never Conn
// directly: Reader may already hold bytes the peer sent after its
// handshake.
type Accepted struct {
	Conn   net.Conn
	Reader *bufio.Reader
	// Protocol is the selected subprotocol, or "".
	Protocol string
	// Extensions are the accepted extensions with their parameters, in
	// the order the server listed them.
	Extensions []Extension
	// Deflate holds the permessage-deflate parameters, nil when it was not
	// negotiated.
	Deflate *deflate.Params
	// Request is the client's request (server side only).
	Request *Request
	// Response is the server's 101 response with Body set to http.NoBody
	// (client side only).
	Response *http.Response
	// Done is nil for a connection of its own (HTTP/1.1, hijacked or
	// dialled). For a WebSocket on an HTTP/2 stream (UpgradeConnect) it is
	// closed once Conn has been closed: net/http ends the stream when the
	// handler returns and panics on a ResponseWriter used after that, so
	// the handler waits for Done before returning.
	Done <-chan struct{}
}

func (s *Server) maxHeaderBytes() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes
	}
	return 8 << 10
}

func (s *Server) maxHeaderLines() int {
	if s.MaxHeaderLines > 0 {
		return s.MaxHeaderLines
	}
	return 64
}

// Handshake reads the request from conn, accepts it with Negotiate's
// choices, and returns the upgraded connection: ReadRequest followed by
// Request.Accept. It blocks until done, the handshake timeout, or ctx is
// cancelled. On any failure conn is closed; a refusal is a *RejectError.
func (s *Server) Handshake(ctx context.Context, conn net.Conn) (*Accepted, error) {
	r, err := s.ReadRequest(ctx, conn)
	if err != nil {
		return nil, err
	}
	return r.Accept(s.Negotiate(r))
}

// ReadRequest reads and validates a client's handshake from conn (RFC 6455
// §4.2.1) within the handshake timeout, which stays in force until the
// Request is answered. It blocks until the request is read, the deadline
// passes, or ctx is cancelled (which aborts the read).
//
// On a malformed or refused request it writes the error response (400,
// 403, 426 with Sec-WebSocket-Version: 13, or 431), closes conn and
// returns a *RejectError; on an I/O error or timeout it closes conn and
// returns the error (ctx's error if ctx was cancelled). The returned
// Request must be answered with Accept or Reject.
func (s *Server) ReadRequest(ctx context.Context, conn net.Conn) (*Request, error) {
	r := &Request{conn: conn}
	r.dl.start(ctx, conn, s.HandshakeTimeout)
	max := s.maxHeaderBytes()
	r.br = bufio.NewReaderSize(conn, max)
	head, err := readHead(r.br, max)
	if err == ErrHeaderTooLarge {
		return nil, r.fail(reject(http.StatusRequestHeaderFieldsTooLarge, err))
	}
	if err != nil {
		r.dl.cancel()
		conn.Close()
		return nil, fmt.Errorf("handshake: read request: %w", r.dl.cause(err))
	}
	if err := r.parse(head, s.maxHeaderLines()); err != nil {
		return nil, r.fail(err.(*RejectError))
	}
	if rej := s.check(r); rej != nil {
		return nil, r.fail(rej)
	}
	return r, nil
}

// check validates r and applies the origin policy.
func (s *Server) check(r *Request) *RejectError {
	if rej := r.validate(); rej != nil {
		return rej
	}
	if !s.InsecureSkipOriginCheck && !checkOrigin(r.origin, r.host, s.OriginPatterns) {
		return reject(http.StatusForbidden, ErrOrigin)
	}
	return nil
}

// Negotiate returns the Accept the server's configuration chooses for r:
// the subprotocol from SelectSubprotocol or Subprotocols, and the
// extensions from Extensions. It does no I/O.
func (s *Server) Negotiate(r *Request) Accept {
	var a Accept
	if s.SelectSubprotocol != nil {
		a.Protocol = s.SelectSubprotocol(r)
	} else {
		a.Protocol = selectSubprotocol(s.Subprotocols, r.protocols)
	}
	a.Extensions = negotiateExtensions(s.Extensions, r.extensions)
	return a
}

// respPool holds the buffers responses are formatted in. A buffer is
// needed for one write only; one kept in Request would be held by
// Accepted.Request for the connection's life.
var respPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func getRespBuf() *[]byte {
	bp := respPool.Get().(*[]byte)
	*bp = (*bp)[:0]
	return bp
}

func putRespBuf(bp *[]byte) {
	if cap(*bp) <= 4096 { // an unusually large response's buffer is let go
		respPool.Put(bp)
	}
}

// fail sends the rejection, closes the connection and returns rej.
func (r *Request) fail(rej *RejectError) error {
	r.answered = true
	bp := getRespBuf()
	*bp = appendReject(*bp, rej.Status, rej.Reason, rej.Header, nil)
	_, _ = r.conn.Write(*bp)
	putRespBuf(bp)
	r.dl.cancel()
	closeConn(r.conn)
	return rej
}

// Accept answers the request with 101 Switching Protocols (RFC 6455 §4.2.2
// item 5), clears the handshake deadline and returns the connection. It
// refuses, without writing, a subprotocol or extension the client did not
// offer (ErrNotOffered) and reserved headers (ErrReservedHeader); on a
// write error conn is closed.
func (r *Request) Accept(a Accept) (*Accepted, error) {
	if r.answered || r.conn == nil {
		return nil, ErrHandshakeDone
	}
	dp, err := r.checkAccept(a)
	if err != nil {
		return nil, err
	}
	r.answered = true
	bp := getRespBuf()
	defer putRespBuf(bp)
	b := append(*bp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	b = appendAccept(b, r.key)
	b = append(b, "\r\n"...)
	if a.Protocol != "" {
		b = append(append(append(b, "Sec-WebSocket-Protocol: "...), a.Protocol...), "\r\n"...)
	}
	if len(a.Extensions) > 0 {
		b = append(b, "Sec-WebSocket-Extensions: "...)
		b = append(AppendExtensions(b, a.Extensions), "\r\n"...)
	}
	b = appendHeader(b, a.Header)
	b = append(b, "\r\n"...)
	*bp = b
	if _, err := r.conn.Write(b); err != nil {
		r.dl.cancel()
		r.conn.Close()
		return nil, fmt.Errorf("handshake: write response: %w", r.dl.cause(err))
	}
	if err := r.dl.end(); err != nil {
		r.conn.Close()
		return nil, fmt.Errorf("handshake: write response: %w", err)
	}
	return &Accepted{
		Conn:       r.conn,
		Reader:     r.br,
		Protocol:   a.Protocol,
		Extensions: a.Extensions,
		Deflate:    dp,
		Request:    r,
	}, nil
}

// checkAccept validates a against the request and returns the agreed
// permessage-deflate parameters, if any.
func (r *Request) checkAccept(a Accept) (*deflate.Params, error) {
	if a.Protocol != "" && !contains(r.protocols, a.Protocol) {
		return nil, fmt.Errorf("%w: subprotocol %q", ErrNotOffered, a.Protocol)
	}
	var dp *deflate.Params
	for _, e := range a.Extensions {
		if len(offersFor(r.extensions, e.Name)) == 0 {
			return nil, fmt.Errorf("%w: extension %q", ErrNotOffered, e.Name)
		}
		if strings.EqualFold(e.Name, DeflateName) {
			p, err := ParseDeflateParams(e)
			if err != nil {
				return nil, err
			}
			dp = &p
		}
	}
	if err := checkHeader(a.Header); err != nil {
		return nil, err
	}
	return dp, nil
}

// Reject answers the request with rej's status, headers and body, and
// closes the connection. It returns an error only if writing failed.
func (r *Request) Reject(rej Reject) error {
	if r.answered || r.conn == nil {
		return ErrHandshakeDone
	}
	r.answered = true
	status := rej.Status
	if status < 400 || status > 599 {
		status = http.StatusBadRequest
	}
	body := rej.Body
	if len(body) == 0 {
		body = []byte(http.StatusText(status))
	}
	_, err := r.conn.Write(appendReject(nil, status, "", rej.Header, body))
	r.dl.cancel()
	closeConn(r.conn)
	if err != nil {
		return fmt.Errorf("handshake: write response: %w", err)
	}
	return nil
}

// appendReject formats an error response. body nil means reason as text.
func appendReject(b []byte, status int, reason string, h http.Header, body []byte) []byte {
	text := http.StatusText(status)
	if text == "" {
		text = "Error"
	}
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(append(append(b, ' '), text...), "\r\nConnection: close\r\n"...)
	if h.Get("Content-Type") == "" {
		b = append(b, "Content-Type: text/plain; charset=utf-8\r\n"...)
	}
	b = append(b, "X-Content-Type-Options: nosniff\r\n"...)
	b = appendHeader(b, h)
	if body == nil {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(reason)+1), 10)
		return append(append(append(b, "\r\n\r\n"...), reason...), '\n')
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	return append(append(b, "\r\n\r\n"...), body...)
}

// appendHeader appends h's fields, skipping those the writer sets itself
// and any that would break the response (invalid names, CR or LF).
func appendHeader(b []byte, h http.Header) []byte {
	for name, vs := range h {
		switch http.CanonicalHeaderKey(name) {
		case "Content-Length", "Connection", "Transfer-Encoding", "X-Content-Type-Options":
			continue
		}
		if !isToken(name) {
			continue
		}
		for _, v := range vs {
			if !validFieldValue(v) {
				continue
			}
			b = append(append(append(append(b, name...), ": "...), v...), "\r\n"...)
		}
	}
	return b
}

// reservedHeaders are the fields the handshake writes itself.
var reservedHeaders = []string{
	"Host", "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version",
	"Sec-Websocket-Accept", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions",
}

// checkHeader refuses custom headers that would override the handshake's
// own (Upgrade, Connection, Sec-WebSocket-*, Host).
func checkHeader(h http.Header) error {
	for name := range h {
		c := http.CanonicalHeaderKey(name)
		if contains(reservedHeaders, c) || strings.HasPrefix(c, "Sec-Websocket-") {
			return fmt.Errorf("%w: %s", ErrReservedHeader, name)
		}
	}
	return nil
}

// closeConn closes a connection after an error response. On TCP it first
// shuts down the write side and drains briefly what the peer still sends,
// so that the close does not reset the connection and destroy the
// response before the peer reads it (as net/http does).
func closeConn(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		_ = c.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		_, _ = io.CopyN(io.Discard, c, 64<<10)
	}
	c.Close()
}
