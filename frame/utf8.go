package frame

import (
	"encoding/binary"
	"unicode/utf8"
)

// UTF8Validator checks a byte stream for UTF-8 validity incrementally: the
// state carries across Write calls, so a code point may be split between
// fragments or reads. It fails fast (RFC 6455 §8.1): Write returns false at
// the first byte after which the stream can no longer be valid UTF-8 —
// overlong forms, surrogates and values above U+10FFFF included — while a
// stream that merely stops inside a code point is only invalid at its end,
// which Done reports. The zero value is ready to use; it is not safe for
// concurrent use.
type UTF8Validator struct {
	need   uint8 // continuation bytes still expected
	lo, hi byte  // allowed range of the next continuation byte
	bad    bool  // failed; stays failed until Reset
}

// Reset readies v for a new message.
func (v *UTF8Validator) Reset() { *v = UTF8Validator{} }

// Done reports whether everything written so far is complete, valid UTF-8.
func (v *UTF8Validator) Done() bool { return !v.bad && v.need == 0 }

// Valid reports whether the bytes written so far can still be the start of
// valid UTF-8.
func (v *UTF8Validator) Valid() bool { return !v.bad }

const asciiMask = 0x8080808080808080

// utf8Lead describes each possible first byte of a code point: the low
// nibble is the sequence length (0 for a byte that cannot start one), the
// high nibble indexes utf8Accept, the range allowed for the second byte.
var utf8Lead = func() (t [256]uint8) {
	for c := 0; c < 0x80; c++ {
		t[c] = 1
	}
	for c := 0xC2; c < 0xE0; c++ {
		t[c] = 2
	}
	for c := 0xE1; c < 0xF0; c++ {
		t[c] = 3
	}
	t[0xE0] = 3 | 1<<4 // exclude overlong 3-byte forms
	t[0xED] = 3 | 2<<4 // exclude surrogates U+D800..U+DFFF
	for c := 0xF1; c < 0xF4; c++ {
		t[c] = 4
	}
	t[0xF0] = 4 | 3<<4 // exclude overlong 4-byte forms
	t[0xF4] = 4 | 4<<4 // exclude values above U+10FFFF
	return t
}()

// utf8Accept is the range of the second byte of a sequence, per lead byte
// class (RFC 3629 §4); later continuation bytes are always 0x80–0xBF. It has
// 16 entries so that indexing by a nibble needs no bounds check.
var utf8Accept = [16]struct{ lo, hi byte }{{0x80, 0xBF}, {0xA0, 0xBF}, {0x80, 0x9F}, {0x90, 0xBF}, {0x80, 0x8F}}

// Write feeds p to the validator and reports whether the stream is still
// possibly valid. It skips ASCII 32 bytes at a time and checks whole code
// points with a table, falling back to byte-by-byte state only for a code
// point split across Write calls.
func (v *UTF8Validator) Write(p []byte) bool {
	if v.bad {
		return false
	}
	p = p[:len(p):len(p)]
	// Finish a code point left open by the previous Write.
	for v.need > 0 {
		if len(p) == 0 {
			return true
		}
		if c := p[0]; c < v.lo || c > v.hi {
			v.bad = true
			return false
		}
		p = p[1:]
		v.need--
		v.lo, v.hi = 0x80, 0xBF
	}
	for len(p) > 0 {
		c := p[0]
		if c < 0x80 {
			p = p[1:]
			// One ASCII byte suggests more: skip runs of them by words,
			// one, then two, then four at a time, so that short runs in
			// mixed text cost little.
			// ">" rather than ">=" spares the compiler a fix-up for
			// a slice pointing past the end (as unicode/utf8 does).
			if len(p) > 8 && binary.LittleEndian.Uint64(p)&asciiMask == 0 {
				p = p[8:]
				if len(p) > 16 && (binary.LittleEndian.Uint64(p)|binary.LittleEndian.Uint64(p[8:]))&asciiMask == 0 {
					p = p[16:]
					for len(p) > 32 && (binary.LittleEndian.Uint64(p)|binary.LittleEndian.Uint64(p[8:])|
						binary.LittleEndian.Uint64(p[16:])|binary.LittleEndian.Uint64(p[24:]))&asciiMask == 0 {
						p = p[32:]
					}
				}
			}
			continue
		}
		x := utf8Lead[c]
		size := int(x & 0xF)
		if size == 0 {
			v.bad = true
			return false
		}
		acc := utf8Accept[x>>4]
		switch {
		case size == 2 && len(p) >= 2:
			if p[1] < acc.lo || acc.hi < p[1] {
				v.bad = true
				return false
			}
			p = p[2:]
		case size == 3 && len(p) >= 3:
			if p[1] < acc.lo || acc.hi < p[1] || p[2] < 0x80 || 0xBF < p[2] {
				v.bad = true
				return false
			}
			p = p[3:]
		case size == 4 && len(p) >= 4:
			if p[1] < acc.lo || acc.hi < p[1] || p[2] < 0x80 || 0xBF < p[2] || p[3] < 0x80 || 0xBF < p[3] {
				v.bad = true
				return false
			}
			p = p[4:]
		default:
			// A code point cut by the end of p: check what is there and
			// remember what the rest must be.
			if len(p) >= 2 && (p[1] < acc.lo || acc.hi < p[1]) ||
				len(p) >= 3 && (p[2] < 0x80 || 0xBF < p[2]) {
				v.bad = true
				return false
			}
			v.need = uint8(size - len(p))
			v.lo, v.hi = 0x80, 0xBF
			if len(p) == 1 {
				v.lo, v.hi = acc.lo, acc.hi
			}
			return true
		}
	}
	return true
}

// ValidUTF8 reports whether p is complete, valid UTF-8, with the same rules
// (and speed) as UTF8Validator.
func ValidUTF8(p []byte) bool {
	var v UTF8Validator
	return v.Write(p) && v.Done()
}

// ValidUTF8String is ValidUTF8 for a string, without copying it.
func ValidUTF8String(s string) bool {
	// unicode/utf8 applies the same rules (RFC 3629); using it avoids a copy.
	return utf8.ValidString(s)
}
