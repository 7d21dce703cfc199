package deflate_test

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

// encodePieces compresses msg, cut into pieces of the given sizes (the
// rest goes in the last), with EncodeFragment, and returns the message's
// payload as the peer receives it: the pieces' outputs one after the other.
func encodePieces(t *testing.T, e *deflate.Extension, msg []byte, sizes []int) []byte {
	t.Helper()
	var wire []byte
	for i, first := 0, true; ; i, first = i+1, false {
		n := len(msg)
		last := i >= len(sizes)
		if !last {
			n = min(sizes[i], len(msg))
		}
		out, rsv, err := e.EncodeFragment(nil, msg[:n], first, last)
		require.NoError(t, err)
		require.Equal(t, frame.Rsv1, rsv)
		wire = append(wire, out...)
		msg = msg[n:]
		if last {
			return wire
		}
	}
}

// TestEncodeFragment: a message compressed piece by piece decodes, whole
// or streamed, to what went in, with and without context takeover, mixed
// with messages compressed whole.
func TestEncodeFragment(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params deflate.Params
	}{
		{"takeover", deflate.Params{}},
		{"noTakeover", deflate.Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			send := newExt(t, tc.params, frame.Server, deflate.Config{Threshold: -1})
			whole := newExt(t, tc.params, frame.Client, deflate.Config{})
			streamed := newExt(t, tc.params, frame.Client, deflate.Config{})
			for i, sizes := range [][]int{nil, {0}, {5}, {100, 0}, {1000, 1000, 7}, {32 << 10, 32 << 10, 32 << 10}} {
				msg := jsonLike(100_000, i)[:min(100_000, 10+i*20_000)]
				if i == 0 {
					msg = []byte{}
				}
				wire := encodePieces(t, send, msg, sizes)
				got, err := whole.DecodeMessage(nil, wire, frame.Rsv1, 1<<20)
				require.NoError(t, err, "message %d", i)
				require.Equal(t, string(msg), string(got), "message %d, decoded whole", i)

				r, err := streamed.DecodeStream(bytes.NewReader(wire))
				require.NoError(t, err)
				got, err = io.ReadAll(iotest.OneByteReader(r))
				require.NoError(t, err)
				require.Equal(t, string(msg), string(got), "message %d, decoded in pieces", i)
				require.NoError(t, r.Close())

				// A message compressed whole between them keeps the
				// contexts in step.
				plain := bytes.Repeat([]byte("between streamed messages, compressed whole; "), 5)
				enc, rsv, err := send.EncodeMessage(nil, plain, frame.OpText)
				require.NoError(t, err)
				require.Equal(t, frame.Rsv1, rsv)
				got, err = whole.DecodeMessage(nil, enc, rsv, 1<<20)
				require.NoError(t, err)
				require.Equal(t, plain, got)
				got, err = streamed.DecodeMessage(nil, enc, rsv, 1<<20)
				require.NoError(t, err)
				require.Equal(t, plain, got)
			}
		})
	}
}

// TestEncodeFragmentSmallWindow: with our window under 15 bits a message
// of unknown length is declined, to go uncompressed.
func TestEncodeFragmentSmallWindow(t *testing.T) {
	e := newExt(t, deflate.Params{ServerMaxWindowBits: 10}, frame.Server, deflate.Config{})
	out, rsv, err := e.EncodeFragment([]byte("dst"), []byte("payload"), true, false)
	require.NoError(t, err)
	require.Zero(t, rsv)
	require.Equal(t, "dst", string(out))
	require.NoError(t, e.Close())
	_, _, err = e.EncodeFragment(nil, []byte("x"), true, true)
	require.ErrorIs(t, err, deflate.ErrClosed)
}

// TestDecodeStreamRFC7692 decodes the compressed payloads of RFC 7692
// §7.2.3 with DecodeStream, from a source that is not an io.ByteReader.
func TestDecodeStreamRFC7692(t *testing.T) {
	for _, tc := range []struct {
		name     string
		params   deflate.Params
		payloads []string
		want     []string
		is       error
	}{
		{name: "7.2.3.1/Hello", payloads: []string{"f2 48 cd c9 c9 07 00"}, want: []string{"Hello"}},
		{name: "7.2.3.2/sharing the window", payloads: []string{"f2 48 cd c9 c9 07 00", "f2 00 11 00 00"}, want: []string{"Hello", "Hello"}},
		{name: "7.2.3.2/without takeover", params: deflate.Params{ServerNoContextTakeover: true},
			payloads: []string{"f2 48 cd c9 c9 07 00", "f2 00 11 00 00"}, want: []string{"Hello"}, is: deflate.ErrCorrupt},
		{name: "7.2.3.3/stored block", payloads: []string{"00 05 00 fa ff 48 65 6c 6c 6f 00"}, want: []string{"Hello"}},
		{name: "7.2.3.4/BFINAL", payloads: []string{"f3 48 cd c9 c9 07 00 00"}, want: []string{"Hello"}},
		{name: "7.2.3.4/BFINAL without padding", payloads: []string{"f3 48 cd c9 c9 07 00"}, want: []string{"Hello"}},
		{name: "7.2.3.4/a block after BFINAL", payloads: []string{"f3 48 cd c9 c9 07 00 f2 00 11 00 00"}, want: []string{"HelloHello"}},
		{name: "7.2.3.5/two blocks", payloads: []string{"f2 48 05 00 00 00 ff ff ca c9 c9 07 00"}, want: []string{"Hello"}},
		{name: "7.2.3.6/empty", payloads: []string{"00"}, want: []string{""}},
		{name: "7.2.2/corrupt", payloads: []string{"ff ff ff"}, is: deflate.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newExt(t, tc.params, frame.Client, deflate.Config{})
			for i, p := range tc.payloads {
				r, err := e.DecodeStream(iotest.HalfReader(bytes.NewReader(unhex(t, p))))
				require.NoError(t, err)
				got, err := io.ReadAll(r)
				if i < len(tc.want) {
					require.NoError(t, err)
					require.Equal(t, tc.want[i], string(got))
					continue
				}
				require.ErrorIs(t, err, tc.is)
				var pe *frame.ProtocolError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, frame.StatusInvalidFramePayloadData, pe.Code)
			}
		})
	}
}
