package actor

import (
	"context"
	"errors"
	"time"

	"github.com/wsactor/ws/frame"
)

// Option configures a Conn; pass options to New.
type Option func(*config)

type config struct {
	incomingBuffer int
	incomingBytes  int64
	outgoingBuffer int
	maxMessage     int64
	maxFrame       int64
	fragment       int
	pingInterval   time.Duration
	pongTimeout    time.Duration
	writeTimeout   time.Duration
	closeGrace     time.Duration
	failLinger     time.Duration
	lifetime       context.Context
	readBuffer     int
	writeBuffer    int
	subprotocol    string
	extension      frame.Extension
	onPing         func([]byte)
	onPong         func([]byte)
	recycle        bool
	recycleCheck   bool
	streamRecv     bool // WithStreamedReceive (stream_recv.go)
}

// The defaults New uses.
const (
	DefaultIncomingBuffer   = 16
	DefaultIncomingBytes    = 4 << 20 // 4 MiB
	DefaultOutgoingBuffer   = 16
	DefaultMaxMessageSize   = frame.DefaultMaxMessageSize // 32 MiB
	DefaultCloseGracePeriod = 5 * time.Second
	DefaultFailLinger       = 250 * time.Millisecond
	DefaultReadBufferSize   = 4 << 10
	DefaultWriteBufferSize  = frame.DefaultWriteBufferSize // 16 KiB
)

func defaultConfig() config {
	return config{
		incomingBuffer: DefaultIncomingBuffer,
		incomingBytes:  DefaultIncomingBytes,
		failLinger:     DefaultFailLinger,
		outgoingBuffer: DefaultOutgoingBuffer,
		maxMessage:     DefaultMaxMessageSize,
		closeGrace:     DefaultCloseGracePeriod,
		readBuffer:     DefaultReadBufferSize,
		writeBuffer:    DefaultWriteBufferSize,
	}
}

// Option errors, returned by New.
var (
	errBufferSize   = errors.New("actor: channel buffer sizes must be >= 0")
	errMessageSize  = errors.New("actor: max message size must be > 0")
	errFrameSize    = errors.New("actor: max frame size must be > 0 and at most the max message size")
	errFragmentSize = errors.New("actor: fragment size must be >= 0")
	errKeepalive    = errors.New("actor: keepalive interval and timeout must both be > 0, or both 0")
	errWriteTimeout = errors.New("actor: write timeout must be >= 0")
	errCloseGrace   = errors.New("actor: close grace period must be > 0")
	errIOBuffer     = errors.New("actor: read buffer must be >= 16 bytes and write buffer >= 0")
	errLifetime     = errors.New("actor: lifetime context must not be nil")
	errIncomingSize = errors.New("actor: incoming byte budget must be > 0")
	errFailLinger   = errors.New("actor: fail linger must be >= 0")
)

func (c *config) validate() error {
	switch {
	case c.incomingBuffer < 0 || c.outgoingBuffer < 0:
		return errBufferSize
	case c.maxMessage <= 0:
		return errMessageSize
	case c.maxFrame < 0 || c.maxFrame > c.maxMessage:
		return errFrameSize
	case c.fragment < 0:
		return errFragmentSize
	case c.pingInterval < 0 || c.pongTimeout < 0 || (c.pingInterval == 0) != (c.pongTimeout == 0):
		return errKeepalive
	case c.writeTimeout < 0:
		return errWriteTimeout
	case c.closeGrace <= 0:
		return errCloseGrace
	case c.readBuffer < 16 || c.writeBuffer < 0:
		return errIOBuffer
	case c.incomingBytes <= 0:
		return errIncomingSize
	case c.failLinger < 0:
		return errFailLinger
	}
	if _, bad := c.lifetime.(invalidCtx); bad {
		return errLifetime
	}
	if _, ok := c.extension.(streamDecoder); c.streamRecv && c.extension != nil && !ok {
		return errStreamExtension
	}
	return nil
}

// WithIncomingBuffer sets the capacity of the Incoming channel, in messages
// (default 16; 0 makes it unbuffered). When it is full the connection stops
// reading the socket: see the package doc on backpressure.
func WithIncomingBuffer(n int) Option { return func(c *config) { c.incomingBuffer = n } }

// WithIncomingBytes bounds the bytes of the messages waiting in Incoming
// (default 4 MiB): a message that would take Incoming past it waits, and
// the connection stops reading the socket, as when Incoming is full. A
// message larger than the budget is delivered once Incoming is empty. So a
// slow consumer pins at most this much plus two messages (the one held back
// and the one being read), each bounded by WithMaxMessageSize.
func WithIncomingBytes(n int64) Option { return func(c *config) { c.incomingBytes = n } }

// WithOutgoingBuffer sets the capacity of the Outgoing channel, in messages
// (default 16; 0 makes it unbuffered). When it is full, senders block. A
// Send waits for its own message to be written and holds it until then, so
// Sends need no bound of their own.
func WithOutgoingBuffer(n int) Option { return func(c *config) { c.outgoingBuffer = n } }

// WithMaxMessageSize bounds a received data message, in bytes, summed over
// its fragments and after decompression (default 32 MiB). A larger message
// fails the connection with 1009 before its excess is read.
func WithMaxMessageSize(n int64) Option { return func(c *config) { c.maxMessage = n } }

// WithMaxFrameSize bounds a single received frame's payload, in bytes,
// checked from its header (default: the max message size). Over it the
// connection fails with 1009.
func WithMaxFrameSize(n int64) Option {
	return func(c *config) {
		c.maxFrame = n
		if n == 0 {
			c.maxFrame = -1 // rejected by validate: 0 is not a size
		}
	}
}

// WithFragmentSize splits outgoing data messages longer than n bytes into
// frames of at most n payload bytes (default 0: every message is one frame).
func WithFragmentSize(n int) Option { return func(c *config) { c.fragment = n } }

// WithKeepalive sends a ping an interval after the last one was answered
// and ends the connection with ErrPongTimeout if no pong answers it within
// timeout of the ping's write (default off). Pings go out between the
// fragments of a long message (WithFragmentSize), so a long write does not
// delay them. While the reader is paused because Incoming is full it cannot
// read the pong; bytes arriving from the peer then count as its answer, and
// a peer that sends nothing at all is timed out as usual. A ping held back
// by a write that completes nothing (no message, fragment or flush) for a
// whole timeout ends the connection too: the peer stopped reading.
func WithKeepalive(interval, timeout time.Duration) Option {
	return func(c *config) { c.pingInterval, c.pongTimeout = interval, timeout }
}

// WithWriteTimeout bounds each batch of writes to the socket (default 0: no
// bound; a peer that stops reading then blocks the writer until keepalive,
// Close or the lifetime ends the connection). A timeout ends the connection.
func WithWriteTimeout(d time.Duration) Option { return func(c *config) { c.writeTimeout = d } }

// WithFailLinger bounds how long a connection failing because the peer
// broke the protocol waits before its close frame (default 250ms): the
// close frame goes when the user calls Close, typically right after its
// range over Incoming has ended, and at the latest after d, so that the
// replies to the messages received before the violation go out first
// (0: at once).
func WithFailLinger(d time.Duration) Option { return func(c *config) { c.failLinger = d } }

// WithCloseGracePeriod bounds the close handshake once a close frame has
// been sent or received: after it the socket is closed whatever the peer
// does (default 5s).
func WithCloseGracePeriod(d time.Duration) Option { return func(c *config) { c.closeGrace = d } }

// WithLifetime binds the connection to ctx: when ctx ends, the connection
// starts a close handshake with 1001 (going away), bounded by the close grace
// period. Use it to shut a server down cleanly (default: none).
func WithLifetime(ctx context.Context) Option {
	return func(c *config) {
		if ctx == nil {
			ctx = invalidCtx{}
		}
		c.lifetime = ctx
	}
}

// invalidCtx marks a nil lifetime context so validate can report it.
type invalidCtx struct{ context.Context }

// WithReadBufferSize sets the size of the read buffer New creates when it is
// given no *bufio.Reader, in bytes (default 4 KiB, minimum 16). Payloads
// larger than the buffer are read straight into the message.
func WithReadBufferSize(n int) Option { return func(c *config) { c.readBuffer = n } }

// WithWriteBufferSize sets the size of the buffer frames are gathered in
// before one write to the socket, in bytes (default 16 KiB).
func WithWriteBufferSize(n int) Option { return func(c *config) { c.writeBuffer = n } }

// WithSubprotocol records the subprotocol the handshake negotiated, for
// Conn.Subprotocol (default ""). It does not change the framing.
func WithSubprotocol(p string) Option { return func(c *config) { c.subprotocol = p } }

// WithExtension sets the extension the handshake negotiated (such as
// permessage-deflate from frame/deflate); the connection's frame reader and
// writer pass data messages through it (default: none). The Conn uses it
// from its reader and writer goroutines and owns it from New on; if it is an
// io.Closer it is closed once the connection has ended.
func WithExtension(e frame.Extension) Option { return func(c *config) { c.extension = e } }

// OnPing calls f with the payload of every ping received, on the
// connection's reader goroutine, before its pong is queued. payload is valid
// only during the call. f must not block for long: while it runs the socket
// is not read. Pings are answered whether or not f is set.
func OnPing(f func(payload []byte)) Option { return func(c *config) { c.onPing = f } }

// OnPong calls f with the payload of every pong received, on the
// connection's reader goroutine. payload is valid only during the call; f
// must not block for long.
func OnPong(f func(payload []byte)) Option { return func(c *config) { c.onPong = f } }

// WithRecycledBuffers makes the connection reuse received messages'
// buffers: a Message whose Data the user is done with goes back with
// Message.Release and holds a later message, so a steady stream of
// messages is received without allocating (default off: every message
// gets a new buffer, which the user keeps). Each connection keeps at most
// Incoming's capacity + 3 buffers, of up to 64 KiB each; bigger ones are
// left to the GC. Messages that are never released are simply collected.
//
// With check, Release overwrites the buffer at once and a second Release
// of the same buffer panics, so that a test finds Data used after Release;
// it costs a lock and a fill per Release and is meant for tests.
func WithRecycledBuffers(check bool) Option {
	return func(c *config) { c.recycle, c.recycleCheck = true, check }
}
