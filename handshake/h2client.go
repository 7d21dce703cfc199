package handshake

import (
	"fmt"
	"net/http"
	"strings"
)

// ConnectRequest is the client's extended CONNECT that opens a WebSocket
// on an HTTP/2 stream (RFC 8441 §4, §5): the values of its pseudo-header
// fields (:method is CONNECT and :protocol websocket) and its header
// fields.
type ConnectRequest struct {
	Scheme    string // :scheme: https for wss and https URLs, http for ws and http
	Authority string // :authority: the URL's host[:port]
	Path      string // :path: the URL's path and query
	// Header holds Sec-WebSocket-Version: 13, the subprotocol and extension
	// offers, Origin, the jar's cookies and the Client's Header. HTTP/2
	// sends field names in lower case (RFC 9113 §8.2.1).
	Header http.Header
}

// NewConnectRequest builds the extended CONNECT for rawURL from the
// Client's settings, the RFC 8441 counterpart of the GET that Handshake
// sends: no Upgrade, Connection or Sec-WebSocket-Key (§5), the same
// Sec-WebSocket-Protocol and -Extensions offers.
func (c *Client) NewConnectRequest(rawURL string) (*ConnectRequest, error) {
	t, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	for _, p := range c.Subprotocols {
		if !isToken(p) {
			return nil, fmt.Errorf("%w: subprotocol %q is not a token", ErrSubprotocols, p)
		}
	}
	if err := checkHeader(c.Header); err != nil {
		return nil, err
	}
	if c.Origin != "" && c.Header.Get("Origin") != "" {
		return nil, fmt.Errorf("%w: Origin set twice", ErrReservedHeader)
	}
	if !validFieldValue(c.Origin) {
		return nil, fmt.Errorf("handshake: invalid Origin %q", c.Origin)
	}
	r := &ConnectRequest{Scheme: "http", Authority: t.host, Path: t.u.RequestURI()}
	if t.secure {
		r.Scheme = "https"
	}
	h := c.requestHeader(t).Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Sec-Websocket-Version", "13")
	if c.Origin != "" {
		h.Set("Origin", c.Origin)
	}
	if len(c.Subprotocols) > 0 {
		h.Set("Sec-Websocket-Protocol", strings.Join(c.Subprotocols, ", "))
	}
	var offers []Extension
	for _, n := range c.Extensions {
		offers = append(offers, n.Offers()...)
	}
	if len(offers) > 0 {
		h.Set("Sec-Websocket-Extensions", string(AppendExtensions(nil, offers)))
	}
	r.Header = h
	return r, nil
}

// VerifyConnect checks the server's answer to the extended CONNECT for
// rawURL (RFC 8441 §5): resp carries its :status as StatusCode, its header
// fields and, for a refusal, the start of its body in Body (or nil). A 2xx
// is success; the subprotocol and extensions are checked as for a 101, and
// there is no Sec-WebSocket-Accept to check. A 3xx with Location is a
// *RedirectError and anything else a *RejectError. Cookies are given to
// the Jar either way. The returned Accepted has no Conn or Reader: the
// caller's stream is the connection.
func (c *Client) VerifyConnect(rawURL string, resp *http.Response, body []byte) (*Accepted, error) {
	t, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if c.Jar != nil {
		if cookies := resp.Cookies(); len(cookies) > 0 {
			c.Jar.SetCookies(jarURL(t.u), cookies)
		}
	}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
	case code == http.StatusMovedPermanently, code == http.StatusFound, code == http.StatusSeeOther,
		code == http.StatusTemporaryRedirect, code == http.StatusPermanentRedirect:
		if loc := resp.Header.Get("Location"); loc != "" {
			next, err := t.u.Parse(loc)
			if err != nil {
				return nil, fmt.Errorf("handshake: redirect: %w", err)
			}
			return nil, &RedirectError{Status: code, Location: next.String()}
		}
		fallthrough
	default:
		return nil, &RejectError{Status: code, Reason: http.StatusText(code), Header: resp.Header, Body: body}
	}
	a, err := c.negotiated(resp)
	if err != nil {
		return nil, fmt.Errorf("handshake: read response: %w", err)
	}
	return a, nil
}
