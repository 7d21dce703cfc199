package session

import (
	"errors"
	"net/http"
	"time"

	"github.com/wsactor/ws"
)

// Defaults of the options.
const (
	DefaultReplayMessages   = 1024
	DefaultReplayBytes      = 1 << 20 // 1 MiB
	DefaultAckDelay         = 20 * time.Millisecond
	DefaultDetachedTimeout  = 2 * time.Minute
	DefaultMaxDetached      = 10000
	DefaultMaxDetachedBytes = 256 << 20 // 256 MiB
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultFlushTimeout     = 5 * time.Second
)

// Overflow says what a server's Session.Send does when the replay buffer
// is full while the session is detached (its client away). While attached,
// Send always waits for the client's acknowledgements: that is flow
// control, not overflow.
type Overflow int

// The overflow policies.
const (
	// OverflowEnd (default) ends the session: Send returns ErrOverflow,
	// the handler's ctx is cancelled and the client's resume is refused
	// with CodeOverflow, so it is told it lost the session. Memory stays
	// bounded and nothing is lost silently.
	OverflowEnd Overflow = iota
	// OverflowBlock makes Send wait until the client resumes and
	// acknowledges, or the session expires (ErrExpired).
	OverflowBlock
)

// Option configures a Server (NewServer) or a Client (NewClient). Each
// option says which it applies to; the other ignores it.
type Option func(*config)

type config struct {
	replayN, replayB int
	ackDelay         time.Duration
	handshake        time.Duration

	// Server.
	key          func(*http.Request) (string, error)
	acceptOpts   []ws.AcceptOption
	detached     time.Duration
	maxDetached  int
	maxDetachedB int
	overflow     Overflow
	flush        time.Duration

	// Client.
	onLost func(*LostError)
}

func defaultConfig() config {
	return config{
		replayN: DefaultReplayMessages, replayB: DefaultReplayBytes,
		ackDelay: DefaultAckDelay, handshake: DefaultHandshakeTimeout,
		detached: DefaultDetachedTimeout, maxDetached: DefaultMaxDetached,
		maxDetachedB: DefaultMaxDetachedBytes, flush: DefaultFlushTimeout,
	}
}

func newConfig(opts []Option) (config, error) {
	c := defaultConfig()
	for _, o := range opts {
		o(&c)
	}
	switch {
	case c.replayN < 1 || c.replayB < 1:
		return c, errors.New("session: WithReplayLimit: limits below 1")
	case c.ackDelay <= 0:
		return c, errors.New("session: WithAckDelay: delay not positive")
	case c.handshake <= 0:
		return c, errors.New("session: WithHandshakeTimeout: timeout not positive")
	case c.detached <= 0:
		return c, errors.New("session: WithDetachedTimeout: timeout not positive")
	case c.maxDetached < 0 || c.maxDetachedB < 0:
		return c, errors.New("session: WithMaxDetached: negative limit")
	case c.overflow != OverflowEnd && c.overflow != OverflowBlock:
		return c, errors.New("session: WithOverflow: unknown policy")
	case c.flush <= 0:
		return c, errors.New("session: WithFlushTimeout: timeout not positive")
	}
	return c, nil
}

// WithReplayLimit bounds the replay buffer, the messages sent and not yet
// acknowledged by the peer, to n messages and b bytes of payload (both
// sides). Defaults DefaultReplayMessages and DefaultReplayBytes. Each side
// tells the other its limits in the handshake, and the peer acknowledges
// at once when half of either is used.
func WithReplayLimit(n, b int) Option { return func(c *config) { c.replayN, c.replayB = n, b } }

// WithAckDelay sets how long received messages may wait for an
// acknowledgement when nothing is sent to carry it (both sides). Default
// DefaultAckDelay (20 ms). While messages flow both ways every data frame
// carries the acknowledgement and no ack frame is sent.
func WithAckDelay(d time.Duration) Option { return func(c *config) { c.ackDelay = d } }

// WithHandshakeTimeout bounds the session handshake, the hello and the
// welcome after the WebSocket handshake (both sides). Default
// DefaultHandshakeTimeout (10 s).
func WithHandshakeTimeout(d time.Duration) Option { return func(c *config) { c.handshake = d } }

// WithKey sets the function that says who a request is (server): the
// session is bound to the key it returns for the request that created it,
// and a resume whose request yields another key is refused with
// CodeUnknown, so a stolen or guessed id is useless without the owner's
// credentials. An error refuses the upgrade with 403 Forbidden. Default:
// every request has the same key, and the id (128 random bits) is the only
// credential.
func WithKey(fn func(r *http.Request) (string, error)) Option {
	return func(c *config) { c.key = fn }
}

// WithAcceptOptions gives opts to every upgrade (server): origins,
// compression, limits, keepalive. The subprotocol is the session's own
// (Protocol); WithSubprotocols and WithSubprotocolSelector among opts are
// overridden.
func WithAcceptOptions(opts ...ws.AcceptOption) Option {
	opts = append([]ws.AcceptOption(nil), opts...)
	return func(c *config) { c.acceptOpts = append(c.acceptOpts, opts...) }
}

// WithDetachedTimeout sets how long the server keeps a session whose
// client is away (server). Default DefaultDetachedTimeout (2 min). Past
// it the session ends with ErrExpired and a resume gets CodeUnknown.
func WithDetachedTimeout(d time.Duration) Option { return func(c *config) { c.detached = d } }

// WithMaxDetached bounds the sessions the server keeps for absent clients
// (server): at most n of them holding at most b bytes of replay buffers.
// Past either, the session detached the longest ago ends (ErrExpired).
// Defaults DefaultMaxDetached and DefaultMaxDetachedBytes; 0 means no
// detached session is kept.
func WithMaxDetached(n, b int) Option {
	return func(c *config) { c.maxDetached, c.maxDetachedB = n, b }
}

// WithOverflow sets the server's policy for a replay buffer that fills
// while the client is away (server). Default OverflowEnd.
func WithOverflow(p Overflow) Option { return func(c *config) { c.overflow = p } }

// WithFlushTimeout bounds how long a session whose handler returned waits
// for its client to acknowledge what it sent, before it ends (server).
// Default DefaultFlushTimeout (5 s).
func WithFlushTimeout(d time.Duration) Option { return func(c *config) { c.flush = d } }

// OnLost sets the client's resync hook (client): fn is called on the
// reconnect client's Run goroutine when the session is gone — refused on
// resume, or ended by the server — before a new session starts, with what
// was lost. Messages of the old session received before it are still
// delivered on Incoming before any of the new one. Default: none (the
// loss still shows in the reconnect client's events as the error of a
// failed attempt or a disconnection).
func OnLost(fn func(*LostError)) Option { return func(c *config) { c.onLost = fn } }
