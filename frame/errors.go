package frame

import (
	"errors"
	"strconv"
)

// The errors this package returns. Protocol violations reach the caller
// wrapped in a *ProtocolError that holds the close code to send; errors.Is
// still finds the sentinel underneath.
var (
	// Header (RFC 6455 §5.2).
	ErrReservedOpcode    = errors.New("frame: reserved opcode")
	ErrReservedBits      = errors.New("frame: reserved bit set without a negotiated extension")
	ErrLengthOverflow    = errors.New("frame: 64-bit payload length with the most significant bit set")
	ErrControlTooLong    = errors.New("frame: control frame payload over 125 bytes")
	ErrControlFragmented = errors.New("frame: fragmented control frame")
	ErrUnmaskedFrame     = errors.New("frame: unmasked frame from a client")
	ErrMaskedFrame       = errors.New("frame: masked frame from a server")

	// Fragmentation (RFC 6455 §5.4).
	ErrUnexpectedContinuation = errors.New("frame: continuation frame without a message to continue")
	ErrExpectedContinuation   = errors.New("frame: new data frame inside a fragmented message")

	// Limits (RFC 6455 §10.4); close code 1009.
	ErrFrameTooLarge   = errors.New("frame: frame over the size limit")
	ErrMessageTooLarge = errors.New("frame: message over the size limit")

	// Payload content (RFC 6455 §8.1); close code 1007.
	ErrInvalidUTF8 = errors.New("frame: invalid UTF-8 in text message")

	// Close frames (RFC 6455 §5.5.1, §7.4).
	ErrClosePayloadTooShort = errors.New("frame: close payload of 1 byte")
	ErrInvalidCloseCode     = errors.New("frame: invalid close code")
	ErrCloseReasonUTF8      = errors.New("frame: invalid UTF-8 in close reason")
	ErrCloseReasonTooLong   = errors.New("frame: close reason over 123 bytes")

	// Caller mistakes, never sent on the wire.
	ErrInvalidOpcode = errors.New("frame: opcode not valid for this call")
	ErrInvalidRole   = errors.New("frame: role must be frame.Client or frame.Server")

	// ErrShortHeader is returned by ParseHeader when b holds only part of a
	// header; read more bytes and try again.
	ErrShortHeader = errors.New("frame: incomplete header")
)

// ProtocolError is a violation of RFC 6455 (or of a limit) by the peer. Code is
// the close code the receiver must send before failing the connection:
// StatusProtocolError (1002), StatusInvalidFramePayloadData (1007) or
// StatusMessageTooBig (1009). Err is one of the sentinels above.
type ProtocolError struct {
	Code StatusCode
	Err  error
}

func (e *ProtocolError) Error() string {
	return e.Err.Error() + " (close " + strconv.Itoa(int(e.Code)) + ")"
}

// Unwrap returns the sentinel, so errors.Is(err, frame.ErrReservedOpcode) works.
func (e *ProtocolError) Unwrap() error { return e.Err }

// Preallocated protocol errors: a hostile peer can make us fail often, and
// failing must not allocate. They are never mutated.
var (
	errReservedOpcode    = &ProtocolError{StatusProtocolError, ErrReservedOpcode}
	errReservedBits      = &ProtocolError{StatusProtocolError, ErrReservedBits}
	errLengthOverflow    = &ProtocolError{StatusProtocolError, ErrLengthOverflow}
	errControlTooLong    = &ProtocolError{StatusProtocolError, ErrControlTooLong}
	errControlFragmented = &ProtocolError{StatusProtocolError, ErrControlFragmented}
	errUnmaskedFrame     = &ProtocolError{StatusProtocolError, ErrUnmaskedFrame}
	errMaskedFrame       = &ProtocolError{StatusProtocolError, ErrMaskedFrame}
	errUnexpectedCont    = &ProtocolError{StatusProtocolError, ErrUnexpectedContinuation}
	errExpectedCont      = &ProtocolError{StatusProtocolError, ErrExpectedContinuation}
	errFrameTooLarge     = &ProtocolError{StatusMessageTooBig, ErrFrameTooLarge}
	errMessageTooLarge   = &ProtocolError{StatusMessageTooBig, ErrMessageTooLarge}
	errInvalidUTF8       = &ProtocolError{StatusInvalidFramePayloadData, ErrInvalidUTF8}
	errCloseTooShort     = &ProtocolError{StatusProtocolError, ErrClosePayloadTooShort}
	errInvalidCloseCode  = &ProtocolError{StatusProtocolError, ErrInvalidCloseCode}
	errCloseReasonUTF8   = &ProtocolError{StatusInvalidFramePayloadData, ErrCloseReasonUTF8}
)
