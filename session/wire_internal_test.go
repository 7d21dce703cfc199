package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws"
)

// TestWire: every frame decodes to what was encoded, and the sizes are
// the documented ones.
func TestWire(t *testing.T) {
	id := make([]byte, idLen)
	for i := range id {
		id[i] = byte(i)
	}
	t.Run("data", func(t *testing.T) {
		for _, tc := range []struct {
			seq, ack uint64
			hasAck   bool
			msg      ws.Message
			size     int // bytes beyond the payload
		}{
			{1, 0, false, ws.Text("héllo"), 2},
			{300, 0, false, ws.Binary([]byte{0, 1}), 3},
			{300, 299, true, ws.Binary(nil), 5},
			{1 << 21, 1 << 14, true, ws.Text("x"), 1 + 4 + 3},
		} {
			b := appendData(nil, tc.seq, tc.ack, tc.hasAck, tc.msg)
			assert.Equal(t, tc.size, len(b)-len(tc.msg.Data))
			f, err := decode(ws.Binary(b))
			require.NoError(t, err)
			assert.Equal(t, byte(kindData), f.kind)
			assert.Equal(t, tc.seq, f.seq)
			assert.Equal(t, tc.hasAck, f.hasAck)
			assert.Equal(t, tc.ack, f.ack)
			assert.Equal(t, tc.msg.Type == ws.TextMessage, f.text)
			assert.Equal(t, string(tc.msg.Data), string(f.payload))
		}
	})
	t.Run("ack", func(t *testing.T) {
		f, err := decode(encodeAck(1234))
		require.NoError(t, err)
		assert.Equal(t, frame{kind: kindAck, ack: 1234}, f)
	})
	t.Run("handshake", func(t *testing.T) {
		for _, tc := range []struct {
			kind    byte
			id      []byte
			resumed bool
		}{{kindHello, nil, false}, {kindHello, id, false}, {kindWelcome, id, false}, {kindWelcome, id, true}} {
			f, err := decode(encodeHandshake(tc.kind, tc.id, 7, 42, 1024, 1<<20, tc.resumed))
			require.NoError(t, err)
			assert.Equal(t, tc.kind, f.kind)
			assert.Equal(t, len(tc.id), len(f.id))
			assert.Equal(t, tc.resumed, f.resumed)
			assert.EqualValues(t, 7, f.epoch)
			assert.EqualValues(t, 42, f.last)
			assert.EqualValues(t, 1024, f.maxN)
			assert.EqualValues(t, 1<<20, f.maxB)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		for _, m := range []ws.Message{
			ws.Text("\x01\x01"),                       // a text frame
			ws.Binary(nil),                            // empty
			ws.Binary([]byte{0x01}),                   // data without a seq
			ws.Binary([]byte{0x01, 0x00}),             // seq 0
			ws.Binary([]byte{0x21, 0x01}),             // ack flag without an ack
			ws.Binary([]byte{0x41, 0x01}),             // unknown flag
			ws.Binary([]byte{0x02, 0x01, 0x00}),       // ack with trailing bytes
			ws.Binary([]byte{0x03, 0x05, 1, 2, 3}),    // id of 5 bytes
			ws.Binary([]byte{0x13, 0x00, 0, 0, 0, 0}), // resumed flag on a hello
			ws.Binary([]byte{0x04, 0x00, 1, 0, 1, 1}), // welcome without an id
			ws.Binary([]byte{0x05}),                   // unknown kind
		} {
			_, err := decode(m)
			assert.ErrorIs(t, err, errMalformed, "% x", m.Data)
		}
	})
}

// FuzzDecode: decode never panics, and a data frame it accepts encodes
// back to the same bytes.
func FuzzDecode(f *testing.F) {
	f.Add(appendData(nil, 5, 3, true, ws.Text("x")))
	f.Add(encodeAck(9).Data)
	f.Add(encodeHandshake(kindHello, make([]byte, idLen), 1, 2, 3, 4, false).Data)
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decode(ws.Binary(b))
		if err != nil || fr.kind != kindData {
			return
		}
		typ := ws.BinaryMessage
		if fr.text {
			typ = ws.TextMessage
		}
		again := appendData(nil, fr.seq, fr.ack, fr.hasAck, ws.Message{Type: typ, Data: fr.payload})
		if string(again) != string(b) && !nonMinimalVarint(b) {
			t.Fatalf("% x re-encodes as % x", b, again)
		}
	})
}

// nonMinimalVarint reports whether b's varints may be padded (0x80 0x00
// decodes as 0): such frames decode fine but re-encode shorter.
func nonMinimalVarint(b []byte) bool {
	for i := 1; i+1 < len(b); i++ {
		if b[i]&0x80 != 0 && b[i+1] == 0 {
			return true
		}
	}
	return false
}
