package actor

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

// compression is how a test pair negotiates permessage-deflate.
type compression struct {
	name   string
	on     bool
	params deflate.Params
	cfg    deflate.Config
}

var compressions = []compression{
	{name: "plain"},
	{name: "deflate takeover", on: true, cfg: deflate.Config{Threshold: -1}},
	{name: "deflate no takeover", on: true, params: deflate.Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
	{name: "deflate 9-bit windows", on: true, params: deflate.Params{ServerMaxWindowBits: 9, ClientMaxWindowBits: 9}, cfg: deflate.Config{Threshold: -1}},
}

// opts returns the option for one end's extension, none without one.
func (cm compression) opts(t testing.TB, role frame.Role) []Option {
	t.Helper()
	if !cm.on {
		return nil
	}
	e, err := deflate.New(cm.params, role, cm.cfg)
	require.NoError(t, err)
	return []Option{WithExtension(e)}
}

// compressedPair returns a client and a server Conn over loopback TCP.
func compressedPair(t testing.TB, cm compression, clientOpts, serverOpts []Option) (cl, sv *Conn) {
	t.Helper()
	a, b := tcpPair(t)
	t.Cleanup(func() { a.Close(); b.Close() })
	cl = mustNew(t, a, frame.Client, append(cm.opts(t, frame.Client), clientOpts...)...)
	sv = mustNew(t, b, frame.Server, append(cm.opts(t, frame.Server), serverOpts...)...)
	return cl, sv
}

// chat is a message that repeats much of the ones before it (over 128
// bytes, so that deflate with context takeover refers back across
// messages), of at least n bytes.
func chat(i, n int) []byte {
	var b []byte
	for j := 0; len(b) < n || j == 0; j++ {
		b = fmt.Appendf(b, `{"seq":%d,"room":"general","user":"user-%d","text":"the quick brown fox jumps over the lazy dog %d","tags":["news","sport"]}`, i, (i+j)%7, i*31+j)
	}
	return b[:n]
}

// A prepared message arrives whole and unchanged, both ways, over every
// compression setting, unfragmented or fragmented, at sizes that go
// through the write buffer, a vectored write, and (masked) a scratch
// buffer, with normal messages around it.
func TestPreparedRoundTrip(t *testing.T) {
	sizes := []int{0, 16, 200, 1000, 64 << 10, 300 << 10}
	for _, cm := range compressions {
		for _, frag := range []int{0, 4096} {
			for _, dir := range []string{"server to client", "client to server"} {
				t.Run(fmt.Sprintf("%s/fragment %d/%s", cm.name, frag, dir), func(t *testing.T) {
					opts := []Option{WithFragmentSize(frag)}
					cl, sv := compressedPair(t, cm, opts, opts)
					from, to := sv, cl
					if dir == "client to server" {
						from, to = cl, sv
					}
					ctx := context.Background()
					var want [][]byte
					errc := make(chan error, 1)
					go func() {
						errc <- func() error {
							for i, n := range sizes {
								pm, err := Prepare(Binary(chat(i, n)))
								if err != nil {
									return err
								}
								for range 2 {
									if err := from.SendPrepared(ctx, pm); err != nil {
										return err
									}
								}
								if err := from.Send(ctx, Text(string(chat(i+100, n)))); err != nil {
									return err
								}
							}
							return nil
						}()
					}()
					for i, n := range sizes {
						want = append(want, chat(i, n), chat(i, n), chat(i+100, n))
					}
					for i, w := range want {
						got := recv(t, to)
						wantType := frame.OpBinary
						if i%3 == 2 {
							wantType = frame.OpText
						}
						require.Equal(t, wantType, got.Type, "message %d", i)
						require.True(t, bytes.Equal(w, got.Data), "message %d: %d bytes, want %d", i, len(got.Data), len(w))
					}
					require.NoError(t, waitErr(t, errc))
					require.EqualValues(t, len(want), from.Stats().MessagesOut)
				})
			}
		}
	}
}

// RFC 7692 §7.1.1: on connections that keep their compression context,
// prepared messages (compressed once, with a fresh compressor) and normal
// compressed messages (which refer back to earlier ones) interleave in any
// order, through Send, Outgoing and the writer goroutine's queue, and every
// message inflates to what was sent. The receiver's window then holds the
// prepared messages and the sender's did not: this passes only because
// the sender's next message starts a fresh compressor.
func TestPreparedInterleavedTakeover(t *testing.T) {
	cm := compressions[1]
	for _, dir := range []string{"server to client", "client to server"} {
		t.Run(dir, func(t *testing.T) {
			cl, sv := compressedPair(t, cm, nil, []Option{WithIncomingBuffer(512)})
			from, to := sv, cl
			if dir == "client to server" {
				from, to = cl, sv
			}
			ctx := context.Background()
			// Two prepared messages, each sent several times.
			pms := make([]*PreparedMessage, 2)
			for i := range pms {
				var err error
				pms[i], err = Prepare(Text(string(chat(1000+i, 600))))
				require.NoError(t, err)
			}
			const n = 300
			want := make([][]byte, n)
			errc := make(chan error, 1)
			go func() {
				for i := range n {
					var err error
					switch i % 5 {
					case 1, 3:
						err = from.SendPrepared(ctx, pms[i%2])
					case 2:
						m := Text(string(chat(i, 200)))
						m.Uncompressed = i%10 == 2
						select {
						case from.Outgoing() <- m:
						case <-from.Done():
						}
					default:
						err = from.Send(ctx, Text(string(chat(i, 200+i))))
					}
					if err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			}()
			for i := range n {
				switch i % 5 {
				case 1, 3:
					want[i] = chat(1000+i%2, 600)
				case 2:
					want[i] = chat(i, 200)
				default:
					want[i] = chat(i, 200+i)
				}
			}
			for i := range n {
				got := recv(t, to)
				require.Equal(t, string(want[i]), string(got.Data), "message %d", i)
			}
			require.NoError(t, waitErr(t, errc))
		})
	}
}

// rawMessage is one data message as it went over the wire.
type rawMessage struct {
	headers []frame.Header
	wire    [][]byte // each frame's bytes as sent
	payload []byte   // unmasked, still encoded
}

// readRaw reads the next data message's frames from br, sent by role.
func readRaw(t testing.TB, nc net.Conn, br *bufio.Reader) rawMessage {
	t.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var m rawMessage
	for {
		h, err := frame.ReadHeader(br)
		require.NoError(t, err)
		p := make([]byte, h.Length)
		_, err = io.ReadFull(br, p)
		require.NoError(t, err)
		m.wire = append(m.wire, append(frame.AppendHeader(nil, h), p...))
		if h.Masked {
			frame.Mask(h.Mask, 0, p)
		}
		if h.Opcode.IsControl() {
			continue
		}
		m.headers = append(m.headers, h)
		m.payload = append(m.payload, p...)
		if h.Fin {
			return m
		}
	}
}

// RFC 6455 §5.1, §5.3: every server connection gets the very same frames
// of a prepared message; client connections send the same payload, each
// frame masked with a key of its own. RFC 7692 §6: a compressed form has
// RSV1 on its first frame only, and inflates without any context.
func TestPreparedWire(t *testing.T) {
	for _, cm := range compressions[:2] {
		for _, role := range []frame.Role{frame.Server, frame.Client} {
			t.Run(fmt.Sprintf("%s/%s", cm.name, role), func(t *testing.T) {
				pm, err := Prepare(Binary(chat(7, 20000)))
				require.NoError(t, err)
				var msgs []rawMessage
				for range 2 {
					c, p := newRaw(t, tcpMode, role, append(cm.opts(t, role), WithFragmentSize(8000))...)
					br := bufio.NewReader(p.conn)
					for range 2 {
						require.NoError(t, c.SendPrepared(context.Background(), pm))
						msgs = append(msgs, readRaw(t, p.conn, br))
					}
				}
				for i, m := range msgs {
					require.Len(t, m.headers, len(msgs[0].headers), "message %d", i)
					for j, h := range m.headers {
						require.Equal(t, role == frame.Client, h.Masked)
						wantRsv := uint8(0)
						if cm.on && j == 0 {
							wantRsv = frame.Rsv1
						}
						require.Equal(t, wantRsv, h.Rsv, "message %d frame %d", i, j)
					}
					require.Equal(t, msgs[0].payload, m.payload)
					if role == frame.Server {
						require.Equal(t, msgs[0].wire, m.wire, "server frames differ")
					} else if i > 0 {
						require.NotEqual(t, msgs[0].headers[0].Mask, m.headers[0].Mask, "mask key reused")
					}
				}
				data := msgs[0].payload
				if cm.on {
					require.Less(t, len(data), 20000)
					// A fresh inflater with no window reads it.
					dec, err := deflate.New(deflate.Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, frame.Client, deflate.Config{})
					require.NoError(t, err)
					defer dec.Close()
					data, err = dec.DecodeMessage(nil, data, frame.Rsv1, 0)
					require.NoError(t, err)
				}
				require.Equal(t, chat(7, 20000), data)
			})
		}
	}
}

// RFC 7692 §6: a Message marked Uncompressed goes out with RSV1 clear on a
// connection that compresses, through Send and Outgoing, and so does a
// prepared message made from one; the next compressed message still
// inflates (the receiver here keeps its context).
func TestUncompressedMessage(t *testing.T) {
	cm := compressions[1]
	c, p := newRaw(t, tcpMode, frame.Server, cm.opts(t, frame.Server)...)
	dec, err := deflate.New(cm.params, frame.Client, cm.cfg)
	require.NoError(t, err)
	defer dec.Close()
	br := bufio.NewReader(p.conn)
	ctx := context.Background()
	pmOff, err := Prepare(Message{Type: frame.OpText, Data: chat(2, 500), Uncompressed: true})
	require.NoError(t, err)
	for i, tc := range []struct {
		send       func(m Message) error
		compressed bool
	}{
		{func(m Message) error { return c.Send(ctx, m) }, true},
		{func(m Message) error { m.Uncompressed = true; return c.Send(ctx, m) }, false},
		{func(m Message) error { return c.Send(ctx, m) }, true},
		{func(m Message) error { m.Uncompressed = true; c.Outgoing() <- m; return nil }, false},
		{func(m Message) error { return c.SendPrepared(ctx, pmOff) }, false},
		{func(m Message) error { c.Outgoing() <- m; return nil }, true},
	} {
		want := chat(i, 500)
		if i == 4 {
			want = chat(2, 500)
		}
		require.NoError(t, tc.send(Text(string(want))))
		m := readRaw(t, p.conn, br)
		require.Len(t, m.headers, 1)
		got := m.payload
		if tc.compressed {
			require.Equal(t, frame.Rsv1, m.headers[0].Rsv, "message %d", i)
			got, err = dec.DecodeMessage(nil, got, frame.Rsv1, 0)
			require.NoError(t, err)
		} else {
			require.Zero(t, m.headers[0].Rsv, "message %d", i)
		}
		require.Equal(t, string(want), string(got), "message %d", i)
	}
}

// The Uncompressed flag lives in the padding after Type: a Message, copied
// through Incoming and Outgoing, is no bigger than it was without it.
func TestMessageSize(t *testing.T) {
	var before struct {
		Type MessageType
		Data []byte
		pool *freeList
	}
	require.Equal(t, unsafe.Sizeof(before), unsafe.Sizeof(Message{}))
	require.Nil(t, before.pool)
}

// 6.1: SendPrepared keeps Send's order: behind the messages its goroutine
// put on Outgoing, and each goroutine's messages in its order when several
// send prepared and normal messages at once.
func TestPreparedOrder(t *testing.T) {
	for _, cm := range compressions[:2] {
		t.Run(cm.name, func(t *testing.T) {
			cl, sv := compressedPair(t, cm, []Option{WithOutgoingBuffer(100)}, []Option{WithIncomingBuffer(1024)})
			ctx := context.Background()
			for i := range 50 {
				cl.Outgoing() <- Binary([]byte{0, byte(i)})
			}
			pm, err := Prepare(Binary([]byte{0, 50}))
			require.NoError(t, err)
			require.NoError(t, cl.SendPrepared(ctx, pm))
			for i := range 51 {
				require.Equal(t, []byte{0, byte(i)}, recv(t, sv).Data)
			}

			const senders, each = 4, 100
			var wg sync.WaitGroup
			for g := range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						msg := Binary([]byte{byte(g), byte(i)})
						var err error
						switch i % 3 {
						case 0:
							cl.Outgoing() <- msg
						case 1:
							err = cl.Send(ctx, msg)
						default:
							var pm *PreparedMessage
							if pm, err = Prepare(msg); err == nil {
								err = cl.SendPrepared(ctx, pm)
							}
						}
						if err != nil {
							t.Errorf("send: %v", err)
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
}

// One prepared message sent at once to many connections (the forms are
// built by whichever gets there first, under the race detector), then a
// normal message on each: every peer reads both.
func TestPreparedBroadcast(t *testing.T) {
	for _, cm := range compressions[:3] {
		t.Run(cm.name, func(t *testing.T) {
			const conns = 16
			var senders, peers []*Conn
			for range conns {
				cl, sv := compressedPair(t, cm, nil, nil)
				senders, peers = append(senders, sv), append(peers, cl)
			}
			body := chat(3, 5000)
			pm, err := Prepare(Text(string(body)))
			require.NoError(t, err)
			var wg sync.WaitGroup
			for _, c := range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx := context.Background()
					if err := c.SendPrepared(ctx, pm); err != nil {
						t.Error(err)
						return
					}
					if err := c.Send(ctx, Text(string(chat(4, 5000)))); err != nil {
						t.Error(err)
					}
				}()
			}
			for _, p := range peers {
				require.Equal(t, string(body), string(recv(t, p).Data))
				require.Equal(t, string(chat(4, 5000)), string(recv(t, p).Data))
			}
			wg.Wait()
		})
	}
}

// opaqueExt hides deflate's SharedEncoder: an extension that can only
// encode per connection.
type opaqueExt struct{ frame.Extension }

// An extension that is no frame.SharedEncoder encodes a prepared message
// per connection, as Send would.
func TestPreparedOpaqueExtension(t *testing.T) {
	mk := func(role frame.Role) Option {
		e, err := deflate.New(deflate.Params{}, role, deflate.Config{Threshold: -1})
		require.NoError(t, err)
		return WithExtension(opaqueExt{e})
	}
	cl, sv := compressedPair(t, compression{}, []Option{mk(frame.Client)}, []Option{mk(frame.Server)})
	pm, err := Prepare(Text(string(chat(5, 3000))))
	require.NoError(t, err)
	ctx := context.Background()
	for i := range 3 {
		require.NoError(t, sv.SendPrepared(ctx, pm))
		require.NoError(t, sv.Send(ctx, Text(string(chat(i, 3000)))))
		require.Equal(t, string(chat(5, 3000)), string(recv(t, cl).Data))
		require.Equal(t, string(chat(i, 3000)), string(recv(t, cl).Data))
	}
	require.Nil(t, pm.forms.Load(), "no shared form built")
}

// Prepare refuses what Send refuses; SendPrepared returns Send's errors,
// and a ctx that ended before it ends only the call.
func TestPreparedErrors(t *testing.T) {
	_, err := Prepare(Message{Type: frame.OpPing})
	require.ErrorIs(t, err, ErrInvalidMessageType)
	_, err = Prepare(Message{})
	require.ErrorIs(t, err, ErrInvalidMessageType)

	data := []byte("reused at once")
	pm, err := Prepare(Binary(data))
	require.NoError(t, err)
	copy(data, "overwritten!!!")
	require.Equal(t, frame.OpBinary, pm.Type())
	require.Equal(t, len(data), pm.Len())

	cl, sv := compressedPair(t, compressions[1], nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, sv.SendPrepared(ctx, pm), context.Canceled)
	require.NoError(t, sv.SendPrepared(context.Background(), pm))
	require.Equal(t, "reused at once", string(recv(t, cl).Data))

	require.NoError(t, sv.Close(context.Background(), frame.StatusNormalClosure, ""))
	require.ErrorIs(t, sv.SendPrepared(context.Background(), pm), ErrClosed)
}
