package frame

import "encoding/binary"

// Mask XORs b in place with the masking key (RFC 6455 §5.3), starting at
// position pos of the key's 4-byte cycle, and returns the position to pass for
// the bytes that follow b. A payload can so be masked in pieces: pos starts
// at 0 for each frame. Masking and unmasking are the same operation.
//
// It works 32 bytes at a time, then 8, then a byte at a time for the tail,
// with no allocation and no unsafe.
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
	for len(b) >= 32 {
		binary.LittleEndian.PutUint64(b[0:8], binary.LittleEndian.Uint64(b[0:8])^k64)
		binary.LittleEndian.PutUint64(b[8:16], binary.LittleEndian.Uint64(b[8:16])^k64)
		binary.LittleEndian.PutUint64(b[16:24], binary.LittleEndian.Uint64(b[16:24])^k64)
		binary.LittleEndian.PutUint64(b[24:32], binary.LittleEndian.Uint64(b[24:32])^k64)
		b = b[32:]
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
