//go:build js

package ws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"syscall/js"
	"time"

	"github.com/wsactor/ws/handshake"
)

// ErrNoWebSocket is returned by Dial under js when the host has no global
// WebSocket constructor: Node before 22 needs --experimental-websocket, or
// a WebSocket implementation (such as npm ws) assigned to
// globalThis.WebSocket before the Go program starts.
var ErrNoWebSocket = errors.New("ws: dial: the host has no global WebSocket")

// Dial opens a WebSocket connection to url (ws://, wss://, http:// or
// https://, the last two sent as ws:// and wss://) and returns it with a
// response describing the handshake. It blocks until the host's WebSocket
// reports the connection open, the handshake timeout passes, or ctx is
// cancelled; ctx bounds only the handshake (bind the connection to a
// context with WithLifetime).
//
// This is the js build (GOOS=js GOARCH=wasm): the connection is run by the
// host's WebSocket object — the browser's, or Node's global WebSocket — so
// a Go program compiled to WebAssembly uses the same calls as a native one.
// What differs:
//
//   - The host performs the handshake, TLS included, and hides its details
//     from the page. The returned *http.Response is synthetic: status 101,
//     Upgrade and Connection as RFC 6455 §4.1 requires, and
//     Sec-WebSocket-Protocol and Sec-WebSocket-Extensions from what the host
//     reports (WebSocket.protocol, WebSocket.extensions), no other header;
//     its Request has the URL dialled. A refused or failed handshake is an error wrapping
//     the close event's *CloseError (code 1006), never a *RejectError or
//     *RedirectError, and the response is nil.
//   - Options that would change the request (WithHeader, WithOrigin with a
//     non-empty value) are refused with an error; those for machinery the
//     host owns (TLS, proxy, dialer, frame and read buffer sizes,
//     keepalive, compression, OnPing, OnPong) are accepted and ignored.
//     Each option's comment says what it does under js.
//   - Ping returns ErrPingUnsupported, Close sends only 1000 and 3000–4999,
//     and Incoming cannot push back on the peer (see Conn).
//   - Accept, Handler and Server do not exist under js: a page cannot
//     listen. Neither do SendStream, NextReader, Prepare and SendPrepared:
//     the host hands out and takes only whole messages and does its own
//     framing. NetConn and the JSON helpers work as in the native build.
//
// On error no connection or goroutine is left behind. A host without a
// global WebSocket gives ErrNoWebSocket.
func Dial(ctx context.Context, rawURL string, opts ...DialOption) (*Conn, *http.Response, error) {
	cfg, err := newDialConfigJS(opts)
	if err != nil {
		return nil, nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("ws: dial: %w", err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return nil, nil, fmt.Errorf("ws: dial: unsupported scheme %q (want ws, wss, http or https)", u.Scheme)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("ws: dial: %w", err)
	}
	ctor := js.Global().Get("WebSocket")
	if ctor.Type() != js.TypeFunction {
		return nil, nil, ErrNoWebSocket
	}
	c, err := newConnJS(ctor, u.String(), cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("ws: dial: %w", err)
	}
	timeout := cfg.handshakeTimeout
	if timeout == 0 {
		timeout = handshake.DefaultHandshakeTimeout
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.opened:
	case <-c.done:
		select {
		case <-c.opened: // opened, then closed at once: the server accepted
			c.start()
			return c, c.response(u), nil
		default:
		}
		return nil, nil, fmt.Errorf("ws: dial %s: the host WebSocket did not open (it does not say why): %w", u.Redacted(), c.Err())
	case <-ctx.Done():
		c.CloseNow()
		return nil, nil, fmt.Errorf("ws: dial: %w", ctx.Err())
	case <-t.C:
		c.CloseNow()
		return nil, nil, fmt.Errorf("ws: dial: handshake timeout after %v: %w", timeout, os.ErrDeadlineExceeded)
	}
	c.start()
	return c, c.response(u), nil
}

// response is Dial's synthetic 101 response: the host does not show the
// real one to pages.
func (c *Conn) response(u *url.URL) *http.Response {
	resp := &http.Response{
		Status:     "101 Switching Protocols",
		StatusCode: http.StatusSwitchingProtocols,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}},
		Body:       http.NoBody,
		Request:    &http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}, Host: u.Host},
	}
	if c.protocol != "" {
		resp.Header.Set("Sec-WebSocket-Protocol", c.protocol)
	}
	if ext := c.ws.Get("extensions"); ext.Type() == js.TypeString && ext.String() != "" {
		resp.Header.Set("Sec-WebSocket-Extensions", ext.String())
	}
	return resp
}
