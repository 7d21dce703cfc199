package actor

import (
	"context"
	"time"

	"github.com/wsactor/ws/frame"
)

// state is the connection's shared state, guarded by Conn.mu. The reader
// and writer goroutines and the callers of Send, Ping and Close each take
// the lock for a few field updates and never across I/O: a state machine
// under a mutex instead of a supervisor goroutine, so that no message pays
// a hand-off to a third goroutine.
type state struct {
	// The write right: one holder at a time uses Conn.fw.
	writing    bool
	writerWait bool            // the writer goroutine waits on Conn.idle for the right
	queue      sendQueue       // Sends for the writer goroutine, in arrival order
	batch      []*sendReq      // Sends written since the writer's last flush
	cur        *sendReq        // the queued Send being written
	curCancel  error           // its ctx ended mid-write
	fastCtx    context.Context // the ctx of a Send writing its own message
	fastCancel error           // that ctx ended mid-write
	watchCtx   context.Context // the ctx context.AfterFunc watches for Sends
	watchStop  func() bool

	// A SendStream (stream_send.go): while streaming, a message is written
	// fragment by fragment and nothing but control frames may come between
	// its fragments, whoever holds the write right in the gaps.
	streaming  bool
	streamWait bool          // the SendStream waits on streamIdle for the right
	streamIdle chan struct{} // capacity 1; made by the first SendStream
	streamTurn *sendReq      // a queued SendStream to hand the right to after this batch; used by the right's holder

	// Streamed receive (stream_recv.go).
	recv recvState

	// Control frames to write: pongs in the order of their pings, and one
	// ping (ours: its id).
	pongs pongQueue
	ping  uint64

	// Close handshake (RFC 6455 §7.1).
	closing      bool // our close frame is queued or written
	closeWritten bool
	sentCode     frame.StatusCode
	sentReason   string
	recvClose    bool
	recvCode     frame.StatusCode
	recvReason   string
	remote       bool        // the peer's close came first
	failErr      error       // the peer's protocol error that fails the connection
	grace        *time.Timer // bounds the handshake once closing
	linger       *time.Timer // bounds the wait before a failing connection's close frame
	ka           *time.Timer // keepalive: the next ping, or the pong's deadline
	lifetimeStop func() bool // stops the WithLifetime watch

	ended  bool  // shutdown ran
	over   bool  // finish ran
	endErr error // the connection's final error, fixed by shutdown

	// Backpressure: a message the reader could not put in Incoming.
	held           Message
	holding        bool
	incomingClosed bool

	pinger pinger

	ctx       context.Context // Conn.Context, made on first use
	cancelCtx context.CancelFunc
}

// pending reports work for the writer goroutine: control frames, queued
// Sends (unless a streamed message is in progress), or our close frame.
func (s *state) pending() bool {
	return s.pongs.n > 0 || s.ping != 0 || (s.queue.len() > 0 && !s.streaming) || (s.closing && !s.closeWritten)
}

// startClose queues our close frame (once) and starts the grace period. A
// connection failing because of the peer's protocol error sends that
// error's code whatever it is asked.
func (c *Conn) startCloseLocked(code frame.StatusCode, reason string) {
	s := &c.st
	if s.closing || s.ended {
		return
	}
	if s.failErr != nil {
		code, reason = s.sentCode, s.sentReason
	}
	s.closing = true
	s.sentCode, s.sentReason = code, reason
	s.grace = time.AfterFunc(c.cfg.closeGrace, func() { c.shutdown(ErrCloseTimeout) })
	if s.linger != nil {
		s.linger.Stop()
		s.linger = nil
	}
	// Nothing but the close frame is written from now on.
	s.pongs.n, s.ping = 0, 0
	c.ctrlPending.Store(false)
	if s.holding {
		// The reader waits for room in Incoming; a closing connection does
		// not wait for a user who is not reading.
		s.held, s.holding = Message{}, false
		c.giveCredit()
	}
}

// finished reports whether the close handshake is over from our side: our
// close frame is written and the peer's close frame has arrived (or the
// peer broke the protocol). A server then closes the socket at once; a
// client waits for the server to close it (RFC 6455 §7.1.1), until the
// stream ends or the grace period runs out.
func (s *state) finished(role frame.Role) bool {
	return s.closeWritten && (s.recvClose || s.failErr != nil) && role == frame.Server
}

// result is the connection's final error; cause is what ended it.
func (s *state) result(cause error) error {
	switch {
	case s.failErr != nil:
		return &CloseError{Code: s.sentCode, Reason: s.sentReason, Err: s.failErr}
	case s.recvClose:
		return &CloseError{Code: s.recvCode, Reason: s.recvReason, Remote: s.remote}
	case s.closing:
		return &CloseError{Code: s.sentCode, Reason: s.sentReason, Err: cause}
	}
	return cause
}

func (s *state) stopTimers() {
	for _, t := range []*time.Timer{s.grace, s.linger, s.ka} {
		if t != nil {
			t.Stop()
		}
	}
	if s.lifetimeStop != nil {
		s.lifetimeStop()
	}
}

// maxPongs bounds the pongs waiting to be written. Up to it every ping
// gets its own pong, in order; beyond it the newest ping's pong replaces
// the last one waiting, as RFC 6455 §5.5.3 allows, so a ping flood costs
// bounded memory and never stops the reader.
const maxPongs = 16

// pongQueue holds the payloads of pongs to write. It grows with the pings
// waiting for their pongs (usually one), so a connection that is never
// pinged pays nothing.
type pongQueue struct {
	items []ctrlPayload
	n     int // len(items) in use
}

type ctrlPayload struct {
	n int
	b [frame.MaxControlPayload]byte
}

func (q *pongQueue) push(p []byte) {
	if q.n < len(q.items) {
		q.items[q.n].n = copy(q.items[q.n].b[:], p)
		q.n++
		return
	}
	if q.n == maxPongs {
		// coalesce: the newest replaces the last
		q.items[q.n-1].n = copy(q.items[q.n-1].b[:], p)
		return
	}
	q.items = append(q.items, ctrlPayload{})
	q.items[q.n].n = copy(q.items[q.n].b[:], p)
	q.n++
}

// pop moves the oldest pong's payload into dst.
func (q *pongQueue) pop(dst *ctrlPayload) bool {
	if q.n == 0 {
		return false
	}
	*dst = q.items[0]
	copy(q.items, q.items[1:q.n])
	q.n--
	return true
}

// budget bounds the bytes waiting in Incoming (WithIncomingBytes). A
// channel cannot tell its sender when a receiver took a value, so it
// keeps the running total of bytes delivered, one entry per delivery, in
// a ring as long as Incoming's capacity + 1: the bytes still in Incoming
// are the difference between the total now and the total len(Incoming)
// deliveries ago. It is used by the one goroutine delivering at a time
// (the reader, or the writer goroutine for a held message).
type budget struct {
	limit int64
	sums  []int64
	n     int
}

func newBudget(capacity int, limit int64) budget {
	return budget{limit: limit, sums: make([]int64, capacity+1)}
}

// fits reports whether a message of size bytes may join the queued ones
// in Incoming. A message always fits an empty Incoming, so one larger than
// the limit is delivered alone.
func (b *budget) fits(queued, size int) bool {
	if queued == 0 {
		return true
	}
	l := len(b.sums)
	if queued >= l {
		queued = l - 1
	}
	inQueue := b.sums[b.n%l] - b.sums[(b.n-queued+l)%l]
	return inQueue+int64(size) <= b.limit
}

// push records a delivery of size bytes.
func (b *budget) push(size int) {
	l := len(b.sums)
	prev := b.sums[b.n%l]
	b.n = (b.n + 1) % l
	b.sums[b.n] = prev + int64(size)
}
