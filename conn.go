//go:build !js

package ws

import (
	"context"
	"net"
	"time"

	"github.com/wsactor/ws/actor"
)

// Conn is an open WebSocket connection. It is run by two goroutines of its
// own, a reader and a writer, which answer the peer's pings and close frame
// whatever the application is doing, so a Conn that only sends, or only
// receives, stays healthy. All its methods are safe for concurrent use by
// any number of goroutines.
//
// Receive by ranging over Incoming (or with Receive); send with Send, which
// reports the write, or on Outgoing, which does not wait. End it with
// Close (the close handshake) or CloseNow; Done is closed when it has
// ended and Err says why. Both channels are bounded: a slow reader of
// Incoming makes the connection stop reading the socket, and a slow peer
// makes senders wait, so memory per connection stays fixed.
//
// Conn is the engine of package actor under this package's name: the
// conversion (*actor.Conn)(c) gives the same connection, for code written
// against that package.
type Conn actor.Conn

func (c *Conn) actor() *actor.Conn { return (*actor.Conn)(c) }

// newConn gives an engine connection this package's method set.
func newConn(c *actor.Conn) *Conn { return (*Conn)(c) }

// Incoming returns the channel of received data messages. It is closed when
// no more messages can come: after Done, or earlier once the peer broke the
// protocol (the messages received before the violation are still in it,
// and Err already says why). Each Message's Data is the receiver's to keep,
// or to give back with Message.Release under WithRecycledBuffers. When
// nobody reads it, the connection stops reading the socket once it holds
// WithIncomingBuffer messages or WithIncomingBytes bytes, and the peer's
// sends block (TCP backpressure) — pings are still answered.
func (c *Conn) Incoming() <-chan Message { return c.actor().Incoming() }

// Outgoing returns the channel of messages to send, written in order. It is
// never closed, so a send on it never panics. After sending a Message the
// caller must not modify its Data until it is written; the connection keeps
// no reference afterwards.
//
// A Message whose Type is not text or binary (such as the zero Message) is
// not sent and is counted in Stats().OutgoingDropped; so is every message
// sent after the connection's close frame, and what Outgoing still held when
// the connection ended. From then on Outgoing returns a fresh channel with
// room for one message that nothing reads, so c.Outgoing() <- m never
// blocks on a connection that is over; a long-running sender that keeps
// one channel should select on Done too. A write error of a message from
// Outgoing ends the connection, and Err reports it.
func (c *Conn) Outgoing() chan<- Message { return c.actor().Outgoing() }

// Send writes m and returns once it has been written to the socket, or why
// it was not: ctx's error, ErrClosed, ErrInvalidMessageType for a Type
// other than TextMessage or BinaryMessage, or the write's error (which
// also ends the connection).
//
// When nothing else is being written, Send writes m on the caller's
// goroutine and wakes no other goroutine. Otherwise m waits behind what is
// queued, in order; once Outgoing has been asked for, Send's messages also
// follow the messages already put on Outgoing.
//
// Cancelling ctx before m's first byte is written ends only this call: m is
// not sent and the connection goes on. If ctx ends while m is being
// written, the write is cut off and the connection ends, because a
// WebSocket stream cannot continue after part of a frame; Send returns
// ctx's error. When Send returns, the connection no longer reads m.Data.
func (c *Conn) Send(ctx context.Context, m Message) error { return c.actor().Send(ctx, m) }

// Receive returns the next received message, waiting until one comes, ctx
// ends (ctx's error; the connection goes on) or no more messages can come
// (ErrClosed; Err says why). It receives from Incoming.
func (c *Conn) Receive(ctx context.Context) (Message, error) { return c.actor().Receive(ctx) }

// Ping sends a ping and returns the round-trip time to its pong (RFC 6455
// §5.5.2, §5.5.3), measured from the ping's write. Concurrent Pings may
// share one ping frame. It waits until the pong, ctx's end (ctx's error;
// the connection goes on), or the connection's end or close handshake
// (ErrClosed). Keepalive (WithKeepalive) pings on its own; Ping is for
// measuring or probing on demand.
func (c *Conn) Ping(ctx context.Context) (time.Duration, error) { return c.actor().Ping(ctx) }

// Close runs the close handshake (RFC 6455 §7.1.2): it sends a close frame
// with code and reason after the messages already queued, waits for the
// peer's close frame and closes the socket. It returns nil when the
// handshake completed, whoever started it, and otherwise Err. On a
// connection failing because the peer broke the protocol, the close frame
// carries that error's code (1002, 1007, 1009) instead, and goes at once.
//
// ctx and the close grace period (WithCloseGracePeriod) bound the wait:
// when either ends first, the socket is closed at once. Close may be called
// from any number of goroutines any number of times; only the first close
// frame is sent, and every call returns once the connection has ended. An
// invalid code (see StatusCode.ValidOnWire; StatusNoStatusRcvd sends an
// empty close frame) or a reason over 123 bytes or not UTF-8 is refused
// and nothing is sent.
func (c *Conn) Close(ctx context.Context, code StatusCode, reason string) error {
	return c.actor().Close(ctx, code, reason)
}

// CloseNow ends the connection without a close handshake: the socket is
// closed at once, the goroutines stop and CloseNow returns Err once they
// have. The peer sees the TCP connection end (1006 on its side). Use it
// for a peer that is misbehaving or when there is no time for the
// handshake.
func (c *Conn) CloseNow() error { return c.actor().CloseNow() }

// Done returns a channel closed, once, when the connection has ended: both
// goroutines have returned and the socket is closed.
func (c *Conn) Done() <-chan struct{} { return c.actor().Done() }

// Err returns why the connection ended, or nil while it is open: a
// *CloseError for a close handshake (or a failed one, with its cause
// inside), ErrPongTimeout, or an I/O error wrapped as "ws: read: ..." or
// "ws: write: ..." (errors.Is finds io.EOF, os.ErrDeadlineExceeded and the
// like underneath). Once the peer has broken the protocol, Err returns its
// *CloseError at once, before Done.
func (c *Conn) Err() error { return c.actor().Err() }

// Context returns a context that is cancelled when the connection has
// ended (after Done is closed), for work that must not outlive it.
// Handler's ctx is cancelled with it.
func (c *Conn) Context() context.Context { return c.actor().Context() }

// Subprotocol returns the subprotocol the handshake agreed on (see
// WithSubprotocols), or "" for none.
func (c *Conn) Subprotocol() string { return c.actor().Subprotocol() }

// LocalAddr returns the socket's local address.
func (c *Conn) LocalAddr() net.Addr { return c.actor().LocalAddr() }

// RemoteAddr returns the socket's remote address. Behind a reverse proxy
// it is the proxy's; the client's address is then in the request's
// headers (see RequestFromContext).
func (c *Conn) RemoteAddr() net.Addr { return c.actor().RemoteAddr() }

// Stats returns a snapshot of the connection's counters.
func (c *Conn) Stats() Stats { return c.actor().Stats() }
