package actor

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws/frame"
)

// roles runs f for an actor in each role, over loopback TCP against a raw
// peer.
func roles(t *testing.T, f func(t *testing.T, role frame.Role)) {
	t.Helper()
	for _, r := range []frame.Role{frame.Server, frame.Client} {
		t.Run(r.String(), func(t *testing.T) { f(t, r) })
	}
}

func closeBody(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// Bad input at the frame level (RFC 6455 §5, §7.1.7): the actor sends the
// close code, reports it in Err, and ends.
func TestBadInput(t *testing.T) {
	tests := []struct {
		name  string
		only  frame.Role // 0: both roles
		bytes func(p *rawPeer) []byte
		code  frame.StatusCode
		err   error
	}{
		{"5.1/unmasked client frame", frame.Server, func(p *rawPeer) []byte {
			return p.frameBytes(true, 0, frame.OpText, []byte("hi"), boolp(false))
		}, frame.StatusProtocolError, frame.ErrUnmaskedFrame},
		{"5.1/masked server frame", frame.Client, func(p *rawPeer) []byte {
			return p.frameBytes(true, 0, frame.OpText, []byte("hi"), boolp(true))
		}, frame.StatusProtocolError, frame.ErrMaskedFrame},
		{"5.2/reserved bit without extension", 0, func(p *rawPeer) []byte {
			return p.frameBytes(true, frame.Rsv1, frame.OpText, []byte("hi"), nil)
		}, frame.StatusProtocolError, frame.ErrReservedBits},
		{"5.2/reserved data opcode", 0, func(p *rawPeer) []byte {
			return p.frameBytes(true, 0, 0x3, nil, nil)
		}, frame.StatusProtocolError, frame.ErrReservedOpcode},
		{"5.2/reserved control opcode", 0, func(p *rawPeer) []byte {
			return p.frameBytes(true, 0, 0xB, nil, nil)
		}, frame.StatusProtocolError, frame.ErrReservedOpcode},
		{"5.4/continuation without start", 0, func(p *rawPeer) []byte {
			return p.frameBytes(true, 0, frame.OpContinuation, []byte("x"), nil)
		}, frame.StatusProtocolError, frame.ErrUnexpectedContinuation},
		{"5.4/new data frame inside a fragmented message", 0, func(p *rawPeer) []byte {
			return append(p.frameBytes(false, 0, frame.OpText, []byte("a"), nil),
				p.frameBytes(true, 0, frame.OpBinary, []byte("b"), nil)...)
		}, frame.StatusProtocolError, frame.ErrExpectedContinuation},
		{"5.5/fragmented control frame", 0, func(p *rawPeer) []byte {
			return p.frameBytes(false, 0, frame.OpPing, nil, nil)
		}, frame.StatusProtocolError, frame.ErrControlFragmented},
		{"5.5/control frame over 125 bytes", 0, func(p *rawPeer) []byte {
			return p.frameBytes(true, 0, frame.OpPing, make([]byte, 126), nil)
		}, frame.StatusProtocolError, frame.ErrControlTooLong},
		{"5.5.1/close payload of 1 byte", 0, func(p *rawPeer) []byte {
			return p.frameBytes(true, 0, frame.OpClose, []byte{3}, nil)
		}, frame.StatusProtocolError, frame.ErrClosePayloadTooShort},
		{"7.4/close code 999", 0, func(p *rawPeer) []byte {
			return p.frameBytes(true, 0, frame.OpClose, closeBody(999, ""), nil)
		}, frame.StatusProtocolError, frame.ErrInvalidCloseCode},
		{"7.4/close code 1005 on the wire", 0, func(p *rawPeer) []byte {
			return p.frameBytes(true, 0, frame.OpClose, closeBody(1005, ""), nil)
		}, frame.StatusProtocolError, frame.ErrInvalidCloseCode},
		{"7.4/close code 1016", 0, func(p *rawPeer) []byte {
			return p.frameBytes(true, 0, frame.OpClose, closeBody(1016, ""), nil)
		}, frame.StatusProtocolError, frame.ErrInvalidCloseCode},
		{"7.4/close code 2999", 0, func(p *rawPeer) []byte {
			return p.frameBytes(true, 0, frame.OpClose, closeBody(2999, ""), nil)
		}, frame.StatusProtocolError, frame.ErrInvalidCloseCode},
		{"8.1/invalid UTF-8 in text", 0, func(p *rawPeer) []byte {
			return p.frameBytes(true, 0, frame.OpText, []byte("ok\xffno"), nil)
		}, frame.StatusInvalidFramePayloadData, frame.ErrInvalidUTF8},
		{"8.1/invalid UTF-8 in a fragment", 0, func(p *rawPeer) []byte {
			return append(p.frameBytes(false, 0, frame.OpText, []byte("ok"), nil),
				p.frameBytes(true, 0, frame.OpContinuation, []byte{0xC0, 0x80}, nil)...)
		}, frame.StatusInvalidFramePayloadData, frame.ErrInvalidUTF8},
		{"8.1/text cut inside a code point", 0, func(p *rawPeer) []byte {
			return p.frameBytes(true, 0, frame.OpText, []byte{'a', 0xE2, 0x82}, nil)
		}, frame.StatusInvalidFramePayloadData, frame.ErrInvalidUTF8},
		{"5.5.1/invalid UTF-8 in close reason", 0, func(p *rawPeer) []byte {
			return p.frameBytes(true, 0, frame.OpClose, closeBody(1000, "\xff"), nil)
		}, frame.StatusInvalidFramePayloadData, frame.ErrCloseReasonUTF8},
		{"10.4/message over the limit", 0, func(p *rawPeer) []byte {
			return p.frameBytes(true, 0, frame.OpBinary, make([]byte, 2000), nil)
		}, frame.StatusMessageTooBig, frame.ErrFrameTooLarge},
		{"10.4/fragmented message over the limit", 0, func(p *rawPeer) []byte {
			var b []byte
			b = append(b, p.frameBytes(false, 0, frame.OpBinary, make([]byte, 600), nil)...)
			return append(b, p.frameBytes(true, 0, frame.OpContinuation, make([]byte, 600), nil)...)
		}, frame.StatusMessageTooBig, frame.ErrMessageTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			roles(t, func(t *testing.T, role frame.Role) {
				if tt.only != 0 && tt.only != role {
					t.Skipf("%s applies to the %s role only", tt.name, tt.only)
				}
				c, p := newRaw(t, tcpMode, role, WithMaxMessageSize(1024))
				p.write(tt.bytes(p))
				code, _ := p.expectClose()
				require.Equal(t, tt.code, code, "close code on the wire")
				// The raw peer answers like a server would: echo and close.
				// (A server actor may have closed the socket already.)
				_, _ = p.conn.Write(p.frameBytes(true, 0, frame.OpClose, closeBody(uint16(code), ""), nil))
				p.conn.Close()
				err := waitDone(t, c)
				ce := requireCloseError(t, err, tt.code, false, false)
				require.Equal(t, tt.code, CloseStatus(err))
				var pe *frame.ProtocolError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, tt.code, pe.Code)
				require.ErrorIs(t, ce, tt.err)
			})
		})
	}
}

// 5.5.2: a ping is answered with its payload even when the user only sends
// and never reads Incoming.
func TestPingAnsweredWithoutReading(t *testing.T) {
	roles(t, func(t *testing.T, role frame.Role) {
		c, p := newRaw(t, tcpMode, role, WithIncomingBuffer(1))
		go func() { _ = c.Send(context.Background(), Text("from actor")) }()
		p.send(true, frame.OpBinary, []byte("1")) // fills Incoming
		p.send(true, frame.OpBinary, []byte("2")) // held by the supervisor
		p.send(true, frame.OpPing, []byte("are you there"))
		var pong []byte
		for pong == nil {
			op, b, err := p.next()
			require.NoError(t, err)
			if op == frame.OpPong {
				pong = b
			}
		}
		require.Equal(t, "are you there", string(pong))
		require.Nil(t, c.Err())
	})
}

// 5.5.3: a flood of pings is answered in order, the latest ping always,
// and every ping while no more than maxPongs wait (Autobahn 2.10 sends 10);
// beyond that pongs are coalesced, so the flood costs bounded memory and
// the reader never waits for the writer.
func TestPingFlood(t *testing.T) {
	roles(t, func(t *testing.T, role frame.Role) {
		c, p := newRaw(t, tcpMode, role)
		const n = 5000
		var buf []byte
		for i := 1; i <= n; i++ {
			buf = append(buf, p.frameBytes(true, 0, frame.OpPing, binary.BigEndian.AppendUint64(nil, uint64(i)), nil)...)
		}
		go func() { _, _ = p.conn.Write(buf) }()
		pongs, last := 0, uint64(0)
		for {
			op, b, err := p.next()
			require.NoError(t, err)
			require.Equal(t, frame.OpPong, op)
			pongs++
			require.Greater(t, pingID(b), last, "pongs in the order of their pings")
			last = pingID(b)
			if pingID(b) == n {
				break
			}
		}
		require.LessOrEqual(t, pongs, n)
		require.Nil(t, c.Err())
	})
}

// 7.1.1: a close from the peer while Incoming is full and nobody reads still
// ends the connection.
func TestPeerCloseWhileIncomingFull(t *testing.T) {
	roles(t, func(t *testing.T, role frame.Role) {
		c, p := newRaw(t, tcpMode, role, WithIncomingBuffer(1), WithCloseGracePeriod(time.Second))
		p.send(true, frame.OpBinary, []byte("1"))
		p.send(true, frame.OpBinary, []byte("2"))
		p.sendClose(frame.StatusGoingAway, "shutdown")
		code, _ := p.expectClose()
		require.Equal(t, frame.StatusGoingAway, code)
		p.conn.Close()
		ce := requireCloseError(t, waitDone(t, c), frame.StatusGoingAway, true, true)
		require.Equal(t, "shutdown", ce.Reason)
		// What was delivered before the end can still be read.
		m, ok := <-c.Incoming()
		require.True(t, ok)
		require.Equal(t, "1", string(m.Data))
	})
}

// Our Close while Incoming is full and the peer keeps sending: the reader
// stops waiting for the user so it can see the peer's close.
func TestCloseWhileIncomingFull(t *testing.T) {
	roles(t, func(t *testing.T, role frame.Role) {
		c, p := newRaw(t, tcpMode, role, WithIncomingBuffer(1))
		for i := range 10 {
			p.send(true, frame.OpBinary, []byte{byte(i)})
		}
		done := make(chan error, 1)
		go func() { done <- c.Close(context.Background(), frame.StatusNormalClosure, "") }()
		code, _ := p.expectClose()
		require.Equal(t, frame.StatusNormalClosure, code)
		p.sendClose(code, "")
		if role == frame.Client {
			p.conn.Close() // the server closes TCP first
		}
		require.NoError(t, <-done)
		requireCloseError(t, c.Err(), frame.StatusNormalClosure, false, true)
	})
}

// 7.1.1: a peer that never answers our close: after the grace period the
// socket is closed anyway.
func TestPeerNeverAnswersClose(t *testing.T) {
	roles(t, func(t *testing.T, role frame.Role) {
		c, p := newRaw(t, tcpMode, role, WithCloseGracePeriod(50*time.Millisecond))
		err := c.Close(context.Background(), frame.StatusNormalClosure, "bye")
		require.ErrorIs(t, err, ErrCloseTimeout)
		ce := requireCloseError(t, c.Err(), frame.StatusNormalClosure, false, false)
		require.Equal(t, "bye", ce.Reason)
		code, _ := p.expectClose()
		require.Equal(t, frame.StatusNormalClosure, code)
		p.expectEOF()
	})
}

// 5.5.1: data after the peer's close frame is ignored.
func TestDataAfterClose(t *testing.T) {
	roles(t, func(t *testing.T, role frame.Role) {
		c, p := newRaw(t, tcpMode, role)
		// One write: a server actor closes the socket once it has echoed.
		var b []byte
		b = append(b, p.frameBytes(true, 0, frame.OpText, []byte("before"), nil)...)
		b = append(b, p.frameBytes(true, 0, frame.OpClose, closeBody(1000, ""), nil)...)
		b = append(b, p.frameBytes(true, 0, frame.OpText, []byte("after"), nil)...)
		b = append(b, p.frameBytes(true, 0, frame.OpPing, nil, nil)...)
		b = append(b, 0xFF, 0xFF, 0xFF) // garbage
		p.write(b)
		code, _ := p.expectClose()
		require.Equal(t, frame.StatusNormalClosure, code)
		p.conn.Close()
		requireCloseError(t, waitDone(t, c), frame.StatusNormalClosure, true, true)
		var got []string
		for m := range c.Incoming() {
			got = append(got, string(m.Data))
		}
		require.Equal(t, []string{"before"}, got)
	})
}

// The peer vanishes in the middle of a frame: the connection ends with an
// unexpected EOF, and no close frame is claimed.
func TestPeerVanishesMidFrame(t *testing.T) {
	roles(t, func(t *testing.T, role frame.Role) {
		c, p := newRaw(t, tcpMode, role)
		b := p.frameBytes(true, 0, frame.OpBinary, make([]byte, 100), nil)
		p.write(b[:50])
		p.conn.Close()
		err := waitDone(t, c)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		var ce *CloseError
		require.False(t, errors.As(err, &ce))
		require.Equal(t, frame.StatusAbnormalClosure, CloseStatus(err))
	})
}

// 10.4: a message over the limit that arrives slowly, fragment by fragment,
// fails with 1009 as soon as it crosses the limit.
func TestOversizedMessageArrivesSlowly(t *testing.T) {
	roles(t, func(t *testing.T, role frame.Role) {
		c, p := newRaw(t, tcpMode, role, WithMaxMessageSize(100))
		p.send(false, frame.OpBinary, make([]byte, 40))
		sent := 40
		closed := make(chan frame.StatusCode, 1)
		go func() {
			code, _ := p.expectClose()
			closed <- code
		}()
		for sent <= 100 {
			time.Sleep(5 * time.Millisecond) // a slow peer
			select {
			case <-closed:
				t.Fatalf("closed after %d bytes, within the limit", sent)
			default:
			}
			p.send(false, frame.OpContinuation, make([]byte, 20))
			sent += 20
		}
		require.Equal(t, frame.StatusMessageTooBig, <-closed)
		p.conn.Close()
		requireCloseError(t, waitDone(t, c), frame.StatusMessageTooBig, false, false)
	})
}

// Keepalive: a peer that reads but never answers pings is declared dead.
func TestKeepaliveDeadPeer(t *testing.T) {
	roles(t, func(t *testing.T, role frame.Role) {
		c, p := newRaw(t, tcpMode, role, WithKeepalive(10*time.Millisecond, 30*time.Millisecond))
		go func() {
			for {
				if _, _, err := p.next(); err != nil {
					return
				}
			}
		}()
		err := waitDone(t, c)
		require.ErrorIs(t, err, ErrPongTimeout)
		var te interface{ Timeout() bool }
		require.ErrorAs(t, err, &te)
		require.True(t, te.Timeout())
	})
}

// A peer that stops reading: the write timeout ends the connection.
func TestWriteTimeout(t *testing.T) {
	c, _ := newRaw(t, tcpMode, frame.Server, WithWriteTimeout(50*time.Millisecond))
	big := make([]byte, 1<<20)
	for c.Err() == nil {
		if err := c.Send(context.Background(), Binary(big)); err != nil {
			break
		}
	}
	err := waitDone(t, c)
	var te interface{ Timeout() bool }
	require.ErrorAs(t, err, &te)
	require.True(t, te.Timeout())
}

// Close while 100 goroutines send: nothing panics, every sender returns,
// and the stream the peer reads is whole up to the close frame.
func TestCloseWhileSending(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		cl, sv := newPair(t, m, nil, nil)
		var wg sync.WaitGroup
		payload := bytes.Repeat([]byte("x"), 1000)
		for i := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					if i%2 == 0 {
						if err := cl.Send(context.Background(), Binary(payload)); err != nil {
							return
						}
						continue
					}
					select {
					case cl.Outgoing() <- Binary(payload):
					case <-cl.Done():
						return
					}
				}
			}()
		}
		go func() {
			for range sv.Incoming() {
			}
		}()
		for sv.Stats().MessagesIn < 200 {
			recvTick(t, sv)
		}
		require.NoError(t, cl.Close(context.Background(), frame.StatusNormalClosure, ""))
		wg.Wait()
		requireCloseError(t, waitDone(t, sv), frame.StatusNormalClosure, true, true)
	})
}

// recvTick waits a moment for more traffic without synchronising on time:
// it returns early when the connection ends.
func recvTick(t *testing.T, c *Conn) {
	t.Helper()
	select {
	case <-c.Done():
		t.Fatalf("connection ended: %v", c.Err())
	case <-time.After(time.Millisecond):
	}
}

// 7.1.5: a peer that resets the connection while Incoming is full and
// nobody reads: the paused reader is still reading the socket, so the
// connection ends with the I/O error (no close frame, 1006) instead of
// waiting for the user forever; what reached Incoming stays readable.
func TestPeerResetWhileIncomingFull(t *testing.T) {
	roles(t, func(t *testing.T, role frame.Role) {
		c, p := newRaw(t, tcpMode, role, WithIncomingBuffer(1))
		for _, s := range []string{"1", "2", "3"} {
			p.send(true, frame.OpBinary, []byte(s))
		}
		tc, ok := p.conn.(*net.TCPConn)
		require.True(t, ok)
		require.NoError(t, tc.SetLinger(0)) // Close sends RST
		require.NoError(t, p.conn.Close())
		err := waitDone(t, c)
		var ce *CloseError
		require.False(t, errors.As(err, &ce), "no close frame was exchanged: %v", err)
		require.ErrorContains(t, err, "ws: read: ")
		require.Equal(t, frame.StatusAbnormalClosure, CloseStatus(err))
		m, ok := <-c.Incoming()
		require.True(t, ok)
		require.Equal(t, "1", string(m.Data))
	})
}

// failWrites is a socket whose writes fail.
type failWrites struct{ net.Conn }

var errBoom = errors.New("boom")

func (failWrites) Write([]byte) (int, error) { return 0, errBoom }

// A Send written on the caller's goroutine (the writer was idle) that fails
// returns the write error and ends the connection with it, as a failure of
// the writer goroutine does.
func TestSendWriteFails(t *testing.T) {
	a, b := sockets(t, tcpMode)
	c, err := New(failWrites{b}, nil, frame.Server)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	err = c.Send(context.Background(), Text("x"))
	require.ErrorIs(t, err, errBoom)
	require.ErrorContains(t, err, "ws: write: ")
	require.ErrorIs(t, waitDone(t, c), errBoom)
	require.ErrorIs(t, c.Send(context.Background(), Text("y")), ErrClosed)
}

// 5.5.1: Sends racing a Close from many goroutines — some written on their
// own goroutine, some queued — never put a data frame after the close frame,
// and each returns nil (written) or ErrClosed. The raw peer reads every
// frame the actor sent and checks that the close frame is the last.
func TestSendsRacingClose(t *testing.T) {
	roles(t, func(t *testing.T, role frame.Role) {
		c, p := newRaw(t, tcpMode, role)
		payload := bytes.Repeat([]byte("y"), 300)
		var wg sync.WaitGroup
		var sent atomic.Int64
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					err := c.Send(context.Background(), Binary(payload))
					if err != nil {
						assert.ErrorIs(t, err, ErrClosed)
						return
					}
					sent.Add(1)
				}
			}()
		}
		type result struct {
			data   int64
			closed bool
			after  int // frames after the close frame
		}
		got := make(chan result, 1)
		go func() {
			var r result
			for {
				op, _, err := p.next()
				if err != nil {
					got <- r
					return
				}
				switch {
				case r.closed:
					r.after++
				case op == frame.OpClose:
					r.closed = true
					p.closeBack()
				default:
					r.data++
				}
			}
		}()
		for c.Stats().MessagesOut < 100 {
			recvTick(t, c)
		}
		require.NoError(t, c.Close(context.Background(), frame.StatusNormalClosure, ""))
		wg.Wait()
		r := <-got
		require.True(t, r.closed, "no close frame")
		require.Zero(t, r.after, "frames after the close frame")
		require.Equal(t, sent.Load(), r.data, "every Send that returned nil was written")
	})
}

// closeBack answers the actor's close frame and half-closes the socket, as
// a server closes TCP first (RFC 6455 §7.1.1), so that a client actor need
// not wait out its grace period. It does not fail the test: it may run off
// the test goroutine.
func (p *rawPeer) closeBack() {
	b, _ := frame.AppendClosePayload(nil, frame.StatusNormalClosure, "")
	_, _ = p.conn.Write(p.frameBytes(true, 0, frame.OpClose, b, nil))
	if tc, ok := p.conn.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}
