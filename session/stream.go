package session

import (
	"github.com/wsactor/ws"
)

// entry is one message in a replay buffer.
type entry struct {
	seq uint64
	msg ws.Message
}

// stream is the sequence state of one side of a session: what it sent and
// the peer has not acknowledged yet (the replay buffer), and what it
// received. Its owner's mutex guards it.
type stream struct {
	maxN, maxB int // replay limits

	// Outgoing.
	next  uint64  // seq of the next message; the first is 1
	acked uint64  // highest seq the peer acknowledged
	buf   []entry // seqs acked+1 .. next-1, in order
	bytes int     // payload bytes in buf

	// Incoming.
	last           uint64 // highest seq received in order
	ackSent        uint64 // highest ack sent to the peer
	peerN, peerB   int    // the peer's replay limits, from the handshake
	sinceN, sinceB int    // messages and bytes received since ackSent
}

func newStream(maxN, maxB int) stream {
	return stream{maxN: maxN, maxB: maxB, next: 1}
}

// fits reports whether a message of size bytes fits in the replay buffer.
func (s *stream) fits(size int) bool {
	return len(s.buf) < s.maxN && s.bytes+size <= s.maxB
}

// push appends m to the replay buffer and returns its seq.
func (s *stream) push(m ws.Message) uint64 {
	seq := s.next
	s.next++
	s.buf = append(s.buf, entry{seq: seq, msg: m})
	s.bytes += len(m.Data)
	return seq
}

// ack applies the peer's cumulative acknowledgement a: the messages up to a
// leave the replay buffer. An ack of a message never sent is a protocol
// violation; an old one (from a frame written before a newer ack) is
// ignored. It reports whether room was freed.
func (s *stream) ack(a uint64) (freed bool, err error) {
	if a >= s.next {
		return false, errAckBeyond
	}
	if a <= s.acked {
		return false, nil
	}
	k := int(a - s.acked)
	for _, e := range s.buf[:k] {
		s.bytes -= len(e.msg.Data)
	}
	clear(s.buf[:k])
	s.buf = s.buf[k:]
	if len(s.buf) == 0 {
		s.buf = nil
	}
	s.acked = a
	return true, nil
}

// after returns the buffered entries with seq > from, at most n.
func (s *stream) after(from uint64, n int) []entry {
	if from < s.acked {
		from = s.acked
	}
	i := int(from - s.acked)
	if i >= len(s.buf) {
		return nil
	}
	out := s.buf[i:]
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// recv decides about an incoming data message: deliver it (the next in
// order), drop it (a duplicate from a replay), or fail (a gap, which a
// correct peer never makes).
func (s *stream) recv(seq uint64, size int) (deliver bool, err error) {
	switch {
	case seq <= s.last:
		return false, nil
	case seq != s.last+1:
		return false, errGap
	}
	s.last = seq
	s.sinceN++
	s.sinceB += size
	return true, nil
}

// ackDue reports whether something received is not acknowledged yet.
func (s *stream) ackDue() bool { return s.last > s.ackSent }

// ackUrgent reports whether the peer's replay buffer is half full with what
// we received and did not acknowledge: acknowledge now rather than after
// the idle delay, so a one-way stream never stalls on the peer's limit.
func (s *stream) ackUrgent() bool {
	return s.ackDue() && (s.sinceN*2 >= s.peerN || s.sinceB*2 >= s.peerB)
}

// takeAck returns the ack to send now and records it as sent.
func (s *stream) takeAck() uint64 {
	s.ackSent = s.last
	s.sinceN, s.sinceB = 0, 0
	return s.last
}

// setPeer records the peer's limits from its handshake frame.
func (s *stream) setPeer(n, b uint64) {
	s.peerN, s.peerB = clampInt(n), clampInt(b)
}

func clampInt(v uint64) int {
	const max = int(^uint(0) >> 1)
	if v > uint64(max) {
		return max
	}
	return int(v)
}
