package actor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

// 6.1/6.2: messages sent one way arrive whole, in order, with their type.
func TestSendReceive(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 8<<10) // 128 KiB
	tests := []struct {
		name       string
		clientOpts []Option
		msgs       []Message
	}{
		{"6.1/text", nil, []Message{Text("hello"), Text("")}},
		{"6.1/binary", nil, []Message{Binary([]byte{0, 1, 2}), Binary(nil)}},
		{"6.1/large binary through writev and masking", nil, []Message{Binary(big), Text("after")}},
		{"5.4/fragmented by the sender", []Option{WithFragmentSize(1000)}, []Message{Binary(big), Text("x"), Text(string(big[:3000]))}},
		{"6.1/small write buffer", []Option{WithWriteBufferSize(256)}, []Message{Binary(big[:10000]), Text("y")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(t, func(t *testing.T, m mode) {
				for _, dir := range []string{"client to server", "server to client"} {
					t.Run(dir, func(t *testing.T) {
						cl, sv := newPair(t, m, tt.clientOpts, tt.clientOpts)
						from, to := cl, sv
						if dir == "server to client" {
							from, to = sv, cl
						}
						ctx := context.Background()
						go func() {
							for i, msg := range tt.msgs {
								if i%2 == 0 {
									_ = from.Send(ctx, msg)
								} else {
									select {
									case from.Outgoing() <- msg:
									case <-from.Done():
									}
								}
							}
						}()
						for _, want := range tt.msgs {
							got := recv(t, to)
							require.Equal(t, want.Type, got.Type)
							require.Equal(t, len(want.Data), len(got.Data))
							require.True(t, bytes.Equal(want.Data, got.Data))
						}
						st := to.Stats()
						require.EqualValues(t, len(tt.msgs), st.MessagesIn)
					})
				}
			})
		})
	}
}

// 6.1: messages a goroutine puts on Outgoing before a Send go out before it.
func TestOutgoingThenSendOrder(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		cl, sv := newPair(t, m, []Option{WithOutgoingBuffer(100)}, nil)
		for i := range 50 {
			cl.Outgoing() <- Binary([]byte{byte(i)})
		}
		require.NoError(t, cl.Send(context.Background(), Binary([]byte{50})))
		for i := range 51 {
			require.Equal(t, []byte{byte(i)}, recv(t, sv).Data)
		}
	})
}

// 6.1: with Sends that write on their own goroutine when the writer is idle,
// each goroutine's messages still go out in its order, Outgoing and Send
// mixed; one goroutine's Outgoing message never overtakes its later Send.
func TestMixedSendOrderConcurrent(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		cl, sv := newPair(t, m, nil, []Option{WithIncomingBuffer(1024)})
		const senders, each = 4, 200
		var wg sync.WaitGroup
		for g := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					msg := Binary([]byte{byte(g), byte(i)})
					if i%3 == 0 {
						cl.Outgoing() <- msg
						continue
					}
					if err := cl.Send(context.Background(), msg); err != nil {
						t.Errorf("Send: %v", err)
						return
					}
				}
			}()
		}
		next := make([]int, senders)
		for range senders * each {
			d := recv(t, sv).Data
			require.Len(t, d, 2)
			require.Equal(t, next[d[0]], int(d[1]), "sender %d out of order", d[0])
			next[d[0]]++
		}
		wg.Wait()
	})
}

// 5.5.2/5.5.3: Ping returns the RTT of its pong; OnPing/OnPong observe.
func TestPing(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		pinged := make(chan []byte, 1)
		ponged := make(chan []byte, 1)
		keep := func(ch chan []byte) func([]byte) {
			return func(p []byte) {
				select { // a callback must not block: it runs on the reader
				case ch <- append([]byte(nil), p...):
				default:
				}
			}
		}
		cl, _ := newPair(t, m, []Option{OnPong(keep(ponged))}, []Option{OnPing(keep(pinged))})
		ctx := context.Background()
		rtt, err := cl.Ping(ctx)
		require.NoError(t, err)
		require.Positive(t, rtt)
		require.Equal(t, rtt, cl.Stats().RTT)
		require.Equal(t, <-pinged, <-ponged)

		// Concurrent pings may share a frame; each gets an answer.
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := cl.Ping(ctx)
				require.NoError(t, err)
			}()
		}
		wg.Wait()
	})
}

// 7.1.2: the close handshake, started by either side, ends both with the
// code sent; Close returns nil.
func TestCloseHandshake(t *testing.T) {
	tests := []struct {
		name   string
		code   frame.StatusCode
		reason string
		want   frame.StatusCode
	}{
		{"7.1.2/normal closure with reason", frame.StatusNormalClosure, "bye", frame.StatusNormalClosure},
		{"7.4/application code", 4000, "", 4000},
		{"7.1.5/no status code", frame.StatusNoStatusRcvd, "", frame.StatusNoStatusRcvd},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(t, func(t *testing.T, m mode) {
				for _, starter := range []frame.Role{frame.Client, frame.Server} {
					t.Run("started by "+starter.String(), func(t *testing.T) {
						cl, sv := newPair(t, m, nil, nil)
						local, remote := cl, sv
						if starter == frame.Server {
							local, remote = sv, cl
						}
						require.NoError(t, local.Close(context.Background(), tt.code, tt.reason))
						ce := requireCloseError(t, waitDone(t, local), tt.want, false, true)
						// The echo carries the code only (§5.5.1).
						require.Empty(t, ce.Reason)
						ce = requireCloseError(t, waitDone(t, remote), tt.want, true, true)
						require.Equal(t, tt.reason, ce.Reason)
						_, ok := <-local.Incoming()
						require.False(t, ok, "Incoming closed after Done")
						// Closing again answers the same.
						require.NoError(t, local.Close(context.Background(), frame.StatusNormalClosure, ""))
						require.NoError(t, remote.Close(context.Background(), frame.StatusNormalClosure, ""))
						require.ErrorIs(t, local.Send(context.Background(), Text("late")), ErrClosed)
						_, err := local.Ping(context.Background())
						require.ErrorIs(t, err, ErrClosed)
						_, err = local.Receive(context.Background())
						require.ErrorIs(t, err, ErrClosed)
					})
				}
			})
		})
	}
}

// 7.1.2: Close from many goroutines at once sends one close frame and
// returns nil everywhere.
func TestCloseConcurrent(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		cl, sv := newPair(t, m, nil, nil)
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := cl
				if i%2 == 1 {
					c = sv
				}
				errs <- c.Close(context.Background(), frame.StatusNormalClosure, "")
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	})
}

// 7.1.2: a Close with an invalid code is refused and the connection goes on.
func TestCloseInvalidCode(t *testing.T) {
	cl, sv := newPair(t, pipeMode, nil, nil)
	for _, code := range []frame.StatusCode{999, frame.StatusAbnormalClosure, frame.StatusTLSHandshake, 2999, 5000} {
		require.Error(t, cl.Close(context.Background(), code, ""), "code %d", code)
	}
	require.Error(t, cl.Close(context.Background(), frame.StatusNormalClosure, string(make([]byte, 124))))
	require.Error(t, cl.Close(context.Background(), frame.StatusNormalClosure, "\xff"))
	require.NoError(t, cl.Send(context.Background(), Text("still open")))
	require.Equal(t, "still open", string(recv(t, sv).Data))
}

// Cancelling a Send, Ping or Receive ends that call only.
func TestCancelIsLocal(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		cl, sv := newPair(t, m, nil, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		require.ErrorIs(t, cl.Send(ctx, Text("x")), context.Canceled)
		_, err := cl.Ping(ctx)
		require.ErrorIs(t, err, context.Canceled)
		short, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel2()
		_, err = sv.Receive(short)
		require.ErrorIs(t, err, context.DeadlineExceeded)

		require.NoError(t, cl.Send(context.Background(), Text("alive")))
		got, err := sv.Receive(context.Background())
		require.NoError(t, err)
		require.Equal(t, "alive", string(got.Data))
		_, err = sv.Ping(context.Background())
		require.NoError(t, err)
	})
}

// A Send whose ctx ends before its message started is not sent and the
// connection goes on; one whose ctx ends mid-write returns at once and
// ends the connection, since the stream cannot go on after part of a frame.
func TestSendCancelMidWrite(t *testing.T) {
	// A raw peer over net.Pipe that does not read yet: the first Send
	// blocks in its own write and the next one queues behind it.
	c, p := newRaw(t, pipeMode, frame.Server)
	big := bytes.Repeat([]byte{'a'}, 64<<10)
	firstDone := make(chan error, 1)
	ctx1, cancel1 := context.WithCancel(context.Background())
	go func() { firstDone <- c.Send(ctx1, Binary(big)) }()
	first := make([]byte, 1)
	_, err := io.ReadFull(p.conn, first)
	require.NoError(t, err)

	ctx2, cancel2 := context.WithCancel(context.Background())
	secondDone := make(chan error, 1)
	go func() { secondDone <- c.Send(ctx2, Text("never")) }()
	require.Eventually(t, func() bool { return c.Stats().OutgoingQueued == 1 }, 5*time.Second, time.Millisecond)
	cancel2()
	require.ErrorIs(t, <-secondDone, context.Canceled) // not started: returns at once
	require.Nil(t, c.Err(), "a Send cancelled before its message started leaves the connection alone")

	cancel1()
	require.ErrorIs(t, waitErr(t, firstDone), context.Canceled)
	require.ErrorIs(t, waitDone(t, c), errSendCancelled)
}

// A Send's ctx deadline bounds its write even without WithWriteTimeout: a
// peer that stopped reading does not hold the caller until keepalive.
func TestSendDeadlineStalledPeer(t *testing.T) {
	c, _ := newRaw(t, tcpMode, frame.Server) // the raw peer never reads
	big := make([]byte, 32<<20)              // more than both socket buffers
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Send(ctx, Binary(big)) }()
	require.ErrorIs(t, waitErr(t, done), context.DeadlineExceeded)
	require.ErrorIs(t, waitDone(t, c), errSendCancelled)
}

// Close's ctx bounds the handshake: when it ends the socket is closed.
func TestCloseCtxBoundsHandshake(t *testing.T) {
	c, p := newRaw(t, tcpMode, frame.Server)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.Close(ctx, frame.StatusGoingAway, "later")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	ce := requireCloseError(t, c.Err(), frame.StatusGoingAway, false, false)
	require.ErrorIs(t, ce, context.DeadlineExceeded)
	code, reason := p.expectClose()
	require.Equal(t, frame.StatusGoingAway, code)
	require.Equal(t, "later", reason)
	p.expectEOF()
}

// WithLifetime: cancelling the lifetime closes with 1001.
func TestLifetime(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		life, cancel := context.WithCancel(context.Background())
		cl, sv := newPair(t, m, nil, []Option{WithLifetime(life)})
		cancel()
		requireCloseError(t, waitDone(t, sv), frame.StatusGoingAway, false, true)
		requireCloseError(t, waitDone(t, cl), frame.StatusGoingAway, true, true)
	})
}

// Keepalive keeps a live connection and measures its RTT.
func TestKeepaliveLive(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		ponged := make(chan struct{}, 100)
		cl, _ := newPair(t, m, []Option{
			WithKeepalive(5*time.Millisecond, time.Second),
			OnPong(func([]byte) {
				select {
				case ponged <- struct{}{}:
				default:
				}
			}),
		}, nil)
		for range 3 {
			<-ponged
		}
		require.Nil(t, cl.Err())
		require.Eventually(t, func() bool { return cl.Stats().RTT > 0 }, 5*time.Second, time.Millisecond)
	})
}

// Stats counts data messages and payload bytes both ways.
func TestStats(t *testing.T) {
	cl, sv := newPair(t, tcpMode, nil, nil)
	for range 3 {
		require.NoError(t, cl.Send(context.Background(), Binary(make([]byte, 100))))
	}
	for range 3 {
		recv(t, sv)
	}
	require.Equal(t, Stats{MessagesOut: 3, BytesOut: 300}, cl.Stats())
	require.Equal(t, Stats{MessagesIn: 3, BytesIn: 300}, sv.Stats())
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
	}{
		{"negative incoming buffer", WithIncomingBuffer(-1)},
		{"negative outgoing buffer", WithOutgoingBuffer(-1)},
		{"zero max message", WithMaxMessageSize(0)},
		{"zero max frame", WithMaxFrameSize(0)},
		{"frame over message", func(c *config) { c.maxMessage, c.maxFrame = 10, 20 }},
		{"negative fragment", WithFragmentSize(-1)},
		{"keepalive without timeout", WithKeepalive(time.Second, 0)},
		{"negative write timeout", WithWriteTimeout(-1)},
		{"zero grace", WithCloseGracePeriod(0)},
		{"tiny read buffer", WithReadBufferSize(8)},
		{"nil lifetime", WithLifetime(nilContext())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := sockets(t, pipeMode)
			c, err := New(a, nil, frame.Client, tt.opt)
			require.Error(t, err)
			require.Nil(t, c)
		})
	}
	a, _ := sockets(t, pipeMode)
	_, err := New(a, nil, frame.Role(0))
	require.ErrorIs(t, err, ErrInvalidRole)
}

func TestInvalidMessageType(t *testing.T) {
	cl, _ := newPair(t, pipeMode, nil, nil)
	require.ErrorIs(t, cl.Send(context.Background(), Message{Type: frame.OpPing}), ErrInvalidMessageType)
}

// A Message of no data type on Outgoing (the zero Message included) is
// dropped and counted; the connection goes on.
func TestOutgoingInvalidMessageDropped(t *testing.T) {
	cl, sv := newPair(t, tcpMode, nil, nil)
	cl.Outgoing() <- Message{}
	cl.Outgoing() <- Message{Type: frame.OpClose}
	cl.Outgoing() <- Text("after")
	require.Equal(t, "after", string(recv(t, sv).Data))
	require.Equal(t, uint64(2), cl.Stats().OutgoingDropped)
	require.Nil(t, cl.Err())
}

func TestCloseStatus(t *testing.T) {
	require.Equal(t, frame.StatusCode(0), CloseStatus(nil))
	require.Equal(t, frame.StatusAbnormalClosure, CloseStatus(errors.New("x")))
	require.Equal(t, frame.StatusGoingAway, CloseStatus(&CloseError{Code: frame.StatusGoingAway}))
}

// nilContext returns a nil context, to test that WithLifetime refuses it.
func nilContext() context.Context { return nil }

// 9/RFC 7692: the Conn owns the extension and closes it once its reader
// and writer have stopped.
func TestExtensionClosed(t *testing.T) {
	a, b := sockets(t, tcpMode)
	ext := newDeflate(t, frame.Client)
	cl := mustNew(t, a, frame.Client, WithExtension(ext))
	sv := mustNew(t, b, frame.Server, WithExtension(newDeflate(t, frame.Server)))
	require.NoError(t, cl.Send(context.Background(), Text("compressed")))
	require.Equal(t, "compressed", string(recv(t, sv).Data))
	require.NoError(t, cl.Close(context.Background(), frame.StatusNormalClosure, ""))
	_, _, err := ext.EncodeMessage(nil, []byte("after the end"), frame.OpText)
	require.ErrorIs(t, err, deflate.ErrClosed)
}

// 4.1: bytes the handshake's reader already holds past the handshake are
// the first frames; a big handshake reader is replaced by one of the read
// buffer size (an idle connection should not keep 16 KiB) without losing
// them.
func TestHandshakeReaderHandOver(t *testing.T) {
	for _, buffered := range []bool{false, true} {
		t.Run(fmt.Sprint("buffered=", buffered), func(t *testing.T) {
			a, b := sockets(t, tcpMode)
			p := &rawPeer{t: t, conn: a, role: frame.Client, key: [4]byte{1, 2, 3, 4}}
			br := bufio.NewReaderSize(b, 16<<10)
			if buffered {
				p.send(true, frame.OpText, []byte("early"))
				_, err := br.Peek(1)
				require.NoError(t, err)
			}
			c, err := New(b, br, frame.Server, WithReadBufferSize(64))
			require.NoError(t, err)
			t.Cleanup(func() { a.Close(); <-c.Done() })
			require.LessOrEqual(t, c.br.Size(), 64)
			if buffered {
				require.Equal(t, "early", string(recv(t, c).Data))
			}
			p.send(true, frame.OpText, bytes.Repeat([]byte("x"), 300))
			require.Len(t, recv(t, c).Data, 300)
		})
	}
}
