package wstest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Message types in node scripts and events.
const (
	Text   = "text"
	Binary = "binary"
)

// Fill patterns, shared with ws-client.js.
const (
	// FillSeq: byte i is i mod 256. Compresses well.
	FillSeq = "seq"
	// FillPRNG: byte i is the low byte of a xorshift32 state after i+1 steps
	// from the seed (0 means 1). Does not compress.
	FillPRNG = "prng"
)

// Fill returns the deterministic n-byte payload ws-client.js generates for
// a step {"type":typ,"size":n,"fill":fill,"seed":seed}. For Text each byte b
// becomes 'a' + b%26, so the payload is valid ASCII. fill "" means FillSeq.
// It panics on an unknown fill.
func Fill(typ string, n int, fill string, seed uint32) []byte {
	b := make([]byte, n)
	switch fill {
	case "", FillSeq:
		for i := range b {
			b[i] = byte(i)
		}
	case FillPRNG:
		x := seed
		if x == 0 {
			x = 1
		}
		for i := range b {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			b[i] = byte(x)
		}
	default:
		panic(fmt.Sprintf("wstest: unknown fill %q", fill))
	}
	if typ == Text {
		for i, c := range b {
			b[i] = 'a' + c%26
		}
	}
	return b
}

// SHA256 returns the hex SHA-256 of p, as the node scripts report it.
func SHA256(p []byte) string {
	sum := sha256.Sum256(p)
	return hex.EncodeToString(sum[:])
}
