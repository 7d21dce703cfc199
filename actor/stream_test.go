package actor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws/frame"
)

// TestStreamRoundTrip sends messages of every size class with SendStream,
// both ways, with and without a fragment size, and reads them back through
// NextReader and through Incoming: what arrives is what was read from the
// source, compressed or not (the deflate mode compresses every fragment).
func TestStreamRoundTrip(t *testing.T) {
	sizes := []int64{0, 1, 1000, DefaultStreamChunk, DefaultStreamChunk + 1, 1<<20 + 7}
	run(t, func(t *testing.T, m mode) {
		for _, tc := range []struct {
			name     string
			fragment int
			streamed bool
		}{
			{"whole/nofrag", 0, false},
			{"streamed/nofrag", 0, true},
			{"streamed/frag5000", 5000, true},
			{"whole/frag5000", 5000, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var opts []Option
				if tc.fragment > 0 {
					opts = append(opts, WithFragmentSize(tc.fragment))
				}
				if tc.streamed {
					opts = append(opts, WithStreamedReceive())
				}
				cl, sv := newPair(t, m, opts, opts)
				for i, size := range sizes {
					for _, dir := range []struct {
						name     string
						from, to *Conn
					}{{"c2s", cl, sv}, {"s2c", sv, cl}} {
						typ := frame.OpBinary
						if i%2 == 0 {
							typ = frame.OpText
						}
						seed := uint64(i + 1)
						wantN, wantSum := patternSum(t, size, 3001, seed)
						errc := make(chan error, 1)
						go func() {
							errc <- dir.from.SendStream(context.Background(), typ, newPattern(size, 3001, seed))
						}()
						var gotN int64
						var gotSum uint32
						var gotTyp MessageType
						if tc.streamed {
							var r io.ReadCloser
							gotTyp, r = nextReader(t, dir.to)
							var err error
							gotN, gotSum, err = readSum(r)
							require.NoError(t, err, "%s size %d", dir.name, size)
						} else {
							msg := recv(t, dir.to)
							gotTyp = msg.Type
							gotN, gotSum, _ = readSum(strings.NewReader(string(msg.Data)))
						}
						require.NoError(t, waitErr(t, errc), "%s size %d", dir.name, size)
						require.Equal(t, typ, gotTyp)
						require.Equal(t, wantN, gotN, "%s size %d", dir.name, size)
						require.Equal(t, wantSum, gotSum, "%s size %d", dir.name, size)
					}
				}
				// A plain Send still works after streams, both ways.
				require.NoError(t, cl.Send(context.Background(), Text("after")))
				if tc.streamed {
					_, r := nextReader(t, sv)
					b, err := io.ReadAll(r)
					require.NoError(t, err)
					require.Equal(t, "after", string(b))
				} else {
					require.Equal(t, "after", string(recv(t, sv).Data))
				}
				st := cl.Stats()
				require.Equal(t, uint64(len(sizes)+1), st.MessagesOut)
			})
		}
	})
}

// TestStreamOrdering: a message put on Outgoing before SendStream goes
// before it, and a Send made while the stream is in progress goes after
// its last fragment, not between its fragments.
func TestStreamOrdering(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		cl, sv := newPair(t, m, []Option{WithFragmentSize(1000)}, nil)
		cl.Outgoing() <- Text("first")
		src := &blockingReader{first: []byte(strings.Repeat("x", 2500)), feed: make(chan []byte)}
		errc := make(chan error, 1)
		go func() { errc <- cl.SendStream(context.Background(), frame.OpBinary, src) }()
		require.Equal(t, "first", string(recv(t, sv).Data))
		require.Eventually(t, func() bool { return isStreaming(cl) }, 10*time.Second, time.Millisecond)
		// The stream has started; a Send now waits for its end.
		sent := make(chan error, 1)
		go func() { sent <- cl.Send(context.Background(), Text("third")) }()
		require.Eventually(t, func() bool { return cl.Stats().OutgoingQueued == 1 }, 10*time.Second, time.Millisecond)
		src.feed <- []byte("yyy")
		close(src.feed)
		require.NoError(t, waitErr(t, errc))
		require.NoError(t, waitErr(t, sent))
		msg := recv(t, sv)
		require.Equal(t, strings.Repeat("x", 2500)+"yyy", string(msg.Data))
		require.Equal(t, "third", string(recv(t, sv).Data))
	})
}

// TestStreamPingWhileSourceBlocks: while SendStream waits for its source,
// the connection answers the peer's pings (the pong goes between
// fragments), and the streamed receiver reads those pongs from inside the
// message it is reading; keepalive goes on too.
func TestStreamPingWhileSourceBlocks(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		for _, streamed := range []bool{false, true} {
			t.Run(fmt.Sprintf("streamedReceive=%v", streamed), func(t *testing.T) {
				var svOpts []Option
				if streamed {
					svOpts = append(svOpts, WithStreamedReceive())
				}
				cl, sv := newPair(t, m, []Option{WithFragmentSize(100), WithKeepalive(20*time.Millisecond, 5*time.Second)}, svOpts)
				src := &blockingReader{first: []byte(strings.Repeat("a", 250)), feed: make(chan []byte)}
				errc := make(chan error, 1)
				go func() { errc <- cl.SendStream(context.Background(), frame.OpText, src) }()
				var r io.ReadCloser
				got := make(chan []byte, 1)
				if streamed {
					_, r = nextReader(t, sv)
					require.Equal(t, strings.Repeat("a", 200), string(readAtLeast(t, r, 200)))
					go func() {
						b, _ := io.ReadAll(r) // reads the pongs inside the message too
						got <- b
					}()
				}
				for range 3 {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					_, err := sv.Ping(ctx)
					cancel()
					require.NoError(t, err)
				}
				// Keepalive pings went out in the gaps and were answered.
				require.Eventually(t, func() bool { return cl.Stats().RTT > 0 }, 10*time.Second, time.Millisecond)
				src.feed <- []byte("b")
				close(src.feed)
				require.NoError(t, waitErr(t, errc))
				want := strings.Repeat("a", 250) + "b"
				if streamed {
					select {
					case b := <-got:
						require.Equal(t, want[200:], string(b))
					case <-time.After(10 * time.Second):
						t.Fatal("message not read")
					}
				} else {
					require.Equal(t, want, string(recv(t, sv).Data))
				}
			})
		}
	})
}

// TestStreamCancel: a SendStream whose ctx ends before its first fragment
// ends only the call; one whose ctx ends mid-message ends the connection
// with errSendCancelled, and returns ctx's error.
func TestStreamCancel(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		t.Run("beforeFirstFragment", func(t *testing.T) {
			cl, sv := newPair(t, m, nil, nil)
			ctx, cancel := context.WithCancel(context.Background())
			src := &blockingReader{feed: make(chan []byte)}
			errc := make(chan error, 1)
			go func() { errc <- cl.SendStream(ctx, frame.OpBinary, src) }()
			src.feed <- []byte("never sent") // taken by the Read of the first piece
			cancel()
			close(src.feed)
			require.ErrorIs(t, waitErr(t, errc), context.Canceled)
			require.NoError(t, cl.Send(context.Background(), Text("still open")))
			require.Equal(t, "still open", string(recv(t, sv).Data))
		})
		t.Run("midMessage", func(t *testing.T) {
			cl, sv := newPair(t, m, []Option{WithFragmentSize(10)}, []Option{WithStreamedReceive()})
			ctx, cancel := context.WithCancel(context.Background())
			src := &blockingReader{first: []byte("0123456789abc"), feed: make(chan []byte)}
			errc := make(chan error, 1)
			go func() { errc <- cl.SendStream(ctx, frame.OpBinary, src) }()
			_, r := nextReader(t, sv)
			require.Equal(t, "0123456789", string(readAtLeast(t, r, 10)))
			cancel()
			require.ErrorIs(t, waitDone(t, cl), errSendCancelled)
			close(src.feed) // the source returns; SendStream with it
			require.ErrorIs(t, waitErr(t, errc), context.Canceled)
			_, err := io.ReadAll(r)
			require.Error(t, err, "the message is cut off")
			waitDone(t, sv)
		})
	})
}

// TestStreamSourceError: a source failing mid-message closes the
// connection with 1011, the close frame going between fragments; failing
// before the first fragment, it ends only the call.
func TestStreamSourceError(t *testing.T) {
	boom := errors.New("source broke")
	run(t, func(t *testing.T, m mode) {
		cl, sv := newPair(t, m, []Option{WithFragmentSize(10)}, nil)
		err := cl.SendStream(context.Background(), frame.OpBinary, &blockingReader{feed: closedFeed(), fail: boom})
		require.ErrorIs(t, err, boom)
		require.NoError(t, cl.Send(context.Background(), Text("open")))
		require.Equal(t, "open", string(recv(t, sv).Data))

		src := &blockingReader{first: []byte("0123456789abc"), feed: closedFeed(), fail: boom}
		require.ErrorIs(t, cl.SendStream(context.Background(), frame.OpBinary, src), boom)
		requireCloseError(t, waitDone(t, sv), frame.StatusInternalError, true, true)
		requireCloseError(t, waitDone(t, cl), frame.StatusInternalError, false, true)
	})
}

func closedFeed() chan []byte {
	ch := make(chan []byte)
	close(ch)
	return ch
}

// TestStreamCloseMidMessage: Close while SendStream waits for its source
// sends the close frame between fragments; the handshake completes and
// SendStream returns ErrClosed, as does a Send queued behind it.
func TestStreamCloseMidMessage(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		cl, sv := newPair(t, m, []Option{WithFragmentSize(10)}, nil)
		src := &blockingReader{first: []byte("0123456789abc"), feed: make(chan []byte)}
		errc := make(chan error, 1)
		go func() { errc <- cl.SendStream(context.Background(), frame.OpBinary, src) }()
		require.Eventually(t, func() bool { return isStreaming(cl) }, 10*time.Second, time.Millisecond)
		queued := make(chan error, 1)
		go func() { queued <- cl.Send(context.Background(), Text("behind")) }()
		require.Eventually(t, func() bool { return cl.Stats().OutgoingQueued == 1 }, 10*time.Second, time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, cl.Close(ctx, frame.StatusNormalClosure, "bye"))
		requireCloseError(t, waitDone(t, sv), frame.StatusNormalClosure, true, true)
		require.ErrorIs(t, waitErr(t, queued), ErrClosed)
		close(src.feed)
		require.ErrorIs(t, waitErr(t, errc), ErrClosed)
	})
}

// TestStreamReceiveLimits: a streamed message over the size limit, or
// text that is not UTF-8, fails the connection with 1009 or 1007, found as
// the message is read (compressed or not), and the reader returns the
// *CloseError.
func TestStreamReceiveLimits(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		for _, tc := range []struct {
			name string
			typ  MessageType
			src  func() io.Reader
			code frame.StatusCode
		}{
			{"tooLarge", frame.OpBinary, func() io.Reader { return newPattern(5000, 100, 1) }, frame.StatusMessageTooBig},
			{"tooLargeAfterInflate", frame.OpBinary, func() io.Reader { return io.LimitReader(zeros{}, 1<<20) }, frame.StatusMessageTooBig},
			{"badUTF8", frame.OpText, func() io.Reader {
				return io.MultiReader(strings.NewReader(strings.Repeat("é", 500)), strings.NewReader("\xff"), strings.NewReader("tail"))
			}, frame.StatusInvalidFramePayloadData},
			{"truncatedUTF8", frame.OpText, func() io.Reader { return strings.NewReader("abc\xe2\x82") }, frame.StatusInvalidFramePayloadData},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cl, sv := newPair(t, m, []Option{WithFragmentSize(300)}, []Option{WithStreamedReceive(), WithMaxMessageSize(4096), WithFailLinger(0)})
				errc := make(chan error, 1)
				go func() { errc <- cl.SendStream(context.Background(), tc.typ, tc.src()) }()
				_, r := nextReader(t, sv)
				_, _, err := readSum(r)
				requireCloseError(t, err, tc.code, false, false)
				var pe *frame.ProtocolError
				require.ErrorAs(t, err, &pe)
				// The sender may still be writing when the server, failing,
				// closes the socket after its close frame: a reset can then
				// beat the close frame on the sender's side.
				var ce *CloseError
				if clErr := waitDone(t, cl); errors.As(clErr, &ce) {
					require.Equal(t, tc.code, ce.Code)
				}
				waitDone(t, sv)
				_ = waitErr(t, errc) // nil, or ErrClosed if the close came first
			})
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestStreamReceiveRawPeer: frames a peer may legally send — fragments,
// control frames between them, an empty message — arrive through the
// streamed reader as they should, and protocol errors inside a message
// fail the connection.
func TestStreamReceiveRawPeer(t *testing.T) {
	t.Run("fragmentsAndPings", func(t *testing.T) {
		c, p := newRaw(t, tcpMode, frame.Server, WithStreamedReceive())
		p.send(false, frame.OpText, []byte("hel"))
		p.send(true, frame.OpPing, []byte("p1"))
		p.send(false, frame.OpContinuation, []byte("lo "))
		p.send(true, frame.OpContinuation, []byte("wörld"))
		p.send(true, frame.OpBinary, nil)
		typ, r := nextReader(t, c)
		require.Equal(t, frame.OpText, typ)
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		require.Equal(t, "hello wörld", string(b))
		op, payload, err := p.next()
		require.NoError(t, err)
		require.Equal(t, frame.OpPong, op)
		require.Equal(t, "p1", string(payload))
		typ, r = nextReader(t, c)
		require.Equal(t, frame.OpBinary, typ)
		b, err = io.ReadAll(r)
		require.NoError(t, err)
		require.Empty(t, b)
	})
	for _, tc := range []struct {
		name  string
		frame func(p *rawPeer) []byte
		code  frame.StatusCode
	}{
		{"newMessageInside", func(p *rawPeer) []byte { return p.frameBytes(true, 0, frame.OpBinary, []byte("x"), nil) }, frame.StatusProtocolError},
		{"badUTF8Fragment", func(p *rawPeer) []byte { return p.frameBytes(true, 0, frame.OpContinuation, []byte{0xc3, 0x28}, nil) }, frame.StatusInvalidFramePayloadData},
		{"frameTooLarge", func(p *rawPeer) []byte {
			return p.frameBytes(true, 0, frame.OpContinuation, make([]byte, 3000), nil)
		}, frame.StatusMessageTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, p := newRaw(t, tcpMode, frame.Server, WithStreamedReceive(), WithMaxFrameSize(2000), WithFailLinger(0))
			p.send(false, frame.OpText, []byte("ok"))
			p.write(tc.frame(p))
			_, r := nextReader(t, c)
			_, err := io.ReadAll(r)
			requireCloseError(t, err, tc.code, false, false)
			code, _ := p.expectClose()
			require.Equal(t, tc.code, code)
			p.sendClose(code, "")
			requireCloseError(t, waitDone(t, c), tc.code, false, false)
		})
	}
}

// TestStreamReaderClose: a reader closed before its end, or skipped by the
// next NextReader, is drained by the connection, which reads on (the
// compression context stays right); Read after Close fails.
func TestStreamReaderClose(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		cl, sv := newPair(t, m, []Option{WithFragmentSize(1000)}, []Option{WithStreamedReceive()})
		errc := make(chan error, 1)
		go func() { // net.Pipe is unbuffered: the sender waits for the reads
			for i := range 3 {
				if err := cl.SendStream(context.Background(), frame.OpText, newPattern(50_000, 700, uint64(i))); err != nil {
					errc <- err
					return
				}
			}
			errc <- cl.Send(context.Background(), Text("last"))
		}()
		_, r := nextReader(t, sv)
		readAtLeast(t, r, 10)
		require.NoError(t, r.Close())
		_, err := r.Read(make([]byte, 1))
		require.ErrorIs(t, err, ErrReaderClosed)
		_, r = nextReader(t, sv) // the second, skipped by the next call
		readAtLeast(t, r, 10)
		_, r2 := nextReader(t, sv)
		_, err = r.Read(make([]byte, 1))
		require.ErrorIs(t, err, ErrReaderClosed)
		n, sum, err := readSum(r2)
		require.NoError(t, err)
		wantN, wantSum := patternSum(t, 50_000, 700, 2)
		require.Equal(t, wantN, n)
		require.Equal(t, wantSum, sum)
		_, r = nextReader(t, sv)
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		require.Equal(t, "last", string(b))
		assert.Empty(t, recvNone(sv))
		require.NoError(t, waitErr(t, errc))
	})
}

// recvNone reports what Incoming holds: nothing, in streamed mode.
func recvNone(c *Conn) []Message {
	var ms []Message
	for {
		select {
		case m, ok := <-c.Incoming():
			if !ok {
				return ms
			}
			ms = append(ms, m)
		default:
			return ms
		}
	}
}

// TestStreamNextReaderEnds: NextReader returns ctx's error when ctx ends
// (the connection goes on), ErrClosed once the connection has ended, and an
// error without WithStreamedReceive.
func TestStreamNextReaderEnds(t *testing.T) {
	cl, sv := newPair(t, tcpMode, nil, []Option{WithStreamedReceive()})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, _, err := sv.NextReader(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	_, _, err = cl.NextReader(context.Background())
	require.ErrorIs(t, err, errNotStreamed)
	closeCtx, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	require.NoError(t, cl.Close(closeCtx, frame.StatusNormalClosure, ""))
	waitDone(t, sv)
	_, _, err = sv.NextReader(context.Background())
	require.ErrorIs(t, err, ErrClosed)
	_, ok := <-sv.Incoming()
	require.False(t, ok)
}

func isStreaming(c *Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.streaming
}

// TestStreamConcurrent: streams from several goroutines are written one
// after the other, never interleaved, and one whose ctx ends while it waits
// for its turn gives up without touching the connection.
func TestStreamConcurrent(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		cl, sv := newPair(t, m, []Option{WithFragmentSize(100)}, nil)
		first := &blockingReader{first: []byte(strings.Repeat("1", 150)), feed: make(chan []byte)}
		errc := make(chan error, 3)
		go func() { errc <- cl.SendStream(context.Background(), frame.OpText, first) }()
		require.Eventually(t, func() bool { return isStreaming(cl) }, 10*time.Second, time.Millisecond)

		ctx, cancel := context.WithCancel(context.Background())
		gaveUp := make(chan error, 1)
		go func() { gaveUp <- cl.SendStream(ctx, frame.OpText, strings.NewReader("never")) }()
		require.Eventually(t, func() bool { return cl.Stats().OutgoingQueued == 1 }, 10*time.Second, time.Millisecond)
		cancel()
		require.ErrorIs(t, waitErr(t, gaveUp), context.Canceled)

		go func() {
			errc <- cl.SendStream(context.Background(), frame.OpText, strings.NewReader(strings.Repeat("2", 250)))
		}()
		require.Eventually(t, func() bool { return cl.Stats().OutgoingQueued >= 1 }, 10*time.Second, time.Millisecond)
		first.feed <- []byte(strings.Repeat("1", 100))
		close(first.feed)
		require.NoError(t, waitErr(t, errc))
		require.NoError(t, waitErr(t, errc))
		require.Equal(t, strings.Repeat("1", 250), string(recv(t, sv).Data))
		require.Equal(t, strings.Repeat("2", 250), string(recv(t, sv).Data))
		require.NoError(t, cl.Send(context.Background(), Text("open")))
		require.Equal(t, "open", string(recv(t, sv).Data))
	})
}
