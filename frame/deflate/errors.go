package deflate

import (
	"errors"

	"github.com/wsactor/ws/frame"
)

// The errors this package returns. Peer faults reach the caller wrapped in a
// *frame.ProtocolError holding the close code to send; errors.Is still finds
// the sentinel underneath.
var (
	// ErrCorrupt: a compressed message is not a valid DEFLATE stream
	// (RFC 1951) once the 0x00 0x00 0xff 0xff tail is appended (RFC 7692
	// §7.2.2). DecodeMessage returns it inside a *frame.ProtocolError with
	// Code 1007 (StatusInvalidFramePayloadData), not 1002: the frames were
	// well formed and the extension was negotiated, so the framing protocol
	// was kept; what is wrong is the data inside the message, which is not
	// consistent with the type the RSV1 bit declared for it — RFC 6455
	// §7.4.1's definition of 1007. RFC 7692 names no code; the widely used
	// Node.js ws library answers 1007 too, and Autobahn does not test it.
	ErrCorrupt = errors.New("deflate: corrupt compressed data")

	// ErrClosed: EncodeMessage or DecodeMessage was called after Close.
	ErrClosed = errors.New("deflate: extension closed")

	// ErrInvalidParams: New was given window bits outside 8..15 (0 means 15).
	ErrInvalidParams = errors.New("deflate: invalid parameters")

	// ErrInvalidLevel: Config.Level is outside flate.HuffmanOnly..flate.BestCompression.
	ErrInvalidLevel = errors.New("deflate: invalid compression level")
)

// Preallocated, never mutated: a hostile peer can make us fail often, and
// failing must not allocate.
var (
	errCorrupt    = &frame.ProtocolError{Code: frame.StatusInvalidFramePayloadData, Err: ErrCorrupt}
	errTooLarge   = &frame.ProtocolError{Code: frame.StatusMessageTooBig, Err: frame.ErrMessageTooLarge}
	errNoSyncTail = errors.New("deflate: compressor output lacks the sync-flush tail")
)
