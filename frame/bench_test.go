package frame

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// The sizes the mask, copy and byte-loop benchmarks share, so their MB/s
// compare directly: copy is the physical limit, the byte loop the baseline.
var benchSizes = []int{16, 1 << 10, 64 << 10, 1 << 20}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return strconv.Itoa(n>>20) + "MiB"
	case n >= 1<<10:
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

var benchKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

func BenchmarkMask(b *testing.B) { benchMasker(b, Mask) }

// BenchmarkMaskByteLoop is the plain loop Mask is differential-tested
// against, for the ratio.
func BenchmarkMaskByteLoop(b *testing.B) { benchMasker(b, maskBytes) }

func benchMasker(b *testing.B, mask func([4]byte, int, []byte) int) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			buf := make([]byte, n)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				mask(benchKey, 0, buf)
			}
		})
	}
}

func BenchmarkCopy(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			src := make([]byte, n)
			dst := make([]byte, n)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				copy(dst, src)
			}
		})
	}
}

func BenchmarkAppendHeader(b *testing.B) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: benchKey, Length: 1 << 20}
	var arr [MaxHeaderSize]byte
	b.ReportAllocs()
	b.SetBytes(int64(h.Size()))
	for b.Loop() {
		_ = AppendHeader(arr[:0], h)
	}
}

func BenchmarkParseHeader(b *testing.B) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: benchKey, Length: 1 << 20}
	wire := AppendHeader(nil, h)
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		if _, _, err := ParseHeader(wire); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadHeader(b *testing.B) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: benchKey, Length: 1 << 20}
	wire := bytes.Repeat(AppendHeader(nil, h), 256)
	src := bytes.NewReader(wire)
	br := bufio.NewReaderSize(src, len(wire))
	b.ReportAllocs()
	b.SetBytes(int64(h.Size()))
	for b.Loop() {
		if _, err := ReadHeader(br); err != nil {
			src.Reset(wire)
			br.Reset(src)
		}
	}
}

func benchUTF8Inputs() []struct {
	name string
	data []byte
} {
	ascii := []byte(strings.Repeat("The quick brown fox jumps over the lazy dog. ", 1500))[:64<<10]
	mixed := []byte(strings.Repeat("Größe 😀 数据 Привет hello ", 3000))
	for !utf8.Valid(mixed[:64<<10]) {
		mixed = mixed[:len(mixed)-1]
	}
	// Cut on a code point boundary at or below 64 KiB.
	n := 64 << 10
	for !utf8.RuneStart(mixed[n]) {
		n--
	}
	return []struct {
		name string
		data []byte
	}{{"ASCII", ascii}, {"Mixed", mixed[:n]}}
}

func BenchmarkValidUTF8(b *testing.B) {
	for _, in := range benchUTF8Inputs() {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			for b.Loop() {
				if !ValidUTF8(in.data) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

func BenchmarkStdlibUTF8Valid(b *testing.B) {
	for _, in := range benchUTF8Inputs() {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			for b.Loop() {
				if !utf8.Valid(in.data) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

// BenchmarkReadMessage reads one masked binary message per op from a
// prepared byte stream, as a server does; the message buffer is the only
// allocation (dst is nil each time).
func BenchmarkReadMessage(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 20} {
		b.Run(sizeName(n), func(b *testing.B) {
			var wire bytes.Buffer
			w := NewWriter(&wire, Client, WriterConfig{Rand: bytes.NewReader(bytes.Repeat([]byte{1, 2, 3, 4}, 64))})
			if err := w.WriteMessage(OpBinary, make([]byte, n)); err != nil {
				b.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			stream := wire.Bytes()
			src := bytes.NewReader(stream)
			br := bufio.NewReaderSize(src, 64<<10)
			r := NewReader(br, Server, ReaderConfig{})
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				src.Reset(stream)
				br.Reset(src)
				op, msg, err := r.ReadMessage(nil)
				if err != nil || op != OpBinary || len(msg) != n {
					b.Fatal(op, len(msg), err)
				}
			}
		})
	}
}

// BenchmarkWriteMessage writes a 1 KiB message per op in each role, flushing
// to io.Discard: no allocation in steady state.
func BenchmarkWriteMessage(b *testing.B) {
	payload := make([]byte, 1<<10)
	for _, role := range []Role{Server, Client} {
		b.Run(role.String(), func(b *testing.B) {
			w := NewWriter(io.Discard, role, WriterConfig{})
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				if err := w.WriteMessage(OpBinary, payload); err != nil {
					b.Fatal(err)
				}
				if err := w.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
