package reconnect

import (
	"context"
	"errors"

	"github.com/wsactor/ws"
)

// ErrNotSent is returned (wrapped or not) by a Link's Send for a message it
// did not take: the client keeps the message and offers it first on the
// next connection, instead of reporting it as maybe lost.
var ErrNotSent = errors.New("reconnect: message not taken by the layer; kept for the next connection")

// A Layer runs its own protocol over each of the client's connections, such
// as the sessions of package session: it frames the application's messages
// on the way out and unframes them on the way in, so Incoming and Outgoing
// carry the application's messages while the wire carries the layer's.
type Layer interface {
	// DialOptions are given to every dial after those of WithDialOptions
	// (and before WithHeader's), e.g. the layer's subprotocol.
	DialOptions() []ws.DialOption
	// Attach runs on Run's goroutine after each handshake, before
	// OnConnect and before queued messages are written. ctx ends when
	// Run's does, on Close, or when conn ends; ctx bounds the Attach call,
	// not the Link. An error closes conn with 1000 unless the layer
	// closed it already, and counts as a failed attempt (classified like
	// any other). OnConnect still runs after it, but conn now carries the
	// layer's frames: OnConnect must not send or read messages on it.
	Attach(ctx context.Context, conn *ws.Conn) (Link, error)
}

// A Link carries the application's messages over one connection for a
// Layer.
type Link interface {
	// Send writes one application message, called by the client's writer
	// in queue order, one at a time. nil means the layer has taken the
	// message: the client counts it as sent. An error wrapping ErrNotSent
	// hands it back to be offered again on the next connection; any other
	// error drops it as maybe lost (ErrMaybeLost).
	Send(ctx context.Context, msg ws.Message) error
	// Receive returns the next application message, in order, waiting
	// until one comes. It returns an error once the connection can bring
	// no more, or when ctx ends (ctx ends when the client does). Calls are
	// sequential, and the Receive calls of one connection all return
	// before the next connection's first.
	Receive(ctx context.Context) (ws.Message, error)
	// Flush waits, within ctx, until what Send took has been delivered
	// as the layer defines it (e.g. acknowledged by the peer). Close calls
	// it after writing the queue and before the close handshake, since a
	// peer may drop messages still unread when the close frame comes.
	Flush(ctx context.Context) error
}

// WithLayer runs every connection through l (see Layer). Send then
// returns nil once l's Link took the message, and what that promises is
// l's to say (package session: delivered exactly once while the session
// lives). Default: none, messages go to and from the connection as they
// are.
func WithLayer(l Layer) Option { return func(c *config) { c.layer = l } }
