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

// rfcExamples are the example frames of RFC 6455 §5.7, byte for byte, with
// the role that receives them (masked frames come from a client, so a
// server reads them).
var rfcExamples = []struct {
	name string
	wire string
	role Role
	op   Opcode
	want string
}{
	{"5.7/single-frame unmasked text", "81 05 48 65 6c 6c 6f", Client, OpText, "Hello"},
	{"5.7/single-frame masked text", "81 85 37 fa 21 3d 7f 9f 4d 51 58", Server, OpText, "Hello"},
	{"5.7/fragmented unmasked text", "01 03 48 65 6c 80 02 6c 6f", Client, OpText, "Hello"},
	{"5.7/unmasked ping", "89 05 48 65 6c 6c 6f", Client, OpPing, "Hello"},
	{"5.7/masked pong", "8a 85 37 fa 21 3d 7f 9f 4d 51 58", Server, OpPong, "Hello"},
	{"5.7/256 bytes binary", "82 7e 01 00" + strings.Repeat("ab", 256), Client, OpBinary, strings.Repeat("\xab", 256)},
	{"5.7/64 KiB binary", "82 7f 00 00 00 00 00 01 00 00" + strings.Repeat("cd", 65536), Client, OpBinary, strings.Repeat("\xcd", 65536)},
}

func newTestReader(wire []byte, role Role, cfg ReaderConfig) *Reader {
	return NewReader(bufio.NewReader(bytes.NewReader(wire)), role, cfg)
}

func TestReaderRFCExamples(t *testing.T) {
	for _, tc := range rfcExamples {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestReader(unhex(t, tc.wire), tc.role, ReaderConfig{})
			op, msg, err := r.ReadMessage(nil)
			require.NoError(t, err)
			require.Equal(t, tc.op, op)
			require.Equal(t, tc.want, string(msg))
			_, _, err = r.ReadMessage(nil)
			require.ErrorIs(t, err, io.EOF)
		})
	}
}

// frameBytes builds one frame; a non-zero key masks it.
func frameBytes(fin bool, rsv uint8, op Opcode, key [4]byte, payload string) []byte {
	h := Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(payload))}
	if key != ([4]byte{}) {
		h.Masked, h.Mask = true, key
	}
	b := AppendHeader(nil, h)
	start := len(b)
	b = append(b, payload...)
	if h.Masked {
		Mask(key, 0, b[start:])
	}
	return b
}

func cat(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

var noKey [4]byte

// readerErrorCases are byte streams a client-role Reader (unmasked frames)
// or server-role Reader (masked frames) must reject, with the sentinel and
// close code.
var readerErrorCases = []struct {
	name string
	role Role
	cfg  ReaderConfig
	wire []byte
	want error
	code StatusCode
}{
	{"5.1/unmasked frame from a client", Server, ReaderConfig{}, frameBytes(true, 0, OpText, noKey, "hi"), ErrUnmaskedFrame, StatusProtocolError},
	{"5.1/masked frame from a server", Client, ReaderConfig{}, frameBytes(true, 0, OpText, rfcKey, "hi"), ErrMaskedFrame, StatusProtocolError},
	{"5.2/reserved opcode 0x3", Client, ReaderConfig{}, frameBytes(true, 0, 0x3, noKey, ""), ErrReservedOpcode, StatusProtocolError},
	{"5.2/reserved opcode 0x7", Client, ReaderConfig{}, frameBytes(true, 0, 0x7, noKey, ""), ErrReservedOpcode, StatusProtocolError},
	{"5.2/reserved opcode 0xB", Client, ReaderConfig{}, frameBytes(true, 0, 0xB, noKey, ""), ErrReservedOpcode, StatusProtocolError},
	{"5.2/reserved opcode 0xF", Client, ReaderConfig{}, frameBytes(true, 0, 0xF, noKey, ""), ErrReservedOpcode, StatusProtocolError},
	{"5.2/RSV1 without extension", Client, ReaderConfig{}, frameBytes(true, Rsv1, OpText, noKey, "hi"), ErrReservedBits, StatusProtocolError},
	{"5.2/RSV2 without extension", Client, ReaderConfig{}, frameBytes(true, Rsv2, OpBinary, noKey, "hi"), ErrReservedBits, StatusProtocolError},
	{"5.2/RSV3 without extension", Client, ReaderConfig{}, frameBytes(true, Rsv3, OpPing, noKey, ""), ErrReservedBits, StatusProtocolError},
	{"5.2/RSV2 beside a RSV1 extension", Client, ReaderConfig{Extension: &fakeExt{}}, frameBytes(true, Rsv2, OpText, noKey, "hi"), ErrReservedBits, StatusProtocolError},
	{"5.8/RSV1 on a continuation frame", Client, ReaderConfig{Extension: &fakeExt{}}, cat(frameBytes(false, Rsv1, OpText, noKey, "a"), frameBytes(true, Rsv1, OpContinuation, noKey, "b")), ErrReservedBits, StatusProtocolError},
	{"5.8/RSV1 on a control frame", Client, ReaderConfig{Extension: &fakeExt{}}, frameBytes(true, Rsv1, OpPing, noKey, ""), ErrReservedBits, StatusProtocolError},
	{"5.2/64-bit length with the top bit set", Client, ReaderConfig{}, unhex(nil, "82 7f 80 00 00 00 00 00 00 05"), ErrLengthOverflow, StatusProtocolError},
	{"5.4/continuation without a start", Client, ReaderConfig{}, frameBytes(true, 0, OpContinuation, noKey, "x"), ErrUnexpectedContinuation, StatusProtocolError},
	{"5.4/continuation after a finished message", Client, ReaderConfig{}, cat(frameBytes(true, 0, OpText, noKey, "a"), frameBytes(true, 0, OpContinuation, noKey, "b")), ErrUnexpectedContinuation, StatusProtocolError},
	{"5.4/text frame inside a fragmented message", Client, ReaderConfig{}, cat(frameBytes(false, 0, OpText, noKey, "a"), frameBytes(true, 0, OpText, noKey, "b")), ErrExpectedContinuation, StatusProtocolError},
	{"5.4/binary frame inside a fragmented message", Client, ReaderConfig{}, cat(frameBytes(false, 0, OpBinary, noKey, "a"), frameBytes(true, 0, OpBinary, noKey, "b")), ErrExpectedContinuation, StatusProtocolError},
	{"5.5/ping over 125 bytes", Client, ReaderConfig{}, frameBytes(true, 0, OpPing, noKey, strings.Repeat("p", 126)), ErrControlTooLong, StatusProtocolError},
	{"5.5/close over 125 bytes", Client, ReaderConfig{}, frameBytes(true, 0, OpClose, noKey, "\x03\xe8"+strings.Repeat("r", 124)), ErrControlTooLong, StatusProtocolError},
	{"5.5/fragmented ping", Client, ReaderConfig{}, frameBytes(false, 0, OpPing, noKey, "p"), ErrControlFragmented, StatusProtocolError},
	{"5.5/fragmented pong", Client, ReaderConfig{}, frameBytes(false, 0, OpPong, noKey, ""), ErrControlFragmented, StatusProtocolError},
	{"5.5.1/close body of 1 byte", Client, ReaderConfig{}, frameBytes(true, 0, OpClose, noKey, "\x03"), ErrClosePayloadTooShort, StatusProtocolError},
	{"7.4/close code 999", Client, ReaderConfig{}, frameBytes(true, 0, OpClose, noKey, "\x03\xe7"), ErrInvalidCloseCode, StatusProtocolError},
	{"7.4/close code 1005", Server, ReaderConfig{}, frameBytes(true, 0, OpClose, rfcKey, "\x03\xed"), ErrInvalidCloseCode, StatusProtocolError},
	{"7.4/close code 1016", Client, ReaderConfig{}, frameBytes(true, 0, OpClose, noKey, "\x03\xf8"), ErrInvalidCloseCode, StatusProtocolError},
	{"7.4/close code 5000", Client, ReaderConfig{}, frameBytes(true, 0, OpClose, noKey, "\x13\x88"), ErrInvalidCloseCode, StatusProtocolError},
	{"8.1/close reason not UTF-8", Client, ReaderConfig{}, frameBytes(true, 0, OpClose, noKey, "\x03\xe8\xff"), ErrCloseReasonUTF8, StatusInvalidFramePayloadData},
	{"8.1/invalid UTF-8 in a text frame", Client, ReaderConfig{}, frameBytes(true, 0, OpText, noKey, "ab\xffcd"), ErrInvalidUTF8, StatusInvalidFramePayloadData},
	{"8.1/invalid UTF-8 in a masked text frame", Server, ReaderConfig{}, frameBytes(true, 0, OpText, rfcKey, "\xed\xa0\x80"), ErrInvalidUTF8, StatusInvalidFramePayloadData},
	{"8.1/invalid UTF-8 across fragments", Client, ReaderConfig{}, cat(frameBytes(false, 0, OpText, noKey, "a\xf4"), frameBytes(true, 0, OpContinuation, noKey, "\x90\x80\x80")), ErrInvalidUTF8, StatusInvalidFramePayloadData},
	{"8.1/text message ends inside a code point", Client, ReaderConfig{}, cat(frameBytes(false, 0, OpText, noKey, "a"), frameBytes(true, 0, OpContinuation, noKey, "\xe2\x82")), ErrInvalidUTF8, StatusInvalidFramePayloadData},
	{"8.1/decoded text not UTF-8", Client, ReaderConfig{Extension: &fakeExt{}}, frameBytes(true, Rsv1, OpText, noKey, "\xff"), ErrInvalidUTF8, StatusInvalidFramePayloadData},
	{"10.4/frame over MaxFrameSize", Client, ReaderConfig{MaxFrameSize: 4}, frameBytes(true, 0, OpBinary, noKey, "12345"), ErrFrameTooLarge, StatusMessageTooBig},
	{"10.4/frame over MaxMessageSize", Client, ReaderConfig{MaxMessageSize: 4}, frameBytes(true, 0, OpBinary, noKey, "12345"), ErrFrameTooLarge, StatusMessageTooBig},
	{"10.4/fragments over MaxMessageSize", Client, ReaderConfig{MaxMessageSize: 4}, cat(frameBytes(false, 0, OpBinary, noKey, "123"), frameBytes(true, 0, OpContinuation, noKey, "45")), ErrMessageTooLarge, StatusMessageTooBig},
	{"10.4/huge announced length", Client, ReaderConfig{}, unhex(nil, "82 7f 7f ff ff ff ff ff ff ff"), ErrFrameTooLarge, StatusMessageTooBig},
	{"10.4/decoded message over the limit", Client, ReaderConfig{MaxMessageSize: 4, Extension: &fakeExt{}}, frameBytes(true, Rsv1, OpBinary, noKey, "123"), ErrMessageTooLarge, StatusMessageTooBig},
}

func TestReaderErrors(t *testing.T) {
	for _, tc := range readerErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestReader(tc.wire, tc.role, tc.cfg)
			var err error
			for i := 0; err == nil && i < 10; i++ { // a case may start with a good message
				_, _, err = r.ReadMessage(nil)
			}
			requireProtocolError(t, err, tc.want, tc.code)
		})
	}
}

func TestReaderInvalidRole(t *testing.T) {
	r := newTestReader(frameBytes(true, 0, OpText, noKey, "a"), 0, ReaderConfig{})
	_, _, err := r.ReadMessage(nil)
	require.ErrorIs(t, err, ErrInvalidRole)
}

func TestReaderLimitsAccept(t *testing.T) {
	// Exactly at the limits is allowed.
	wire := cat(frameBytes(false, 0, OpBinary, noKey, "12"), frameBytes(true, 0, OpContinuation, noKey, "34"))
	r := newTestReader(wire, Client, ReaderConfig{MaxMessageSize: 4, MaxFrameSize: 2})
	op, msg, err := r.ReadMessage(nil)
	require.NoError(t, err)
	require.Equal(t, OpBinary, op)
	require.Equal(t, "1234", string(msg))
}

func TestReaderInterleavedControl(t *testing.T) {
	// 5.4: control frames MAY be injected in the middle of a fragmented
	// message; the Reader returns them and keeps the message.
	wire := cat(
		frameBytes(false, 0, OpText, rfcKey, "Hel"),
		frameBytes(true, 0, OpPing, rfcKey, "p1"),
		frameBytes(false, 0, OpContinuation, rfcKey, "l"),
		frameBytes(true, 0, OpPong, rfcKey, ""),
		frameBytes(true, 0, OpContinuation, rfcKey, "o"),
		frameBytes(true, 0, OpClose, rfcKey, "\x03\xe8bye"),
	)
	r := newTestReader(wire, Server, ReaderConfig{})
	dst := make([]byte, 0, 64)

	op, p, err := r.ReadMessage(dst)
	require.NoError(t, err)
	require.Equal(t, OpPing, op)
	require.Equal(t, "p1", string(p))

	op, p, err = r.ReadMessage(nil) // ignored: the message started in dst
	require.NoError(t, err)
	require.Equal(t, OpPong, op)
	require.Empty(t, p)

	op, msg, err := r.ReadMessage(nil)
	require.NoError(t, err)
	require.Equal(t, OpText, op)
	require.Equal(t, "Hello", string(msg))
	require.Equal(t, &dst[:1][0], &msg[0], "the message was built in the first call's dst")

	op, p, err = r.ReadMessage(nil)
	require.NoError(t, err)
	require.Equal(t, OpClose, op)
	code, reason, err := ParseClosePayload(p)
	require.NoError(t, err)
	require.Equal(t, StatusNormalClosure, code)
	require.Equal(t, "bye", string(reason))
}

func TestReaderEmptyMessages(t *testing.T) {
	wire := cat(
		frameBytes(true, 0, OpText, noKey, ""),
		frameBytes(false, 0, OpBinary, noKey, ""),
		frameBytes(true, 0, OpContinuation, noKey, ""),
		frameBytes(true, 0, OpClose, noKey, ""),
	)
	r := newTestReader(wire, Client, ReaderConfig{})
	for _, want := range []Opcode{OpText, OpBinary, OpClose} {
		op, msg, err := r.ReadMessage(nil)
		require.NoError(t, err)
		require.Equal(t, want, op)
		require.Empty(t, msg)
	}
}

func TestReaderEOF(t *testing.T) {
	full := cat(frameBytes(false, 0, OpText, noKey, "ab"), frameBytes(true, 0, OpContinuation, noKey, "cd"))
	for _, tc := range []struct {
		name string
		wire []byte
		want error
	}{
		{"clean end", nil, io.EOF},
		{"inside a header", full[:1], io.ErrUnexpectedEOF},
		{"inside a payload", full[:3], io.ErrUnexpectedEOF},
		{"between fragments", full[:4], io.ErrUnexpectedEOF},
		{"inside a control payload", frameBytes(true, 0, OpPing, noKey, "abc")[:3], io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := newTestReader(tc.wire, Client, ReaderConfig{}).ReadMessage(nil)
			require.ErrorIs(t, err, tc.want)
			var pe *ProtocolError
			require.NotErrorAs(t, err, &pe)
		})
	}
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(bufio.NewReader(io.MultiReader(bytes.NewReader(unhex(t, "82 05 01 02")), &errReader{boom})), Client, ReaderConfig{})
	_, _, err := r.ReadMessage(nil)
	require.ErrorIs(t, err, boom)
}

type errReader struct{ err error }

func (r *errReader) Read([]byte) (int, error) { return 0, r.err }

// gatedReader hands out its chunks one Read at a time; a chunk after the
// first waits for its gate, so a Reader that asks for more blocks.
type gatedReader struct {
	chunks [][]byte
	gate   chan struct{}
	reads  int
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if len(g.chunks) == 0 {
		return 0, io.EOF
	}
	if g.reads > 0 {
		<-g.gate
	}
	g.reads++
	n := copy(p, g.chunks[0])
	g.chunks[0] = g.chunks[0][n:]
	if len(g.chunks[0]) == 0 {
		g.chunks = g.chunks[1:]
	}
	return n, nil
}

// TestReaderFailFastUTF8 is RFC 6455 §8.1 as Autobahn 6.4 tests it: the
// invalid bytes arrive, the rest of the frame does not (yet), and the Reader
// must fail without waiting for it.
func TestReaderFailFastUTF8(t *testing.T) {
	for _, tc := range []struct {
		name  string
		role  Role
		key   [4]byte
		valid string
		bad   string
	}{
		{"8.1/unmasked", Client, noKey, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", "\xf4\x90\x80\x80"},
		{"8.1/masked", Server, rfcKey, strings.Repeat("κόσμε", 10), "\xed\xa0\x80"},
		{"8.1/lone continuation after ASCII", Client, noKey, strings.Repeat("a", 100), "\x80"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rest := strings.Repeat("z", 1000)
			wire := frameBytes(true, 0, OpText, tc.key, tc.valid+tc.bad+rest)
			cut := len(wire) - len(rest)
			g := &gatedReader{chunks: [][]byte{wire[:cut], wire[cut:]}, gate: make(chan struct{})}
			defer close(g.gate)
			r := NewReader(bufio.NewReader(g), tc.role, ReaderConfig{})
			_, _, err := r.ReadMessage(nil)
			requireProtocolError(t, err, ErrInvalidUTF8, StatusInvalidFramePayloadData)
			require.Equal(t, 1, g.reads, "the Reader read past the invalid bytes")
		})
	}
}

func TestReaderReuseDst(t *testing.T) {
	wire := frameBytes(true, 0, OpBinary, rfcKey, strings.Repeat("x", 1000))
	src := bytes.NewReader(wire)
	br := bufio.NewReader(src)
	r := NewReader(br, Server, ReaderConfig{})
	dst := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(50, func() {
		src.Reset(wire)
		br.Reset(src)
		_, msg, err := r.ReadMessage(dst)
		if err != nil || len(msg) != 1000 {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}

// TestReaderBoundedGrowth: a frame that announces a large payload and sends
// little does not make the Reader allocate the announced size, and no buffer
// it returns exceeds the limit.
func TestReaderBoundedGrowth(t *testing.T) {
	const limit = 8 << 20
	wire := append(AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Length: limit}), "short"...)
	r := newTestReader(wire, Client, ReaderConfig{MaxMessageSize: limit})
	_, _, err := r.ReadMessage(nil)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.LessOrEqual(t, cap(r.msg), 1<<20+16)

	// Fragments that sum to an odd limit: the buffer never exceeds it.
	const odd = 1<<20 + 12345
	payload := strings.Repeat("y", odd/3)
	wire = cat(frameBytes(false, 0, OpBinary, noKey, payload), frameBytes(false, 0, OpContinuation, noKey, payload),
		frameBytes(true, 0, OpContinuation, noKey, strings.Repeat("y", odd-2*len(payload))))
	_, msg, err := newTestReader(wire, Client, ReaderConfig{MaxMessageSize: odd}).ReadMessage(nil)
	require.NoError(t, err)
	require.Len(t, msg, odd)
	require.LessOrEqual(t, cap(msg), odd)
}

func TestReaderReset(t *testing.T) {
	r := newTestReader(frameBytes(false, 0, OpText, noKey, "a"), Client, ReaderConfig{})
	_, _, err := r.ReadMessage(nil)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	r.Reset(bufio.NewReader(bytes.NewReader(frameBytes(true, 0, OpBinary, noKey, "b"))))
	op, msg, err := r.ReadMessage(nil)
	require.NoError(t, err)
	require.Equal(t, OpBinary, op)
	require.Equal(t, "b", string(msg))
}

// fakeExt is an Extension claiming RSV1 whose "encoding" doubles every byte;
// decoding halves it. It records what the Reader passes in.
type fakeExt struct {
	gotRsv   uint8
	gotLimit int64
	calls    int
	decline  bool // EncodeMessage sends messages unchanged
}

func (e *fakeExt) Rsv() uint8 { return Rsv1 }

func (e *fakeExt) DecodeMessage(dst, payload []byte, rsv uint8, limit int64) ([]byte, error) {
	e.calls++
	e.gotRsv, e.gotLimit = rsv, limit
	for _, c := range payload {
		if int64(len(dst)+2) > limit {
			return dst, &ProtocolError{StatusMessageTooBig, ErrMessageTooLarge}
		}
		dst = growTo(dst, 2, limit) // stay within the limit, as a real extension must
		dst = append(dst, c, c)
	}
	return dst, nil
}

func (e *fakeExt) EncodeMessage(dst, payload []byte, op Opcode) ([]byte, uint8, error) {
	if e.decline {
		return dst, 0, nil
	}
	for i := 0; i+1 < len(payload); i += 2 {
		dst = append(dst, payload[i])
	}
	return dst, Rsv1, nil
}

func TestReaderExtension(t *testing.T) {
	ext := &fakeExt{}
	wire := cat(
		frameBytes(false, Rsv1, OpText, rfcKey, "ab"),
		frameBytes(true, 0, OpPing, rfcKey, ""),
		frameBytes(true, 0, OpContinuation, rfcKey, "c"),
		frameBytes(true, 0, OpBinary, rfcKey, "plain"), // no RSV1: not decoded
	)
	r := newTestReader(wire, Server, ReaderConfig{Extension: ext, MaxMessageSize: 100})
	op, _, err := r.ReadMessage(nil)
	require.NoError(t, err)
	require.Equal(t, OpPing, op)
	op, msg, err := r.ReadMessage(nil)
	require.NoError(t, err)
	require.Equal(t, OpText, op)
	require.Equal(t, "aabbcc", string(msg))
	require.Equal(t, Rsv1, ext.gotRsv)
	require.Equal(t, int64(100), ext.gotLimit)

	op, msg, err = r.ReadMessage(nil)
	require.NoError(t, err)
	require.Equal(t, OpBinary, op)
	require.Equal(t, "plain", string(msg))
	require.Equal(t, 1, ext.calls)
}
