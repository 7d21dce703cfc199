package handshake

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"

	"github.com/wsactor/ws/frame"
)

// IsUpgradeRequest reports whether r asks for a WebSocket upgrade: its
// Connection header lists "upgrade" and its Upgrade header lists
// "websocket" (RFC 6455 §4.2.1 items 3 and 4), or it is an RFC 8441
// extended CONNECT over HTTP/2 (IsConnectRequest). Use it to route
// requests; Upgrade does the full validation.
func IsUpgradeRequest(r *http.Request) bool {
	if IsConnectRequest(r) {
		return true
	}
	var up, conn bool
	for _, v := range r.Header.Values("Upgrade") {
		up = up || hasToken(v, "websocket")
	}
	for _, v := range r.Header.Values("Connection") {
		conn = conn || hasToken(v, "upgrade")
	}
	return up && conn
}

// Upgrade validates a handshake received by net/http (RFC 6455 §4.2.1),
// negotiates as Negotiate does, hijacks the connection
// (http.ResponseController.Hijack), writes the 101 response and returns the
// connection with a buffered reader that first yields what net/http had
// already read past the request (the client's first frames, if any) and
// then reads the connection directly. Headers set on w before the call are sent with the
// 101 (reserved handshake headers excepted: ErrReservedHeader).
//
// It answers refusals itself, through w: 400, 403, or 426 with
// Sec-WebSocket-Version: 13, and returns a *RejectError; if hijacking is
// not supported (HTTP/2) it answers 500. The write of the 101 is bounded
// by HandshakeTimeout; a request whose context is already done is not
// upgraded (the connection is closed and ctx's error returned). After a
// successful call the caller owns the connection and must not use w.
//
// An RFC 8441 extended CONNECT over HTTP/2 (IsConnectRequest) is handed to
// UpgradeConnect: the WebSocket then runs on the request's stream, and the
// handler must not return before Accepted.Done is closed.
func (s *Server) Upgrade(w http.ResponseWriter, r *http.Request) (*Accepted, error) {
	if IsConnectRequest(r) {
		return s.UpgradeConnect(w, r)
	}
	req := &Request{}
	req.fromHTTP(r)
	if rej := s.check(req); rej != nil {
		writeHTTPReject(w, rej)
		return nil, rej
	}
	a := s.Negotiate(req)
	if err := checkHeader(w.Header()); err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return nil, err
	}
	a.Header = w.Header()
	if _, err := req.checkAccept(a); err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return nil, err
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "websocket: "+err.Error(), http.StatusInternalServerError)
		return nil, fmt.Errorf("handshake: hijack: %w", err)
	}
	req.conn, req.br = conn, detachReader(conn, brw.Reader)
	// The 101 is one small write into a fresh socket's empty send buffer:
	// the deadline alone bounds it. Watching r.Context() as well (an
	// AfterFunc) would leave a children map in that context, which lives
	// as long as the handler — hundreds of bytes per served connection.
	if err := r.Context().Err(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("handshake: %w", err)
	}
	req.dl.start(context.Background(), conn, s.HandshakeTimeout)
	acc, err := req.Accept(a)
	if err != nil {
		req.dl.cancel()
		conn.Close()
		return nil, err
	}
	return acc, nil
}

// writeHTTPReject answers a refused handshake through net/http.
func writeHTTPReject(w http.ResponseWriter, rej *RejectError) {
	h := w.Header()
	for k, vs := range rej.Header {
		h[k] = vs
	}
	h.Set("Connection", "close")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(rej.Reason)+1))
	w.WriteHeader(rej.Status)
	_, _ = w.Write([]byte(rej.Reason + "\n"))
}

// detachReader returns a reader of conn that first yields what net/http's
// reader br had buffered. br reads through net/http's connection reader,
// which cancels the request's context on any read error — a read deadline
// used to interrupt a read included — so the connection must not be read
// through it after the hijack. When it holds nothing (the usual case) br
// itself is reset to read conn directly, so that its buffer is reused:
// net/http's connection keeps br for as long as the handler runs, and a
// second buffer would cost every connection served from a handler another
// 4 KiB. net/http reads nothing through br after the hijack and does not
// recycle it.
func detachReader(conn net.Conn, br *bufio.Reader) *bufio.Reader {
	if br.Buffered() > 0 { // the client's first frames came with the request
		return frame.Rebuffer(conn, br, br.Size())
	}
	br.Reset(conn)
	return br
}
