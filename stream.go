//go:build !js

package ws

import (
	"context"
	"io"

	"github.com/wsactor/ws/actor"
)

// ErrReaderClosed is returned by the Read of a message reader from
// NextReader after it was closed, or after NextReader was called again.
var ErrReaderClosed = actor.ErrReaderClosed

// SendStream sends one message of type typ whose payload is read from r
// until io.EOF, as fragments of WithFragmentSize bytes (32 KiB without
// it), so that a message larger than memory can be sent: at most one
// fragment is held at a time. With permessage-deflate each piece is
// compressed as it goes.
//
// Ordering is Send's: the message goes after the messages already put on
// Outgoing and the Sends already queued, and nothing else is written
// until its last fragment. Control frames do not wait: pongs, keepalive
// pings and Ping's pings go out between fragments and while SendStream
// waits for r, so a slow source does not stall keepalive, and
// WithWriteTimeout bounds each fragment's write, not the whole message.
//
// Before the first fragment is written, an error from r or the end of ctx
// ends only this call. After it the message cannot be taken back: if ctx
// ends, the connection ends and SendStream returns ctx's error once r.Read
// returns (an io.Reader cannot be interrupted); if r fails, the connection
// closes with 1011 (internal error) and SendStream returns r's error. A
// Close during the message sends its close frame after the current
// fragment, and SendStream returns ErrClosed.
func (c *Conn) SendStream(ctx context.Context, typ MessageType, r io.Reader) error {
	return c.actor().SendStream(ctx, typ, r)
}

// NextReader returns the next received message's type and a reader of its
// payload, on a connection made WithStreamedReceive. It waits until a
// message starts, ctx ends (ctx's error; the connection goes on) or no more
// messages can come (ErrClosed; Err says why).
//
// The reader yields the payload as it arrives from the socket, decompressed
// and checked (UTF-8 for text, WithMaxMessageSize), and returns io.EOF at
// the message's end; a violation makes Read return the *CloseError that
// ended the connection (errors.As also finds the *frame.ProtocolError in
// it, which Read returns alone if the connection was already ending for
// another reason). Read it from one goroutine at a time. Close it, or
// call NextReader again, to skip the rest of the message.
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.ReadCloser, error) {
	return c.actor().NextReader(ctx)
}

// WithStreamedReceive hands each received message out as an io.Reader,
// through Conn.NextReader, instead of whole through Incoming, so that a
// message never needs to fit in memory: the socket is read only as fast as
// the reader is. Limits stay as they are (WithMaxMessageSize counts the
// bytes read, after decompression). Default off.
//
// Incoming receives no messages in this mode and is closed when the
// connection ends. Because the socket is read only through the reader, a
// message left half read for longer than the keepalive timeout ends the
// connection with ErrPongTimeout (the peer's pong waits behind it), and the
// peer's close frame waits until the message is read or closed.
func WithStreamedReceive() Option {
	return connOption(func(c *connConfig) { c.streamRecv = true })
}
