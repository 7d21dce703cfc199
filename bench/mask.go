package main

import (
	"time"

	"github.com/gobwas/ws"
	"github.com/wsactor/ws/frame"
)

// maskResult is figure 6 for one size: bytes per second through copy, our
// frame.Mask and gobwas's ws.Cipher (gorilla's, coder's and gws's maskers are
// unexported, so only gobwas can be called from here).
type maskResult struct {
	Size   int     `json:"size"`
	Copy   float64 `json:"copy_gb_per_s"`
	Ours   float64 `json:"wsactor_mask_gb_per_s"`
	Gobwas float64 `json:"gobwas_cipher_gb_per_s"`
}

// throughput runs fn (which processes n bytes) for at least d and returns
// GB/s, taking the best of three tries to ride out a busy neighbour.
func throughput(n int, d time.Duration, fn func()) float64 {
	best := 0.0
	for range 3 {
		iters := 1
		for {
			start := time.Now()
			for range iters {
				fn()
			}
			el := time.Since(start)
			if el >= d/3 {
				best = max(best, float64(n)*float64(iters)/el.Seconds()/1e9)
				break
			}
			iters *= 2
		}
	}
	return best
}

func runMask(d time.Duration) []maskResult {
	var out []maskResult
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for _, size := range []int{16, 125, 1 << 10, 64 << 10, 1 << 20} {
		src := payload(size, false)
		dst := make([]byte, size)
		out = append(out, maskResult{
			Size:   size,
			Copy:   throughput(size, d, func() { copy(dst, src) }),
			Ours:   throughput(size, d, func() { frame.Mask(key, 1, dst) }),
			Gobwas: throughput(size, d, func() { ws.Cipher(dst, key, 1) }),
		})
	}
	return out
}
