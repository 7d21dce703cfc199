package frame

import (
	"bufio"
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

var rfcKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// headerCases are encoded, compared with the hex, and decoded back. They
// include the header of every example frame of RFC 6455 §5.7.
var headerCases = []struct {
	name string
	h    Header
	hex  string
}{
	{"5.7/single-frame unmasked text", Header{Fin: true, Opcode: OpText, Length: 5}, "81 05"},
	{"5.7/single-frame masked text", Header{Fin: true, Opcode: OpText, Masked: true, Mask: rfcKey, Length: 5}, "81 85 37 fa 21 3d"},
	{"5.7/fragmented first frame", Header{Opcode: OpText, Length: 3}, "01 03"},
	{"5.7/fragmented last frame", Header{Fin: true, Opcode: OpContinuation, Length: 2}, "80 02"},
	{"5.7/unmasked ping", Header{Fin: true, Opcode: OpPing, Length: 5}, "89 05"},
	{"5.7/masked pong", Header{Fin: true, Opcode: OpPong, Masked: true, Mask: rfcKey, Length: 5}, "8a 85 37 fa 21 3d"},
	{"5.7/256 bytes binary, 16-bit length", Header{Fin: true, Opcode: OpBinary, Length: 256}, "82 7e 01 00"},
	{"5.7/64 KiB binary, 64-bit length", Header{Fin: true, Opcode: OpBinary, Length: 65536}, "82 7f 00 00 00 00 00 01 00 00"},
	{"5.2/empty payload", Header{Fin: true, Opcode: OpClose}, "88 00"},
	{"5.2/longest 7-bit length", Header{Fin: true, Opcode: OpBinary, Length: 125}, "82 7d"},
	{"5.2/shortest 16-bit length", Header{Fin: true, Opcode: OpBinary, Length: 126}, "82 7e 00 7e"},
	{"5.2/longest 16-bit length", Header{Fin: true, Opcode: OpBinary, Length: 0xFFFF}, "82 7e ff ff"},
	{"5.2/longest 64-bit length", Header{Fin: true, Opcode: OpBinary, Length: 1<<63 - 1}, "82 7f 7f ff ff ff ff ff ff ff"},
	{"5.2/masked 64-bit length", Header{Opcode: OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 1 << 32}, "02 ff 00 00 00 01 00 00 00 00 01 02 03 04"},
	{"5.2/RSV1", Header{Fin: true, Rsv: Rsv1, Opcode: OpText, Length: 1}, "c1 01"},
	{"5.2/RSV2", Header{Fin: true, Rsv: Rsv2, Opcode: OpText, Length: 1}, "a1 01"},
	{"5.2/RSV3", Header{Fin: true, Rsv: Rsv3, Opcode: OpText, Length: 1}, "91 01"},
	{"5.2/reserved opcode decodes", Header{Fin: true, Opcode: 0xB}, "8b 00"},
}

func TestHeaderCodec(t *testing.T) {
	for _, tc := range headerCases {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.hex)
			got := AppendHeader(nil, tc.h)
			require.Equal(t, want, got, "encode")
			require.Equal(t, len(want), tc.h.Size(), "Size")

			h, n, err := ParseHeader(append(got, 0xEE)) // trailing payload byte
			require.NoError(t, err)
			require.Equal(t, len(want), n)
			require.Equal(t, tc.h, h, "ParseHeader")

			h, err = ReadHeader(bufio.NewReader(bytes.NewReader(want)))
			require.NoError(t, err)
			require.Equal(t, tc.h, h, "ReadHeader")

			// Every proper prefix is short, never an error or a wrong header.
			for i := range want {
				_, _, err := ParseHeader(want[:i])
				require.ErrorIs(t, err, ErrShortHeader, "prefix %d", i)
				_, err = ReadHeader(bufio.NewReader(bytes.NewReader(want[:i])))
				if i == 0 {
					require.ErrorIs(t, err, io.EOF)
				} else {
					require.ErrorIs(t, err, io.ErrUnexpectedEOF, "prefix %d", i)
				}
			}
		})
	}
}

func TestAppendHeaderAppends(t *testing.T) {
	dst := []byte{0xAA}
	got := AppendHeader(dst, Header{Fin: true, Opcode: OpText, Length: 5})
	require.Equal(t, unhex(t, "aa 81 05"), got)
	// A negative length is documented to encode as 0.
	require.Equal(t, unhex(t, "82 00"), AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Length: -1}))
}

func TestHeaderZeroAllocs(t *testing.T) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: rfcKey, Length: 1 << 20}
	var arr [MaxHeaderSize]byte
	wire := AppendHeader(nil, h)
	br := bufio.NewReader(bytes.NewReader(nil))
	allocs := testing.AllocsPerRun(100, func() {
		_ = AppendHeader(arr[:0], h)
		if _, _, err := ParseHeader(wire); err != nil {
			t.Fatal(err)
		}
		br.Reset(bytes.NewReader(wire))
		if _, err := ReadHeader(br); err != nil {
			t.Fatal(err)
		}
	})
	// bytes.NewReader escapes into br: one allocation that is the test's.
	require.LessOrEqual(t, allocs, 1.0)
}

func TestParseHeaderLengthOverflow(t *testing.T) {
	// 5.2: "the most significant bit MUST be 0".
	wire := unhex(t, "82 7f 80 00 00 00 00 00 00 00")
	_, _, err := ParseHeader(wire)
	requireProtocolError(t, err, ErrLengthOverflow, StatusProtocolError)
	_, err = ReadHeader(bufio.NewReader(bytes.NewReader(wire)))
	requireProtocolError(t, err, ErrLengthOverflow, StatusProtocolError)
}

// checkCases are headers Check must reject, with the sentinel and the close
// code (all 1002, RFC 6455 §7.4.1).
var checkCases = []struct {
	name       string
	h          Header
	role       Role // the receiver
	allowedRsv uint8
	want       error
}{
	{"5.2/reserved opcode 0x3", Header{Fin: true, Opcode: 0x3, Masked: true}, Server, 0, ErrReservedOpcode},
	{"5.2/reserved opcode 0x7", Header{Fin: true, Opcode: 0x7, Masked: true}, Server, 0, ErrReservedOpcode},
	{"5.2/reserved opcode 0xB", Header{Fin: true, Opcode: 0xB}, Client, 0, ErrReservedOpcode},
	{"5.2/reserved opcode 0xF", Header{Fin: true, Opcode: 0xF}, Client, 0, ErrReservedOpcode},
	{"5.2/RSV1 without extension", Header{Fin: true, Rsv: Rsv1, Opcode: OpText}, Client, 0, ErrReservedBits},
	{"5.2/RSV2 without extension", Header{Fin: true, Rsv: Rsv2, Opcode: OpBinary}, Client, 0, ErrReservedBits},
	{"5.2/RSV3 without extension", Header{Fin: true, Rsv: Rsv3, Opcode: OpPing}, Client, 0, ErrReservedBits},
	{"5.2/RSV2 with only RSV1 negotiated", Header{Fin: true, Rsv: Rsv1 | Rsv2, Opcode: OpText}, Client, Rsv1, ErrReservedBits},
	{"5.5/control frame over 125 bytes", Header{Fin: true, Opcode: OpPing, Length: 126}, Client, 0, ErrControlTooLong},
	{"5.5/close frame over 125 bytes", Header{Fin: true, Opcode: OpClose, Length: 1 << 40}, Client, 0, ErrControlTooLong},
	{"5.5/fragmented ping", Header{Opcode: OpPing, Length: 1}, Client, 0, ErrControlFragmented},
	{"5.5/fragmented close", Header{Opcode: OpClose}, Client, 0, ErrControlFragmented},
	{"5.1/unmasked frame from a client", Header{Fin: true, Opcode: OpText, Length: 5}, Server, 0, ErrUnmaskedFrame},
	{"5.1/unmasked control frame from a client", Header{Fin: true, Opcode: OpClose}, Server, 0, ErrUnmaskedFrame},
	{"5.1/masked frame from a server", Header{Fin: true, Opcode: OpText, Masked: true, Mask: rfcKey, Length: 5}, Client, 0, ErrMaskedFrame},
}

func TestHeaderCheck(t *testing.T) {
	for _, tc := range checkCases {
		t.Run(tc.name, func(t *testing.T) {
			requireProtocolError(t, tc.h.Check(tc.role, tc.allowedRsv), tc.want, StatusProtocolError)
		})
	}
}

func TestHeaderCheckAccepts(t *testing.T) {
	for _, tc := range []struct {
		name       string
		h          Header
		role       Role
		allowedRsv uint8
	}{
		{"5.1/masked frame from a client", Header{Fin: true, Opcode: OpText, Masked: true, Length: 5}, Server, 0},
		{"5.1/unmasked frame from a server", Header{Fin: true, Opcode: OpBinary, Length: 1 << 20}, Client, 0},
		{"5.5/control frame of 125 bytes", Header{Fin: true, Opcode: OpPong, Length: 125}, Client, 0},
		{"5.4/continuation", Header{Opcode: OpContinuation, Length: 3}, Client, 0},
		{"5.8/RSV1 negotiated", Header{Fin: true, Rsv: Rsv1, Opcode: OpText}, Client, Rsv1},
		{"5.8/all RSV bits negotiated", Header{Fin: true, Rsv: Rsv1 | Rsv2 | Rsv3, Opcode: OpText}, Client, Rsv1 | Rsv2 | Rsv3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.h.Check(tc.role, tc.allowedRsv))
		})
	}
}

func TestHeaderCheckInvalidRole(t *testing.T) {
	require.ErrorIs(t, Header{Fin: true, Opcode: OpText}.Check(0, 0), ErrInvalidRole)
}

func TestOpcode(t *testing.T) {
	for op := Opcode(0); op < 16; op++ {
		reserved := (op >= 0x3 && op <= 0x7) || op >= 0xB
		require.Equal(t, reserved, op.IsReserved(), "%#x", uint8(op))
		require.Equal(t, op >= 0x8, op.IsControl(), "%#x", uint8(op))
		if reserved {
			require.Equal(t, "reserved", op.String())
		} else {
			require.NotEqual(t, "reserved", op.String())
		}
	}
	require.Equal(t, "client", Client.String())
	require.Equal(t, "server", Server.String())
	require.Equal(t, "invalid role", Role(0).String())
}
