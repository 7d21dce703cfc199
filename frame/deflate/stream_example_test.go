package deflate_test

import (
	"bytes"
	"fmt"
	"io"

	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

// A message of unknown length compressed piece by piece, as each piece is
// sent as a fragment, and inflated as it is read.
func ExampleExtension_EncodeFragment() {
	sender, _ := deflate.New(deflate.Params{}, frame.Server, deflate.Config{})
	receiver, _ := deflate.New(deflate.Params{}, frame.Client, deflate.Config{})
	defer sender.Close()
	defer receiver.Close()

	var wire []byte // the payloads of the message's frames, one after the other
	pieces := []string{"streamed ", "streamed ", "streamed", ""}
	for i, p := range pieces {
		out, rsv, err := sender.EncodeFragment(nil, []byte(p), i == 0, i == len(pieces)-1)
		if err != nil || rsv != frame.Rsv1 {
			fmt.Println(rsv, err)
			return
		}
		wire = append(wire, out...)
	}

	r, _ := receiver.DecodeStream(bytes.NewReader(wire))
	got, err := io.ReadAll(r)
	fmt.Printf("%q %v\n", got, err)
	// Output: "streamed streamed streamed" <nil>
}
