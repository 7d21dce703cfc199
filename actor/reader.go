package actor

import (
	"context"
	"errors"
	"io"

	"github.com/wsactor/ws/frame"
)

// readEvent is what the reader tells the supervisor.
type readEvent struct {
	kind readKind
	msg  Message                       // readMessage
	n    int                           // control payload length
	ctrl [frame.MaxControlPayload]byte // readPing, readPong, readClose payload
	err  error                         // readFail, readEnd
}

type readKind uint8

const (
	readMessage readKind = iota + 1 // a data message for the supervisor to deliver (Incoming was full)
	readPing
	readPong
	readClose // payload already validated by frame.Reader
	readFail  // *frame.ProtocolError; the reader now discards the rest of the stream
	readEnd   // the stream ended (io.EOF, an I/O error, or the socket was closed)
)

// readLoop is the reader goroutine. It only does I/O: it reads frames and
// delivers data messages to Incoming straight away when there is room;
// otherwise it hands the message to the supervisor, which holds it until
// Incoming has room, and reads no further data frame until then (credit).
// While it waits, the next frame's first byte is peeked: a control frame
// right behind the held message is still read and reported.
//
// It ends when the stream ends (reporting readEnd) or ctx is done; its
// interrupt is the supervisor closing the socket. It returns nil: failures
// go to the supervisor, which decides the connection's fate and close code.
func (c *Conn) readLoop(ctx context.Context) error {
	fr := frame.NewReader(c.br, c.role, frame.ReaderConfig{
		MaxMessageSize: c.cfg.maxMessage,
		MaxFrameSize:   c.cfg.maxFrame,
		Extension:      c.cfg.extension,
	})
	held := false // the supervisor holds a message of ours for Incoming
	ev := &readEvent{}
	for {
		if held {
			b, err := c.br.Peek(1)
			if err != nil {
				return c.readEnded(ctx, ev, err)
			}
			if !frame.Opcode(b[0] & 0x0F).IsControl() {
				select {
				case <-c.credit:
					held = false
				case <-ctx.Done():
					return nil
				}
			}
		}
		op, p, err := fr.ReadMessage(nil)
		if err != nil {
			var pe *frame.ProtocolError
			if errors.As(err, &pe) {
				ev.kind, ev.err = readFail, err
				if !c.report(ctx, ev) {
					return nil
				}
				// RFC 6455 §7.1.7: process nothing more from this peer, but
				// keep draining so our close frame is not lost to a reset.
				_, err = io.Copy(io.Discard, c.br)
				if err == nil {
					err = io.EOF
				}
			}
			return c.readEnded(ctx, ev, err)
		}
		switch op {
		case frame.OpText, frame.OpBinary:
			c.stats.messagesIn.Add(1)
			c.stats.bytesIn.Add(uint64(len(p)))
			m := Message{Type: op, Data: p}
			select {
			case c.incoming <- m:
				continue
			default:
			}
			ev.kind, ev.msg = readMessage, m
			held = true
		case frame.OpPing:
			if c.cfg.onPing != nil {
				c.cfg.onPing(p)
			}
			ev.kind, ev.n = readPing, copy(ev.ctrl[:], p)
		case frame.OpPong:
			if c.cfg.onPong != nil {
				c.cfg.onPong(p)
			}
			ev.kind, ev.n = readPong, copy(ev.ctrl[:], p)
		case frame.OpClose:
			ev.kind, ev.n = readClose, copy(ev.ctrl[:], p)
			if !c.report(ctx, ev) {
				return nil
			}
			// RFC 6455 §5.5.1: nothing follows a close frame; whatever the
			// peer still sends is discarded until it closes the socket.
			_, err = io.Copy(io.Discard, c.br)
			if err == nil {
				err = io.EOF
			}
			return c.readEnded(ctx, ev, err)
		}
		if !c.report(ctx, ev) {
			return nil
		}
		ev.msg = Message{}
	}
}

// report hands ev to the supervisor; false if the connection is ending.
func (c *Conn) report(ctx context.Context, ev *readEvent) bool {
	select {
	case c.readEv <- *ev:
		return true
	case <-ctx.Done():
		return false
	}
}

func (c *Conn) readEnded(ctx context.Context, ev *readEvent, err error) error {
	ev.kind, ev.err = readEnd, err
	c.report(ctx, ev)
	return nil
}
