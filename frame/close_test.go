package frame

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func closeBody(code uint16, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

func TestStatusCodeConstants(t *testing.T) {
	// 7.4.1 and the IANA registry (11.7): the numbers behind the names.
	for code, want := range map[StatusCode]uint16{
		StatusNormalClosure: 1000, StatusGoingAway: 1001, StatusProtocolError: 1002,
		StatusUnsupportedData: 1003, StatusReserved: 1004, StatusNoStatusRcvd: 1005,
		StatusAbnormalClosure: 1006, StatusInvalidFramePayloadData: 1007, StatusPolicyViolation: 1008,
		StatusMessageTooBig: 1009, StatusMandatoryExtension: 1010, StatusInternalError: 1011,
		StatusServiceRestart: 1012, StatusTryAgainLater: 1013, StatusBadGateway: 1014,
		StatusTLSHandshake: 1015,
	} {
		require.Equal(t, want, uint16(code))
		require.NotEqual(t, "", code.String())
	}
	require.Equal(t, "normal closure", StatusNormalClosure.String())
	require.Equal(t, "4000", StatusCode(4000).String())
}

func TestStatusCodeValidOnWire(t *testing.T) {
	for c := 0; c <= 0xFFFF; c++ {
		want := (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999)
		require.Equal(t, want, StatusCode(c).ValidOnWire(), "%d", c)
	}
}

func TestParseClosePayload(t *testing.T) {
	for _, tc := range []struct {
		name   string
		body   []byte
		code   StatusCode
		reason string
	}{
		{"5.5.1/empty body reports 1005", nil, StatusNoStatusRcvd, ""},
		{"7.4.1/1000 without reason", closeBody(1000, ""), StatusNormalClosure, ""},
		{"7.4.1/1001 with reason", closeBody(1001, "bye"), StatusGoingAway, "bye"},
		{"7.4.1/1003", closeBody(1003, ""), StatusUnsupportedData, ""},
		{"7.4.1/1007", closeBody(1007, ""), StatusInvalidFramePayloadData, ""},
		{"7.4.1/1011", closeBody(1011, ""), StatusInternalError, ""},
		{"7.4.1/1014 (IANA)", closeBody(1014, ""), StatusBadGateway, ""},
		{"7.4.2/3000 registered range", closeBody(3000, ""), 3000, ""},
		{"7.4.2/4999 private range", closeBody(4999, "x"), 4999, "x"},
		{"5.5.1/UTF-8 reason", closeBody(1000, "Größe 😀"), StatusNormalClosure, "Größe 😀"},
		{"5.5.1/123-byte reason", closeBody(1000, strings.Repeat("a", 123)), StatusNormalClosure, strings.Repeat("a", 123)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, reason, err := ParseClosePayload(tc.body)
			require.NoError(t, err)
			require.Equal(t, tc.code, code)
			require.Equal(t, tc.reason, string(reason))
		})
	}
}

func TestParseClosePayloadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		want error
		code StatusCode
	}{
		{"5.5.1/1-byte body", []byte{0x03}, ErrClosePayloadTooShort, StatusProtocolError},
		{"7.4.2/code 0", closeBody(0, ""), ErrInvalidCloseCode, StatusProtocolError},
		{"7.4.2/code 999", closeBody(999, ""), ErrInvalidCloseCode, StatusProtocolError},
		{"7.4.1/code 1004 reserved", closeBody(1004, ""), ErrInvalidCloseCode, StatusProtocolError},
		{"7.4.1/code 1005 never sent", closeBody(1005, ""), ErrInvalidCloseCode, StatusProtocolError},
		{"7.4.1/code 1006 never sent", closeBody(1006, ""), ErrInvalidCloseCode, StatusProtocolError},
		{"7.4.1/code 1015 never sent", closeBody(1015, ""), ErrInvalidCloseCode, StatusProtocolError},
		{"7.4.2/code 1016 unassigned", closeBody(1016, ""), ErrInvalidCloseCode, StatusProtocolError},
		{"7.4.2/code 2999 unassigned", closeBody(2999, ""), ErrInvalidCloseCode, StatusProtocolError},
		{"7.4.2/code 5000", closeBody(5000, ""), ErrInvalidCloseCode, StatusProtocolError},
		{"7.4.2/code 65535", closeBody(65535, ""), ErrInvalidCloseCode, StatusProtocolError},
		{"8.1/reason not UTF-8", closeBody(1000, "\xff"), ErrCloseReasonUTF8, StatusInvalidFramePayloadData},
		{"8.1/reason cut inside a code point", closeBody(1000, "\xce"), ErrCloseReasonUTF8, StatusInvalidFramePayloadData},
		{"8.1/reason with a surrogate", closeBody(1000, "\xed\xa0\x80"), ErrCloseReasonUTF8, StatusInvalidFramePayloadData},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseClosePayload(tc.body)
			requireProtocolError(t, err, tc.want, tc.code)
		})
	}
}

func TestAppendClosePayload(t *testing.T) {
	p, err := AppendClosePayload([]byte{0xAA}, StatusGoingAway, "bye")
	require.NoError(t, err)
	require.Equal(t, unhex(t, "aa 03 e9 62 79 65"), p)
	code, reason, err := ParseClosePayload(p[1:])
	require.NoError(t, err)
	require.Equal(t, StatusGoingAway, code)
	require.Equal(t, "bye", string(reason))

	// 1005 stands for "no code": an empty body.
	p, err = AppendClosePayload(nil, StatusNoStatusRcvd, "")
	require.NoError(t, err)
	require.Empty(t, p)

	p, err = AppendClosePayload(nil, StatusNormalClosure, strings.Repeat("é", 61)+"a") // 123 bytes
	require.NoError(t, err)
	require.Len(t, p, MaxControlPayload)
}

func TestAppendClosePayloadErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		code   StatusCode
		reason string
		want   error
	}{
		{"7.4.1/1005 with a reason", StatusNoStatusRcvd, "x", ErrInvalidCloseCode},
		{"7.4.1/1006 never sent", StatusAbnormalClosure, "", ErrInvalidCloseCode},
		{"7.4.1/1015 never sent", StatusTLSHandshake, "", ErrInvalidCloseCode},
		{"7.4.2/code 999", 999, "", ErrInvalidCloseCode},
		{"5.5/reason over 123 bytes", StatusNormalClosure, strings.Repeat("a", 124), ErrCloseReasonTooLong},
		{"8.1/reason not UTF-8", StatusNormalClosure, "\xc0\xaf", ErrCloseReasonUTF8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte{1, 2}
			p, err := AppendClosePayload(dst, tc.code, tc.reason)
			require.ErrorIs(t, err, tc.want)
			require.Equal(t, dst, p, "dst is returned unchanged")
			// A caller mistake is not a protocol error of the peer.
			var pe *ProtocolError
			require.NotErrorAs(t, err, &pe)
		})
	}
}
