package actor

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/wsactor/ws/frame"
)

// maxBatch bounds how many messages the writer goroutine writes before one
// flush, so that the first Send of a long batch is not answered too late.
const maxBatch = 64

// budgetPoll is how often the writer goroutine looks again at a message
// held back because Incoming holds WithIncomingBytes already: a channel
// does not tell its sender that a receiver took a value, and this happens
// only while the user is slower than the peer.
const budgetPoll = 5 * time.Millisecond

// writeLoop is the writer goroutine. It writes what Outgoing brings, the
// queued Sends, control frames and the close frame, flushing once per
// batch, and it delivers the message the reader held back when Incoming was
// full. It returns when the connection ends (Conn.stop) and then finishes
// it. The connection's timers (keepalive, grace period, fail linger,
// lifetime) are time.AfterFunc callbacks, not cases here, so that a write
// blocked on a peer that stopped reading cannot hold them up.
func (c *Conn) writeLoop() {
	defer c.finish()
	var poll *time.Timer
	defer func() {
		if poll != nil {
			poll.Stop()
		}
	}()
	for {
		c.mu.Lock()
		if c.st.ended {
			c.mu.Unlock()
			return
		}
		if !c.st.writing && c.st.pending() {
			c.st.writing = true
			c.mu.Unlock()
			c.writeBatch(nil)
			continue
		}
		var (
			incoming chan<- Message
			held     Message
			pollC    <-chan time.Time
			outgoing = c.outgoing
		)
		if c.st.streaming {
			outgoing = nil // no message goes between a streamed message's fragments
		}
		if c.st.holding {
			if c.budget.fits(len(c.incoming), len(c.st.held.Data)) {
				incoming, held = c.incoming, c.st.held
			} else {
				if poll == nil {
					poll = time.NewTimer(budgetPoll)
				} else {
					poll.Reset(budgetPoll)
				}
				pollC = poll.C
			}
		}
		c.mu.Unlock()
		select {
		case <-c.stop:
			return
		case <-c.kick:
		case m := <-outgoing:
			c.onOutgoing(m)
		case incoming <- held:
			c.delivered(len(held.Data))
		case <-pollC:
		}
	}
}

// startTimers arms keepalive and the lifetime, from New.
func (c *Conn) startTimers() {
	if c.cfg.pingInterval > 0 {
		c.st.ka = time.AfterFunc(c.cfg.pingInterval, c.keepaliveFired)
	}
	if c.cfg.lifetime != nil {
		c.st.lifetimeStop = context.AfterFunc(c.cfg.lifetime, func() { c.closeWith(frame.StatusGoingAway) })
	}
}

// closeWith starts the close handshake with code, from a timer.
func (c *Conn) closeWith(code frame.StatusCode) {
	c.mu.Lock()
	c.startCloseLocked(code, "")
	c.mu.Unlock()
	c.kickWriter()
}

func (c *Conn) keepaliveFired() {
	if err := c.onKeepalive(); err != nil {
		c.shutdown(err)
	}
}

// onOutgoing writes m, taken from Outgoing, with whatever else is queued.
func (c *Conn) onOutgoing(m Message) {
	c.mu.Lock()
	switch {
	case m.Type != frame.OpText && m.Type != frame.OpBinary, c.st.closeWritten, c.st.ended:
		c.mu.Unlock()
		c.stats.dropped.Add(1)
		return
	case c.st.writing || c.st.streaming:
		// A Send that started writing before Outgoing was first asked for
		// still holds the right, or a streamed message is in progress. m
		// goes first in the queue: a Send queued there by m's sender must
		// follow it.
		r := sendPool.Get().(*sendReq)
		r.msg, r.err, r.detached = m, nil, true
		r.state.Store(sendQueued)
		c.st.queue.pushFront(r)
		c.queued.Add(1)
		c.mu.Unlock()
		return
	}
	c.st.writing = true
	c.mu.Unlock()
	c.writeBatch(&m)
}

// writeBatch writes, holding the write right: first (if not nil), the
// control frames waiting, what Outgoing holds and the queued Sends, up to
// maxBatch messages, then our close frame if it is due and nothing is left
// before it; it flushes once, answers the batch's Sends and gives the right
// up.
func (c *Conn) writeBatch(first *Message) {
	c.mu.Lock()
	over := c.st.closeWritten
	streaming := c.st.streaming
	c.mu.Unlock()
	if over {
		c.release() // nothing follows our close frame
		return
	}
	if streaming {
		c.writeStreamGap()
		return
	}
	err := c.armWriteDeadline()
	n := 0
	if err == nil && first != nil {
		err = c.writeData(*first, nil)
		n++
	}
	for err == nil && n < maxBatch {
		if c.ctrlPending.Load() {
			if err = c.writeControlPending(); err != nil {
				break
			}
		}
		c.mu.Lock()
		r := c.takeLocked()
		c.mu.Unlock()
		if r == nil {
			k := len(c.outgoing)
			if k == 0 {
				break
			}
			for ; k > 0 && err == nil && n < maxBatch; k-- {
				err = c.writeOutgoing(<-c.outgoing) // only this goroutine receives
				n++
			}
			continue
		}
		var m int
		m, err = c.writeAfterOutgoing(r)
		n += m
		if c.st.streamTurn != nil {
			break // a SendStream's turn: its fragments come next
		}
	}
	c.mu.Lock()
	closing := c.st.closing && !c.st.closeWritten
	c.mu.Unlock()
	wroteClose := false
	if err == nil && closing {
		err = c.writeClose()
		wroteClose = err == nil
	}
	if err == nil {
		err = c.fw.Flush()
		c.writeProgress.Add(1)
	}
	if err == nil && wroteClose {
		// Only now is the close frame on the socket: a server that sees the
		// peer's close must not close the socket before it.
		c.mu.Lock()
		c.st.closeWritten = true
		c.mu.Unlock()
	}
	c.mu.Lock()
	cancelled := c.st.curCancel
	c.st.curCancel = nil
	batch := c.st.batch
	c.st.batch = batch[:0]
	fin := c.st.closeWritten && c.st.finished(c.role)
	c.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("ws: write: %w", err)
		if cancelled != nil {
			err = errSendCancelled
		}
	}
	for i, r := range batch {
		batch[i] = nil
		if r.detached {
			r.msg, r.detached = Message{}, false
			sendPool.Put(r)
			continue
		}
		r.err = err
		r.done <- struct{}{} // capacity 1, sent once: never blocks
	}
	if err != nil {
		c.shutdown(err)
	} else if fin {
		c.shutdown(nil)
	}
	if r := c.st.streamTurn; r != nil {
		c.st.streamTurn = nil
		if c.handStream(r, err) {
			return // the right is the SendStream's now
		}
	}
	c.release()
}

// takeLocked takes the next queued Send that has not given up, or nil.
func (c *Conn) takeLocked() *sendReq {
	for {
		r := c.st.queue.pop()
		if r == nil {
			return nil
		}
		c.queued.Add(-1)
		if r.state.CompareAndSwap(sendQueued, sendTaken) {
			c.st.cur = r
			return r
		}
	}
}

// writeQueued writes a taken Send's message and adds it to the batch.
func (c *Conn) writeQueued(r *sendReq) error {
	err := c.writeData(r.msg, r.prep)
	c.mu.Lock()
	c.st.cur = nil
	if c.st.curCancel != nil && err == nil {
		// r's ctx ended as its write completed: clear the past deadline.
		c.st.curCancel = nil
		err = c.armWriteDeadline()
		if c.cfg.writeTimeout <= 0 {
			err = c.conn.SetWriteDeadline(time.Time{})
		}
	}
	c.st.batch = append(c.st.batch, r)
	c.mu.Unlock()
	return err
}

// writeOutgoing writes a message from Outgoing; an invalid one is dropped.
func (c *Conn) writeOutgoing(m Message) error {
	if m.Type != frame.OpText && m.Type != frame.OpBinary {
		c.stats.dropped.Add(1)
		return nil
	}
	return c.writeData(m, nil)
}

// writeData writes one data message (not flushed): m, or the form f of a
// prepared message (see writeSpecial).
func (c *Conn) writeData(m Message, f *preparedForm) error {
	var err error
	if f == nil && !m.Uncompressed {
		err = c.fw.WriteMessage(m.Type, m.Data)
	} else {
		err = c.writeSpecial(m, f)
	}
	if err != nil {
		return err
	}
	c.writeProgress.Add(1)
	c.stats.messagesOut.Add(1)
	c.stats.bytesOut.Add(uint64(len(m.Data)))
	return nil
}

// writeAfterOutgoing writes a taken Send's message after what Outgoing
// holds now: r was queued before this look, so every message its goroutine
// put on Outgoing before the Send is in the channel or already written. A
// busy Outgoing delays a queued Send by at most its capacity. It returns
// how many messages it wrote; r is in the batch whatever happens.
func (c *Conn) writeAfterOutgoing(r *sendReq) (int, error) {
	n := 0
	var err error
	for k := len(c.outgoing); k > 0 && err == nil; k-- {
		err = c.writeOutgoing(<-c.outgoing)
		n++
	}
	if err != nil {
		c.mu.Lock()
		c.st.cur = nil
		c.st.batch = append(c.st.batch, r) // answered with err
		c.mu.Unlock()
		return n, err
	}
	if r.msg.Type == opStream {
		c.streamTurnTaken(r)
		return n, nil
	}
	return n + 1, c.writeQueued(r)
}

// writeClose writes our close frame (into the buffer; the batch's flush
// sends it) after everything queued before it: every queued Send, then what
// Outgoing holds now (RFC 6455 §5.5.1: no data after a close frame).
func (c *Conn) writeClose() error {
	for {
		c.mu.Lock()
		r := c.takeLocked()
		c.mu.Unlock()
		if r == nil {
			break
		}
		if _, err := c.writeAfterOutgoing(r); err != nil {
			return err
		}
	}
	for k := len(c.outgoing); k > 0; k-- {
		if err := c.writeOutgoing(<-c.outgoing); err != nil {
			return err
		}
	}
	c.mu.Lock()
	code, reason := c.st.sentCode, c.st.sentReason
	c.mu.Unlock()
	return c.fw.WriteClose(code, reason)
}

// writeControlPending writes the pongs and the ping waiting, one at a
// time, taking each under the lock.
func (c *Conn) writeControlPending() error {
	var p ctrlPayload
	for {
		c.mu.Lock()
		if c.st.pongs.pop(&p) {
			c.mu.Unlock()
			if err := c.fw.WriteControl(frame.OpPong, p.b[:p.n]); err != nil {
				return err
			}
			continue
		}
		id := c.st.ping
		c.st.ping = 0
		c.ctrlPending.Store(false)
		c.mu.Unlock()
		if id == 0 {
			return nil
		}
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], id)
		if err := c.fw.WriteControl(frame.OpPing, b[:]); err != nil {
			return err
		}
		c.mu.Lock()
		c.st.pinger.written(id, time.Now(), c.aheadReads.Load())
		c.mu.Unlock()
	}
}

// betweenFragments runs inside a fragmented message's write (see
// frame.WriterConfig.BetweenFragments): a pong or ping waiting goes out
// now, not after the whole message, so that a long message to a slow peer
// neither delays a pong past the peer's patience nor ours.
func (c *Conn) betweenFragments() error {
	c.writeProgress.Add(1)
	if !c.ctrlPending.Load() {
		return nil
	}
	return c.writeControlPending()
}

// delivered records that the writer goroutine put the held message of
// size bytes in Incoming, and lets the reader read on.
func (c *Conn) delivered(size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.st.holding {
		return // dropped meanwhile by a closing connection, which let the reader go
	}
	c.budget.push(size)
	c.st.held, c.st.holding = Message{}, false
	if c.st.failErr != nil && !c.st.incomingClosed {
		c.st.incomingClosed = true
		close(c.incoming)
	}
	c.giveCredit()
}
