package reconnect

import (
	"container/list"
	"context"
	"sync"

	"github.com/wsactor/ws/actor"
)

// Policy says what happens to a message offered to a full outgoing buffer.
type Policy int

// The overflow policies.
const (
	// Block makes the sender wait for room: Send until its ctx ends,
	// a send on Outgoing until the buffer drains. Nothing is lost.
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
	msg  actor.Message
	done chan error // capacity 1: the result of a Send
	elem *list.Element
}

// queue is the bounded FIFO of messages waiting for a connection. Many
// senders put; one writer pump at a time takes.
type queue struct {
	max    int
	policy Policy
	drop   func(actor.Message, error) // reports a discarded message; called without mu held

	mu       sync.Mutex
	l        list.List
	closed   bool
	nonEmpty chan struct{} // capacity 1: signalled on put, for the single taker
	space    chan struct{} // closed (and replaced) when an item leaves
}

func newQueue(max int, p Policy, drop func(actor.Message, error)) *queue {
	q := &queue{max: max, policy: p, drop: drop, nonEmpty: make(chan struct{}, 1), space: make(chan struct{})}
	q.l.Init()
	return q
}

// put queues it under the policy. fromSend is false for the Outgoing
// channel, which Fail treats as Block. It returns ErrClosed, ErrDropped,
// ErrBufferFull or ctx's error when it is not queued.
func (q *queue) put(ctx context.Context, it *item, fromSend bool) error {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return ErrClosed
		}
		if q.l.Len() < q.max {
			q.pushLocked(it)
			q.mu.Unlock()
			return nil
		}
		switch {
		case q.policy == DropOldest:
			old := q.removeLocked(q.l.Front())
			q.pushLocked(it)
			q.mu.Unlock()
			q.discard(old, ErrDropped)
			return nil
		case q.policy == DropNewest:
			q.mu.Unlock()
			q.drop(it.msg, ErrDropped)
			return ErrDropped
		case q.policy == Fail && fromSend:
			q.mu.Unlock()
			return ErrBufferFull
		}
		space := q.space
		q.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (q *queue) pushLocked(it *item) {
	it.elem = q.l.PushBack(it)
	select {
	case q.nonEmpty <- struct{}{}:
	default:
	}
}

func (q *queue) removeLocked(e *list.Element) *item {
	it := q.l.Remove(e).(*item)
	it.elem = nil
	close(q.space)
	q.space = make(chan struct{})
	return it
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
