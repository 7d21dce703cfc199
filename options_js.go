//go:build js

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

// Under js the options keep their native names and signatures, so that a
// Dial call compiles for both builds, but the host WebSocket decides most of
// what they set natively. Each option's comment says what it does under js.
// Two kinds of option are refused by Dial with an error rather than ignored:
// those that would change what the upgrade request says (WithHeader,
// WithOrigin), because a request silently lacking the credentials or origin
// the caller set would be accepted or refused by the server for a reason the
// caller cannot see. Options whose purpose the host fulfils its own way (TLS
// trust, proxies, the TCP dialer) or that tune machinery the host does not
// expose (frame sizes, read buffers, keepalive, compression) are accepted
// and ignored.

// DialOption configures Dial.
type DialOption interface {
	applyDial(*dialConfigJS)
}

// Option is an option that natively means the same on both sides. Under js
// only Dial exists, so an Option is a DialOption.
type Option interface {
	DialOption
	sharedOption()
}

type connOptionJS func(*dialConfigJS)

func (o connOptionJS) applyDial(c *dialConfigJS) { o(c) }
func (connOptionJS) sharedOption()               {}

type dialOptionJS func(*dialConfigJS)

func (o dialOptionJS) applyDial(c *dialConfigJS) { o(c) }

// Defaults of the ws package, as in the native build.
const (
	// DefaultMaxMessageSize bounds a received message: 32 MiB.
	DefaultMaxMessageSize = 32 << 20
	// DefaultKeepaliveInterval is the native keepalive interval; under js
	// there is no keepalive (the host answers the peer's pings itself).
	DefaultKeepaliveInterval = 30 * time.Second
	// DefaultKeepaliveTimeout is the native pong timeout; unused under js.
	DefaultKeepaliveTimeout = 30 * time.Second
	// DefaultCloseGracePeriod bounds a close handshake that a lifetime
	// context starts, and every Close: 5 s.
	DefaultCloseGracePeriod = 5 * time.Second
)

// defaultSendBuffer is how many bytes the host may hold unsent (its
// bufferedAmount) before the next message waits. It is larger than the
// native write buffer because the writer learns that the host's buffer
// drained only by polling it, at most every 16 ms: a 1 MiB window keeps a
// fast link busy between two polls.
const defaultSendBuffer = 1 << 20

// dialConfigJS holds the settings the js build uses, and records the
// refused ones so that Dial can name them.
type dialConfigJS struct {
	maxMessageSize   int64
	incomingBuffer   int
	outgoingBuffer   int
	sendBuffer       int
	writeTimeout     time.Duration
	closeGrace       time.Duration
	lifetime         context.Context
	subprotocols     []string
	handshakeTimeout time.Duration
	maxRedirects     int
	negative         string // the first option given a negative or zero value it refuses
	refused          string // the first option that cannot be honoured under js
}

func newDialConfigJS(opts []DialOption) (*dialConfigJS, error) {
	c := &dialConfigJS{
		maxMessageSize: DefaultMaxMessageSize,
		incomingBuffer: actor.DefaultIncomingBuffer,
		outgoingBuffer: actor.DefaultOutgoingBuffer,
		sendBuffer:     defaultSendBuffer,
		closeGrace:     DefaultCloseGracePeriod,
	}
	for _, o := range opts {
		if o != nil {
			o.applyDial(c)
		}
	}
	switch {
	case c.refused != "":
		return nil, errors.New("ws: " + c.refused + " cannot be honoured under js: the host WebSocket sets the upgrade request's headers and Origin itself")
	case c.negative != "":
		return nil, errors.New("ws: " + c.negative)
	case c.maxMessageSize <= 0:
		return nil, errors.New("ws: WithMaxMessageSize: size must be positive")
	case c.incomingBuffer < 0 || c.outgoingBuffer < 0:
		return nil, errors.New("ws: WithIncomingBuffer/WithOutgoingBuffer: negative size")
	case c.sendBuffer < 0:
		return nil, errors.New("ws: WithWriteBufferSize: negative size")
	case c.writeTimeout < 0:
		return nil, errors.New("ws: WithWriteTimeout: negative duration")
	case c.closeGrace <= 0:
		return nil, errors.New("ws: WithCloseGracePeriod: duration must be positive")
	case c.maxRedirects < 0:
		return nil, errors.New("ws: WithRedirects: negative count")
	case c.handshakeTimeout < 0:
		return nil, errors.New("ws: WithHandshakeTimeout: negative duration")
	}
	for _, p := range c.subprotocols {
		if p == "" {
			return nil, errors.New("ws: WithSubprotocols: empty name")
		}
	}
	return c, nil
}

// WithMaxMessageSize bounds a received message, in bytes. Under js the host
// has already received the whole message when Go sees it; a bigger one ends
// the connection with a *CloseError of code 1009 (StatusMessageTooBig) on
// our side, and the close frame sent carries no code, since the WebSocket
// API may not send 1009. It also bounds the bytes waiting behind a full
// Incoming (see WithIncomingBuffer). Default DefaultMaxMessageSize (32 MiB).
func WithMaxMessageSize(n int64) Option {
	return connOptionJS(func(c *dialConfigJS) { c.maxMessageSize = n })
}

// WithMaxFrameSize is ignored under js: the host reassembles fragments
// before Go sees a message.
func WithMaxFrameSize(n int64) Option {
	return connOptionJS(func(c *dialConfigJS) {
		if n < 0 {
			c.noteNegative("WithMaxFrameSize: negative size")
		}
	})
}

// WithFragmentSize is ignored under js: the host decides how a message is
// framed.
func WithFragmentSize(n int) Option {
	return connOptionJS(func(c *dialConfigJS) {
		if n < 0 {
			c.noteNegative("WithFragmentSize: negative size")
		}
	})
}

// WithIncomingBuffer sets how many received messages wait in Incoming for
// the reader (0: unbuffered). The host reads the socket on its own and
// cannot be paused, so under js a full Incoming does not push back on the
// peer: further messages wait behind it, up to the max message size in
// bytes (WithMaxMessageSize), and a reader that falls further behind ends
// the connection with a *CloseError of code 1008 (StatusPolicyViolation)
// whose Err is ErrReceiveBacklog. Default 16.
func WithIncomingBuffer(n int) Option {
	return connOptionJS(func(c *dialConfigJS) { c.incomingBuffer = n })
}

// WithOutgoingBuffer sets how many messages may wait in Outgoing for the
// writer (0: unbuffered); senders block beyond it. Default 16.
func WithOutgoingBuffer(n int) Option {
	return connOptionJS(func(c *dialConfigJS) { c.outgoingBuffer = n })
}

// WithReadBufferSize is ignored under js: the host reads the socket.
func WithReadBufferSize(n int) Option {
	return connOptionJS(func(c *dialConfigJS) {
		if n < 16 {
			c.noteNegative("WithReadBufferSize: read buffer under 16 bytes")
		}
	})
}

// WithWriteBufferSize sets, under js, how many bytes the host WebSocket may
// hold unsent (its bufferedAmount) before the writer waits for it to drain
// below that mark and hands it the next message: the send side's
// backpressure. 0 waits until everything was transmitted before each
// message. Default 1 MiB.
func WithWriteBufferSize(n int) Option {
	return connOptionJS(func(c *dialConfigJS) { c.sendBuffer = n })
}

// WithKeepalive is ignored under js: a page cannot send pings, and the host
// answers the peer's pings itself. Both durations are positive, or both
// zero, as natively.
func WithKeepalive(interval, timeout time.Duration) Option {
	return connOptionJS(func(c *dialConfigJS) {
		if interval < 0 || timeout < 0 || (interval == 0) != (timeout == 0) {
			c.noteNegative("WithKeepalive: durations must both be positive, or both zero")
		}
	})
}

// WithWriteTimeout ends the connection when the host's unsent bytes stay
// above the send mark (WithWriteBufferSize) for d while a message waits:
// a peer that stops reading fails the connection instead of blocking the
// writer forever. Default 0: no timeout.
func WithWriteTimeout(d time.Duration) Option {
	return connOptionJS(func(c *dialConfigJS) { c.writeTimeout = d })
}

// WithCloseGracePeriod bounds every close handshake: after d the connection
// ends on our side whether or not the peer answered (the host may finish
// the handshake later, unseen). Default DefaultCloseGracePeriod (5 s).
func WithCloseGracePeriod(d time.Duration) Option {
	return connOptionJS(func(c *dialConfigJS) { c.closeGrace = d })
}

// WithLifetime binds the connection to ctx: when ctx is cancelled, the
// connection starts a close handshake, bounded by the close grace period.
// Natively it sends 1001 (going away); the WebSocket API may not send 1001,
// so under js it sends 1000 with the reason "going away".
func WithLifetime(ctx context.Context) Option {
	return connOptionJS(func(c *dialConfigJS) { c.lifetime = ctx })
}

// WithSubprotocols lists application protocols (RFC 6455 §1.9), offered in
// this order of preference; Conn.Subprotocol reports the server's choice.
// Default: none.
func WithSubprotocols(protocols ...string) Option {
	p := append([]string(nil), protocols...)
	return connOptionJS(func(c *dialConfigJS) { c.subprotocols = p })
}

// OnPing is accepted and never called under js: the host answers pings
// without telling the page.
func OnPing(fn func(payload []byte)) Option { return connOptionJS(func(*dialConfigJS) {}) }

// OnPong is accepted and never called under js: a page cannot send pings,
// and the host does not report pongs.
func OnPong(fn func(payload []byte)) Option { return connOptionJS(func(*dialConfigJS) {}) }

// WithCompression is ignored under js: the host offers permessage-deflate
// (RFC 7692) on its own terms, and the server decides.
func WithCompression() Option { return connOptionJS(func(*dialConfigJS) {}) }

// WithCompressionLevel is ignored under js (see WithCompression).
func WithCompressionLevel(level int) Option { return connOptionJS(func(*dialConfigJS) {}) }

// WithCompressionThreshold is ignored under js (see WithCompression).
func WithCompressionThreshold(n int) Option { return connOptionJS(func(*dialConfigJS) {}) }

// WithContextTakeover is ignored under js (see WithCompression).
func WithContextTakeover() Option { return connOptionJS(func(*dialConfigJS) {}) }

// WithClientMaxWindowBits is ignored under js (see WithCompression).
func WithClientMaxWindowBits(bits int) Option { return connOptionJS(func(*dialConfigJS) {}) }

// WithHeader adds header to the upgrade request natively. The WebSocket API
// cannot set request headers (the host sends its own, and the cookies of
// the target site), so under js Dial refuses a non-empty header with an
// error; an empty one is accepted. Authenticate in the URL or in the first
// message instead.
func WithHeader(header http.Header) DialOption {
	n := len(header)
	return dialOptionJS(func(c *dialConfigJS) {
		if n > 0 {
			c.noteRefused("WithHeader")
		}
	})
}

// WithTLSConfig is ignored under js: the host verifies wss servers against
// its own trust store.
func WithTLSConfig(cfg *tls.Config) DialOption { return dialOptionJS(func(*dialConfigJS) {}) }

// WithProxy is ignored under js: the host uses its own proxy settings.
func WithProxy(proxy func(*http.Request) (*url.URL, error)) DialOption {
	return dialOptionJS(func(*dialConfigJS) {})
}

// WithRedirects is ignored under js, beyond refusing a negative n: the host
// never follows a redirect of a WebSocket handshake, and Dial then fails.
func WithRedirects(n int) DialOption {
	return dialOptionJS(func(c *dialConfigJS) { c.maxRedirects = n })
}

// WithHandshakeTimeout bounds the wait for the host's open event, in
// addition to the ctx given to Dial. Default 10 s, as natively.
func WithHandshakeTimeout(d time.Duration) DialOption {
	return dialOptionJS(func(c *dialConfigJS) { c.handshakeTimeout = d })
}

// WithDialer is ignored under js: the host opens the connection.
func WithDialer(d *net.Dialer) DialOption { return dialOptionJS(func(*dialConfigJS) {}) }

// WithOrigin sets the Origin header natively. Under js the host always
// sends the page's own origin, so Dial refuses a non-empty origin with an
// error; an empty one is accepted.
func WithOrigin(origin string) DialOption {
	return dialOptionJS(func(c *dialConfigJS) {
		if origin != "" {
			c.noteRefused("WithOrigin")
		}
	})
}

func (c *dialConfigJS) noteRefused(name string) {
	if c.refused == "" {
		c.refused = name
	}
}

func (c *dialConfigJS) noteNegative(msg string) {
	if c.negative == "" {
		c.negative = msg
	}
}
