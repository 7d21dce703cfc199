package actor

import (
	"context"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// patternReader yields n bytes of a repeating block, generated on the fly.
// A block of letters is valid text; its randomness makes it compress only
// across repeats of the block.
type patternReader struct {
	block []byte
	n     int64
	off   int64
}

func newPattern(n int64, blockLen int, seed uint64) *patternReader {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, blockLen)
	for i := range b {
		b[i] = 'a' + byte(rng.IntN(26))
	}
	return &patternReader{block: b, n: n}
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-r.off)]
	k := 0
	for k < len(p) {
		k += copy(p[k:], r.block[(r.off+int64(k))%int64(len(r.block)):])
	}
	r.off += int64(k)
	return k, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// patternSum returns the length and CRC-32C of what a fresh patternReader
// with these parameters yields.
func patternSum(t testing.TB, n int64, blockLen int, seed uint64) (int64, uint32) {
	t.Helper()
	h := crc32.New(castagnoli)
	k, err := io.Copy(h, newPattern(n, blockLen, seed))
	require.NoError(t, err)
	return k, h.Sum32()
}

// readSum reads r to its end and returns its length and CRC-32C.
func readSum(r io.Reader) (int64, uint32, error) {
	h := crc32.New(castagnoli)
	n, err := io.CopyBuffer(h, r, make([]byte, 64<<10))
	return n, h.Sum32(), err
}

// nextReader calls NextReader with a deadline.
func nextReader(t testing.TB, c *Conn) (MessageType, io.ReadCloser) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, r, err := c.NextReader(ctx)
	require.NoError(t, err)
	return typ, r
}

// blockingReader yields first, then blocks until more arrives on feed; a
// closed feed is its end.
type blockingReader struct {
	first []byte
	feed  chan []byte
	fail  error // returned instead of io.EOF when feed is closed
	cur   []byte
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if len(b.first) > 0 {
		n := copy(p, b.first)
		b.first = b.first[n:]
		return n, nil
	}
	for len(b.cur) == 0 {
		next, ok := <-b.feed
		if !ok {
			if b.fail != nil {
				return 0, b.fail
			}
			return 0, io.EOF
		}
		b.cur = next
	}
	n := copy(p, b.cur)
	b.cur = b.cur[n:]
	return n, nil
}

// readAtLeast reads n bytes from r.
func readAtLeast(t testing.TB, r io.Reader, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	require.NoError(t, err)
	return b
}
