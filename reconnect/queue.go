package reconnect

import (
	"container/list"
	"context"
	"sync"

	"github.com/wsactor/ws"
)

// Policy says what happens to a message offered to a full outgoing buffer.
type Policy int

// The overflow policies.
const (
	// Block makes the sender wait for room: Send until its ctx ends,
	// a send on Outgoing until the buffer drains. Nothing is lost. Waiting
	// Sends get room in the order they started waiting, and a send on
	// Outgoing waits behind them.
	Block Policy = iota
	// DropOldest discards the oldest queued message to make room; its
	// Send, if it is waiting, returns ErrDropped. Senders never wait.
	// For streams where only the latest state matters.
	DropOldest
	// DropNewest discards the message being offered: Send returns
	// ErrDropped at once, a send on Outgoing succeeds and the loss is
	// reported only by a Dropped event. Senders never wait.
	DropNewest
	// Fail refuses the message without losing it silently: Send returns
	// ErrBufferFull at once, and a send on Outgoing (which cannot carry an
	// error) waits as under Block.
	Fail
)

var policyNames = [...]string{"block", "drop-oldest", "drop-newest", "fail"}

func (p Policy) String() string {
	if p >= 0 && int(p) < len(policyNames) {
		return policyNames[p]
	}
	return "Policy(?)"
}

// item is one queued message; done is nil for messages from Outgoing.
type item struct {
	msg   ws.Message
	done  chan error    // capacity 1: the result of a Send
	elem  *list.Element // in queue.l while queued
	wait  *list.Element // in queue.waiters while its Send waits for room
	ready chan struct{} // closed when a waiting item is queued or the queue closes
	given bool          // a waiting item was queued (it may have been taken since)
}

// queue is the bounded FIFO of messages waiting for a connection. Many
// senders put; the client's intake goroutine pushes what arrives on
// Outgoing; one writer pump at a time takes.
//
// The intake receives from Outgoing only when a message can be queued at
// once (see intakeReady), so the message it holds between the receive and
// pushIntake always fits. A Send that could take the last slot meanwhile
// runs its decision through guard, which parks the intake with nothing in
// hand; together they keep the queue within max.
type queue struct {
	max    int
	policy Policy
	drop   func(ws.Message, error) // reports a discarded message; called without mu held
	guard  func(fn func())         // runs fn while the intake holds no message

	mu       sync.Mutex
	l        list.List
	waiters  list.List // Block Sends waiting for room, in arrival order
	closed   bool
	nonEmpty chan struct{} // capacity 1: signalled on push, for the single taker
	space    chan struct{} // closed (and replaced) when an item or a waiter leaves
}

func newQueue(max int, p Policy, drop func(ws.Message, error)) *queue {
	q := &queue{max: max, policy: p, drop: drop, nonEmpty: make(chan struct{}, 1), space: make(chan struct{})}
	q.guard = func(fn func()) { fn() }
	q.l.Init()
	q.waiters.Init()
	return q
}

// put queues a Send's item under the policy. It returns ErrClosed,
// ErrDropped, ErrBufferFull or ctx's error when it is not queued. Under
// Block a full queue makes it wait in line: room goes to the waiters in the
// order they arrived.
func (q *queue) put(ctx context.Context, it *item) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	switch {
	case q.l.Len()+1 < q.max && q.waiters.Len() == 0:
		// Room for it and for a message the intake may hold: no need to
		// stop the intake.
		q.pushLocked(it)
		q.mu.Unlock()
		return nil
	case q.policy == DropOldest:
		var old *item
		if q.l.Len() >= q.max {
			old = q.removeLocked(q.l.Front())
		}
		q.pushLocked(it)
		q.mu.Unlock()
		if old != nil {
			q.discard(old, ErrDropped)
		}
		return nil
	case q.policy == DropNewest:
		if q.l.Len() < q.max {
			q.pushLocked(it)
			q.mu.Unlock()
			return nil
		}
		q.mu.Unlock()
		q.drop(it.msg, ErrDropped)
		return ErrDropped
	}
	q.mu.Unlock()

	var err error
	waiting := false
	q.guard(func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		switch {
		case q.closed:
			err = ErrClosed
		case q.l.Len() < q.max && q.waiters.Len() == 0:
			q.pushLocked(it)
		case q.policy == Fail:
			err = ErrBufferFull
		default:
			it.ready = make(chan struct{})
			it.wait = q.waiters.PushBack(it)
			waiting = true
		}
	})
	if !waiting {
		return err
	}
	select {
	case <-it.ready:
	case <-ctx.Done():
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case it.given:
		// Queued, possibly just as ctx ended (Send then withdraws it if it
		// is still queued), possibly already taken by the writer.
		return nil
	case it.wait != nil:
		q.waiters.Remove(it.wait)
		it.wait = nil
		q.signalSpaceLocked()
		return ctx.Err()
	}
	return ErrClosed
}

// intakeReady reports whether the intake may take a message from Outgoing
// now; if not, wake is closed when that may have changed. Under Block and
// Fail it needs a free slot that no waiting Send is owed; the drop policies
// never make Outgoing wait.
func (q *queue) intakeReady() (ready bool, wake <-chan struct{}) {
	if q.policy == DropOldest || q.policy == DropNewest {
		return true, nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.l.Len() < q.max && q.waiters.Len() == 0 {
		return true, nil
	}
	return false, q.space
}

// pushIntake queues a message the intake received from Outgoing. It never
// waits: intakeReady made room for it, or the policy drops.
func (q *queue) pushIntake(it *item) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		q.drop(it.msg, ErrClosed)
		return
	}
	var old *item
	if q.l.Len() >= q.max {
		switch q.policy {
		case DropOldest:
			old = q.removeLocked(q.l.Front())
		case DropNewest:
			q.mu.Unlock()
			q.drop(it.msg, ErrDropped)
			return
		}
	}
	q.pushLocked(it)
	q.mu.Unlock()
	if old != nil {
		q.discard(old, ErrDropped)
	}
}

func (q *queue) pushLocked(it *item) {
	it.elem = q.l.PushBack(it)
	select {
	case q.nonEmpty <- struct{}{}:
	default:
	}
}

// removeLocked takes e out of the queue and hands the room it leaves to the
// longest-waiting Send.
func (q *queue) removeLocked(e *list.Element) *item {
	it := q.l.Remove(e).(*item)
	it.elem = nil
	for !q.closed && q.l.Len() < q.max && q.waiters.Len() > 0 {
		w := q.waiters.Remove(q.waiters.Front()).(*item)
		w.wait, w.given = nil, true
		q.pushLocked(w)
		close(w.ready)
	}
	q.signalSpaceLocked()
	return it
}

func (q *queue) signalSpaceLocked() {
	close(q.space)
	q.space = make(chan struct{})
}

// remove takes it out of the queue if it is still there.
func (q *queue) remove(it *item) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if it.elem == nil {
		return false
	}
	q.removeLocked(it.elem)
	return true
}

// take returns the oldest item, waiting for one. It returns nil when
// abort is closed, or when drain is closed and the queue is empty.
func (q *queue) take(abort, drain <-chan struct{}) *item {
	for {
		q.mu.Lock()
		if e := q.l.Front(); e != nil {
			it := q.removeLocked(e)
			q.mu.Unlock()
			return it
		}
		q.mu.Unlock()
		select {
		case <-q.nonEmpty:
		case <-abort:
			return nil
		case <-drain:
			q.mu.Lock()
			empty := q.l.Len() == 0
			q.mu.Unlock()
			if empty {
				return nil
			}
		}
	}
}

// len returns how many messages wait.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.l.Len()
}

// close refuses new messages and fails the queued ones with ErrClosed.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	var left []*item
	for e := q.l.Front(); e != nil; e = q.l.Front() {
		left = append(left, q.removeLocked(e))
	}
	for e := q.waiters.Front(); e != nil; e = q.waiters.Front() {
		w := q.waiters.Remove(e).(*item)
		w.wait = nil
		close(w.ready)
	}
	q.mu.Unlock()
	for _, it := range left {
		q.discard(it, ErrClosed)
	}
}

// discard ends an item that will not be written.
func (q *queue) discard(it *item, err error) {
	if it.done != nil {
		it.done <- err
	}
	if err != ErrClosed {
		q.drop(it.msg, err)
	}
}

// finish reports the outcome of a written (or failed) item.
func (it *item) finish(err error) {
	if it.done != nil {
		it.done <- err
	}
}
