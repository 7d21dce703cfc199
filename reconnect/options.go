package reconnect

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/wsactor/ws/actor"
)

// Defaults of the client's options.
const (
	// DefaultResetAfter is how long a connection must live for the backoff
	// to start again from its first delay.
	DefaultResetAfter = 10 * time.Second
	// DefaultMaxRetryAfter caps a server's Retry-After.
	DefaultMaxRetryAfter = 5 * time.Minute
	// DefaultOutgoingBuffer is how many messages wait while offline.
	DefaultOutgoingBuffer = 256
	// DefaultIncomingBuffer is the capacity of Incoming.
	DefaultIncomingBuffer = 16
	// DefaultEventBuffer is the capacity of Events.
	DefaultEventBuffer = 64
	// DefaultKeepaliveInterval and DefaultKeepaliveTimeout: the default
	// dialer pings after 15 s of silence and gives up on the connection
	// 10 s later, so a half-open connection is replaced within 25 s.
	DefaultKeepaliveInterval = 15 * time.Second
	DefaultKeepaliveTimeout  = 10 * time.Second
	// DefaultCloseGracePeriod bounds the close handshake when Run's ctx is
	// cancelled.
	DefaultCloseGracePeriod = 2 * time.Second
)

// DialFunc opens one connection for the client: dial url with header
// (from WithHeader; nil if none) and return a running *actor.Conn and the
// server's response. ctx bounds the dial; the connection must outlive it.
// ws.Dial fits with a small adapter (see WithDialer).
type DialFunc func(ctx context.Context, url string, header http.Header) (*actor.Conn, *http.Response, error)

// Option configures a Client (see New).
type Option func(*config)

type config struct {
	backoff        backoff.BackOff
	maxAttempts    int
	maxElapsed     time.Duration
	resetAfter     time.Duration
	maxRetryAfter  time.Duration
	classify       func(error) Decision
	dial           DialFunc
	header         func(context.Context) (http.Header, error)
	keepInterval   time.Duration
	keepTimeout    time.Duration
	outgoing       int
	policy         Policy
	incoming       int
	events         int
	closeGrace     time.Duration
	onConnect      func(context.Context, *actor.Conn) error
	onDisconnect   func(*actor.Conn, error)
	customDialer   bool
	customKeepLive bool
}

func defaultConfig() config {
	return config{
		backoff:       &FullJitter{},
		resetAfter:    DefaultResetAfter,
		maxRetryAfter: DefaultMaxRetryAfter,
		classify:      Classify,
		keepInterval:  DefaultKeepaliveInterval,
		keepTimeout:   DefaultKeepaliveTimeout,
		outgoing:      DefaultOutgoingBuffer,
		policy:        Block,
		incoming:      DefaultIncomingBuffer,
		events:        DefaultEventBuffer,
		closeGrace:    DefaultCloseGracePeriod,
	}
}

func (c *config) validate() error {
	switch {
	case c.backoff == nil:
		return errors.New("reconnect: WithBackoff: nil backoff")
	case c.maxAttempts < 0:
		return errors.New("reconnect: WithMaxAttempts: negative count")
	case c.maxElapsed < 0:
		return errors.New("reconnect: WithMaxElapsedTime: negative duration")
	case c.resetAfter < 0:
		return errors.New("reconnect: WithResetAfter: negative duration")
	case c.maxRetryAfter < 0:
		return errors.New("reconnect: WithMaxRetryAfter: negative duration")
	case c.classify == nil:
		return errors.New("reconnect: WithClassifier: nil classifier")
	case c.customDialer && c.dial == nil:
		return errors.New("reconnect: WithDialer: nil dialer")
	case c.customDialer && c.customKeepLive:
		return errors.New("reconnect: WithKeepalive applies to the default dialer only; set keepalive in your dialer")
	case c.keepInterval < 0 || c.keepTimeout < 0:
		return errors.New("reconnect: WithKeepalive: negative duration")
	case c.outgoing < 1:
		return errors.New("reconnect: WithOutgoingBuffer: size below 1")
	case c.policy < Block || c.policy > Fail:
		return errors.New("reconnect: WithOverflow: unknown policy")
	case c.incoming < 0:
		return errors.New("reconnect: WithIncomingBuffer: negative size")
	case c.events < 1:
		return errors.New("reconnect: WithEventBuffer: size below 1")
	case c.closeGrace < 0:
		return errors.New("reconnect: WithCloseGracePeriod: negative duration")
	}
	return nil
}

// WithBackoff sets the delay between attempts. Default &FullJitter{}
// (uniform in [0, 1 s), then [0, 2 s), ... capped at 30 s). Any
// backoff.BackOff works, e.g. &DecorrelatedJitter{} or
// backoff.WithMaxRetries(b, 5); when it returns backoff.Stop the client
// gives up. b is owned by the client from now on (it calls Reset and
// NextBackOff from Run's goroutine): do not share it between clients.
func WithBackoff(b backoff.BackOff) Option { return func(c *config) { c.backoff = b } }

// WithMaxAttempts gives up after n attempts in a row without a connection
// that lived WithResetAfter (a connection that dies sooner counts as a
// failed attempt). Default 0: no limit.
func WithMaxAttempts(n int) Option { return func(c *config) { c.maxAttempts = n } }

// WithMaxElapsedTime gives up when an outage (the time since the last
// connection that lived WithResetAfter ended, or since Run started) would
// exceed d by the next attempt. Default 0: no limit.
func WithMaxElapsedTime(d time.Duration) Option { return func(c *config) { c.maxElapsed = d } }

// WithResetAfter sets how long a connection must live for the backoff to
// reset (and the attempt count to start again from 1). A connection that
// dies sooner does not reset it, so a server that accepts and crashes at
// once is not hammered. Default DefaultResetAfter (10 s); 0 resets on
// every connection.
func WithResetAfter(d time.Duration) Option { return func(c *config) { c.resetAfter = d } }

// WithMaxRetryAfter caps a server's Retry-After (and any Decision.After).
// Default DefaultMaxRetryAfter (5 min).
func WithMaxRetryAfter(d time.Duration) Option { return func(c *config) { c.maxRetryAfter = d } }

// WithClassifier replaces Classify, which decides after each failure
// whether to retry. fn runs on Run's goroutine; it may delegate to
// Classify for the cases it does not handle.
func WithClassifier(fn func(err error) Decision) Option {
	return func(c *config) { c.classify = fn }
}

// WithDialer replaces the default dialer (handshake.Client.Dial with the
// header from WithHeader, then actor.New with WithKeepalive's settings).
// Use it to dial with ws.Dial and its options; the dialer then owns
// keepalive, so WithKeepalive is refused with it:
//
//	reconnect.WithDialer(func(ctx context.Context, url string, h http.Header) (*ws.Conn, *http.Response, error) {
//		return ws.Dial(ctx, url, ws.WithHeader(h), ws.WithSubprotocols("v2"),
//			ws.WithKeepalive(15*time.Second, 10*time.Second))
//	})
func WithDialer(dial DialFunc) Option {
	return func(c *config) { c.dial, c.customDialer = dial, true }
}

// WithHeader sets a function called before every dial for the request
// headers, e.g. to put a freshly refreshed token in Authorization. Its
// error counts as a failed attempt and is classified like any other
// (wrap it with backoff.Permanent to give up). Default: no extra headers.
func WithHeader(fn func(ctx context.Context) (http.Header, error)) Option {
	return func(c *config) { c.header = fn }
}

// WithKeepalive sets the default dialer's keepalive: ping after interval
// of silence, end the connection if no pong comes within timeout, which
// makes the client reconnect. This is what detects a half-open connection
// (a peer gone without FIN). Default DefaultKeepaliveInterval (15 s) and
// DefaultKeepaliveTimeout (10 s); WithKeepalive(0, 0) turns it off.
func WithKeepalive(interval, timeout time.Duration) Option {
	return func(c *config) { c.keepInterval, c.keepTimeout, c.customKeepLive = interval, timeout, true }
}

// WithOutgoingBuffer sets how many messages may wait to be sent (while
// offline, or while the connection is slower than the senders). Default
// DefaultOutgoingBuffer (256); at least 1. WithOverflow says what happens
// when it is full.
func WithOutgoingBuffer(n int) Option { return func(c *config) { c.outgoing = n } }

// WithOverflow sets the policy for a full outgoing buffer. Default Block.
func WithOverflow(p Policy) Option { return func(c *config) { c.policy = p } }

// WithIncomingBuffer sets the capacity of Incoming. Default
// DefaultIncomingBuffer (16). A reader that falls behind stops the
// connection's reader (backpressure), it does not lose messages.
func WithIncomingBuffer(n int) Option { return func(c *config) { c.incoming = n } }

// WithEventBuffer sets the capacity of Events. Default DefaultEventBuffer
// (64). When it is full the oldest event is discarded (Stats counts
// them): the client never waits for the events reader.
func WithEventBuffer(n int) Option { return func(c *config) { c.events = n } }

// WithCloseGracePeriod bounds the close handshake (1001, going away) when
// Run's ctx is cancelled while connected. Default
// DefaultCloseGracePeriod (2 s); 0 drops the connection at once.
func WithCloseGracePeriod(d time.Duration) Option { return func(c *config) { c.closeGrace = d } }

// OnConnect sets a function run after each handshake and before the
// queued messages are flushed: authenticate, resubscribe, resume from the
// last sequence number. It may send on conn and read conn.Incoming();
// whatever it leaves unread goes to the client's Incoming after it
// returns. ctx ends when Run's ctx does, on Close, or when conn ends. An
// error closes the connection and counts as a failed attempt (classified
// like any other).
func OnConnect(fn func(ctx context.Context, conn *actor.Conn) error) Option {
	return func(c *config) { c.onConnect = fn }
}

// OnDisconnect sets a function called on Run's goroutine after a
// connection that passed OnConnect has ended, with its error, before the
// client waits to retry. It is not called when the client itself closes
// the connection. It must not block for long.
func OnDisconnect(fn func(conn *actor.Conn, err error)) Option {
	return func(c *config) { c.onDisconnect = fn }
}
