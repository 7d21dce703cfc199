package actor

import (
	"sync/atomic"
	"time"
)

// Stats is a snapshot of a connection's counters. Message and byte counts
// are of data messages and their payloads as the application sees them
// (before compression, without frame headers); control frames are not
// counted.
type Stats struct {
	MessagesIn  uint64
	MessagesOut uint64
	BytesIn     uint64
	BytesOut    uint64

	// RTT is the round-trip time of the last ping answered (by Ping or by
	// keepalive); 0 until one is.
	RTT time.Duration

	// IncomingQueued is how many received messages wait in Incoming;
	// OutgoingQueued how many messages wait in Outgoing and in Send calls.
	IncomingQueued int
	OutgoingQueued int

	// OutgoingDropped counts messages taken from Outgoing and never
	// written: of an invalid Type, or sent after the close frame or the
	// connection's end.
	OutgoingDropped uint64
}

// stats holds the counters; each goroutine updates its own with atomics.
type stats struct {
	messagesIn, bytesIn   atomic.Uint64 // reader
	messagesOut, bytesOut atomic.Uint64 // writer
	rtt                   atomic.Int64  // the reader, on a pong
	dropped               atomic.Uint64
}

// Stats returns the connection's counters. It is cheap (a few atomic
// loads), safe to call at any time from any goroutine, also after the
// connection has ended. The fields are read one by one, not as one atomic
// snapshot.
func (c *Conn) Stats() Stats {
	return Stats{
		MessagesIn:      c.stats.messagesIn.Load(),
		MessagesOut:     c.stats.messagesOut.Load(),
		BytesIn:         c.stats.bytesIn.Load(),
		BytesOut:        c.stats.bytesOut.Load(),
		RTT:             time.Duration(c.stats.rtt.Load()),
		IncomingQueued:  len(c.incoming),
		OutgoingQueued:  len(c.outgoing) + int(c.queued.Load()),
		OutgoingDropped: c.stats.dropped.Load(),
	}
}
