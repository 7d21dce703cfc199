package frame

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// utf8Prefix is the reference for the fail-fast rule of RFC 6455 §8.1, built
// on unicode/utf8: ok reports whether p can still be the start of valid
// UTF-8, complete whether it is valid UTF-8 as it is.
func utf8Prefix(p []byte) (ok, complete bool) {
	for len(p) > 0 {
		if !utf8.FullRune(p) {
			return true, false // a valid start of a code point, cut short
		}
		r, size := utf8.DecodeRune(p)
		if r == utf8.RuneError && size == 1 {
			return false, false
		}
		p = p[size:]
	}
	return true, true
}

var utf8Cases = []struct {
	name   string
	in     string
	failAt int // index of the byte after which the stream is invalid; -1 if never
	done   bool
}{
	{"8.1/empty", "", -1, true},
	{"8.1/ASCII", "Hello, world", -1, true},
	{"8.1/long ASCII", strings.Repeat("abcdefgh", 20), -1, true},
	{"8.1/2-byte", "Größe", -1, true},
	{"8.1/3-byte", "κόσμε 数据", -1, true},
	{"8.1/4-byte", "😀𝄞", -1, true},
	{"8.1/boundaries", "\u007f\u0080\u07ff\u0800\uffff\U00010000\U0010ffff", -1, true},
	{"8.1/U+FFFD is valid", "\uFFFD", -1, true},
	{"8.1/ends inside a 2-byte code point", "ab\xc3", -1, false},
	{"8.1/ends inside a 4-byte code point", "ab\xf0\x9f\x98", -1, false},
	{"8.1/lone continuation byte", "ab\x80cd", 2, false},
	{"8.1/0xFF", "\xff", 0, false},
	{"8.1/0xF5", "a\xf5\x80\x80\x80", 1, false},
	{"8.1/overlong 2-byte C0", "\xc0\xaf", 0, false},
	{"8.1/overlong 2-byte C1", "\xc1\xbf", 0, false},
	{"8.1/overlong 3-byte", "\xe0\x80\xaf", 1, false},
	{"8.1/overlong 4-byte", "\xf0\x80\x80\xaf", 1, false},
	{"8.1/surrogate D800", "\xed\xa0\x80", 1, false},
	{"8.1/surrogate DFFF", "\xed\xbf\xbf", 1, false},
	{"8.1/above U+10FFFF", "\xf4\x90\x80\x80", 1, false},
	{"8.1/bad third byte", "\xe2\x82\x41", 2, false},
	{"8.1/bad fourth byte", "\xf0\x9f\x98\x41", 3, false},
	{"8.1/lead byte cut by a lead byte", "\xce\xce\xba", 1, false},
	{"8.1/Autobahn 6.4.1 fail-fast", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64", 12, false},
	{"8.1/invalid after a long ASCII run", strings.Repeat("a", 70) + "\x80", 70, false},
}

func TestUTF8Validator(t *testing.T) {
	for _, tc := range utf8Cases {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			ok, complete := utf8Prefix(in)
			require.Equal(t, tc.failAt < 0, ok, "reference disagrees with the table")
			require.Equal(t, tc.done, complete, "reference disagrees with the table")
			require.Equal(t, tc.done, utf8.Valid(in))

			// Whole.
			require.Equal(t, tc.done, ValidUTF8(in))
			var v UTF8Validator
			require.Equal(t, tc.failAt < 0, v.Write(in))
			require.Equal(t, tc.done, v.Done())

			// A byte at a time: fails exactly at failAt, not before, not after.
			v.Reset()
			for i := range in {
				want := tc.failAt < 0 || i < tc.failAt
				require.Equal(t, want, v.Write(in[i:i+1]), "byte %d", i)
				require.Equal(t, want, v.Valid(), "byte %d", i)
				wantOK, wantDone := utf8Prefix(in[:i+1])
				require.Equal(t, wantOK, v.Valid(), "prefix %d", i+1)
				require.Equal(t, wantOK && wantDone, v.Done(), "prefix %d", i+1)
			}

			// Split at every point into two writes.
			for split := 0; split <= len(in); split++ {
				v.Reset()
				first := v.Write(in[:split])
				second := v.Write(in[split:])
				require.Equal(t, tc.failAt < 0 || tc.failAt >= split, first, "split %d", split)
				require.Equal(t, tc.failAt < 0, second, "split %d", split)
				require.Equal(t, tc.done, v.Done(), "split %d", split)
			}
		})
	}
}

func TestUTF8ValidatorStaysFailed(t *testing.T) {
	var v UTF8Validator
	require.False(t, v.Write([]byte{0xff}))
	require.False(t, v.Write([]byte("a")))
	require.False(t, v.Done())
	v.Reset()
	require.True(t, v.Write([]byte("a")))
	require.True(t, v.Done())
}

func TestValidUTF8String(t *testing.T) {
	for _, tc := range utf8Cases {
		require.Equal(t, tc.done, ValidUTF8String(tc.in), tc.name)
	}
}

// TestUTF8Exhaustive checks every 1-, 2- and 3-byte sequence against the
// reference, whole and byte by byte.
func TestUTF8Exhaustive(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive 3-byte sweep skipped in -short mode; the fuzz target covers it")
	}
	var buf [3]byte
	var v UTF8Validator
	check := func(p []byte) {
		ok, complete := utf8Prefix(p)
		v.Reset()
		got := v.Write(p)
		if got != ok || v.Done() != (ok && complete) {
			t.Fatalf("% x: Write=%v Done=%v, want %v %v", p, got, v.Done(), ok, ok && complete)
		}
	}
	for a := 0; a < 256; a++ {
		buf[0] = byte(a)
		check(buf[:1])
		for b := 0; b < 256; b++ {
			buf[1] = byte(b)
			check(buf[:2])
			if a < 0xE0 || a > 0xF4 {
				continue // only 3- and 4-byte leads make a third byte interesting
			}
			for c := 0; c < 256; c++ {
				buf[2] = byte(c)
				check(buf[:3])
			}
		}
	}
}
