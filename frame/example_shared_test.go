package frame_test

import (
	"bufio"
	"bytes"
	"fmt"

	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

// A server broadcasting to many connections frames the message once and
// writes the very same bytes on each: server frames are not masked.
func ExampleWriter_WriteRaw() {
	msg := []byte("tick")
	raw := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpText, Length: int64(len(msg))})
	raw = append(raw, msg...)

	var conns [2]bytes.Buffer // stand in for two net.Conns
	for i := range conns {
		w := frame.NewWriter(&conns[i], frame.Server, frame.WriterConfig{})
		_ = w.WriteRaw(raw)
		_ = w.Flush()
	}
	fmt.Printf("% x\n% x\n", conns[0].Bytes(), conns[1].Bytes())
	// Output:
	// 81 04 74 69 63 6b
	// 81 04 74 69 63 6b
}

// Client connections share a payload compressed once (deflate's
// EncodeShared) but mask it each with its own keys.
func ExampleWriter_WriteEncodedMessage() {
	msg := bytes.Repeat([]byte(`{"event":"tick"}`), 20)
	enc, _ := deflate.New(deflate.Params{}, frame.Client, deflate.Config{})
	payload, rsv, _ := enc.EncodeShared(nil, msg, frame.OpText)

	for range 2 {
		ext, _ := deflate.New(deflate.Params{}, frame.Client, deflate.Config{})
		var conn bytes.Buffer
		w := frame.NewWriter(&conn, frame.Client, frame.WriterConfig{Extension: ext})
		ext.SharedSent(rsv) // the peer's window is about to hold payload
		_ = w.WriteEncodedMessage(frame.OpText, rsv, payload)
		_ = w.Flush()

		peer, _ := deflate.New(deflate.Params{}, frame.Server, deflate.Config{})
		r := frame.NewReader(bufio.NewReader(&conn), frame.Server, frame.ReaderConfig{Extension: peer})
		op, got, err := r.ReadMessage(nil)
		fmt.Println(op, len(payload) < len(msg), bytes.Equal(got, msg), err)
	}
	// Output:
	// text true true <nil>
	// text true true <nil>
}
