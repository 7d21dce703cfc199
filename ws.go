//go:build !js

package ws

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/handshake"
)

// The ends of a WebSocket carried by an HTTP/2 stream (RFC 8441) that a
// TCP connection has no name for, matched with errors.Is on Err.
var (
	// ErrStreamReset: the peer reset the stream (RST_STREAM), as a TCP
	// reset would end a connection.
	ErrStreamReset = handshake.ErrStreamReset
	// ErrConnectionLost: the HTTP/2 connection under the stream ended (it
	// broke, was closed, or the peer's GOAWAY did not cover the stream).
	ErrConnectionLost = handshake.ErrConnectionLost
	// ErrHandlerReturned: on the server, the http handler returned while
	// the WebSocket was open, which ends its stream (see Accept).
	ErrHandlerReturned = handshake.ErrHandlerReturned
)

// Dial opens a WebSocket connection to url (ws://, wss://, http:// or
// https://) and returns it with the server's 101 response, whose Body is
// empty (over HTTP/2, its 200 response). It blocks until the handshake is
// done, the handshake timeout passes, or ctx is cancelled; ctx bounds only
// the handshake (bind the connection to a context with WithLifetime).
//
// For wss and https URLs reached without a proxy, Dial uses HTTP/2 when
// the server offers RFC 8441: TLS offers h2 and http/1.1 in ALPN, and if
// the server picks h2 and advertises SETTINGS_ENABLE_CONNECT_PROTOCOL the
// WebSocket is one stream of that connection. Later Dials to the same
// host:port with the same *tls.Config (WithTLSConfig) and the same
// WithNetDial and WithProxy functions open their streams on it, up to the
// server's SETTINGS_MAX_CONCURRENT_STREAMS, then on a new connection; it
// closes when its last WebSocket ends. A server that picks http/1.1 gets
// the HTTP/1.1 upgrade on the same connection, at no extra cost. One that
// picks h2 without the setting gets it on a new connection; either way
// Dial remembers the server (for 10 minutes, among at most 256) and its
// next Dials offer only http/1.1. Redirects (WithRedirects) are followed
// over HTTP/1.1; ws URLs and proxied connections use HTTP/1.1 (see
// WithHTTP2, WithHTTP1).
//
// Over HTTP/2 the Conn behaves as over TCP — keepalive, limits, close
// handshake — with HTTP/2 flow control as backpressure: a WebSocket whose
// Incoming is full lets the server send 256 KiB more, then holds it back,
// without holding back the connection's other WebSockets. A RST_STREAM
// from the server ends the Conn with an Err matching ErrStreamReset; the
// loss of the connection, or a GOAWAY that did not cover the stream, with
// ErrConnectionLost.
//
// A refusal is a *RejectError and an unfollowed redirect a *RedirectError
// (both found with errors.As); the response is then nil. On error no
// connection or goroutine is left behind.
func Dial(ctx context.Context, url string, opts ...DialOption) (*Conn, *http.Response, error) {
	cfg, err := newDialConfig(opts)
	if err != nil {
		return nil, nil, err
	}
	hc := &handshake.Client{
		Origin:           cfg.origin,
		Subprotocols:     cfg.conn.subprotocols,
		Extensions:       cfg.conn.compression.negotiators(frame.Client),
		Header:           cfg.header,
		HandshakeTimeout: cfg.conn.handshakeTimeout,
		Dialer:           cfg.dialer,
		NetDial:          cfg.hooks.netDial,
		Jar:              cfg.hooks.jar,
		TLSConfig:        cfg.tlsConfig,
		Proxy:            cfg.proxy,
		MaxRedirects:     cfg.maxRedirects,
	}
	var acc *handshake.Accepted
	if cfg.tryHTTP2(hc, url) {
		start := time.Now()
		acc, err = dialHTTP2(ctx, hc, url, newH2Key(hostPort(url), cfg.tlsConfig, cfg.hooks.netDial, cfg.proxy))
		if err != nil {
			return nil, nil, fmt.Errorf("ws: dial: %w", err)
		}
		hc = withinTimeout(hc, start)
	}
	if acc == nil {
		if acc, err = hc.Dial(ctx, url); err != nil {
			return nil, nil, fmt.Errorf("ws: dial: %w", err)
		}
	}
	aopts, err := cfg.conn.actorOptions(acc, frame.Client)
	if err != nil {
		acc.Conn.Close()
		return nil, nil, fmt.Errorf("ws: dial: %w", err)
	}
	c, err := actor.New(acc.Conn, acc.Reader, frame.Client, aopts...)
	if err != nil {
		acc.Conn.Close()
		return nil, nil, fmt.Errorf("ws: dial: %w", err)
	}
	return newConn(c), acc.Response, nil
}

// Accept upgrades an HTTP request to a WebSocket connection. It validates
// the request (RFC 6455 §4.2.1), applies the origin policy (same origin by
// default, see WithOrigins), picks a subprotocol, hijacks the connection
// and writes the 101 response. Headers already set on w are sent with it.
//
// A bad request is answered through w (400, 403, or 426 with
// Sec-WebSocket-Version: 13) and returned as a *RejectError; do not write to
// w afterwards. After success the connection belongs to the returned Conn
// (w must not be used) and lives until it is closed, independently of the
// handler's return: end it with Close, or bind it to a context with
// WithLifetime. Accept blocks only while writing the 101 response, bounded
// by the handshake timeout (r.Context() is checked once, before it).
//
// Over HTTP/2 (RFC 8441: an extended CONNECT, when the server runs with
// GODEBUG=http2xconnect=1; see the package doc) the WebSocket is the
// request's stream, answered with 200 instead of 101, and it lives only as
// long as the handler: net/http ends the stream when the handler returns.
// There the handler must wait for the connection, as in
//
//	c, err := ws.Accept(w, r)
//	if err != nil {
//		return
//	}
//	go serve(c)
//	<-c.Done() // required on HTTP/2, harmless on HTTP/1.1
//
// A handler that returns earlier does not crash the process: the Conn ends
// with an error matching ErrHandlerReturned. Handler waits by itself.
func Accept(w http.ResponseWriter, r *http.Request, opts ...AcceptOption) (*Conn, error) {
	cfg, err := newAcceptConfig(opts)
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return nil, err
	}
	c, _, err := accept(w, r, cfg, nil)
	return c, err
}

// accept runs Accept with a validated config; lifetime, if not nil,
// replaces the configured one. onStream reports a WebSocket on an HTTP/2
// stream, which the handler must outlive.
func accept(w http.ResponseWriter, r *http.Request, cfg *acceptConfig, lifetime context.Context) (c *Conn, onStream bool, err error) {
	hs := &handshake.Server{
		Subprotocols:            cfg.conn.subprotocols,
		Extensions:              cfg.conn.compression.negotiators(frame.Server),
		OriginPatterns:          cfg.originPatterns,
		InsecureSkipOriginCheck: cfg.anyOrigin,
		HandshakeTimeout:        cfg.conn.handshakeTimeout,
	}
	if sel := cfg.selectProtocol; sel != nil {
		hs.SelectSubprotocol = func(hr *handshake.Request) string { return sel(r, hr.Subprotocols()) }
	}
	for k, vs := range cfg.header {
		w.Header()[k] = append(w.Header()[k], vs...)
	}
	acc, err := hs.Upgrade(w, r)
	if err != nil {
		return nil, false, fmt.Errorf("ws: accept: %w", err)
	}
	cc := cfg.conn
	if lifetime != nil {
		cc.lifetime = lifetime
	}
	opts, err := cc.actorOptions(acc, frame.Server)
	if err != nil {
		acc.Conn.Close()
		return nil, false, fmt.Errorf("ws: accept: %w", err)
	}
	ac, err := actor.New(acc.Conn, acc.Reader, frame.Server, opts...)
	if err != nil {
		acc.Conn.Close()
		return nil, false, fmt.Errorf("ws: accept: %w", err)
	}
	return newConn(ac), acc.Done != nil, nil
}

// actorOptions translates the shared settings and the handshake's outcome
// into actor options for role.
func (c *connConfig) actorOptions(acc *handshake.Accepted, role frame.Role) ([]actor.Option, error) {
	opts := []actor.Option{
		actor.WithMaxMessageSize(c.maxMessageSize),
		actor.WithKeepalive(c.keepaliveInterval, c.keepaliveTimeout),
		actor.WithCloseGracePeriod(c.closeGrace),
		actor.WithIncomingBuffer(c.incomingBuffer),
		actor.WithOutgoingBuffer(c.outgoingBuffer),
		actor.WithReadBufferSize(c.readBufferSize),
		actor.WithWriteBufferSize(c.writeBufferSize),
		actor.WithIncomingBytes(c.incomingBytes),
		actor.WithFailLinger(c.failLinger),
	}
	if c.recycle {
		opts = append(opts, actor.WithRecycledBuffers(c.recycleCheck))
	}
	if c.streamRecv {
		opts = append(opts, actor.WithStreamedReceive())
	}
	if acc.Protocol != "" {
		opts = append(opts, actor.WithSubprotocol(acc.Protocol))
	}
	ext, err := c.compression.extension(acc.Deflate, role)
	if err != nil {
		return nil, err
	}
	if ext != nil {
		opts = append(opts, actor.WithExtension(ext))
	}
	if c.maxFrameSize > 0 {
		opts = append(opts, actor.WithMaxFrameSize(c.maxFrameSize))
	}
	if c.fragmentSize > 0 {
		opts = append(opts, actor.WithFragmentSize(c.fragmentSize))
	}
	if c.writeTimeout > 0 {
		opts = append(opts, actor.WithWriteTimeout(c.writeTimeout))
	}
	if c.lifetime != nil {
		opts = append(opts, actor.WithLifetime(c.lifetime))
	}
	if c.onPing != nil {
		opts = append(opts, actor.OnPing(c.onPing))
	}
	if c.onPong != nil {
		opts = append(opts, actor.OnPong(c.onPong))
	}
	return opts, nil
}
