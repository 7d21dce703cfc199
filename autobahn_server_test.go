//go:build !js

package ws_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/handshake"
)

// The Autobahn TestSuite (crossbario/autobahn-testsuite) cases, sections
// 1–7, 9 and 10, replayed by a raw peer against our echo server and our
// echo client. Each row sends the case's frames as Autobahn does (with its
// chopping into separate writes) and checks Autobahn's OK expectation: the
// events our side sends back before the close (echoed messages, pongs), the
// close code, and who closes the TCP connection.

// abFrame is one frame the Autobahn peer sends; chop > 0 writes it in
// pieces of chop bytes, each its own write, as Autobahn's chopsize does.
type abFrame struct {
	fin     bool
	rsv     uint8
	op      frame.Opcode
	payload []byte
	chop    int
}

// abEvent is what our side sends back: a message (op text or binary,
// reassembled) or a pong.
type abEvent struct {
	op      frame.Opcode
	payload string
}

func (e abEvent) String() string {
	p := e.payload
	if len(p) > 40 {
		p = fmt.Sprintf("%q...(%d bytes)", p[:40], len(p))
	} else {
		p = fmt.Sprintf("%q", p)
	}
	return fmt.Sprintf("%v %s", e.op, p)
}

type abCase struct {
	id   string
	send []abFrame
	// want are the events Autobahn's Case.OK expects before the close.
	want []abEvent
	// peerCloses: Autobahn starts the close handshake (code 1000) once
	// want has arrived; otherwise the frames sent already end in a close
	// frame or our side must fail the connection.
	peerCloses bool
	// codes our close frame may carry; nil means only an empty close body
	// or 1000.
	codes []ws.StatusCode
}

func fr(op frame.Opcode, p string) abFrame { return abFrame{fin: true, op: op, payload: []byte(p)} }
func frag(fin bool, op frame.Opcode, p string) abFrame {
	return abFrame{fin: fin, op: op, payload: []byte(p)}
}
func chopped(f abFrame, n int) abFrame      { f.chop = n; return f }
func msg(op frame.Opcode, p string) abEvent { return abEvent{op: op, payload: p} }
func closeFrame(code uint16, reason string) abFrame {
	return abFrame{fin: true, op: frame.OpClose, payload: append(binary.BigEndian.AppendUint16(nil, code), reason...)}
}

var (
	protoErr  = []ws.StatusCode{ws.StatusProtocolError}
	utf8Err   = []ws.StatusCode{ws.StatusInvalidFramePayloadData}
	normalEnd = []ws.StatusCode{ws.StatusNormalClosure}
)

// abCases are the Autobahn cases of sections 1–7 and 10 (9 is separate:
// large messages).
func abCases() []abCase {
	const (
		text = frame.OpText
		bin  = frame.OpBinary
		cont = frame.OpContinuation
		ping = frame.OpPing
		pong = frame.OpPong
	)
	var cs []abCase
	echo := func(id string, op frame.Opcode, p string, chop int) {
		cs = append(cs, abCase{id: id, send: []abFrame{chopped(fr(op, p), chop)}, want: []abEvent{msg(op, p)}, peerCloses: true, codes: normalEnd})
	}
	fail := func(id string, codes []ws.StatusCode, want []abEvent, send ...abFrame) {
		// Autobahn's NON_STRICT for these cases is the echo lost to the
		// close; only OK, the echo first, passes here.
		cs = append(cs, abCase{id: id, send: send, want: want, codes: codes})
	}
	ok := func(id string, want []abEvent, send ...abFrame) {
		cs = append(cs, abCase{id: id, send: send, want: want, peerCloses: true, codes: normalEnd})
	}

	// 1: framing, payload lengths around the 7/16/64-bit boundaries.
	for i, n := range []int{0, 125, 126, 127, 128, 65535, 65536} {
		echo(fmt.Sprintf("1.1.%d/text of %d bytes", i+1, n), text, strings.Repeat("*", n), 0)
		echo(fmt.Sprintf("1.2.%d/binary of %d bytes", i+1, n), bin, strings.Repeat("\xfe", n), 0)
	}
	echo("1.1.8/text of 65536 bytes in chops of 997", text, strings.Repeat("*", 65536), 997)
	echo("1.2.8/binary of 65536 bytes in chops of 997", bin, strings.Repeat("\xfe", 65536), 997)

	// 2: pings and pongs.
	ok("2.1/ping without payload", []abEvent{msg(pong, "")}, fr(ping, ""))
	ok("2.2/ping with small text payload", []abEvent{msg(pong, "Hello, world!")}, fr(ping, "Hello, world!"))
	bp := "\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
	ok("2.3/ping with small binary payload", []abEvent{msg(pong, bp)}, fr(ping, bp))
	p125 := strings.Repeat("\xfe", 125)
	ok("2.4/ping with 125-byte payload", []abEvent{msg(pong, p125)}, fr(ping, p125))
	fail("2.5/ping with 126-byte payload", protoErr, nil, fr(ping, strings.Repeat("\xfe", 126)))
	ok("2.6/ping with 125-byte payload in octet-wise chops", []abEvent{msg(pong, p125)}, chopped(fr(ping, p125), 1))
	ok("2.7/unsolicited pong without payload", nil, fr(pong, ""))
	ok("2.8/unsolicited pong with payload", nil, fr(pong, "unsolicited pong payload"))
	ok("2.9/unsolicited pong, then ping", []abEvent{msg(pong, "ping payload")},
		fr(pong, "unsolicited pong payload"), fr(ping, "ping payload"))
	for _, c := range []struct {
		id   string
		chop int
	}{{"2.10/ten pings, every pong answered", 0}, {"2.11/ten pings in octet-wise chops, every pong answered", 1}} {
		var send []abFrame
		var want []abEvent
		for i := 0; i < 10; i++ {
			p := fmt.Sprintf("payload-%d", i)
			send = append(send, chopped(fr(ping, p), c.chop))
			want = append(want, msg(pong, p))
		}
		ok(c.id, want, send...)
	}

	// 3: reserved bits.
	hello := "Hello, world!"
	withRsv := func(f abFrame, rsv uint8) abFrame { f.rsv = rsv; return f }
	fail("3.1/RSV1 on a text frame", protoErr, nil, withRsv(fr(text, hello), frame.Rsv1))
	fail("3.2/RSV2 on a text frame after a valid text frame", protoErr, []abEvent{msg(text, hello)},
		fr(text, hello), withRsv(fr(text, hello), frame.Rsv2), fr(ping, ""))
	fail("3.3/RSV1|RSV2 frame-wise chops", protoErr, []abEvent{msg(text, hello)},
		fr(text, hello), withRsv(fr(text, hello), frame.Rsv1|frame.Rsv2), fr(ping, ""))
	fail("3.4/RSV3 octet-wise chops", protoErr, []abEvent{msg(text, hello)},
		chopped(fr(text, hello), 1), chopped(withRsv(fr(text, hello), frame.Rsv3), 1), chopped(fr(ping, ""), 1))
	fail("3.5/RSV1|RSV3 on a binary frame", protoErr, nil, withRsv(fr(bin, "\x00\xff\xfe\xfd\xfc\xfb\x00\xff"), frame.Rsv1|frame.Rsv3))
	fail("3.6/RSV2|RSV3 on a ping", protoErr, nil, withRsv(fr(ping, hello), frame.Rsv2|frame.Rsv3))
	fail("3.7/all RSV bits on a close", protoErr, nil, withRsv(closeFrame(1000, ""), frame.Rsv1|frame.Rsv2|frame.Rsv3))

	// 4: reserved opcodes.
	for i, op := range []frame.Opcode{3, 4, 5, 6, 7} {
		fail(fmt.Sprintf("4.1.%d/reserved data opcode %d", i+1, op), protoErr, nil, fr(op, "reserved"))
		fail(fmt.Sprintf("4.2.%d/reserved control opcode %d", i+1, op+8), protoErr, nil, fr(op+8, "reserved"))
	}
	fail("4.1.3/text, reserved opcode 5, ping", protoErr, []abEvent{msg(text, hello)}, fr(text, hello), fr(5, ""), fr(ping, ""))
	fail("4.2.3/text, reserved opcode 13, ping", protoErr, []abEvent{msg(text, hello)}, fr(text, hello), fr(13, ""), fr(ping, ""))

	// 5: fragmentation.
	fail("5.1/fragmented ping", protoErr, nil, frag(false, ping, "fragment1"), frag(true, cont, "fragment2"))
	fail("5.2/fragmented pong", protoErr, nil, frag(false, pong, "fragment1"), frag(true, cont, "fragment2"))
	for i, chop := range []int{0, 0, 1} {
		ok(fmt.Sprintf("5.%d/text in 2 fragments (chop %d)", i+3, chop), []abEvent{msg(text, "fragment1fragment2")},
			chopped(frag(false, text, "fragment1"), chop), chopped(frag(true, cont, "fragment2"), chop))
		ok(fmt.Sprintf("5.%d/text in 2 fragments with a ping between (chop %d)", i+6, chop),
			[]abEvent{msg(pong, "pongme!"), msg(text, "fragment1fragment2")},
			chopped(frag(false, text, "fragment1"), chop), chopped(fr(ping, "pongme!"), chop), chopped(frag(true, cont, "fragment2"), chop))
		fail(fmt.Sprintf("5.%d/continuation with FIN and nothing to continue (chop %d)", i+9, chop), protoErr, nil,
			chopped(frag(true, cont, "non-continuation payload"), chop), chopped(fr(text, hello), chop))
		fail(fmt.Sprintf("5.%d/continuation without FIN and nothing to continue (chop %d)", i+12, chop), protoErr, nil,
			chopped(frag(false, cont, "non-continuation payload"), chop), chopped(fr(text, hello), chop))
	}
	fail("5.15/text fragments, then a continuation after FIN", protoErr, []abEvent{msg(text, "fragment1fragment2")},
		frag(false, text, "fragment1"), frag(true, cont, "fragment2"), frag(false, cont, "fragment3"), fr(text, "fragment4"))
	for i, fin := range []bool{false, true} {
		fail(fmt.Sprintf("5.%d/2x continuation (FIN=%v) with nothing to continue, then fragments", i+16, fin), protoErr, nil,
			frag(fin, cont, "fragment1"), frag(false, text, "fragment2"), frag(true, cont, "fragment3"),
			frag(fin, cont, "fragment1"), frag(false, text, "fragment2"), frag(true, cont, "fragment3"))
	}
	fail("5.18/two text starts", protoErr, nil, frag(false, text, "fragment1"), frag(true, text, "fragment2"))
	for i, chop := range []int{0, 1} {
		ok(fmt.Sprintf("5.%d/fragments with two pings between (chop %d)", i+19, chop),
			[]abEvent{msg(pong, "pongme 1!"), msg(pong, "pongme 2!"), msg(text, "fragment1fragment2fragment3fragment4fragment5")},
			chopped(frag(false, text, "fragment1"), chop), chopped(frag(false, cont, "fragment2"), chop),
			chopped(fr(ping, "pongme 1!"), chop), chopped(frag(false, cont, "fragment3"), chop),
			chopped(frag(false, cont, "fragment4"), chop), chopped(fr(ping, "pongme 2!"), chop),
			chopped(frag(true, cont, "fragment5"), chop))
	}

	// 6: UTF-8 handling.
	ok("6.1.1/empty text", []abEvent{msg(text, "")}, fr(text, ""))
	ok("6.1.2/empty text in 3 empty fragments", []abEvent{msg(text, "")},
		frag(false, text, ""), frag(false, cont, ""), frag(true, cont, ""))
	ok("6.1.3/empty fragments around a non-empty one", []abEvent{msg(text, "middle frame payload")},
		frag(false, text, ""), frag(false, cont, "middle frame payload"), frag(true, cont, ""))
	valid := "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"
	ok("6.2.1/valid UTF-8 in one frame", []abEvent{msg(text, valid)}, fr(text, valid))
	var split []abFrame
	for i := 0; i < len(valid); i++ { // 6.2.2/6.2.3: split at every byte, code points cut
		split = append(split, frag(i == len(valid)-1, map[bool]frame.Opcode{true: text, false: cont}[i == 0], valid[i:i+1]))
	}
	ok("6.2.3/valid UTF-8 fragmented at every octet", []abEvent{msg(text, valid)}, split...)
	ok("6.2.4/valid UTF-8 in octet-wise chops", []abEvent{msg(text, valid)}, chopped(fr(text, valid), 1))
	bad := "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64"
	fail("6.3.1/invalid UTF-8 (surrogate) in one frame", utf8Err, nil, fr(text, bad))
	var badSplit []abFrame
	for i := 0; i < len(bad); i++ {
		badSplit = append(badSplit, frag(i == len(bad)-1, map[bool]frame.Opcode{true: text, false: cont}[i == 0], bad[i:i+1]))
	}
	fail("6.3.2/invalid UTF-8 fragmented at every octet", utf8Err, nil, badSplit...)
	// 6.4.x: fail fast — the rest of the message is never sent, so the
	// close can only come from the invalid bytes seen so far.
	p1 := "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
	fail("6.4.1/invalid fragment, rest never sent", utf8Err, nil, frag(false, text, p1), frag(false, cont, "\xf4\x90\x80\x80"))
	fail("6.4.2/invalid byte in the second fragment, rest never sent", utf8Err, nil, frag(false, text, p1+"\xf4"), frag(false, cont, "\x90"))
	// 6.4.3/6.4.4: one frame announced whole, only its start written.
	cs = append(cs, abCase{id: "6.4.3/invalid chop of a frame whose rest never comes", codes: utf8Err,
		send: []abFrame{{fin: true, op: text, payload: []byte(p1 + "\xf4\x90\x80\x80"), chop: -len("edited")}}})
	cs = append(cs, abCase{id: "6.4.4/invalid byte at the end of a chop, rest never comes", codes: utf8Err,
		send: []abFrame{{fin: true, op: text, payload: []byte(p1 + "\xf4\x90"), chop: -len("\x80\x80edited")}}})
	// 6.5–6.23: a selection of Autobahn's UTF-8 table.
	for _, v := range []struct{ id, s string }{
		{"6.5.1/kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"},
		{"6.7.1/first 1-byte code point", "\x00"},
		{"6.7.4/first 4-byte code point", "\xf0\x90\x80\x80"},
		{"6.8.1/last 1-byte code point", "\x7f"},
		{"6.9.4/last code point U+10FFFF", "\xf4\x8f\xbf\xbf"},
		{"6.11.1/U+D7FF", "\xed\x9f\xbf"},
		{"6.11.2/U+E000", "\xee\x80\x80"},
		{"6.11.3/U+FFFD", "\xef\xbf\xbd"},
		{"6.23.1/noncharacter U+FFFE", "\xef\xbf\xbe"},
		{"6.23.2/noncharacter U+FFFF", "\xef\xbf\xbf"},
		{"6.23.7/noncharacter U+10FFFE", "\xf4\x8f\xbf\xbe"},
	} {
		ok(v.id, []abEvent{msg(text, v.s)}, fr(text, v.s))
	}
	for _, v := range []struct{ id, s string }{
		{"6.6.1/lone lead byte", "\xce"},
		{"6.6.3/valid then a truncated code point", "\xce\xba\xe1"},
		{"6.6.4/truncated 3-byte", "\xce\xba\xe1\xbd"},
		{"6.8.2/5-byte sequence", "\xf8\x88\x80\x80\x80"},
		{"6.9.3/6-byte sequence", "\xfc\x84\x80\x80\x80\x80"},
		{"6.10.1/above U+10FFFF", "\xf4\x90\x80\x80"},
		{"6.12.1/lone continuation byte", "\x80"},
		{"6.12.8/continuation run", "\x80\xbf\x80\xbf\x80\xbf\x80"},
		{"6.13.1/lead bytes followed by spaces", "\xc0 \xc1 \xc2 "},
		{"6.14.1/truncated 2-byte", "\xc0"},
		{"6.15.1/concatenated truncated sequences", "\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80"},
		{"6.16.1/byte 0xfe", "\xfe"},
		{"6.16.3/bytes fe fe ff ff", "\xfe\xfe\xff\xff"},
		{"6.17.1/overlong slash 2-byte", "\xc0\xaf"},
		{"6.17.3/overlong slash 4-byte", "\xf0\x80\x80\xaf"},
		{"6.18.1/maximum overlong 2-byte", "\xc1\xbf"},
		{"6.18.2/maximum overlong 3-byte", "\xe0\x9f\xbf"},
		{"6.19.1/overlong NUL", "\xc0\x80"},
		{"6.20.1/high surrogate U+D800", "\xed\xa0\x80"},
		{"6.20.7/low surrogate U+DFFF", "\xed\xbf\xbf"},
		{"6.21.1/surrogate pair", "\xed\xa0\x80\xed\xb0\x80"},
	} {
		fail(v.id, utf8Err, nil, fr(text, v.s))
	}

	// 7: close handling.
	cs = append(cs,
		// 7.1.1's close is commented out in the suite: Autobahn closes after the echo.
		abCase{id: "7.1.1/text, close after its echo", codes: normalEnd, want: []abEvent{msg(text, "Hello World!")},
			send: []abFrame{fr(text, "Hello World!")}, peerCloses: true},
		abCase{id: "7.1.2/two closes", codes: normalEnd, send: []abFrame{closeFrame(1000, ""), closeFrame(1000, "")}},
		abCase{id: "7.1.3/ping after close is not answered", codes: normalEnd, send: []abFrame{closeFrame(1000, ""), fr(ping, "")}},
		abCase{id: "7.1.4/text after close is not echoed", codes: normalEnd, send: []abFrame{closeFrame(1000, ""), fr(text, hello)}},
		abCase{id: "7.1.5/fragment, close, rest: nothing echoed", codes: normalEnd,
			send: []abFrame{frag(false, text, "fragment1"), closeFrame(1000, ""), frag(true, cont, "fragment2")}},
		abCase{id: "7.3.1/close with empty payload", send: []abFrame{fr(frame.OpClose, "")}},
		abCase{id: "7.3.2/close with 1-byte payload", codes: protoErr, send: []abFrame{fr(frame.OpClose, "*")}},
		abCase{id: "7.3.3/close 1000 without reason", codes: normalEnd, send: []abFrame{closeFrame(1000, "")}},
		abCase{id: "7.3.4/close 1000 with reason", codes: normalEnd, send: []abFrame{closeFrame(1000, "Hello World!")}},
		abCase{id: "7.3.5/close 1000 with 123-byte reason", codes: normalEnd, send: []abFrame{closeFrame(1000, strings.Repeat("*", 123))}},
		abCase{id: "7.3.6/close with 124-byte reason (126-byte payload)", codes: protoErr, send: []abFrame{closeFrame(1000, strings.Repeat("*", 124))}},
		abCase{id: "7.5.1/close reason with invalid UTF-8", codes: utf8Err, send: []abFrame{closeFrame(1000, bad)}},
	)
	for i, code := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		cs = append(cs, abCase{id: fmt.Sprintf("7.7.%d/valid close code %d", i+1, code),
			codes: []ws.StatusCode{ws.StatusNormalClosure, ws.StatusCode(code)}, send: []abFrame{closeFrame(code, "")}})
	}
	for i, code := range []uint16{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		cs = append(cs, abCase{id: fmt.Sprintf("7.9.%d/invalid close code %d", i+1, code), codes: protoErr, send: []abFrame{closeFrame(code, "")}})
	}
	for i, code := range []uint16{5000, 65535} { // informational in Autobahn
		cs = append(cs, abCase{id: fmt.Sprintf("7.13.%d/close code %d", i+1, code),
			codes: []ws.StatusCode{ws.StatusNormalClosure, ws.StatusProtocolError, ws.StatusCode(code)}, send: []abFrame{closeFrame(code, "")}})
	}

	// 10: auto-fragmented 64 KiB text (Autobahn's autoFragmentSize 1300).
	big := strings.Repeat("*", 65536)
	var pieces []abFrame
	for i := 0; i < len(big); i += 1300 {
		end := min(i+1300, len(big))
		pieces = append(pieces, frag(end == len(big), map[bool]frame.Opcode{true: text, false: cont}[i == 0], big[i:end]))
	}
	ok("10.1.1/64 KiB text auto-fragmented to 1300 bytes", []abEvent{msg(text, big)}, pieces...)
	return cs
}

// abPeer is the Autobahn side of a connection: it writes frames as role
// peerRole (masked from a client) and reads ours.
type abPeer struct {
	t      *testing.T
	conn   net.Conn
	br     *bufio.Reader
	masked bool // the peer masks its frames (it is the client)
}

func (p *abPeer) write(f abFrame) {
	p.t.Helper()
	b := rawFrame(f.fin, f.rsv, f.op, p.masked, f.payload)
	switch {
	case f.chop < 0: // announce -chop bytes more than are written: the rest never comes
		h := frame.Header{Fin: f.fin, Rsv: f.rsv, Opcode: f.op, Masked: p.masked, Length: int64(len(f.payload) - f.chop)}
		if p.masked {
			h.Mask = [4]byte{0x37, 0xfa, 0x21, 0x3d}
		}
		hb := frame.AppendHeader(nil, h)
		body := append([]byte(nil), f.payload...)
		if p.masked {
			frame.Mask(h.Mask, 0, body)
		}
		b = append(hb, body...)
	case f.chop > 0:
		for len(b) > f.chop {
			if _, err := p.conn.Write(b[:f.chop]); err != nil {
				require.True(p.t, isReset(err), "write: %v", err)
				return // our side failed the connection already and closed it
			}
			b = b[f.chop:]
		}
	}
	_, err := p.conn.Write(b)
	if err != nil && isReset(err) {
		return // our side failed the connection already and closed it
	}
	require.NoError(p.t, err)
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// readFrame reads one frame of ours, checking its mask bit.
func (p *abPeer) readFrame() (frame.Header, []byte, error) {
	h, err := frame.ReadHeader(p.br)
	if err != nil {
		return h, nil, err
	}
	require.Equal(p.t, !p.masked, h.Masked, "mask bit of a frame from our side")
	require.Zero(p.t, h.Rsv, "reserved bits of a frame from our side")
	b := make([]byte, h.Length)
	if _, err := io.ReadFull(p.br, b); err != nil {
		return h, nil, err
	}
	if h.Masked {
		frame.Mask(h.Mask, 0, b)
	}
	return h, b, nil
}

// run plays c and checks our side's answer; it returns after the close
// handshake, with the TCP connection still open on the peer's side.
func (p *abPeer) run(c abCase) {
	t := p.t
	t.Helper()
	for _, f := range c.send {
		p.write(f)
	}
	var got []abEvent
	var cur []byte
	var curOp frame.Opcode
	sentClose := false
	for _, f := range c.send {
		sentClose = sentClose || f.op == frame.OpClose
	}
	check := func() {
		if len(got) > len(c.want) || fmt.Sprint(got) != fmt.Sprint(c.want[:len(got)]) {
			t.Fatalf("events differ from Autobahn's expectation:\n got  %v\n want %v", got, c.want)
		}
		if c.peerCloses && !sentClose && len(got) == len(c.want) {
			sentClose = true
			p.write(closeFrame(1000, ""))
		}
	}
	check()
	for {
		h, b, err := p.readFrame()
		require.NoError(t, err, "reading our answer; events so far %v, want %v", got, c.want)
		switch h.Opcode {
		case frame.OpText, frame.OpBinary:
			require.Nil(t, cur, "a new message inside a fragmented one")
			cur, curOp = append([]byte{}, b...), h.Opcode
		case frame.OpContinuation:
			require.NotNil(t, cur, "a continuation with nothing to continue")
			cur = append(cur, b...)
		case frame.OpPong:
			got = append(got, abEvent{op: frame.OpPong, payload: string(b)})
			check()
			continue
		case frame.OpPing:
			t.Fatalf("unexpected ping from our side")
		case frame.OpClose:
			require.Equal(t, fmt.Sprint(c.want), fmt.Sprint(got), "events before the close (Autobahn's OK)")
			code, reason, err := frame.ParseClosePayload(b)
			require.NoError(t, err, "our close frame is valid")
			if len(b) == 0 {
				require.True(t, c.codes == nil || containsCode(c.codes, ws.StatusNormalClosure),
					"empty close body where Autobahn wants one of %v", c.codes)
			} else {
				want := c.codes
				if want == nil {
					want = normalEnd
				}
				require.Contains(t, want, code, "close code (reason %q)", reason)
			}
			if !sentClose {
				// Answer the close our side started, as Autobahn does.
				p.write(closeFrame(uint16(code), ""))
			}
			return
		default:
			t.Fatalf("unexpected opcode %v from our side", h.Opcode)
		}
		if h.Fin && cur != nil {
			got = append(got, abEvent{op: curOp, payload: string(cur)})
			cur = nil
			check()
		}
	}
}

func containsCode(cs []ws.StatusCode, c ws.StatusCode) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// abEchoServer runs a ws.Handler echo server (text stays text) and returns
// its address and the connections it accepted.
func abEchoServer(t *testing.T, opts ...ws.AcceptOption) (string, <-chan *ws.Conn) {
	t.Helper()
	conns := make(chan *ws.Conn, 1)
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		conns <- c
		for m := range c.Incoming() {
			if err := c.Send(ctx, m); err != nil {
				return
			}
		}
	}, opts...)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		_ = h.Shutdown(context.Background())
	})
	return srv.Listener.Addr().String(), conns
}

// TestAutobahnServer plays the Autobahn cases against our echo server from
// a raw client.
func TestAutobahnServer(t *testing.T) {
	for _, c := range abCases() {
		t.Run(c.id, func(t *testing.T) {
			t.Parallel()
			addr, conns := abEchoServer(t)
			conn, br := upgradeRaw(t, addr, "")
			sc := <-conns
			p := &abPeer{t: t, conn: conn, br: br, masked: true}
			require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
			p.run(c)
			// The server closes the TCP connection first (RFC 6455 §7.1.1);
			// Autobahn marks a client drop as FAILED BY CLIENT.
			_, err := io.Copy(io.Discard, br)
			if err != nil {
				require.True(t, isReset(err), "waiting for the server to close TCP: %v", err)
			}
			<-sc.Done()
		})
	}
}

// TestAutobahnServerLargeMessages: 9.1.6 and 9.2.6 (16 MiB text and
// binary, under the 32 MiB default limit) and smaller 9.x sizes, with
// 9.x's chopping (9.3/9.4: fragmented; 9.5/9.6: chopped writes).
func TestAutobahnServerLargeMessages(t *testing.T) {
	for _, c := range []struct {
		id       string
		op       frame.Opcode
		size     int
		fragment int
		chop     int
	}{
		{"9.1.1/64 KiB text", frame.OpText, 64 << 10, 0, 0},
		{"9.1.6/16 MiB text", frame.OpText, 16 << 20, 0, 0},
		{"9.2.1/64 KiB binary", frame.OpBinary, 64 << 10, 0, 0},
		{"9.2.6/16 MiB binary", frame.OpBinary, 16 << 20, 0, 0},
		{"9.3.1/4 MiB text in 64-byte fragments", frame.OpText, 1 << 20, 64, 0},
		{"9.4.1/4 MiB binary in 64 KiB fragments", frame.OpBinary, 4 << 20, 64 << 10, 0},
		{"9.5.1/1 MiB text in 64-byte chops", frame.OpText, 1 << 20, 0, 64 << 10},
		{"9.6.1/1 MiB binary in 64 KiB chops", frame.OpBinary, 1 << 20, 0, 64 << 10},
	} {
		t.Run(c.id, func(t *testing.T) {
			addr, conns := abEchoServer(t)
			conn, br := upgradeRaw(t, addr, "")
			sc := <-conns
			require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
			payload := bytes.Repeat([]byte("*"), c.size)
			if c.op == frame.OpBinary {
				payload = bytes.Repeat([]byte{0xfe}, c.size)
			}
			p := &abPeer{t: t, conn: conn, br: br, masked: true}
			var send []abFrame
			if c.fragment == 0 {
				send = []abFrame{{fin: true, op: c.op, payload: payload, chop: c.chop}}
			} else {
				for i := 0; i < len(payload); i += c.fragment {
					op := frame.OpContinuation
					if i == 0 {
						op = c.op
					}
					end := min(i+c.fragment, len(payload))
					send = append(send, abFrame{fin: end == len(payload), op: op, payload: payload[i:end]})
				}
			}
			done := make(chan struct{})
			go func() { // write while reading, as Autobahn's reactor does
				defer close(done)
				w := bufio.NewWriterSize(conn, 64<<10)
				for _, f := range send {
					_, _ = w.Write(rawFrame(f.fin, f.rsv, f.op, true, f.payload))
				}
				_ = w.Flush()
			}()
			var got []byte
			for {
				h, b, err := p.readFrame()
				require.NoError(t, err)
				require.NotEqual(t, frame.OpClose, h.Opcode, "closed: %v", b)
				if h.Opcode == frame.OpContinuation {
					got = append(got, b...)
				} else {
					require.Equal(t, c.op, h.Opcode)
					got = append(got[:0], b...)
				}
				if h.Fin {
					break
				}
			}
			<-done
			require.True(t, bytes.Equal(payload, got), "echo differs")
			p.write(closeFrame(1000, ""))
			h, _, err := p.readFrame()
			require.NoError(t, err)
			require.Equal(t, frame.OpClose, h.Opcode)
			_, _ = io.Copy(io.Discard, br)
			<-sc.Done()
		})
	}
}

// pmdOffer is one of the permessage-deflate offers Autobahn's client makes
// in 12.x and 13.x (autobahn's PerMessageDeflateOffer: it always accepts
// client_no_context_takeover and client_max_window_bits).
type pmdOffer struct {
	id    string
	offer string
	// bits is the server_max_window_bits our answer must carry (0: none).
	bits int
}

func pmdOffers() []pmdOffer {
	base := "permessage-deflate; client_no_context_takeover; client_max_window_bits"
	return []pmdOffer{
		{"12.x, 13.1/default offer", base, 0},
		{"13.2/server_no_context_takeover", base + "; server_no_context_takeover", 0},
		{"13.3/server_max_window_bits=8", base + "; server_max_window_bits=8", 8},
		{"13.3/server_max_window_bits=9", base + "; server_max_window_bits=9", 9},
		{"13.4/server_max_window_bits=15", base + "; server_max_window_bits=15", 15},
		{"13.5/server_no_context_takeover, server_max_window_bits=8", base + "; server_no_context_takeover; server_max_window_bits=8", 8},
		{"13.6/server_no_context_takeover, server_max_window_bits=15", base + "; server_no_context_takeover; server_max_window_bits=15", 15},
		{"13.7/three offers, the first with server_max_window_bits=8", base + "; server_no_context_takeover; server_max_window_bits=8, " +
			base + "; server_no_context_takeover, " + base, 8},
	}
}

// upgradeRawResp performs a client handshake by hand on a fresh TCP
// connection to addr and returns it with a reader past the 101 and the
// response.
func upgradeRawResp(t *testing.T, addr, extra string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: "+addr+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: "+key+"\r\nSec-WebSocket-Version: 13\r\n"+extra+"\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.Equal(t, handshake.AcceptKey(key), resp.Header.Get("Sec-WebSocket-Accept"))
	return conn, br, resp
}

// TestAutobahnServerCompression: the 12.x/13.x offers get a valid
// response, and compressed messages (whole and auto-fragmented, text and
// binary) are echoed with the payload sent.
func TestAutobahnServerCompression(t *testing.T) {
	data, err := os.ReadFile("docs/design.md") // human-readable text, like Autobahn's data files
	require.NoError(t, err)
	for _, o := range pmdOffers() {
		t.Run(o.id, func(t *testing.T) {
			addr, conns := abEchoServer(t, ws.WithCompression())
			conn, br, resp := upgradeRawResp(t, addr, "Sec-WebSocket-Extensions: "+o.offer+"\r\n")
			sc := <-conns
			ext := resp.Header.Get("Sec-WebSocket-Extensions")
			require.NotEmpty(t, ext, "Autobahn reports UNIMPLEMENTED for a declined offer")
			params, err := handshake.ParseExtensions(nil, ext)
			require.NoError(t, err, "response %q", ext)
			require.Len(t, params, 1)
			require.Equal(t, "permessage-deflate", params[0].Name)
			for _, prm := range params[0].Params {
				switch prm.Name {
				case "server_max_window_bits":
					require.Equal(t, strconv.Itoa(o.bits), prm.Value, "RFC 7692 §7.1.2.1: the value offered or smaller")
				case "client_max_window_bits":
					require.Contains(t, []string{"8", "9", "10", "11", "12", "13", "14", "15"}, prm.Value)
				case "server_no_context_takeover", "client_no_context_takeover":
					require.Empty(t, prm.Value)
				default:
					t.Fatalf("unknown parameter %q in %q", prm.Name, ext)
				}
			}
			require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
			// Autobahn's client, with client_no_context_takeover
			// accepted, compresses each message on its own.
			for i, n := range []int{16, 64, 256, 1024, 4096, 8192, 16384, 65536, 131072} {
				op, m := compressionCase(data, i, n)
				for _, fragSize := range []int{0, 256} {
					writeCompressed(t, conn, op, m, fragSize)
					gotOp, got, compressed := readCompressedRsv(t, br, false)
					require.False(t, t.Failed())
					require.Equal(t, op, gotOp)
					if o.bits > 0 && o.bits < 15 && len(m) > 1<<o.bits {
						// Each compressed message is compressed alone, so
						// one that fits the window keeps every
						// back-reference inside it; a longer one goes plain.
						require.False(t, compressed, "a %d-byte message compressed beyond a %d-bit window", len(m), o.bits)
					}
					require.True(t, bytes.Equal(m, got), "echo of %d bytes (fragment %d) differs", len(m), fragSize)
				}
			}
			p := &abPeer{t: t, conn: conn, br: br, masked: true}
			p.write(closeFrame(1000, ""))
			h, _, err := p.readFrame()
			require.NoError(t, err)
			require.Equal(t, frame.OpClose, h.Opcode)
			_, _ = io.Copy(io.Discard, br)
			<-sc.Done()
		})
	}
}

// writeCompressed sends m from a client as one permessage-deflate message.
func writeCompressed(t *testing.T, conn net.Conn, op frame.Opcode, m []byte, fragSize int) {
	t.Helper()
	writeCompressedAs(t, conn, op, m, fragSize, true)
}

// writeCompressedAs sends m as one permessage-deflate message compressed
// on its own (RFC 7692 §7.2.1), in fragments of fragSize bytes of the
// compressed payload when fragSize > 0, masked or not. It reports with
// t.Errorf, so it may run off the test goroutine.
func writeCompressedAs(t *testing.T, conn net.Conn, op frame.Opcode, m []byte, fragSize int, masked bool) {
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.DefaultCompression)
	if err == nil {
		_, err = fw.Write(m)
	}
	if err == nil {
		err = fw.Flush()
	}
	if err != nil {
		t.Errorf("deflate: %v", err)
		return
	}
	p := bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
	if fragSize <= 0 {
		fragSize = len(p) + 1
	}
	var out []byte
	for i := 0; i == 0 || i < len(p); i += fragSize {
		end := min(i+fragSize, len(p))
		fop, rsv := frame.OpContinuation, uint8(0)
		if i == 0 {
			fop, rsv = op, frame.Rsv1
		}
		out = append(out, rawFrame(end == len(p), rsv, fop, masked, p[i:end])...)
	}
	if _, err := conn.Write(out); err != nil {
		t.Errorf("write: %v", err)
	}
}

// inflate decompresses a permessage-deflate payload (RFC 7692 §7.2.2).
func inflate(t *testing.T, p []byte) []byte {
	fr := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff})))
	out, err := io.ReadAll(fr)
	if err != nil {
		t.Errorf("inflate: %v", err)
	}
	return out
}

// TestAutobahnServerManyMessages: 9.7.x and 9.8.x, 1000 messages sent back
// to back and echoed in order.
func TestAutobahnServerManyMessages(t *testing.T) {
	for _, c := range []struct {
		id   string
		op   frame.Opcode
		size int
	}{
		{"9.7.1/1000 empty text messages", frame.OpText, 0},
		{"9.7.3/1000 text messages of 256 bytes", frame.OpText, 256},
		{"9.8.4/1000 binary messages of 1 KiB", frame.OpBinary, 1024},
	} {
		t.Run(c.id, func(t *testing.T) {
			addr, conns := abEchoServer(t)
			conn, br := upgradeRaw(t, addr, "")
			sc := <-conns
			require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
			const n = 1000
			go func() {
				w := bufio.NewWriter(conn)
				for i := 0; i < n; i++ {
					p := bytes.Repeat([]byte{byte('a' + i%26)}, c.size)
					_, _ = w.Write(rawFrame(true, 0, c.op, true, p))
				}
				_ = w.Flush()
			}()
			p := &abPeer{t: t, conn: conn, br: br, masked: true}
			for i := 0; i < n; i++ {
				h, b, err := p.readFrame()
				require.NoError(t, err)
				require.Equal(t, c.op, h.Opcode, "message %d: %q", i, b)
				require.True(t, h.Fin)
				require.Equal(t, bytes.Repeat([]byte{byte('a' + i%26)}, c.size), b, "message %d", i)
			}
			p.write(closeFrame(1000, ""))
			h, _, err := p.readFrame()
			require.NoError(t, err)
			require.Equal(t, frame.OpClose, h.Opcode)
			_, _ = io.Copy(io.Discard, br)
			<-sc.Done()
		})
	}
}

// compressionCase is the i-th message of a compression case (Autobahn
// 12.x/13.x): n bytes of data, repeated as needed, binary and text in
// turn, and cut before a split code point so that text stays UTF-8.
func compressionCase(data []byte, i, n int) (frame.Opcode, []byte) {
	op := frame.OpBinary
	if i%2 == 1 {
		op = frame.OpText
	}
	var m []byte
	for len(m) < n {
		m = append(m, data...)
	}
	m = m[:n]
	for !frame.ValidUTF8(m) {
		m = m[:len(m)-1]
	}
	return op, m
}
