package actor

import "sync"

// maxRecycled is the largest buffer a free list keeps: a released buffer
// with more capacity goes to the GC, so one big message does not pin
// memory for the connection's life.
const maxRecycled = 64 << 10

// poisonByte fills released buffers in checked mode, so that a use after
// Release reads garbage a test notices.
const poisonByte = 0xDB

// freeList recycles received messages' buffers for one connection (see
// WithRecycledBuffers). It is a bounded channel, so Release and the reader
// share it without a lock and without allocating.
type freeList struct {
	bufs  chan []byte
	check bool

	mu   sync.Mutex
	free map[*byte]bool // checked mode: buffers released and not yet reused
}

func newFreeList(n int, check bool) *freeList {
	f := &freeList{bufs: make(chan []byte, n), check: check}
	if check {
		f.free = make(map[*byte]bool)
	}
	return f
}

// get returns a buffer to read the next message into (length 0), or nil
// when the list is empty.
func (f *freeList) get() []byte {
	select {
	case b := <-f.bufs:
		if f.check {
			f.mu.Lock()
			delete(f.free, first(b))
			f.mu.Unlock()
		}
		return b[:0]
	default:
		return nil
	}
}

func (f *freeList) put(b []byte) {
	if cap(b) == 0 || cap(b) > maxRecycled {
		return
	}
	b = b[:cap(b)]
	if f.check {
		p := first(b)
		f.mu.Lock()
		if f.free[p] {
			f.mu.Unlock()
			panic("ws: Message released twice")
		}
		f.free[p] = true
		f.mu.Unlock()
		for i := range b {
			b[i] = poisonByte
		}
	}
	select {
	case f.bufs <- b:
	default: // full: the GC takes it
		if f.check {
			f.mu.Lock()
			delete(f.free, first(b))
			f.mu.Unlock()
		}
	}
}

// Release gives m.Data back to the connection it was received from, to
// hold a later message, when that connection was made WithRecycledBuffers;
// otherwise it does nothing. After Release neither m.Data nor any copy of
// it may be used, and m must not be released again: with the checked mode
// of WithRecycledBuffers the buffer is overwritten at once and a second
// Release panics, so tests catch both. Release is safe to call from any
// goroutine, also after the connection has ended, and does not allocate.
func (m Message) Release() {
	if m.pool != nil {
		m.pool.put(m.Data)
	}
}

// first identifies a buffer (cap(b) > 0) by its first byte's address.
func first(b []byte) *byte { return &b[:cap(b)][0] }
