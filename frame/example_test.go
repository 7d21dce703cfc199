package frame_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"

	"github.com/wsactor/ws/frame"
)

// A client writes a fragmented text message and a ping; the server reads
// the ping (interleaved control frames come back on their own) and then the
// reassembled message.
func Example() {
	var conn bytes.Buffer // stands in for a net.Conn
	w := frame.NewWriter(&conn, frame.Client, frame.WriterConfig{FragmentSize: 5})
	_ = w.WriteFrame(false, frame.OpText, []byte("Hello, "))
	_ = w.WriteControl(frame.OpPing, []byte("are you there?"))
	_ = w.WriteFrame(true, frame.OpContinuation, []byte("world"))
	_ = w.Flush()

	r := frame.NewReader(bufio.NewReader(&conn), frame.Server, frame.ReaderConfig{})
	for range 2 {
		op, p, err := r.ReadMessage(nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%v %q\n", op, p)
	}
	// Output:
	// ping "are you there?"
	// text "Hello, world"
}

// A protocol violation carries the close code to answer with.
func ExampleProtocolError() {
	wire := []byte{0x81, 0x05, 'H', 'e', 'l', 'l', 'o'} // unmasked: not allowed from a client
	r := frame.NewReader(bufio.NewReader(bytes.NewReader(wire)), frame.Server, frame.ReaderConfig{})
	_, _, err := r.ReadMessage(nil)
	var pe *frame.ProtocolError
	if errors.As(err, &pe) {
		fmt.Println(int(pe.Code), pe.Code, errors.Is(err, frame.ErrUnmaskedFrame))
	}
	// Output: 1002 protocol error true
}

func ExampleAppendHeader() {
	h := frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Length: 5}
	var buf [frame.MaxHeaderSize]byte
	fmt.Printf("% x\n", frame.AppendHeader(buf[:0], h))
	// Output: 81 85 37 fa 21 3d
}

func ExampleParseHeader() {
	h, n, err := frame.ParseHeader([]byte{0x82, 0x7e, 0x01, 0x00})
	fmt.Println(h.Opcode, h.Fin, h.Length, n, err)
	// Output: binary true 256 4 <nil>
}

func ExampleMask() {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	p := []byte("Hello")
	pos := frame.Mask(key, 0, p[:2]) // mask in pieces: carry the position
	frame.Mask(key, pos, p[2:])
	fmt.Printf("% x\n", p)
	// Output: 7f 9f 4d 51 58
}

func ExampleParseClosePayload() {
	code, reason, err := frame.ParseClosePayload([]byte{0x03, 0xe9, 'b', 'y', 'e'})
	fmt.Println(int(code), code, string(reason), err)
	_, _, err = frame.ParseClosePayload([]byte{0x03, 0xed}) // 1005 is never sent
	fmt.Println(err)
	// Output:
	// 1001 going away bye <nil>
	// frame: invalid close code (close 1002)
}

func ExampleUTF8Validator() {
	var v frame.UTF8Validator
	fmt.Println(v.Write([]byte("caf\xc3")), v.Done()) // cut inside "é": fine so far
	fmt.Println(v.Write([]byte("\xa9")), v.Done())
	fmt.Println(v.Write([]byte("\xed\xa0\x80")), v.Done()) // a surrogate: fails at once
	// Output:
	// true false
	// true true
	// false false
}

func ExampleWriter_WriteClose() {
	var conn bytes.Buffer
	w := frame.NewWriter(&conn, frame.Server, frame.WriterConfig{})
	_ = w.WriteClose(frame.StatusGoingAway, "restart")
	_ = w.Flush()
	fmt.Printf("% x\n", conn.Bytes())
	// Output: 88 09 03 e9 72 65 73 74 61 72 74
}
