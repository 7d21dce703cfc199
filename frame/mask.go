package frame

import "encoding/binary"

// Mask XORs b in place with the masking key (RFC 6455 §5.3), starting at
// position pos of the key's 4-byte cycle, and returns the position to pass for
// the bytes that follow b. A payload can so be masked in pieces: pos starts
// at 0 for each frame. Masking and unmasking are the same operation.
//
// It works 128 bytes at a time (sixteen 64-bit words, unrolled), then 8, then
// a byte at a time for the tail, with no allocation and no unsafe.
func Mask(key [4]byte, pos int, b []byte) int {
	pos &= 3
	if len(b) < 8 {
		for i := range b {
			b[i] ^= key[(pos+i)&3]
		}
		return (pos + len(b)) & 3
	}
	// Rotate the key so that its first byte lines up with b[0], then widen it
	// to a 64-bit word (little-endian, to match the byte order of the loads).
	k := [4]byte{key[pos&3], key[(pos+1)&3], key[(pos+2)&3], key[(pos+3)&3]}
	k32 := uint64(binary.LittleEndian.Uint32(k[:]))
	k64 := k32 | k32<<32
	for len(b) >= 128 {
		// The full slice expression lets the compiler drop every bounds
		// check below; the unrolling is worth about 1.7x at 64 KiB.
		v := b[:128:128]
		binary.LittleEndian.PutUint64(v[0:], binary.LittleEndian.Uint64(v[0:])^k64)
		binary.LittleEndian.PutUint64(v[8:], binary.LittleEndian.Uint64(v[8:])^k64)
		binary.LittleEndian.PutUint64(v[16:], binary.LittleEndian.Uint64(v[16:])^k64)
		binary.LittleEndian.PutUint64(v[24:], binary.LittleEndian.Uint64(v[24:])^k64)
		binary.LittleEndian.PutUint64(v[32:], binary.LittleEndian.Uint64(v[32:])^k64)
		binary.LittleEndian.PutUint64(v[40:], binary.LittleEndian.Uint64(v[40:])^k64)
		binary.LittleEndian.PutUint64(v[48:], binary.LittleEndian.Uint64(v[48:])^k64)
		binary.LittleEndian.PutUint64(v[56:], binary.LittleEndian.Uint64(v[56:])^k64)
		binary.LittleEndian.PutUint64(v[64:], binary.LittleEndian.Uint64(v[64:])^k64)
		binary.LittleEndian.PutUint64(v[72:], binary.LittleEndian.Uint64(v[72:])^k64)
		binary.LittleEndian.PutUint64(v[80:], binary.LittleEndian.Uint64(v[80:])^k64)
		binary.LittleEndian.PutUint64(v[88:], binary.LittleEndian.Uint64(v[88:])^k64)
		binary.LittleEndian.PutUint64(v[96:], binary.LittleEndian.Uint64(v[96:])^k64)
		binary.LittleEndian.PutUint64(v[104:], binary.LittleEndian.Uint64(v[104:])^k64)
		binary.LittleEndian.PutUint64(v[112:], binary.LittleEndian.Uint64(v[112:])^k64)
		binary.LittleEndian.PutUint64(v[120:], binary.LittleEndian.Uint64(v[120:])^k64)
		b = b[128:]
	}
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
		b = b[8:]
	}
	// Whole words keep the key position unchanged (8 is a multiple of 4).
	for i := range b {
		b[i] ^= k[i&3]
	}
	return (pos + len(b)) & 3
}

// maskCopy writes src XOR key (from key position pos) into dst, which must be
// at least len(src) long, and returns the next key position. The writer uses
// it to mask into its own buffer so the caller's bytes are never touched.
func maskCopy(dst, src []byte, key [4]byte, pos int) int {
	n := copy(dst, src)
	return Mask(key, pos, dst[:n])
}
