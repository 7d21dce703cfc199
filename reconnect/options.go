package reconnect

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/wsactor/ws"
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
)

// DialFunc opens one connection for the client, as ws.Dial does, which is
// the default: dial url with opts (those of WithDialOptions, then
// ws.WithHeader with WithHeader's result) and return a running *ws.Conn
// and the server's response. ctx bounds the dial; the connection must
// outlive it.
type DialFunc func(ctx context.Context, url string, opts ...ws.DialOption) (*ws.Conn, *http.Response, error)

// Option configures a Client (see New).
type Option func(*config)

type config struct {
	backoff       backoff.BackOff
	maxAttempts   int
	maxElapsed    time.Duration
	resetAfter    time.Duration
	maxRetryAfter time.Duration
	classify      func(error) Decision
	dial          DialFunc
	dialOpts      []ws.DialOption
	header        func(context.Context) (http.Header, error)
	outgoing      int
	policy        Policy
	incoming      int
	events        int
	onConnect     func(context.Context, *ws.Conn) error
	onDisconnect  func(*ws.Conn, error)
	layer         Layer
}

func defaultConfig() config {
	return config{
		backoff:       &FullJitter{},
		resetAfter:    DefaultResetAfter,
		maxRetryAfter: DefaultMaxRetryAfter,
		classify:      Classify,
		dial:          ws.Dial,
		outgoing:      DefaultOutgoingBuffer,
		policy:        Block,
		incoming:      DefaultIncomingBuffer,
		events:        DefaultEventBuffer,
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
	case c.dial == nil:
		return errors.New("reconnect: WithDialFunc: nil function")
	case c.outgoing < 1:
		return errors.New("reconnect: WithOutgoingBuffer: size below 1")
	case c.policy < Block || c.policy > Fail:
		return errors.New("reconnect: WithOverflow: unknown policy")
	case c.incoming < 0:
		return errors.New("reconnect: WithIncomingBuffer: negative size")
	case c.events < 1:
		return errors.New("reconnect: WithEventBuffer: size below 1")
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

// WithDialOptions gives opts to every ws.Dial the client makes, so each
// connection has the same TLS configuration, proxy, dialer (WithNetDial),
// cookie jar, subprotocols, compression, limits and keepalive: the
// connection's settings, with ws's defaults, are ws's options. Options
// given in several calls add up, in order. Keepalive is what notices a
// half-open connection (a peer gone without a FIN) and so makes the client
// redial: ws's default pings after 30 s and gives up 30 s later;
// ws.WithKeepalive(15*time.Second, 10*time.Second) replaces such a
// connection within 25 s. The close grace period of ws.WithCloseGracePeriod
// also bounds the close handshakes the client starts (Close, Run's ctx, a
// failed OnConnect).
func WithDialOptions(opts ...ws.DialOption) Option {
	opts = append([]ws.DialOption(nil), opts...)
	return func(c *config) { c.dialOpts = append(c.dialOpts, opts...) }
}

// WithDialFunc replaces ws.Dial as the function that opens each
// connection; it is given the options of WithDialOptions and WithHeader.
// Use it to wrap ws.Dial (count or delay dials, inject faults in tests) or
// to build the connection another way. Default ws.Dial.
func WithDialFunc(dial DialFunc) Option { return func(c *config) { c.dial = dial } }

// WithHeader sets a function called before every dial for the request
// headers, e.g. to put a freshly refreshed token in Authorization. Its
// result goes to ws.Dial as ws.WithHeader after the options of
// WithDialOptions, so it replaces a ws.WithHeader among them: return the
// static headers too. Its error counts as a failed attempt and is
// classified like any other (wrap it with backoff.Permanent to give up).
// Default: no extra headers.
func WithHeader(fn func(ctx context.Context) (http.Header, error)) Option {
	return func(c *config) { c.header = fn }
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

// OnConnect sets a function run after each handshake and before the
// queued messages are flushed: authenticate, resubscribe, resume from the
// last sequence number. It may send on conn and read conn.Incoming();
// whatever it leaves unread goes to the client's Incoming after it
// returns. ctx ends when Run's ctx does, on Close, or when conn ends. An
// error closes the connection and counts as a failed attempt (classified
// like any other).
func OnConnect(fn func(ctx context.Context, conn *ws.Conn) error) Option {
	return func(c *config) { c.onConnect = fn }
}

// OnDisconnect sets a function called on Run's goroutine after a
// connection that passed OnConnect has ended, with its error, before the
// client waits to retry. It is not called when the client itself closes
// the connection. It must not block for long.
func OnDisconnect(fn func(conn *ws.Conn, err error)) Option {
	return func(c *config) { c.onDisconnect = fn }
}
