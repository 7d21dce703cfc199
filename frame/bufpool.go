package frame

import "sync"

// Buffers for writing are borrowed from size-class pools instead of being
// owned by each Writer: an idle connection then holds no write buffer at
// all, and a client masking a large message gets one scratch buffer to mask
// into, so the frame goes out in one write instead of one per buffer-full.
// sync.Pool is kept for these big objects only: pooling small ones costs
// more than allocating them.
var bufClasses = [...]int{DefaultWriteBufferSize, 64 << 10, 256 << 10, 1 << 20}

var bufPools [len(bufClasses)]sync.Pool

// maxPooledBuf is the largest buffer the pools hand out; larger payloads are
// masked through it in pieces.
const maxPooledBuf = 1 << 20

// getBuf returns an empty buffer with a capacity of at least size (size at
// most maxPooledBuf). Give it back with putBuf.
func getBuf(size int) *[]byte {
	for i, c := range bufClasses {
		if size <= c {
			if p, ok := bufPools[i].Get().(*[]byte); ok {
				return p
			}
			b := make([]byte, 0, c)
			return &b
		}
	}
	panic("frame: getBuf beyond the largest class")
}

// putBuf returns a buffer from getBuf to its pool.
func putBuf(p *[]byte) {
	for i, c := range bufClasses {
		if cap(*p) == c {
			*p = (*p)[:0]
			bufPools[i].Put(p)
			return
		}
	}
}
