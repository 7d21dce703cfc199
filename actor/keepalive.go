package actor

import (
	"encoding/binary"
	"time"
)

// pinger tracks pings in flight for Ping and for keepalive. It is part of
// the supervisor's state and only touched by it.
//
// Each ping carries an 8-byte id. A peer may answer only the latest of
// several pings (RFC 6455 §5.5.3), so a pong with id k answers every ping up
// to k.
type pinger struct {
	nextID     uint64
	lastHanded uint64 // highest id handed to the writer
	waiters    []pingWaiter

	interval, timeout time.Duration
	timer             *time.Timer // keepalive: next ping, or pong deadline
	kaID              uint64      // keepalive ping awaiting its pong; 0 if none
	kaSent            time.Time
}

type pingWaiter struct {
	id   uint64
	sent time.Time // zero until the ping went to the writer
	req  pingReq
}

func (p *pinger) init(interval, timeout time.Duration) {
	p.interval, p.timeout = interval, timeout
	if interval > 0 {
		p.timer = time.NewTimer(interval)
	}
}

func (p *pinger) stop() {
	if p.timer != nil {
		p.timer.Stop()
	}
}

// timerC is the keepalive timer's channel, nil (never ready) without one.
func (p *pinger) timerC() <-chan time.Time {
	if p.timer == nil {
		return nil
	}
	return p.timer.C
}

// handed records that ping id went to the writer at now: the round trip
// of it and of the pings it superseded counts from here.
func (p *pinger) handed(id uint64, now time.Time) {
	p.lastHanded = id
	for i := range p.waiters {
		if p.waiters[i].id <= id && p.waiters[i].sent.IsZero() {
			p.waiters[i].sent = now
		}
	}
	if p.kaID != 0 && p.kaID <= id && p.kaSent.IsZero() {
		p.kaSent = now
	}
}

func putPingID(b []byte, id uint64) int {
	binary.BigEndian.PutUint64(b, id)
	return 8
}

// onPingRequest queues a ping for a Ping call (latest-wins: several
// requests before the writer takes one share a frame).
func (s *supervisor) onPingRequest(r pingReq) {
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
	if s.closeHanded {
		return // no ping after our close frame; the call ends with the connection
	}
	p.nextID++
	s.ping = p.nextID
	p.waiters = append(p.waiters, pingWaiter{id: p.nextID, req: r})
}

// onPong answers the pings a pong acknowledges and records the RTT.
func (s *supervisor) onPong(payload []byte) {
	p := &s.pinger
	if len(payload) != 8 {
		return // not one of ours
	}
	id := binary.BigEndian.Uint64(payload)
	if id == 0 || id > p.lastHanded {
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
		w.req.reply <- rtt // capacity 1, one answer per request
	}
	clear(p.waiters[len(kept):])
	p.waiters = kept
	if p.kaID != 0 && p.kaID <= id {
		rtt = now.Sub(p.kaSent)
		p.kaID, p.kaSent = 0, time.Time{}
		if !s.closing {
			p.timer.Reset(p.interval)
		}
	}
	if rtt > 0 {
		s.c.stats.rtt.Store(int64(rtt))
	}
}

// onKeepalive runs when the keepalive timer fires: it sends the next ping,
// or ends the connection if the last one is unanswered. A reader paused by
// a full Incoming cannot see the pong, so the deadline waits for it.
func (s *supervisor) onKeepalive() error {
	p := &s.pinger
	if s.closing {
		return nil
	}
	if p.kaID == 0 {
		p.nextID++
		p.kaID = p.nextID
		s.ping = p.kaID
		p.timer.Reset(p.timeout)
		return nil
	}
	if s.holding {
		p.timer.Reset(p.timeout)
		return nil
	}
	return ErrPongTimeout
}
