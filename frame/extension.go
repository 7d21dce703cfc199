package frame

// Extension is the seam for a negotiated extension that transforms whole
// message payloads and claims reserved header bits (RFC 6455 §5.8, §9), such
// as permessage-deflate (RFC 7692, package frame/deflate). A Reader or Writer
// calls it on its own goroutine, one message at a time; an implementation
// keeps per-connection state (a compression context) and need not be safe
// for concurrent use. Control frames never pass through it.
type Extension interface {
	// Rsv returns the reserved bits the extension may set on the first
	// frame of a data message (Rsv1 for permessage-deflate). A Reader
	// rejects frames with any other reserved bit, and these bits on a
	// control frame or a continuation frame.
	Rsv() uint8

	// DecodeMessage undoes the transform on a received message whose first
	// frame carried rsv (a subset of Rsv(); messages without those bits are
	// not passed in). It appends the result to dst and returns it. It must
	// stop with a *ProtocolError wrapping ErrMessageTooLarge (1009) as soon
	// as the output would exceed limit bytes, without producing more, and
	// return a *ProtocolError for data it cannot decode.
	DecodeMessage(dst, payload []byte, rsv uint8, limit int64) ([]byte, error)

	// EncodeMessage transforms an outgoing data message. It appends the
	// transformed payload to dst and returns it with the reserved bits to set
	// on the message's first frame; rsv 0 means "sent as it is", and then
	// out is ignored and payload is sent unchanged (an extension may so
	// decline small messages).
	EncodeMessage(dst, payload []byte, op Opcode) (out []byte, rsv uint8, err error)
}
