package frame

import (
	"bufio"
	"encoding/binary"
	"io"
)

// Reserved bits of the first header byte, as they appear in Header.Rsv
// (RFC 6455 §5.2). RSV1 is the one permessage-deflate claims.
const (
	Rsv1 uint8 = 0x4
	Rsv2 uint8 = 0x2
	Rsv3 uint8 = 0x1
)

// MaxHeaderSize is the longest a frame header can be: 2 fixed bytes, an
// 8-byte extended length and a 4-byte masking key.
const MaxHeaderSize = 14

// MaxControlPayload is the largest payload a control frame may carry
// (RFC 6455 §5.5).
const MaxControlPayload = 125

// Header is a decoded frame header (RFC 6455 §5.2). It is a plain value:
// encoding and decoding never allocate.
type Header struct {
	Fin    bool
	Rsv    uint8 // RSV1..RSV3 as Rsv1|Rsv2|Rsv3
	Opcode Opcode
	Masked bool
	Mask   [4]byte // valid when Masked
	Length int64   // payload length in bytes
}

// Size returns how many bytes AppendHeader writes for h.
func (h Header) Size() int {
	n := 2
	switch {
	case h.Length > 0xFFFF:
		n += 8
	case h.Length > 125:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// AppendHeader appends the wire form of h to dst, using the shortest length
// encoding as RFC 6455 §5.2 requires, and returns the extended slice. It does
// not check h: Writer validates what it sends. A negative Length encodes as 0.
func AppendHeader(dst []byte, h Header) []byte {
	b0 := byte(h.Opcode&0xF) | (h.Rsv&0x7)<<4
	if h.Fin {
		b0 |= 0x80
	}
	var m byte
	if h.Masked {
		m = 0x80
	}
	switch n := h.Length; {
	case n <= 125:
		if n < 0 {
			n = 0
		}
		dst = append(dst, b0, m|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, b0, m|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, b0, m|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if h.Masked {
		dst = append(dst, h.Mask[:]...)
	}
	return dst
}

// ParseHeader decodes the header at the start of b and returns it with the
// number of bytes it took. When b is shorter than the header it returns
// ErrShortHeader. A 64-bit length with its most significant bit set is a
// *ProtocolError (1002); every other check needs to know the role and the
// negotiated extensions, and is Header.Check's job.
func ParseHeader(b []byte) (Header, int, error) {
	var h Header
	if len(b) < 2 {
		return h, 0, ErrShortHeader
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv = (b[0] >> 4) & 0x7
	h.Opcode = Opcode(b[0] & 0xF)
	h.Masked = b[1]&0x80 != 0
	n := 2
	switch l := b[1] & 0x7F; l {
	case 126:
		if len(b) < n+2 {
			return h, 0, ErrShortHeader
		}
		h.Length = int64(binary.BigEndian.Uint16(b[n:]))
		n += 2
	case 127:
		if len(b) < n+8 {
			return h, 0, ErrShortHeader
		}
		u := binary.BigEndian.Uint64(b[n:])
		if u>>63 != 0 {
			return h, 0, errLengthOverflow
		}
		h.Length = int64(u)
		n += 8
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, 0, ErrShortHeader
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	return h, n, nil
}

// headerLen returns the header length announced by its first two bytes.
func headerLen(b0, b1 byte) int {
	n := 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// ReadHeader reads one header from br without allocating: it peeks the two
// fixed bytes, then exactly the header's length, and discards it. Read errors
// are returned as they are (io.EOF before the first byte, io.ErrUnexpectedEOF
// inside a header).
func ReadHeader(br *bufio.Reader) (Header, error) {
	b, err := br.Peek(2)
	if err != nil {
		if len(b) > 0 && err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Header{}, err
	}
	n := headerLen(b[0], b[1])
	b, err = br.Peek(n)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Header{}, err
	}
	h, _, err := ParseHeader(b)
	if err != nil {
		return h, err
	}
	_, _ = br.Discard(n)
	return h, nil
}

// Check applies the header rules of RFC 6455 §5.1, §5.2 and §5.5 for a frame
// received by role, when the negotiated extensions allow the reserved bits in
// allowedRsv. The error is a *ProtocolError with code 1002.
func (h Header) Check(role Role, allowedRsv uint8) error {
	if h.Opcode.IsReserved() {
		return errReservedOpcode
	}
	if h.Rsv&^allowedRsv != 0 {
		return errReservedBits
	}
	if h.Opcode.IsControl() {
		if h.Length > MaxControlPayload {
			return errControlTooLong
		}
		if !h.Fin {
			return errControlFragmented
		}
	}
	switch role {
	case Server:
		if !h.Masked {
			return errUnmaskedFrame
		}
	case Client:
		if h.Masked {
			return errMaskedFrame
		}
	default:
		return ErrInvalidRole
	}
	return nil
}
