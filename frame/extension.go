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

// SharedEncoder is implemented by an Extension that can encode a message
// once for many connections (a broadcast). Such an encoding refers to no
// connection's context, so its bytes may be sent, through
// Writer.WriteEncodedMessage, on any connection whose extension gives the
// same key. The connection's own EncodeMessage stream must then be told
// with SharedSent, since the peer's context now holds a message ours did
// not see.
type SharedEncoder interface {
	// SharedKey reports whether this connection would encode a shared
	// message of n bytes (ok false: send it unencoded, e.g. too short to
	// be worth it), and under which key: encodings made by EncodeShared of
	// extensions with equal keys are interchangeable.
	SharedKey(n int) (key int, ok bool)

	// EncodeShared encodes payload with no context, appending to dst, and
	// returns it with the reserved bits to set; rsv 0 declines, and
	// payload is then sent as it is. It leaves the connection's state
	// alone and is safe to call from any goroutine, at any time.
	EncodeShared(dst, payload []byte, op Opcode) (out []byte, rsv uint8, err error)

	// SharedSent tells the extension that a message from EncodeShared
	// with rsv != 0 is being written on its connection, between the
	// messages of its own EncodeMessage.
	SharedSent(rsv uint8)
}
