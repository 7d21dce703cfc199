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
// which Done reports. The zero value is ready to use.
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

// Write feeds p to the validator and reports whether the stream is still
// possibly valid.
func (v *UTF8Validator) Write(p []byte) bool {
	if v.bad {
		return false
	}
	need, lo, hi := v.need, v.lo, v.hi
	i := 0
	for i < len(p) {
		if need == 0 {
			// Fast path: skip ASCII 16 bytes at a time, then 8.
			for len(p)-i >= 16 {
				w := binary.LittleEndian.Uint64(p[i:]) | binary.LittleEndian.Uint64(p[i+8:])
				if w&asciiMask != 0 {
					break
				}
				i += 16
			}
			for len(p)-i >= 8 {
				if binary.LittleEndian.Uint64(p[i:])&asciiMask != 0 {
					break
				}
				i += 8
			}
			if i == len(p) {
				break
			}
			c := p[i]
			i++
			switch {
			case c < 0x80:
				continue
			case c < 0xC2: // continuation byte, or overlong 2-byte lead
				v.bad = true
				return false
			case c < 0xE0:
				need, lo, hi = 1, 0x80, 0xBF
			case c == 0xE0: // exclude overlong 3-byte forms
				need, lo, hi = 2, 0xA0, 0xBF
			case c == 0xED: // exclude surrogates U+D800..U+DFFF
				need, lo, hi = 2, 0x80, 0x9F
			case c < 0xF0:
				need, lo, hi = 2, 0x80, 0xBF
			case c == 0xF0: // exclude overlong 4-byte forms
				need, lo, hi = 3, 0x90, 0xBF
			case c < 0xF4:
				need, lo, hi = 3, 0x80, 0xBF
			case c == 0xF4: // exclude values above U+10FFFF
				need, lo, hi = 3, 0x80, 0x8F
			default:
				v.bad = true
				return false
			}
			continue
		}
		c := p[i]
		i++
		if c < lo || c > hi {
			v.bad = true
			return false
		}
		need--
		lo, hi = 0x80, 0xBF
	}
	v.need, v.lo, v.hi = need, lo, hi
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
