package frame

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWriterRFCExamples(t *testing.T) {
	long := func(n int, c byte) []byte { return bytes.Repeat([]byte{c}, n) }
	for _, tc := range []struct {
		name  string
		role  Role
		cfg   WriterConfig
		write func(w *Writer) error
		want  string
	}{
		{"5.7/single-frame unmasked text", Server, WriterConfig{},
			func(w *Writer) error { return w.WriteMessage(OpText, []byte("Hello")) },
			"81 05 48 65 6c 6c 6f"},
		{"5.7/single-frame masked text", Client, WriterConfig{Rand: keySource(rfcKey)},
			func(w *Writer) error { return w.WriteMessage(OpText, []byte("Hello")) },
			"81 85 37 fa 21 3d 7f 9f 4d 51 58"},
		{"5.7/fragmented unmasked text", Server, WriterConfig{FragmentSize: 3},
			func(w *Writer) error { return w.WriteMessage(OpText, []byte("Hello")) },
			"01 03 48 65 6c 80 02 6c 6f"},
		{"5.7/fragmented by WriteFrame", Server, WriterConfig{},
			func(w *Writer) error {
				return errors.Join(w.WriteFrame(false, OpText, []byte("Hel")), w.WriteFrame(true, OpContinuation, []byte("lo")))
			},
			"01 03 48 65 6c 80 02 6c 6f"},
		{"5.7/unmasked ping", Server, WriterConfig{},
			func(w *Writer) error { return w.WriteControl(OpPing, []byte("Hello")) },
			"89 05 48 65 6c 6c 6f"},
		{"5.7/masked pong", Client, WriterConfig{Rand: keySource(rfcKey)},
			func(w *Writer) error { return w.WriteControl(OpPong, []byte("Hello")) },
			"8a 85 37 fa 21 3d 7f 9f 4d 51 58"},
		{"5.7/256 bytes binary", Server, WriterConfig{},
			func(w *Writer) error { return w.WriteMessage(OpBinary, long(256, 0xab)) },
			"82 7e 01 00" + strings.Repeat("ab", 256)},
		{"5.7/64 KiB binary (vectored write)", Server, WriterConfig{},
			func(w *Writer) error { return w.WriteMessage(OpBinary, long(65536, 0xcd)) },
			"82 7f 00 00 00 00 00 01 00 00" + strings.Repeat("cd", 65536)},
		{"5.5.1/close with code and reason", Server, WriterConfig{},
			func(w *Writer) error { return w.WriteClose(StatusGoingAway, "bye") },
			"88 05 03 e9 62 79 65"},
		{"5.5.1/close without a code", Server, WriterConfig{},
			func(w *Writer) error { return w.WriteClose(StatusNoStatusRcvd, "") },
			"88 00"},
		{"5.5.1/masked close", Client, WriterConfig{Rand: keySource([4]byte{})},
			func(w *Writer) error { return w.WriteClose(StatusNormalClosure, "") },
			"88 82 00 00 00 00 03 e8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := NewWriter(&out, tc.role, tc.cfg)
			require.NoError(t, tc.write(w))
			require.NoError(t, w.Flush())
			require.Equal(t, 0, w.Buffered())
			require.Equal(t, unhex(t, tc.want), out.Bytes())
		})
	}
}

// TestWriterRoundTrip writes messages of many sizes in both roles, with and
// without fragmentation and through a small buffer (the chunked masking and
// vectored paths), and reads them back.
func TestWriterRoundTrip(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 1000, 4096, 65535, 65536, 200000}
	for _, role := range []Role{Client, Server} {
		for _, frag := range []int{0, 1000} {
			for _, bufSize := range []int{0, 1} { // 1 is raised to the minimum
				var out bytes.Buffer
				w := NewWriter(&out, role, WriterConfig{FragmentSize: frag, BufferSize: bufSize})
				var want [][]byte
				for i, n := range sizes {
					p := make([]byte, n)
					for j := range p {
						p[j] = byte('a' + (i+j)%26)
					}
					orig := bytes.Clone(p)
					require.NoError(t, w.WriteMessage(OpText, p))
					require.Equal(t, orig, p, "the caller's payload was modified")
					want = append(want, orig)
					require.NoError(t, w.WriteControl(OpPing, []byte{byte(i)}))
				}
				require.NoError(t, w.Flush())

				peer := Server
				if role == Server {
					peer = Client
				}
				r := NewReader(bufio.NewReader(&out), peer, ReaderConfig{})
				for i := range sizes {
					op, msg, err := r.ReadMessage(nil)
					require.NoError(t, err)
					require.Equal(t, OpText, op)
					require.Equal(t, string(want[i]), string(msg), "role %v frag %d buf %d message %d", role, frag, bufSize, i)
					op, msg, err = r.ReadMessage(nil)
					require.NoError(t, err)
					require.Equal(t, OpPing, op)
					require.Equal(t, []byte{byte(i)}, msg)
				}
				_, _, err := r.ReadMessage(nil)
				require.ErrorIs(t, err, io.EOF)
			}
		}
	}
}

func TestWriterFreshKeyPerFrame(t *testing.T) {
	// 5.3: a fresh key for every frame, fragments included; keys come from
	// the source in batches, not one read per frame.
	src := &repeatReader{pat: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}}
	var out bytes.Buffer
	w := NewWriter(&out, Client, WriterConfig{FragmentSize: 1, Rand: src})
	for range 20 {
		require.NoError(t, w.WriteMessage(OpBinary, []byte("abcde")))
	}
	require.NoError(t, w.Flush())
	require.Equal(t, 2, src.reads, "100 frames should take 2 batched reads of keys")

	seen := map[[4]byte]bool{}
	b := out.Bytes()
	for len(b) > 0 {
		h, n, err := ParseHeader(b)
		require.NoError(t, err)
		require.True(t, h.Masked)
		seen[h.Mask] = true
		b = b[n+int(h.Length):]
	}
	require.Greater(t, len(seen), 1)
}

func TestWriterDefaultRandKeys(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out, Client, WriterConfig{})
	require.NoError(t, w.WriteMessage(OpBinary, []byte("x")))
	require.NoError(t, w.WriteMessage(OpBinary, []byte("x")))
	require.NoError(t, w.Flush())
	h1, n, err := ParseHeader(out.Bytes())
	require.NoError(t, err)
	h2, _, err := ParseHeader(out.Bytes()[n+1:])
	require.NoError(t, err)
	require.True(t, h1.Masked && h2.Masked)
	require.NotEqual(t, h1.Mask, h2.Mask, "crypto/rand gave the same key twice")
}

func TestWriterRandError(t *testing.T) {
	boom := errors.New("no entropy")
	w := NewWriter(io.Discard, Client, WriterConfig{Rand: &errReader{boom}})
	require.ErrorIs(t, w.WriteMessage(OpText, []byte("x")), boom)
}

// countWriter counts Write calls.
type countWriter struct {
	bytes.Buffer
	writes int
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.Buffer.Write(p)
}

func TestWriterBatchesUntilFlush(t *testing.T) {
	cw := &countWriter{}
	w := NewWriter(cw, Server, WriterConfig{})
	for range 10 {
		require.NoError(t, w.WriteMessage(OpText, []byte("hello")))
	}
	require.NoError(t, w.WriteControl(OpPing, nil))
	require.Zero(t, cw.writes, "frames went out before Flush")
	require.Equal(t, 10*7+2, w.Buffered())
	require.NoError(t, w.Flush())
	require.Equal(t, 1, cw.writes)
	require.NoError(t, w.Flush()) // nothing buffered: no write
	require.Equal(t, 1, cw.writes)
}

func TestWriterErrors(t *testing.T) {
	w := NewWriter(io.Discard, Server, WriterConfig{})
	for _, op := range []Opcode{OpContinuation, OpClose, OpPing, OpPong, 0x3, 0xB} {
		require.ErrorIs(t, w.WriteMessage(op, nil), ErrInvalidOpcode, "%v", op)
	}
	for _, op := range []Opcode{OpPing, OpClose, 0x3, 0x7, 0xB, 0xF} {
		require.ErrorIs(t, w.WriteFrame(true, op, nil), ErrInvalidOpcode, "%v", op)
	}
	for _, op := range []Opcode{OpText, OpBinary, OpContinuation, 0xB, 0xF} {
		require.ErrorIs(t, w.WriteControl(op, nil), ErrInvalidOpcode, "%v", op)
	}
	require.ErrorIs(t, w.WriteControl(OpPing, make([]byte, 126)), ErrControlTooLong)
	require.ErrorIs(t, w.WriteClose(StatusAbnormalClosure, ""), ErrInvalidCloseCode)
	require.ErrorIs(t, w.WriteClose(StatusNormalClosure, strings.Repeat("a", 124)), ErrCloseReasonTooLong)
	require.ErrorIs(t, w.WriteClose(StatusNormalClosure, "\xff"), ErrCloseReasonUTF8)
	require.Zero(t, w.Buffered())

	require.ErrorIs(t, NewWriter(io.Discard, 0, WriterConfig{}).WriteMessage(OpText, nil), ErrInvalidRole)
}

func TestWriterWriteError(t *testing.T) {
	boom := errors.New("broken pipe")
	w := NewWriter(&errWriter{boom}, Server, WriterConfig{BufferSize: 200})
	require.NoError(t, w.WriteMessage(OpText, []byte("x")))
	require.ErrorIs(t, w.Flush(), boom)
	require.ErrorIs(t, w.WriteMessage(OpBinary, make([]byte, 1000)), boom) // vectored path
	w = NewWriter(&errWriter{boom}, Client, WriterConfig{BufferSize: 200})
	require.ErrorIs(t, w.WriteMessage(OpBinary, make([]byte, 1000)), boom) // chunked masking
}

type errWriter struct{ err error }

func (w *errWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriterReset(t *testing.T) {
	var a, b bytes.Buffer
	w := NewWriter(&a, Server, WriterConfig{})
	require.NoError(t, w.WriteMessage(OpText, []byte("dropped")))
	w.Reset(&b)
	require.Zero(t, w.Buffered())
	require.NoError(t, w.WriteMessage(OpText, []byte("Hello")))
	require.NoError(t, w.Flush())
	require.Zero(t, a.Len())
	require.Equal(t, unhex(t, "81 05 48 65 6c 6c 6f"), b.Bytes())
}

func TestWriterExtension(t *testing.T) {
	// 5.8: the extension's bit goes on the first frame only.
	var out bytes.Buffer
	w := NewWriter(&out, Server, WriterConfig{Extension: &fakeExt{}, FragmentSize: 2})
	require.NoError(t, w.WriteMessage(OpText, []byte("aabbcc"))) // "encodes" to "abc"
	require.NoError(t, w.WriteMessageUnencoded(OpBinary, []byte("zz")))
	require.NoError(t, w.Flush())
	require.Equal(t, unhex(t, "41 02 61 62  80 01 63  82 02 7a 7a"), out.Bytes())

	r := NewReader(bufio.NewReader(&out), Client, ReaderConfig{Extension: &fakeExt{}})
	_, msg, err := r.ReadMessage(nil)
	require.NoError(t, err)
	require.Equal(t, "aabbcc", string(msg))

	// An extension that declines sends the payload as it is, without RSV1.
	out.Reset()
	w = NewWriter(&out, Server, WriterConfig{Extension: &fakeExt{decline: true}})
	require.NoError(t, w.WriteMessage(OpText, []byte("Hello")))
	require.NoError(t, w.Flush())
	require.Equal(t, unhex(t, "81 05 48 65 6c 6c 6f"), out.Bytes())
}

func TestWriterZeroAllocs(t *testing.T) {
	payload := make([]byte, 1024)
	for _, role := range []Role{Server, Client} {
		w := NewWriter(io.Discard, role, WriterConfig{})
		allocs := testing.AllocsPerRun(200, func() {
			if err := w.WriteMessage(OpBinary, payload); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteClose(StatusNormalClosure, "bye"); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		})
		require.Zero(t, allocs, "%v", role)
	}
}

func TestWriteControlStackPayloadZeroAllocs(t *testing.T) {
	w := NewWriter(io.Discard, Client, WriterConfig{})
	allocs := testing.AllocsPerRun(200, func() {
		var p [8]byte
		if err := w.WriteControl(OpPing, p[:]); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}

func TestWriterBetweenFragments(t *testing.T) {
	// RFC 6455 §5.4: control frames may be injected in the middle of a
	// fragmented message. The hook runs after each fragment but the last.
	var out bytes.Buffer
	var w *Writer
	calls := 0
	w = NewWriter(&out, Server, WriterConfig{FragmentSize: 2, BetweenFragments: func() error {
		calls++
		return w.WriteControl(OpPong, []byte{byte('0' + calls)})
	}})
	require.NoError(t, w.WriteMessage(OpText, []byte("aabbc")))
	require.NoError(t, w.Flush())
	require.Equal(t, 2, calls)
	require.Equal(t, unhex(t, "01 02 61 61  8a 01 31  00 02 62 62  8a 01 32  80 01 63"), out.Bytes())

	// A message that fits one frame calls nothing; an error ends the message.
	calls = 0
	require.NoError(t, w.WriteMessage(OpText, []byte("ab")))
	require.Zero(t, calls)
	stop := errors.New("stop")
	w = NewWriter(io.Discard, Server, WriterConfig{FragmentSize: 1, BetweenFragments: func() error { return stop }})
	require.ErrorIs(t, w.WriteMessage(OpBinary, []byte("xyz")), stop)
}
