package actor

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

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
	// readAheadEnd: the stream ended while the reader was paused behind a
	// held message; frames read ahead are still in the read buffer.
	readAheadEnd
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
	// A paused reader reads ahead and must be woken by a past read deadline
	// when its credit comes; without deadlines it only waits for credit.
	canWake := c.conn.SetReadDeadline(time.Time{}) == nil
	ahead := false // a read-ahead failed: the socket has nothing more for us
	ev := &readEvent{}
	for {
		if held {
			b, err := c.br.Peek(1)
			if err != nil {
				return c.readEnded(ctx, ev, err)
			}
			if !frame.Opcode(b[0] & 0x0F).IsControl() {
				ok, err := c.awaitCredit(ctx, canWake && !ahead)
				if err != nil {
					// The socket is dead. The supervisor ends the connection
					// with err unless it is closing: then it drops what it
					// holds so we can read on to the peer's close frame.
					ahead = true
					ev.kind, ev.err = readAheadEnd, err
					if !c.report(ctx, ev) {
						return nil
					}
					ev.err = nil
					ok, _ = c.awaitCredit(ctx, false)
				}
				if !ok {
					return nil
				}
				held = false
			}
		}
		var dst []byte
		if c.free != nil {
			dst = c.free.get()
		}
		op, p, err := fr.ReadMessage(dst)
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
			m := Message{Type: op, Data: p, pool: c.free}
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
		if ev.kind == readPing {
			// Read on only once the pong is with the writer: pongs then go
			// out in the order of their pings, each one, and before any
			// reply to a message that follows the ping (Autobahn 2.10,
			// 5.6). A peer that pings faster than we can write waits.
			select {
			case <-c.pongAck:
			case <-ctx.Done():
				return nil
			}
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

// awaitCredit waits, while the supervisor holds our message and the next
// frame is a data frame, until the message is delivered (true) or ctx ends
// (false). With canWake it keeps reading the socket into the read buffer's free
// space, so that a peer that resets or closes the connection ends it with
// that I/O error (err) even if the user never reads Incoming; without
// canWake it never returns an error. When the
// buffer is full it waits on the credit alone: the bytes in it are
// bounded, and TCP flow control holds the rest back.
//
// The supervisor wakes a blocked read-ahead with a past read deadline (see
// wakeReader); the peeking flag, under wakeMu, makes sure that deadline is
// set only while we are in that read, and cleared before any other read.
func (c *Conn) awaitCredit(ctx context.Context, canWake bool) (bool, error) {
	for {
		select {
		case <-c.credit:
			return true, nil
		case <-ctx.Done():
			return false, nil
		default:
		}
		n := c.br.Buffered() + 1
		if !canWake || n > c.br.Size() {
			select {
			case <-c.credit:
				return true, nil
			case <-ctx.Done():
				return false, nil
			}
		}
		c.wakeMu.Lock()
		c.peeking = true
		c.wakeMu.Unlock()
		select { // credit given before peeking was set: no wake will come
		case <-c.credit:
			c.endPeek()
			return true, nil
		default:
		}
		_, err := c.br.Peek(n)
		woken, derr := c.endPeek()
		switch {
		case woken && errors.Is(err, os.ErrDeadlineExceeded):
			// our wake-up; the credit is waiting
		case err != nil:
			return false, err
		case derr != nil:
			return false, derr
		}
	}
}

// endPeek ends a read-ahead: after it the supervisor sets no deadline. If it
// set one, endPeek clears it and reports woken.
func (c *Conn) endPeek() (woken bool, err error) {
	c.wakeMu.Lock()
	c.peeking = false
	woken, c.woken = c.woken, false
	c.wakeMu.Unlock()
	if woken {
		err = c.conn.SetReadDeadline(time.Time{})
	}
	return woken, err
}

// wakeReader interrupts the reader's read-ahead, if it is in one, after the
// supervisor gave it credit. It runs on the supervisor goroutine.
func (c *Conn) wakeReader() {
	c.wakeMu.Lock()
	if c.peeking && !c.woken {
		c.woken = true
		_ = c.conn.SetReadDeadline(time.Unix(1, 0)) // checked to work when the reader started
	}
	c.wakeMu.Unlock()
}
