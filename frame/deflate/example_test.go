package deflate_test

import (
	"bufio"
	"bytes"
	"fmt"

	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

// A server and a client that negotiated permessage-deflate (here with
// server_no_context_takeover) plug an Extension each into their frame
// Reader and Writer.
func Example() {
	params := deflate.Params{ServerNoContextTakeover: true} // from the handshake
	server, err := deflate.New(params, frame.Server, deflate.Config{})
	if err != nil {
		panic(err)
	}
	defer server.Close()
	client, err := deflate.New(params, frame.Client, deflate.Config{})
	if err != nil {
		panic(err)
	}
	defer client.Close()

	var conn bytes.Buffer // stands in for the network
	w := frame.NewWriter(&conn, frame.Server, frame.WriterConfig{Extension: server})
	msg := bytes.Repeat([]byte(`{"event":"tick","ok":true}`), 20)
	if err := w.WriteMessage(frame.OpText, msg); err != nil {
		panic(err)
	}
	if err := w.Flush(); err != nil {
		panic(err)
	}
	fmt.Printf("%d bytes sent as %d on the wire, RSV1 set: %t\n", len(msg), conn.Len(), conn.Bytes()[0]&0x40 != 0)

	r := frame.NewReader(bufio.NewReader(&conn), frame.Client, frame.ReaderConfig{Extension: client})
	op, got, err := r.ReadMessage(nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(op == frame.OpText, bytes.Equal(got, msg))
	// Output:
	// 520 bytes sent as 35 on the wire, RSV1 set: true
	// true true
}
