package deflate_test

import (
	"bufio"
	"bytes"
	"fmt"

	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

// A message compressed once with EncodeShared goes to a connection that
// keeps its compression context, between messages of its own: SharedSent
// tells its compressor, so the next message still inflates on the peer.
func ExampleExtension_EncodeShared() {
	server, _ := deflate.New(deflate.Params{}, frame.Server, deflate.Config{})
	defer server.Close()
	client, _ := deflate.New(deflate.Params{}, frame.Client, deflate.Config{})
	defer client.Close()

	news := bytes.Repeat([]byte(`{"headline":"markets up","source":"wire"} `), 10)
	if _, ok := server.SharedKey(len(news)); !ok {
		return // this connection would send it uncompressed
	}
	shared, rsv, err := server.EncodeShared(nil, news, frame.OpText)
	if err != nil {
		panic(err)
	}

	var conn bytes.Buffer
	w := frame.NewWriter(&conn, frame.Server, frame.WriterConfig{Extension: server})
	own := bytes.Repeat([]byte(`{"event":"tick","seq":1} `), 10)
	_ = w.WriteMessage(frame.OpText, own)
	server.SharedSent(rsv)
	_ = w.WriteEncodedMessage(frame.OpText, rsv, shared)
	_ = w.WriteMessage(frame.OpText, own)
	_ = w.Flush()

	r := frame.NewReader(bufio.NewReader(&conn), frame.Client, frame.ReaderConfig{Extension: client})
	for _, want := range [][]byte{own, news, own} {
		_, got, err := r.ReadMessage(nil)
		fmt.Println(bytes.Equal(got, want), err)
	}
	// Output:
	// true <nil>
	// true <nil>
	// true <nil>
}
