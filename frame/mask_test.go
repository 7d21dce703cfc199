package frame

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMaskRFCExample(t *testing.T) {
	// 5.7: "Hello" masked with 37 fa 21 3d is 7f 9f 4d 51 58.
	p := []byte("Hello")
	require.Equal(t, 1, Mask(rfcKey, 0, p))
	require.Equal(t, unhex(t, "7f 9f 4d 51 58"), p)
	// 5.3: masking and unmasking are the same operation.
	Mask(rfcKey, 0, p)
	require.Equal(t, []byte("Hello"), p)
}

// TestMaskDifferential compares Mask with the byte loop for every length up
// to a few unrolled blocks, every key position, and a split at every point.
func TestMaskDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]byte, 300)
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	key := [4]byte{0x01, 0x82, 0x43, 0xC4}
	for n := 0; n <= len(src); n++ {
		for pos := 0; pos < 4; pos++ {
			want := bytes.Clone(src[:n])
			wantPos := maskBytes(key, pos, want)

			got := bytes.Clone(src[:n])
			require.Equal(t, wantPos, Mask(key, pos, got), "n=%d pos=%d", n, pos)
			require.Equal(t, want, got, "n=%d pos=%d", n, pos)

			split := rng.IntN(n + 1)
			got = bytes.Clone(src[:n])
			p := Mask(key, pos, got[:split])
			require.Equal(t, wantPos, Mask(key, p, got[split:]), "n=%d pos=%d split=%d", n, pos, split)
			require.Equal(t, want, got, "n=%d pos=%d split=%d", n, pos, split)
		}
	}
}

func TestMaskPosWraps(t *testing.T) {
	// pos is taken modulo 4, so a running byte count works as a position.
	a, b := []byte("abcdefghij"), []byte("abcdefghij")
	Mask(rfcKey, 1, a)
	Mask(rfcKey, 4001, b)
	require.Equal(t, a, b)
}

func TestMaskCopy(t *testing.T) {
	src := []byte("the caller's bytes are never touched")
	orig := bytes.Clone(src)
	dst := make([]byte, len(src))
	pos := maskCopy(dst, src, rfcKey, 2)
	want := bytes.Clone(src)
	require.Equal(t, maskBytes(rfcKey, 2, want), pos)
	require.Equal(t, want, dst)
	require.Equal(t, orig, src)
}

func TestMaskZeroAllocs(t *testing.T) {
	b := make([]byte, 4096)
	require.Zero(t, testing.AllocsPerRun(100, func() { Mask(rfcKey, 3, b) }))
}
