package session

import (
	"encoding/binary"
	"errors"

	"github.com/wsactor/ws"
)

// Protocol is the subprotocol (RFC 6455 §1.9) that carries sessions, version
// 1 of the wire format of docs/session.md. A client offers it and a server
// selects it; a peer that does not is refused before any session frame.
const Protocol = "wsactor.session.v1"

// Frame kinds, the low nibble of a frame's first byte. Every frame is one
// binary WebSocket message.
const (
	kindData    = 0x1
	kindAck     = 0x2
	kindHello   = 0x3
	kindWelcome = 0x4

	flagText   = 0x10 // data: the application message is text
	flagAck    = 0x20 // data: a piggybacked cumulative ack follows the seq
	flagResume = 0x10 // welcome: the session presented was resumed
)

// idLen is the length of a session id in bytes: 128 random bits.
const idLen = 16

var errMalformed = errors.New("session: malformed frame")

// frame is one decoded session frame.
type frame struct {
	kind    byte
	text    bool
	hasAck  bool
	resumed bool
	seq     uint64 // data
	ack     uint64 // data (hasAck), ack
	id      []byte // hello (empty: a new session), welcome
	epoch   uint64 // hello, welcome
	last    uint64 // hello, welcome: the highest seq received in order
	maxN    uint64 // hello, welcome: the sender's replay limit in messages
	maxB    uint64 // hello, welcome: and in bytes
	payload []byte // data
}

// appendData encodes a data frame: kind|flags, seq, [ack], payload.
func appendData(b []byte, seq uint64, ack uint64, hasAck bool, m ws.Message) []byte {
	k := byte(kindData)
	if m.Type == ws.TextMessage {
		k |= flagText
	}
	if hasAck {
		k |= flagAck
	}
	b = append(b, k)
	b = binary.AppendUvarint(b, seq)
	if hasAck {
		b = binary.AppendUvarint(b, ack)
	}
	return append(b, m.Data...)
}

func encodeAck(ack uint64) ws.Message {
	b := binary.AppendUvarint([]byte{kindAck}, ack)
	return ws.Binary(b)
}

// encodeHandshake encodes a hello or a welcome.
func encodeHandshake(kind byte, id []byte, epoch, last uint64, maxN, maxB int, resumed bool) ws.Message {
	k := kind
	if resumed {
		k |= flagResume
	}
	b := []byte{k}
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	b = binary.AppendUvarint(b, epoch)
	b = binary.AppendUvarint(b, last)
	b = binary.AppendUvarint(b, uint64(maxN))
	b = binary.AppendUvarint(b, uint64(maxB))
	return ws.Binary(b)
}

func decode(m ws.Message) (frame, error) {
	var f frame
	if m.Type != ws.BinaryMessage || len(m.Data) == 0 {
		return f, errMalformed
	}
	b := m.Data
	f.kind = b[0] & 0x0f
	flags := b[0] & 0xf0
	b = b[1:]
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	var ok bool
	switch f.kind {
	case kindData:
		if flags&^(flagText|flagAck) != 0 {
			return f, errMalformed
		}
		f.text, f.hasAck = flags&flagText != 0, flags&flagAck != 0
		if f.seq, ok = next(); !ok || f.seq == 0 {
			return f, errMalformed
		}
		if f.hasAck {
			if f.ack, ok = next(); !ok {
				return f, errMalformed
			}
		}
		f.payload = b
		return f, nil
	case kindAck:
		if flags != 0 {
			return f, errMalformed
		}
		if f.ack, ok = next(); !ok || len(b) != 0 {
			return f, errMalformed
		}
		return f, nil
	case kindHello, kindWelcome:
		if flags&^flagResume != 0 || (f.kind == kindHello && flags != 0) {
			return f, errMalformed
		}
		f.resumed = flags&flagResume != 0
		n, ok := next()
		if !ok || (n != 0 && n != idLen) || uint64(len(b)) < n {
			return f, errMalformed
		}
		f.id, b = b[:n:n], b[n:]
		for _, p := range []*uint64{&f.epoch, &f.last, &f.maxN, &f.maxB} {
			if *p, ok = next(); !ok {
				return f, errMalformed
			}
		}
		if len(b) != 0 || (f.kind == kindWelcome && n == 0) {
			return f, errMalformed
		}
		return f, nil
	}
	return f, errMalformed
}
