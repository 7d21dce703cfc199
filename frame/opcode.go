package frame

// Opcode is the 4-bit frame type of RFC 6455 §5.2, registered in §11.8.
type Opcode uint8

// The opcodes RFC 6455 defines. 0x3–0x7 and 0xB–0xF are reserved.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether o is a control opcode (most significant bit set,
// RFC 6455 §5.5).
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

// IsReserved reports whether o is one of the opcodes RFC 6455 reserves for
// future use (0x3–0x7, 0xB–0xF); receiving one fails the connection (§5.2).
func (o Opcode) IsReserved() bool {
	switch o {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

// String returns the RFC's name for o.
func (o Opcode) String() string {
	switch o {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "reserved"
}

// Role says which end of the connection a Reader or Writer serves. It decides
// masking: a client masks every frame it sends and a server must reject an
// unmasked frame; a server never masks and a client must reject a masked
// frame (RFC 6455 §5.1). There is no zero Role: one must be chosen.
type Role uint8

// The two roles.
const (
	Client Role = 1
	Server Role = 2
)

// String returns "client" or "server".
func (r Role) String() string {
	switch r {
	case Client:
		return "client"
	case Server:
		return "server"
	}
	return "invalid role"
}
