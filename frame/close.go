package frame

import (
	"encoding/binary"
	"strconv"
)

// StatusCode is a close code (RFC 6455 §7.4), as registered with IANA
// (§11.7).
type StatusCode uint16

// The registered close codes. 1004 is reserved; 1005, 1006 and 1015 are
// reserved for reporting and are never sent in a close frame.
const (
	StatusNormalClosure           StatusCode = 1000
	StatusGoingAway               StatusCode = 1001
	StatusProtocolError           StatusCode = 1002
	StatusUnsupportedData         StatusCode = 1003
	StatusReserved                StatusCode = 1004
	StatusNoStatusRcvd            StatusCode = 1005
	StatusAbnormalClosure         StatusCode = 1006
	StatusInvalidFramePayloadData StatusCode = 1007
	StatusPolicyViolation         StatusCode = 1008
	StatusMessageTooBig           StatusCode = 1009
	StatusMandatoryExtension      StatusCode = 1010
	StatusInternalError           StatusCode = 1011
	StatusServiceRestart          StatusCode = 1012
	StatusTryAgainLater           StatusCode = 1013
	StatusBadGateway              StatusCode = 1014
	StatusTLSHandshake            StatusCode = 1015
)

// MaxCloseReason is the longest close reason that fits a control frame:
// 125 bytes of payload less the 2-byte code.
const MaxCloseReason = MaxControlPayload - 2

// ValidOnWire reports whether c may appear in a close frame: a registered
// code that is not reserved for local use (1000–1003, 1007–1014), or a code
// from the ranges for libraries and applications (3000–4999). RFC 6455 §7.4.
func (c StatusCode) ValidOnWire() bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// String returns the code's registered name, or its number.
func (c StatusCode) String() string {
	if s, ok := statusNames[c]; ok {
		return s
	}
	return strconv.Itoa(int(c))
}

var statusNames = map[StatusCode]string{
	StatusNormalClosure:           "normal closure",
	StatusGoingAway:               "going away",
	StatusProtocolError:           "protocol error",
	StatusUnsupportedData:         "unsupported data",
	StatusReserved:                "reserved",
	StatusNoStatusRcvd:            "no status received",
	StatusAbnormalClosure:         "abnormal closure",
	StatusInvalidFramePayloadData: "invalid frame payload data",
	StatusPolicyViolation:         "policy violation",
	StatusMessageTooBig:           "message too big",
	StatusMandatoryExtension:      "mandatory extension",
	StatusInternalError:           "internal error",
	StatusServiceRestart:          "service restart",
	StatusTryAgainLater:           "try again later",
	StatusBadGateway:              "bad gateway",
	StatusTLSHandshake:            "TLS handshake",
}

// ParseClosePayload decodes the body of a close frame (RFC 6455 §5.5.1). An
// empty body means the peer gave no code: it returns StatusNoStatusRcvd
// (1005), as §7.1.5 says to report it. The reason aliases p. A 1-byte body or
// an invalid code is a *ProtocolError with 1002; a reason that is not UTF-8 is
// one with 1007.
func ParseClosePayload(p []byte) (StatusCode, []byte, error) {
	switch len(p) {
	case 0:
		return StatusNoStatusRcvd, nil, nil
	case 1:
		return 0, nil, errCloseTooShort
	}
	code := StatusCode(binary.BigEndian.Uint16(p))
	if !code.ValidOnWire() {
		return code, nil, errInvalidCloseCode
	}
	reason := p[2:]
	if !ValidUTF8(reason) {
		return code, nil, errCloseReasonUTF8
	}
	return code, reason, nil
}

// AppendClosePayload appends a close frame body for code and reason to dst.
// StatusNoStatusRcvd (1005) stands for "no code" and produces an empty body
// (so a close can be answered with the same lack of code). Any other code must
// be ValidOnWire; the reason must be UTF-8 of at most MaxCloseReason bytes.
func AppendClosePayload(dst []byte, code StatusCode, reason string) ([]byte, error) {
	if code == StatusNoStatusRcvd {
		if reason != "" {
			return dst, ErrInvalidCloseCode
		}
		return dst, nil
	}
	if !code.ValidOnWire() {
		return dst, ErrInvalidCloseCode
	}
	if len(reason) > MaxCloseReason {
		return dst, ErrCloseReasonTooLong
	}
	if !ValidUTF8String(reason) {
		return dst, ErrCloseReasonUTF8
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...), nil
}
