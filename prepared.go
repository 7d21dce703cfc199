//go:build !js

package ws

import (
	"context"

	"github.com/wsactor/ws/actor"
)

// PreparedMessage is a data message encoded once for any number of
// connections: a broadcast. Sending one Message to N connections frames it
// N times and, with permessage-deflate, compresses it N times; a
// PreparedMessage builds each form the connections need (server or client,
// fragment size, compressed or not) the first time one of them needs it,
// and every later connection writes those bytes as they are. Server
// connections write identical bytes; client connections share the
// (compressed) payload and mask it with their own key (RFC 6455 §5.3).
//
// A compressed form comes from a fresh compressor, so any peer can inflate
// it; on a connection that keeps its compression context
// (WithContextTakeover) the next compressed message then starts afresh,
// which keeps both ends' windows in step. A PreparedMessage is safe for
// concurrent use and is never modified by the connections; it lives as
// long as it is referenced.
type PreparedMessage actor.PreparedMessage

// Prepare copies m and prepares it for SendPrepared. It fails only for a
// Message whose Type is neither TextMessage nor BinaryMessage. With
// m.Uncompressed set, no connection compresses it.
func Prepare(m Message) (*PreparedMessage, error) {
	pm, err := actor.Prepare(m)
	if err != nil {
		return nil, err
	}
	return (*PreparedMessage)(pm), nil
}

// Type returns the message's type.
func (pm *PreparedMessage) Type() MessageType { return (*actor.PreparedMessage)(pm).Type() }

// Len returns the length of the message's payload, before any encoding.
func (pm *PreparedMessage) Len() int { return (*actor.PreparedMessage)(pm).Len() }

// SendPrepared is Send of a prepared message: it writes pm and returns once
// it has been written, with Send's rules for ordering behind Outgoing and
// queued Sends, for ctx and for the errors it returns. The first
// connection of its kind to send pm builds its form (compressing it, with
// permessage-deflate); the others reuse it. To reach many connections
// without one slow peer holding up the rest, give each connection its own
// bounded queue of prepared messages and a goroutine that sends them, and
// drop a member whose queue is full (as examples/chat does): the message
// is still encoded once.
func (c *Conn) SendPrepared(ctx context.Context, pm *PreparedMessage) error {
	return c.actor().SendPrepared(ctx, (*actor.PreparedMessage)(pm))
}
