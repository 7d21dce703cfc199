package actor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsactor/ws/frame"
)

// sendReq carries one queued Send to the writer goroutine. state decides,
// once, whether the writer writes it (queued -> taken) or the Send gave up
// first (queued -> abandoned); a taken request is always answered on done.
type sendReq struct {
	msg   Message
	prep  *preparedForm // SendPrepared's form of msg, or nil
	state atomic.Int32
	err   error
	done  chan struct{} // capacity 1; the writer sends once per taken request
	// detached: a message from Outgoing queued as a request; nobody waits
	// for it, and the writer returns it to the pool.
	detached bool
}

// sendQueue is the FIFO of queued Sends. Its slice is reused from the
// front, so a steady flow of queued Sends does not allocate.
type sendQueue struct {
	items []*sendReq
	head  int
}

func (q *sendQueue) len() int { return len(q.items) - q.head }

func (q *sendQueue) push(r *sendReq) { q.items = append(q.items, r) }

func (q *sendQueue) pushFront(r *sendReq) {
	if q.head > 0 {
		q.head--
		q.items[q.head] = r
		return
	}
	q.items = append(q.items, nil)
	copy(q.items[1:], q.items)
	q.items[0] = r
}

func (q *sendQueue) pop() *sendReq {
	if q.head == len(q.items) {
		return nil
	}
	r := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	return r
}

const (
	sendQueued int32 = iota
	sendTaken
	sendAbandoned
)

// sendPool recycles sendReqs so that a queued Send does not allocate. A
// request goes back only when no other goroutine can still see it: after
// its done was received.
var sendPool = sync.Pool{New: func() any { return &sendReq{done: make(chan struct{}, 1)} }}

// errSendCancelled ends a connection when a Send's ctx ended while its
// message was partly written: the rest of the stream would be corrupt.
var errSendCancelled = errors.New("ws: write: a Send's context ended in the middle of its message")

// Send writes m and returns once it has been written to the socket (nil),
// or the connection has ended or started its close handshake (ErrClosed, or
// the write's error), or ctx has ended (ctx's error).
//
// When nothing else is being written, Send writes m itself, on the
// caller's goroutine: no other goroutine runs for it. Otherwise it queues
// m for the writer goroutine, behind what is already queued. Either way,
// messages one goroutine put on Outgoing before calling Send are written
// before the Send's message: once Outgoing has been asked for, Send always
// queues behind it.
//
// Cancelling ctx before m's first byte is written ends only this call: m
// is not sent and the connection goes on. If ctx ends while m is being
// written, the write is interrupted and the connection ends (a WebSocket
// stream cannot continue after part of a frame), and Send returns ctx's
// error. When Send returns, the connection no longer reads m.Data. A
// Message whose Type is not text or binary is refused with
// ErrInvalidMessageType and nothing is sent.
func (c *Conn) Send(ctx context.Context, m Message) error {
	if m.Type != frame.OpText && m.Type != frame.OpBinary {
		return ErrInvalidMessageType
	}
	return c.send(ctx, m, nil)
}

// send is Send of m, or with f of a prepared message's form (m then holds
// its type and data, for the counters).
func (c *Conn) send(ctx context.Context, m Message, f *preparedForm) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if c.st.ended || c.st.closing {
		c.mu.Unlock()
		return ErrClosed
	}
	if !c.st.writing && c.st.queue.len() == 0 && !c.outgoingUsed.Load() && !c.st.streaming {
		c.st.writing = true
		if ctx.Done() != nil {
			c.watchLocked(ctx)
		}
		c.mu.Unlock()
		return c.writeThrough(m, f)
	}
	r := sendPool.Get().(*sendReq)
	r.msg, r.prep, r.err = m, f, nil
	r.state.Store(sendQueued)
	c.st.queue.push(r)
	c.queued.Add(1)
	kick := !c.st.writing
	c.mu.Unlock()
	if kick {
		c.kickWriter()
	}
	select {
	case <-r.done:
		return finishSend(r)
	case <-ctx.Done():
		if r.state.CompareAndSwap(sendQueued, sendAbandoned) {
			return ctx.Err() // never written; the writer skips it
		}
		c.cancelInFlight(r, ctx.Err())
		<-r.done
		_ = finishSend(r)
		return ctx.Err()
	case <-c.stop:
		if r.state.CompareAndSwap(sendQueued, sendAbandoned) {
			return ErrClosed
		}
		<-r.done // the writer took it: the closed socket ends its write
		return finishSend(r)
	}
}

func finishSend(r *sendReq) error {
	err := r.err
	r.msg, r.prep, r.err = Message{}, nil, nil
	sendPool.Put(r)
	return err
}

// writeThrough writes m on the caller's goroutine, holding the write
// right: first any pong or ping waiting, so that a pong still precedes a
// reply to a message that followed its ping, then m, then one flush.
func (c *Conn) writeThrough(m Message, f *preparedForm) error {
	err := c.armWriteDeadline()
	if err == nil && c.ctrlPending.Load() {
		err = c.writeControlPending()
	}
	if err == nil {
		if f == nil && !m.Uncompressed {
			err = c.fw.WriteMessage(m.Type, m.Data)
		} else {
			err = c.writeSpecial(m, f)
		}
		c.writeProgress.Add(1)
	}
	if err == nil && c.ctrlPending.Load() {
		err = c.writeControlPending()
	}
	if err == nil {
		err = c.fw.Flush()
		c.writeProgress.Add(1)
	}
	if err == nil {
		c.stats.messagesOut.Add(1)
		c.stats.bytesOut.Add(uint64(len(m.Data)))
		// One lock for both: forget the ctx's watch and give the right up.
		c.mu.Lock()
		cancelled := c.st.fastCancel
		c.st.fastCtx, c.st.fastCancel = nil, nil
		if cancelled == nil {
			c.releaseLocked()
			return nil
		}
		c.mu.Unlock()
		// ctx ended just as the write completed: m is out, and the past
		// deadline set to interrupt it must not fail the next write.
		_ = c.conn.SetWriteDeadline(time.Time{})
		c.release()
		return nil
	}
	// The stream may hold part of a frame: end the connection before
	// anyone else may write.
	c.mu.Lock()
	cancelled := c.st.fastCancel
	c.st.fastCtx, c.st.fastCancel = nil, nil
	c.mu.Unlock()
	if cancelled != nil {
		c.shutdown(errSendCancelled)
		err = cancelled
	} else {
		err = fmt.Errorf("ws: write: %w", err)
		c.shutdown(err)
	}
	c.release()
	return err
}

// release gives up the write right: to the writer goroutine if it waits
// for it, else to whoever takes it next, waking the writer goroutine if
// work came in meanwhile.
func (c *Conn) release() {
	c.mu.Lock()
	c.releaseLocked()
}

// releaseLocked is release with mu held; it unlocks mu.
func (c *Conn) releaseLocked() {
	if c.st.writerWait {
		c.st.writerWait = false
		c.mu.Unlock()
		c.idle <- struct{}{} // capacity 1, one waiter: never blocks
		return
	}
	if c.st.streamWait {
		c.st.streamWait = false
		idle := c.st.streamIdle
		c.mu.Unlock()
		idle <- struct{}{} // to the SendStream between its fragments; capacity 1, one waiter
		return
	}
	c.st.writing = false
	kick := c.st.pending()
	c.mu.Unlock()
	if kick {
		c.kickWriter()
	}
}

// armWriteDeadline bounds the writes of one batch by WithWriteTimeout.
func (c *Conn) armWriteDeadline() error {
	d := c.cfg.writeTimeout
	if d <= 0 {
		return nil
	}
	return c.conn.SetWriteDeadline(time.Now().Add(d))
}

// watchLocked makes ctx's end interrupt the write of the Send now taking
// the write right. One context.AfterFunc registration is kept per
// connection and reused while Sends pass the same ctx (a handler's ctx,
// typically), so a Send with a cancellable ctx allocates only when its ctx
// differs from the previous one's.
func (c *Conn) watchLocked(ctx context.Context) {
	if c.st.watchCtx != ctx {
		if c.st.watchStop != nil {
			c.st.watchStop()
		}
		c.st.watchCtx = ctx
		c.st.watchStop = context.AfterFunc(ctx, func() { c.watchedDone(ctx) })
	}
	c.st.fastCtx = ctx
}

// watchedDone runs when a watched ctx ends: if a Send with that ctx is
// writing, a past write deadline interrupts its write.
func (c *Conn) watchedDone(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.fastCtx == ctx && c.st.fastCancel == nil {
		c.st.fastCancel = ctx.Err()
		_ = c.conn.SetWriteDeadline(time.Unix(1, 0))
	}
}

// cancelInFlight interrupts the writer goroutine's write of r, if it is
// still writing it, because r's ctx ended.
func (c *Conn) cancelInFlight(r *sendReq, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.cur == r && c.st.curCancel == nil {
		c.st.curCancel = err
		_ = c.conn.SetWriteDeadline(time.Unix(1, 0))
	}
}
