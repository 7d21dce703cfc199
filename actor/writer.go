package actor

import (
	"context"
	"fmt"
	"time"

	"github.com/wsactor/ws/frame"
)

// maxBatch bounds how many queued items the writer gathers before one
// flush, so that the first Send of a long batch is not answered too late.
const maxBatch = 64

// ctrlFrame is a control frame the supervisor asks the writer to send.
type ctrlFrame struct {
	op      frame.Opcode
	n       int
	payload [frame.MaxControlPayload]byte // ping, pong
	code    frame.StatusCode              // close
	reason  string                        // close
}

// writeEvent is what the writer tells the supervisor after a batch.
type writeEvent struct {
	closeWritten bool  // our close frame has reached the socket
	err          error // the writer failed and has stopped
}

// writer is the writer goroutine's own state; nothing else touches it.
type writer struct {
	c      *Conn
	fw     *frame.Writer
	batch  []*sendReq // Sends written since the last flush
	err    error      // first write error; later writes are skipped
	closed bool       // our close frame is in the batch: write no more
}

// writeLoop is the writer goroutine. It only does I/O: it takes control
// frames from the supervisor and messages from Outgoing and Send, writes
// everything already queued, then flushes once (write coalescing), answers
// the batch's Sends, and reports a written close frame or a failure to the
// supervisor. After the close frame it writes nothing more. While it waits
// with nothing queued it also offers lend: a Send that takes it writes on
// its own goroutine, and the writer waits for its result on back.
//
// It ends after a write error or after its close frame, once reported, and
// when ctx is done; its interrupt is ctx plus the supervisor closing the
// socket (which fails a blocked write). It returns nil: failures go to the
// supervisor.
func (c *Conn) writeLoop(ctx context.Context) error {
	w := &writer{
		c:     c,
		fw:    c.fw,
		batch: make([]*sendReq, 0, maxBatch),
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case c.lend <- struct{}{}:
			// A Send is writing with fw on its own goroutine. Wait for it
			// whatever ctx says: it ends when the socket is closed, and fw
			// and the extension must not be released under it.
			if err := <-c.back; err != nil {
				select {
				case c.writeEv <- writeEvent{err: err}:
				case <-ctx.Done():
				}
				return nil
			}
			continue
		case f := <-c.ctrl:
			w.begin()
			w.control(&f)
		case m := <-c.outgoing:
			w.begin()
			w.message(m)
		case r := <-c.sends:
			w.begin()
			w.drainOutgoing()
			w.send(r)
		}
		w.gather()
		if w.err == nil {
			if err := w.fw.Flush(); err != nil {
				w.err = fmt.Errorf("actor: write: %w", err)
			}
		}
		for i, r := range w.batch {
			r.err = w.err
			w.batch[i] = nil
			r.done <- struct{}{} // capacity 1, sent once: never blocks
		}
		w.batch = w.batch[:0]
		if w.err != nil || w.closed {
			select {
			case c.writeEv <- writeEvent{closeWritten: w.err == nil, err: w.err}:
			case <-ctx.Done():
			}
			return nil
		}
	}
}

// writeLent writes m with the writer's frame writer while the writer waits
// (see Send), arming the write timeout and flushing like a batch of one.
func (c *Conn) writeLent(m Message) error {
	if d := c.cfg.writeTimeout; d > 0 {
		if err := c.conn.SetWriteDeadline(time.Now().Add(d)); err != nil {
			return fmt.Errorf("actor: write: %w", err)
		}
	}
	if err := c.fw.WriteMessage(m.Type, m.Data); err != nil {
		return fmt.Errorf("actor: write: %w", err)
	}
	if err := c.fw.Flush(); err != nil {
		return fmt.Errorf("actor: write: %w", err)
	}
	c.stats.messagesOut.Add(1)
	c.stats.bytesOut.Add(uint64(len(m.Data)))
	return nil
}

// gather writes what is already queued, control frames first, up to
// maxBatch items, without blocking.
func (w *writer) gather() {
	c := w.c
	for i := 0; i < maxBatch && w.err == nil && !w.closed; i++ {
		select {
		case f := <-c.ctrl:
			w.control(&f)
			continue
		default:
		}
		select {
		case f := <-c.ctrl:
			w.control(&f)
		case m := <-c.outgoing:
			w.message(m)
		case r := <-c.sends:
			w.drainOutgoing()
			w.send(r)
		default:
			return
		}
	}
}

// begin starts a batch: it arms the write timeout, if any.
func (w *writer) begin() {
	if d := w.c.cfg.writeTimeout; d > 0 {
		if err := w.c.conn.SetWriteDeadline(time.Now().Add(d)); err != nil {
			w.err = fmt.Errorf("actor: write: %w", err)
		}
	}
}

// drainOutgoing writes the messages that were on Outgoing when it was
// called, so that a goroutine's Outgoing sends go out before its next Send
// (and before the close frame).
func (w *writer) drainOutgoing() {
	for n := len(w.c.outgoing); n > 0 && w.err == nil; n-- {
		select {
		case m := <-w.c.outgoing:
			w.message(m)
		default:
			return
		}
	}
}

// drainSends writes the Sends that were queued when it was called.
func (w *writer) drainSends() {
	for n := len(w.c.sends); n > 0 && w.err == nil; n-- {
		select {
		case r := <-w.c.sends:
			w.send(r)
		default:
			return
		}
	}
}

func (w *writer) message(m Message) {
	if w.err != nil {
		return
	}
	if m.Type != frame.OpText && m.Type != frame.OpBinary {
		w.err = ErrInvalidMessageType
		return
	}
	if err := w.fw.WriteMessage(m.Type, m.Data); err != nil {
		w.err = fmt.Errorf("actor: write: %w", err)
		return
	}
	w.c.stats.messagesOut.Add(1)
	w.c.stats.bytesOut.Add(uint64(len(m.Data)))
}

func (w *writer) send(r *sendReq) {
	if !r.state.CompareAndSwap(sendQueued, sendTaken) {
		return // its Send gave up before we got to it; never touch it again
	}
	w.message(r.msg)
	w.batch = append(w.batch, r)
}

func (w *writer) control(f *ctrlFrame) {
	if w.err != nil {
		return
	}
	var err error
	if f.op == frame.OpClose {
		// What was queued before the close goes out before it (RFC 6455
		// §5.5.1: no data after a close frame).
		w.drainOutgoing()
		w.drainSends()
		if w.err != nil {
			return
		}
		err = w.fw.WriteClose(f.code, f.reason)
		w.closed = true
	} else {
		err = w.fw.WriteControl(f.op, f.payload[:f.n])
	}
	if err != nil {
		w.err = fmt.Errorf("actor: write: %w", err)
	}
}
