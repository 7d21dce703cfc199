package handshake

import (
	"fmt"
	"net/http"
	"strconv"
)

// IsUpgradeRequest reports whether r asks for a WebSocket upgrade: its
// Connection header lists "upgrade" and its Upgrade header lists
// "websocket" (RFC 6455 §4.2.1 items 3 and 4). Use it to route requests;
// Upgrade does the full validation.
func IsUpgradeRequest(r *http.Request) bool {
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
// connection with net/http's buffered reader, which may already hold the
// client's first frames. Headers set on w before the call are sent with the
// 101 (reserved handshake headers excepted: ErrReservedHeader).
//
// It answers refusals itself, through w: 400, 403, or 426 with
// Sec-WebSocket-Version: 13, and returns a *RejectError; if hijacking is
// not supported (HTTP/2) it answers 500. The write of the 101 is bounded
// by HandshakeTimeout and by r.Context(). After a successful call the
// caller owns the connection and must not use w.
func (s *Server) Upgrade(w http.ResponseWriter, r *http.Request) (*Accepted, error) {
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
	req.conn, req.br = conn, brw.Reader
	req.dl.start(r.Context(), conn, s.HandshakeTimeout)
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
