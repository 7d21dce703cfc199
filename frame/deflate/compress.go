package deflate

import (
	"bytes"
	"github.com/klauspost/compress/flate"
	"sync"

	"github.com/wsactor/ws/frame"
)

// syncTail is what a sync flush ends with: an empty stored block's LEN and
// NLEN (RFC 7692 §7.2.1 removes it, §7.2.2 puts it back).
var syncTail = []byte{0x00, 0x00, 0xff, 0xff}

// encoder is our compressor side.
type encoder struct {
	mu        sync.Mutex
	level     int
	threshold int
	maxLen    int  // longer messages go uncompressed; -1: no limit (15-bit window)
	takeover  bool // keep fw across messages
	closed    bool
	stale     bool          // a shared message went out since fw last wrote: reset it before the next
	fw        *flate.Writer // with takeover: the connection's compressor, nil until first use
	stream    *flate.Writer // the compressor of a message being encoded in pieces (EncodeFragment)
	sink      *sink         // fw's destination; separate so a pooled writer pins only it
}

// sink is an io.Writer appending to a slice.
type sink struct{ b []byte }

func (s *sink) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

func (c *encoder) encode(dst, payload []byte) ([]byte, uint8, error) {
	if len(payload) < c.threshold || (c.maxLen >= 0 && len(payload) > c.maxLen) {
		return dst, 0, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return dst, 0, ErrClosed
	}
	fw := c.fw
	if fw != nil && c.stale {
		// The peer's window holds a shared message ours never saw, so
		// our distances would point at the wrong bytes: start afresh,
		// which a window the peer keeps allows (RFC 7692 §7.1.1).
		fw.Reset(c.sink)
	}
	c.stale = false
	if fw == nil {
		var err error
		if fw, err = getWriter(c.level, c.sink); err != nil {
			return dst, 0, err
		}
		if c.takeover {
			c.fw = fw
		} else {
			defer putWriter(c.level, fw)
		}
	}
	c.sink.b = dst
	_, err := fw.Write(payload)
	if err == nil {
		err = fw.Flush()
	}
	out := c.sink.b
	c.sink.b = nil // never pin the caller's buffer
	if err == nil && !bytes.HasSuffix(out[len(dst):], syncTail) {
		err = errNoSyncTail
	}
	if err != nil {
		if c.takeover {
			// The context is unknown now: drop it. The next message starts
			// a fresh compressor, which is legal under takeover too.
			c.fw = nil
		}
		return dst, 0, err
	}
	out = out[:len(out)-len(syncTail)]
	if !c.takeover && len(out)-len(dst) >= len(payload) {
		// Not worth it: send it as it is. Only without takeover, since with
		// it the data is already in our window and the peer's must match.
		return dst, 0, nil
	}
	return out, frame.Rsv1, nil
}

// close gives a kept compressor back to the pool.
func (c *encoder) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.dropStream()
	if c.fw != nil {
		putWriter(c.level, c.fw)
		c.fw = nil
	}
}

// sharedKey: see Extension.SharedKey.
func (c *encoder) sharedKey(n int) (int, bool) {
	return c.level, n >= c.threshold && (c.maxLen < 0 || n <= c.maxLen)
}

// encodeShared compresses payload with a fresh pooled compressor: its
// back-references stay inside payload, so any peer can inflate it, with or
// without a window of its own, and a message of at most 2^w bytes stays
// within a w-bit window. It declines when that does not make the message
// smaller. It reads only fields New fixed, so it needs no lock.
func (c *encoder) encodeShared(dst, payload []byte) ([]byte, uint8, error) {
	s := &sink{b: dst}
	fw, err := getWriter(c.level, s)
	if err != nil {
		return dst, 0, err
	}
	_, err = fw.Write(payload)
	if err == nil {
		err = fw.Flush()
	}
	putWriter(c.level, fw)
	out := s.b
	s.b = nil
	if err == nil && !bytes.HasSuffix(out[len(dst):], syncTail) {
		err = errNoSyncTail
	}
	if err != nil {
		return dst, 0, err
	}
	out = out[:len(out)-len(syncTail)]
	if len(out)-len(dst) >= len(payload) {
		return dst, 0, nil
	}
	return out, frame.Rsv1, nil
}

// sharedSent marks a kept compressor stale: see encode.
func (c *encoder) sharedSent() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fw != nil {
		c.stale = true
	}
}
