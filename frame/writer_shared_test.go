package frame

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// WriteEncodedMessage sends a payload encoded elsewhere with the given
// reserved bits, fragmenting and masking as WriteMessage does, and never
// calls the extension.
func TestWriteEncodedMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		role Role
		cfg  WriterConfig
		op   Opcode
		rsv  uint8
		want string
		err  error
	}{
		{"5.7 text, no bits", Client, WriterConfig{Rand: keySource(rfcKey)}, OpText, 0, "81 85 37 fa 21 3d 7f 9f 4d 51 58", nil},
		{"RSV1 with an extension claiming it", Server, WriterConfig{Extension: &fakeExt{}}, OpText, Rsv1, "c1 05 48 65 6c 6c 6f", nil},
		{"RSV1 on the first fragment only", Server, WriterConfig{Extension: &fakeExt{}, FragmentSize: 3}, OpBinary, Rsv1, "42 03 48 65 6c 80 02 6c 6f", nil},
		{"RSV1 without an extension", Server, WriterConfig{}, OpText, Rsv1, "", ErrReservedBits},
		{"RSV2 the extension does not claim", Server, WriterConfig{Extension: &fakeExt{}}, OpText, Rsv1 >> 1, "", ErrReservedBits},
		{"control opcode", Server, WriterConfig{}, OpPing, 0, "", ErrInvalidOpcode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := NewWriter(&out, tc.role, tc.cfg)
			err := w.WriteEncodedMessage(tc.op, tc.rsv, []byte("Hello"))
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				require.Zero(t, w.Buffered())
				return
			}
			require.NoError(t, err)
			require.NoError(t, w.Flush())
			require.Equal(t, unhex(t, tc.want), out.Bytes())
			if ext, ok := tc.cfg.Extension.(*fakeExt); ok {
				require.Zero(t, ext.calls)
			}
		})
	}
}

// WriteRaw writes frames built beforehand in order with what is buffered:
// a small one waits for Flush, one larger than the buffer's room goes out
// at once behind the pending frames.
func TestWriteRaw(t *testing.T) {
	for _, tc := range []struct {
		name     string
		size     int
		buffered bool
	}{
		{"fits the buffer", 100, true},
		{"larger than the buffer", 3 * DefaultWriteBufferSize, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := NewWriter(&out, Server, WriterConfig{})
			require.NoError(t, w.WriteMessage(OpText, []byte("a")))
			payload := bytes.Repeat([]byte{'x'}, tc.size)
			raw := AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Length: int64(len(payload))})
			raw = append(raw, payload...)
			require.NoError(t, w.WriteRaw(raw))
			require.Equal(t, tc.buffered, out.Len() == 0)
			require.NoError(t, w.WriteMessage(OpText, []byte("b")))
			require.NoError(t, w.Flush())
			want := append(unhex(t, "81 01 61"), raw...)
			want = append(want, unhex(t, "81 01 62")...)
			require.Equal(t, want, out.Bytes())
		})
	}
}
