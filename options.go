//go:build !js

package ws

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/wsactor/ws/actor"
)

// DialOption configures Dial. Options that only make sense for a client
// (request headers, TLS, proxies, redirects) are DialOptions only: passing
// one to Accept does not compile.
type DialOption interface {
	applyDial(*dialConfig)
}

// AcceptOption configures Accept and Handler. Options that only make sense
// for a server (the origin policy, response headers) are AcceptOptions only:
// passing one to Dial does not compile.
type AcceptOption interface {
	applyAccept(*acceptConfig)
}

// Option is an option that means the same on both sides — limits, buffers,
// keepalive, subprotocols, compression — and so is both a DialOption and an
// AcceptOption.
type Option interface {
	DialOption
	AcceptOption
}

// connOption sets connection settings shared by both sides.
type connOption func(*connConfig)

func (o connOption) applyDial(c *dialConfig)     { o(&c.conn) }
func (o connOption) applyAccept(c *acceptConfig) { o(&c.conn) }

type dialOption func(*dialConfig)

func (o dialOption) applyDial(c *dialConfig) { o(c) }

type acceptOption func(*acceptConfig)

func (o acceptOption) applyAccept(c *acceptConfig) { o(c) }

// Defaults of the ws package. They are limits a server facing the internet
// can live with; raise them deliberately.
const (
	// DefaultMaxMessageSize bounds a received message after reassembly and
	// decompression: 32 MiB (soketto 256 MiB, gws 16 MiB, coder 32 KiB).
	DefaultMaxMessageSize = 32 << 20
	// DefaultKeepaliveInterval is how often an idle connection is pinged.
	DefaultKeepaliveInterval = 30 * time.Second
	// DefaultKeepaliveTimeout is how long a ping may go unanswered before
	// the connection is considered dead.
	DefaultKeepaliveTimeout = 30 * time.Second
	// DefaultCloseGracePeriod bounds a close handshake that a lifetime
	// context or Server.Shutdown starts, and the close Handler sends when
	// its function returns.
	DefaultCloseGracePeriod = 5 * time.Second
)

// connConfig holds what both sides share. Zero fields not listed in
// defaultConnConfig mean "the actor package's default".
type connConfig struct {
	maxMessageSize    int64
	maxFrameSize      int64
	incomingBytes     int64
	failLinger        time.Duration
	handshakeTimeout  time.Duration
	recycle           bool
	recycleCheck      bool
	streamRecv        bool
	fragmentSize      int
	incomingBuffer    int
	outgoingBuffer    int
	readBufferSize    int
	writeBufferSize   int
	keepaliveInterval time.Duration
	keepaliveTimeout  time.Duration
	writeTimeout      time.Duration
	closeGrace        time.Duration
	lifetime          context.Context
	subprotocols      []string
	onPing            func([]byte)
	onPong            func([]byte)
	compression       compression
}

type dialConfig struct {
	conn         connConfig
	header       http.Header
	tlsConfig    *tls.Config
	proxy        func(*http.Request) (*url.URL, error)
	maxRedirects int
	dialer       *net.Dialer
	origin       string
	hooks        dialHooks
}

type acceptConfig struct {
	conn           connConfig
	originPatterns []string
	anyOrigin      bool
	header         http.Header
	selectProtocol func(r *http.Request, offered []string) string
}

func defaultConnConfig() connConfig {
	return connConfig{
		maxMessageSize:    DefaultMaxMessageSize,
		keepaliveInterval: DefaultKeepaliveInterval,
		keepaliveTimeout:  DefaultKeepaliveTimeout,
		closeGrace:        DefaultCloseGracePeriod,
		incomingBuffer:    actor.DefaultIncomingBuffer,
		incomingBytes:     actor.DefaultIncomingBytes,
		failLinger:        actor.DefaultFailLinger,
		outgoingBuffer:    actor.DefaultOutgoingBuffer,
		readBufferSize:    actor.DefaultReadBufferSize,
		writeBufferSize:   actor.DefaultWriteBufferSize,
	}
}

func newDialConfig(opts []DialOption) (*dialConfig, error) {
	c := &dialConfig{conn: defaultConnConfig()}
	for _, o := range opts {
		if o != nil {
			o.applyDial(c)
		}
	}
	if c.maxRedirects < 0 {
		return nil, errors.New("ws: WithRedirects: negative count")
	}
	return c, c.conn.validate()
}

func newAcceptConfig(opts []AcceptOption) (*acceptConfig, error) {
	c := &acceptConfig{conn: defaultConnConfig()}
	for _, o := range opts {
		if o != nil {
			o.applyAccept(c)
		}
	}
	return c, c.conn.validate()
}

func (c *connConfig) validate() error {
	switch {
	case c.maxMessageSize <= 0:
		return errors.New("ws: WithMaxMessageSize: size must be positive")
	case c.maxFrameSize < 0:
		return errors.New("ws: WithMaxFrameSize: negative size")
	case c.fragmentSize < 0:
		return errors.New("ws: WithFragmentSize: negative size")
	case c.incomingBuffer < 0 || c.outgoingBuffer < 0:
		return errors.New("ws: WithIncomingBuffer/WithOutgoingBuffer: negative size")
	case c.readBufferSize < 16 || c.writeBufferSize < 0:
		return errors.New("ws: WithReadBufferSize/WithWriteBufferSize: read buffer under 16 bytes or negative write buffer")
	case c.keepaliveInterval < 0 || c.keepaliveTimeout < 0 || (c.keepaliveInterval == 0) != (c.keepaliveTimeout == 0):
		return errors.New("ws: WithKeepalive: durations must both be positive, or both zero")
	case c.maxFrameSize > c.maxMessageSize:
		return errors.New("ws: WithMaxFrameSize: larger than the max message size")
	case c.writeTimeout < 0:
		return errors.New("ws: WithWriteTimeout: negative duration")
	case c.closeGrace <= 0:
		return errors.New("ws: WithCloseGracePeriod: duration must be positive")
	case c.incomingBytes <= 0:
		return errors.New("ws: WithIncomingBytes: size must be positive")
	case c.failLinger < 0:
		return errors.New("ws: WithFailLinger: negative duration")
	case c.handshakeTimeout < 0:
		return errors.New("ws: WithHandshakeTimeout: negative duration")
	}
	for _, p := range c.subprotocols {
		if p == "" {
			return errors.New("ws: WithSubprotocols: empty name")
		}
	}
	return c.compression.validate()
}

// WithMaxMessageSize bounds a received message, in bytes, after reassembly
// of its fragments and after decompression; a bigger one fails the
// connection with close code 1009 (RFC 6455 §7.4.1). Default
// DefaultMaxMessageSize (32 MiB). The limit is also the most memory one
// message may pin.
func WithMaxMessageSize(n int64) Option {
	return connOption(func(c *connConfig) { c.maxMessageSize = n })
}

// WithMaxFrameSize bounds the payload of one received frame, in bytes, at
// most the message limit; a bigger frame fails the connection with 1009.
// Default 0: the message limit.
func WithMaxFrameSize(n int64) Option {
	return connOption(func(c *connConfig) { c.maxFrameSize = n })
}

// WithFragmentSize makes outgoing messages longer than n bytes go out as
// fragments of at most n bytes (RFC 6455 §5.4), so that a large message does
// not hold up control frames for long. Default 0: one frame per message.
func WithFragmentSize(n int) Option {
	return connOption(func(c *connConfig) { c.fragmentSize = n })
}

// WithIncomingBuffer sets how many received messages wait in Incoming for
// the reader (0: unbuffered). When it is full the connection stops reading
// from the socket (backpressure) until the application catches up. Default
// 16.
func WithIncomingBuffer(n int) Option {
	return connOption(func(c *connConfig) { c.incomingBuffer = n })
}

// WithOutgoingBuffer sets how many messages may wait in Outgoing for the
// writer (0: unbuffered); senders block (or, with select/default, see it
// full) beyond it. Send calls share the bound. Default 16.
func WithOutgoingBuffer(n int) Option {
	return connOption(func(c *connConfig) { c.outgoingBuffer = n })
}

// WithReadBufferSize sets the size in bytes (at least 16) of the buffered
// reader on the socket of a connection whose handshake did not already
// supply one. Default 4 KiB. Dial and Accept keep the handshake's reader,
// which may hold the peer's first frames, so this rarely applies to them.
func WithReadBufferSize(n int) Option {
	return connOption(func(c *connConfig) { c.readBufferSize = n })
}

// WithWriteBufferSize sets the size in bytes of the buffer frames are
// gathered in before a write. Default 16 KiB.
func WithWriteBufferSize(n int) Option {
	return connOption(func(c *connConfig) { c.writeBufferSize = n })
}

// WithKeepalive pings the peer an interval after its last answer (traffic
// does not postpone it) and ends the connection with ErrPongTimeout when a
// ping is not answered within timeout of its write, or cannot be written
// because a write makes no progress for timeout. Both are positive, or both
// zero. Default DefaultKeepaliveInterval and DefaultKeepaliveTimeout (30 s
// each): a peer that vanished without a FIN is noticed within a minute.
// WithKeepalive(0, 0) turns it off.
func WithKeepalive(interval, timeout time.Duration) Option {
	return connOption(func(c *connConfig) { c.keepaliveInterval, c.keepaliveTimeout = interval, timeout })
}

// WithWriteTimeout bounds each batch of writes to the socket (one message
// written by Send, or what the writer gathers before one flush); a peer
// that stops reading fails the connection after d instead of blocking the
// writer forever. Default 0: no timeout (a stalled peer is still caught by the
// keepalive once its receive window is full).
func WithWriteTimeout(d time.Duration) Option {
	return connOption(func(c *connConfig) { c.writeTimeout = d })
}

// WithCloseGracePeriod bounds a close handshake started by the connection's
// lifetime ending (WithLifetime, Server.Shutdown) or by a Handler's function
// returning: after d the socket is closed whether or not the peer answered.
// Default DefaultCloseGracePeriod (5 s).
func WithCloseGracePeriod(d time.Duration) Option {
	return connOption(func(c *connConfig) { c.closeGrace = d })
}

// WithIncomingBytes bounds the bytes of the messages waiting in Incoming
// (default 4 MiB): a message that would take Incoming past it waits, and
// the connection stops reading the socket, as when Incoming is full. A
// message larger than the budget is delivered once Incoming is empty. A
// consumer that falls behind therefore pins at most this much plus two
// messages (the one held back and the one being read), each bounded by
// WithMaxMessageSize.
func WithIncomingBytes(n int64) Option {
	return connOption(func(c *connConfig) { c.incomingBytes = n })
}

// WithFailLinger bounds how long a connection failing because the peer
// broke the protocol waits to send its close frame (1002, 1007, 1009).
// Incoming is closed at once behind the messages received before the
// violation, and the close frame goes when the application calls Close —
// Handler does when its function returns — so that the replies to those
// messages go out first; at the latest it goes after d. Default 250 ms; 0
// sends it at once.
func WithFailLinger(d time.Duration) Option {
	return connOption(func(c *connConfig) { c.failLinger = d })
}

// WithRecycledBuffers makes a received message's buffer return to its
// connection when the application calls Message.Release, to hold a later
// message, so that a steady stream of messages is received without
// allocating. Default off: every message gets a new buffer, which the
// receiver keeps. A connection keeps at most its Incoming capacity + 3
// buffers of up to 64 KiB; bigger ones, and messages never released, are
// left to the garbage collector.
//
// With check, Release overwrites the buffer at once and a second Release
// of the same message panics, so that tests catch Data used after Release;
// it costs a lock and a fill per Release and is meant for tests.
func WithRecycledBuffers(check bool) Option {
	return connOption(func(c *connConfig) { c.recycle, c.recycleCheck = true, check })
}

// WithLifetime binds the connection to ctx: when ctx is cancelled, the
// connection starts a close handshake with 1001 (going away), bounded by
// the close grace period. Cancelling the ctx given to Dial only bounds the
// handshake; use this to bound the connection. Give Send a ctx of its own,
// not ctx itself: the close frame goes after the message being written,
// while a Send whose ctx ends in the middle of its message cuts the stream
// (see Send). Default: no lifetime.
func WithLifetime(ctx context.Context) Option {
	return connOption(func(c *connConfig) { c.lifetime = ctx })
}

// WithSubprotocols lists application protocols (RFC 6455 §1.9). A client
// offers them in this order of preference; a server picks the first one in
// this list that the client offered, or none. Conn.Subprotocol reports the
// choice. Default: none.
func WithSubprotocols(protocols ...string) Option {
	p := append([]string(nil), protocols...)
	return connOption(func(c *connConfig) { c.subprotocols = p })
}

// OnPing calls fn with the payload of every ping received, on the
// connection's reader goroutine, before its pong is queued. Pings are
// answered whether or not fn is set. fn must not block for long (the socket
// is not read while it runs) and must not keep the slice. Default: none.
func OnPing(fn func(payload []byte)) Option {
	return connOption(func(c *connConfig) { c.onPing = fn })
}

// OnPong calls fn with the payload of every pong received, on the
// connection's reader goroutine. fn must not block for long and must not
// keep the slice.
// Default: none.
func OnPong(fn func(payload []byte)) Option {
	return connOption(func(c *connConfig) { c.onPong = fn })
}

// WithHeader adds header to the client's upgrade request (cookies,
// Authorization, ...). Headers the handshake owns (Upgrade, Connection,
// Sec-WebSocket-*) are refused by Dial. The map is copied.
func WithHeader(header http.Header) DialOption {
	h := header.Clone()
	return dialOption(func(c *dialConfig) { c.header = h })
}

// WithTLSConfig sets the TLS configuration for wss URLs. ServerName defaults
// to the URL's host. Default: a zero tls.Config (system roots).
func WithTLSConfig(cfg *tls.Config) DialOption {
	return dialOption(func(c *dialConfig) { c.tlsConfig = cfg })
}

// WithProxy picks an HTTP proxy for each request, tunnelled with CONNECT;
// returning nil, nil connects directly. User information in the proxy URL
// is sent as Proxy-Authorization: Basic. Default: http.ProxyFromEnvironment
// (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), as net/http does.
func WithProxy(proxy func(*http.Request) (*url.URL, error)) DialOption {
	return dialOption(func(c *dialConfig) { c.proxy = proxy })
}

// WithRedirects makes Dial follow up to n 3xx redirects (never from wss to
// ws). Default 0: a redirect is returned as a *RedirectError.
func WithRedirects(n int) DialOption {
	return dialOption(func(c *dialConfig) { c.maxRedirects = n })
}

// WithHandshakeTimeout bounds the opening handshake. For Dial it bounds the
// TCP, TLS and HTTP exchange (each attempt, when redirects are followed),
// in addition to Dial's ctx. For Accept and Handler it bounds writing the
// 101 response to a client that does not read it; reading the request is
// the http.Server's job (set its ReadHeaderTimeout). Default: 10 s.
func WithHandshakeTimeout(d time.Duration) Option {
	return connOption(func(c *connConfig) { c.handshakeTimeout = d })
}

// WithDialer sets the dialer that opens the TCP connection (to the server
// or the proxy), e.g. to pick a local address or keep-alive settings.
// Default: a zero net.Dialer.
func WithDialer(d *net.Dialer) DialOption {
	return dialOption(func(c *dialConfig) { c.dialer = d })
}

// WithOrigin sends an Origin header, as a browser page at origin would
// (e.g. "https://example.com"). Default: none, as for any non-browser
// client.
func WithOrigin(origin string) DialOption {
	return dialOption(func(c *dialConfig) { c.origin = origin })
}

// WithOrigins makes the server accept browser requests whose Origin matches
// one of patterns, in addition to the page's own host: path.Match patterns
// on the origin's "host[:port]" ("*.example.com", "localhost:*"), or on the
// whole origin when they contain "://" ("https://*.example.com"). The
// default accepts only same-origin requests (Origin's host equals Host) and
// requests without an Origin (non-browser clients): it stops other sites'
// pages from opening a connection with the user's cookies (cross-site
// WebSocket hijacking). A refused request gets 403.
func WithOrigins(patterns ...string) AcceptOption {
	p := append([]string(nil), patterns...)
	return acceptOption(func(c *acceptConfig) { c.originPatterns = p })
}

// WithAnyOrigin turns the origin check off: pages from any site may connect.
// Use it only when connections carry no ambient credentials (cookies, HTTP
// auth) — authenticate in the protocol instead.
func WithAnyOrigin() AcceptOption {
	return acceptOption(func(c *acceptConfig) { c.anyOrigin = true })
}

// WithSubprotocolSelector picks the subprotocol for each request, replacing
// the fixed preference of WithSubprotocols on the server: fn gets the
// upgrade request (its path, headers, the authenticated user in its
// context) and the subprotocols the client offered, in its order, and
// returns one of them, or "" for none. Returning a name the client did not
// offer is refused by RFC 6455 §4.2.2: the request gets 500 and Accept an
// error.
func WithSubprotocolSelector(fn func(r *http.Request, offered []string) string) AcceptOption {
	return acceptOption(func(c *acceptConfig) { c.selectProtocol = fn })
}

// WithResponseHeader adds header to the 101 response (e.g. Set-Cookie).
// Headers the handshake owns are not overridden. The map is copied.
func WithResponseHeader(header http.Header) AcceptOption {
	h := header.Clone()
	return acceptOption(func(c *acceptConfig) { c.header = h })
}
