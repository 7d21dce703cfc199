package actor

import (
	"context"
	"encoding/binary"
	"time"
)

// pinger tracks pings in flight for Ping and for keepalive; it is part of
// the state under Conn.mu.
//
// Each ping carries an 8-byte id. A peer may answer only the latest of
// several pings (RFC 6455 §5.5.3), so a pong with id k answers every ping up
// to k.
type pinger struct {
	nextID      uint64
	lastWritten uint64 // highest id written to the socket
	waiters     []pingWaiter

	interval, timeout time.Duration
	kaID              uint64    // keepalive ping awaiting its pong; 0 if none
	kaSent            time.Time // when it was written; zero while it waits to be
	kaAhead           uint64    // Conn.aheadReads when it was written
	kaProgress        uint64    // Conn.writeProgress when last checked while it waits to be written
	lastAnswer        time.Time // the last keepalive answer (or the start)
}

type pingWaiter struct {
	id   uint64
	sent time.Time // zero until the ping was written
	req  pingReq
}

// pingReq is one Ping call; the answer comes on reply.
type pingReq struct {
	ctx   context.Context
	reply chan time.Duration // capacity 1
}

func (p *pinger) init(interval, timeout time.Duration) {
	p.interval, p.timeout = interval, timeout
	p.lastAnswer = time.Now()
}

// written records that ping id went out at now: the round trip of it and
// of the pings it superseded counts from here, and so does the keepalive
// pong deadline.
func (p *pinger) written(id uint64, now time.Time, ahead uint64) {
	p.lastWritten = id
	for i := range p.waiters {
		if p.waiters[i].id <= id && p.waiters[i].sent.IsZero() {
			p.waiters[i].sent = now
		}
	}
	if p.kaID != 0 && p.kaID <= id && p.kaSent.IsZero() {
		p.kaSent, p.kaAhead = now, ahead
	}
}

// onPong answers the pings a pong acknowledges and records the RTT.
func (p *pinger) onPong(payload []byte, st *stats) {
	if len(payload) != 8 {
		return // not one of ours
	}
	id := binary.BigEndian.Uint64(payload)
	if id == 0 || id > p.lastWritten {
		return
	}
	now := time.Now()
	kept := p.waiters[:0]
	var rtt time.Duration
	for _, w := range p.waiters {
		if w.id > id {
			kept = append(kept, w)
			continue
		}
		rtt = now.Sub(w.sent)
		st.rtt.Store(int64(rtt)) // before the answer: Stats agrees with Ping's result
		w.req.reply <- rtt       // capacity 1, one answer per request
	}
	clear(p.waiters[len(kept):])
	p.waiters = kept
	if p.kaID != 0 && p.kaID <= id {
		rtt = now.Sub(p.kaSent)
		p.kaID, p.kaSent = 0, time.Time{}
		p.lastAnswer = now
	}
	if rtt > 0 {
		st.rtt.Store(int64(rtt))
	}
}

// onKeepalive runs when the keepalive timer fires.
// It sends a ping an interval after the last answer, and ends the
// connection with ErrPongTimeout when the pong has not come within the
// timeout of the ping's write, judged from the wire: while the reader is
// paused behind a full Incoming it cannot read the pong, and bytes arriving
// from the peer in its read-ahead count as the answer (the peer is there;
// it is our user who is slow). A peer that has vanished sends nothing, so a
// stuck consumer does not keep a dead connection. A ping that cannot be
// written because a write in progress makes no progress for the timeout
// ends the connection too: with WithFragmentSize a slow but live peer lets
// each fragment through.
func (c *Conn) onKeepalive() error {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.st
	p := &s.pinger
	t := s.ka
	if s.closing || s.ended || s.failErr != nil {
		return nil // the grace period or linger bounds the rest
	}
	switch {
	case p.kaID == 0:
		if wait := p.lastAnswer.Add(p.interval).Sub(now); wait > 0 {
			t.Reset(wait)
			return nil
		}
		p.nextID++
		p.kaID = p.nextID
		p.kaProgress = c.writeProgress.Load()
		s.ping = p.kaID
		c.ctrlPending.Store(true)
		t.Reset(p.timeout) // checked again then; the deadline runs from the write
		if !s.writing {
			c.kickWriter()
		}
	case p.kaSent.IsZero():
		// Still behind a write. One that completed nothing — no message, no
		// fragment, no flush — in a whole timeout is stalled: the peer
		// stopped reading, or is gone without a FIN.
		if done := c.writeProgress.Load(); done != p.kaProgress {
			p.kaProgress = done
			t.Reset(p.timeout)
			return nil
		}
		return ErrPongTimeout
	case now.Sub(p.kaSent) < p.timeout:
		t.Reset(p.kaSent.Add(p.timeout).Sub(now))
	case s.holding && c.aheadReads.Load() != p.kaAhead:
		p.kaID, p.kaSent = 0, time.Time{}
		p.lastAnswer = now
		t.Reset(p.interval)
	default:
		return ErrPongTimeout
	}
	return nil
}

// Ping sends a ping and returns the round-trip time until its pong (RFC
// 6455 §5.5.2, §5.5.3), measured from the ping's write. Several concurrent
// Pings may share one ping frame. It blocks until the pong, ctx's end
// (ctx's error; the connection goes on) or the connection's end or close
// handshake (ErrClosed).
func (c *Conn) Ping(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	r := pingReq{ctx: ctx, reply: make(chan time.Duration, 1)}
	c.mu.Lock()
	s := &c.st
	if s.ended || s.closing || s.failErr != nil {
		c.mu.Unlock()
		return 0, ErrClosed
	}
	p := &s.pinger
	// Forget callers that gave up, so the list stays as long as the number
	// of Ping calls actually waiting.
	kept := p.waiters[:0]
	for _, w := range p.waiters {
		if w.req.ctx.Err() == nil {
			kept = append(kept, w)
		}
	}
	clear(p.waiters[len(kept):])
	p.waiters = kept
	p.nextID++
	s.ping = p.nextID // latest wins: one frame answers all waiters
	p.waiters = append(p.waiters, pingWaiter{id: p.nextID, req: r})
	c.ctrlPending.Store(true)
	kick := !s.writing
	c.mu.Unlock()
	if kick {
		c.kickWriter()
	}
	select {
	case rtt := <-r.reply:
		return rtt, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-c.stop:
		return 0, ErrClosed
	}
}
