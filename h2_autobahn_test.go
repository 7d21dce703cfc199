//go:build !js

package ws_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/handshake"
	"github.com/wsactor/ws/internal/h2test"
)

// h2RawConn is an h2test stream as the Autobahn peer's connection: a
// stream reset reads as the connection reset it stands for (RFC 8441 §5),
// which the peer tolerates once our side has failed the connection.
type h2RawConn struct{ *h2test.Stream }

func (c h2RawConn) Write(p []byte) (int, error) {
	n, err := c.Stream.Write(p)
	var se *h2test.StreamError
	if errors.As(err, &se) {
		err = fmt.Errorf("%w: %w", syscall.ECONNRESET, err)
	}
	return n, err
}

// TestAutobahnHTTP2 replays the Autobahn cases of sections 1–7 and 10
// (abCases) over RFC 8441 streams: against our echo server from a raw
// client, all streams of one HTTP/2 connection, and from a raw server
// against our client dialling with WithHTTP2; and, against our server,
// 9.x's large and fragmented messages and 12.x/13.x's permessage-deflate
// offers and compressed echoes. Expectations are those of
// TestAutobahnServer and TestAutobahnClient; "the server closes TCP first"
// becomes "the server ends the stream first" (END_STREAM).
// startH2Echo serves an echo ws.Handler with opts over HTTP/2 with TLS and
// returns it, its address, a frame-level client connected to it, and the
// channel of the server's connections, one per WebSocket opened.
func startH2Echo(t *testing.T, ctx context.Context, opts ...ws.AcceptOption) (*ws.Server, string, *h2test.Client, <-chan *ws.Conn) {
	t.Helper()
	conns := make(chan *ws.Conn, 1)
	wsSrv := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		conns <- c
		for m := range c.Incoming() {
			if c.Send(ctx, m) != nil {
				return
			}
		}
	}, opts...)
	addr := startH2(t, wsSrv).Listener.Addr().String()
	hc, err := h2test.Dial(ctx, addr)
	require.NoError(t, err)
	t.Cleanup(func() { hc.Close() })
	return wsSrv, addr, hc, conns
}

func TestAutobahnHTTP2(t *testing.T) {
	if !h2test.ReexecWithXConnect(t) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("server", func(t *testing.T) {
		wsSrv, addr, hc, conns := startH2Echo(t, ctx, ws.WithAnyOrigin())
		for _, c := range abCases() {
			t.Run(c.id, func(t *testing.T) {
				st, err := hc.Connect(ctx, addr, "/", http.Header{"Sec-Websocket-Version": {"13"}})
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, st.Status)
				sc := <-conns
				p := &abPeer{t: t, conn: h2RawConn{st}, br: bufio.NewReader(st), masked: true}
				p.run(c)
				// The server ends the stream first (RFC 6455 §7.1.1).
				_, err = io.Copy(io.Discard, p.br)
				var se *h2test.StreamError
				if err != nil && !errors.As(err, &se) {
					require.NoError(t, err, "waiting for the server to end the stream")
				}
				<-sc.Done()
				st.Close()
			})
		}
		require.NoError(t, wsSrv.Shutdown(ctx))
	})

	t.Run("server 9.x large messages", func(t *testing.T) {
		wsSrv, addr, hc, conns := startH2Echo(t, ctx, ws.WithAnyOrigin())
		for _, c := range []struct {
			id       string
			op       frame.Opcode
			size     int
			fragment int
		}{
			{"9.1.6/16 MiB text", frame.OpText, 16 << 20, 0},
			{"9.2.6/16 MiB binary", frame.OpBinary, 16 << 20, 0},
			{"9.3.1/1 MiB text in 64-byte fragments", frame.OpText, 1 << 20, 64},
			{"9.4.1/4 MiB binary in 64 KiB fragments", frame.OpBinary, 4 << 20, 64 << 10},
		} {
			t.Run(c.id, func(t *testing.T) {
				st, err := hc.Connect(ctx, addr, "/", http.Header{"Sec-Websocket-Version": {"13"}})
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, st.Status)
				sc := <-conns
				payload := bytes.Repeat([]byte("*"), c.size)
				if c.op == frame.OpBinary {
					payload = bytes.Repeat([]byte{0xfe}, c.size)
				}
				frag := c.fragment
				if frag == 0 {
					frag = len(payload)
				}
				done := make(chan struct{})
				go func() { // write while reading: both directions are flow-controlled
					defer close(done)
					w := bufio.NewWriterSize(st, 64<<10)
					for i := 0; i < len(payload); i += frag {
						op := frame.OpContinuation
						if i == 0 {
							op = c.op
						}
						end := min(i+frag, len(payload))
						_, _ = w.Write(rawFrame(end == len(payload), 0, op, true, payload[i:end]))
					}
					_ = w.Flush()
				}()
				p := &abPeer{t: t, conn: h2RawConn{st}, br: bufio.NewReaderSize(st, 64<<10), masked: true}
				var got []byte
				for {
					h, b, err := p.readFrame()
					require.NoError(t, err)
					require.NotEqual(t, frame.OpClose, h.Opcode, "closed: %v", b)
					got = append(got, b...)
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
				<-sc.Done()
				st.Close()
			})
		}
		require.NoError(t, wsSrv.Shutdown(ctx))
	})

	t.Run("server 12.x-13.x compression", func(t *testing.T) {
		data, err := os.ReadFile("docs/design.md")
		require.NoError(t, err)
		wsSrv, addr, hc, conns := startH2Echo(t, ctx, ws.WithAnyOrigin(), ws.WithCompression())
		for _, o := range pmdOffers() {
			t.Run(o.id, func(t *testing.T) {
				st, err := hc.Connect(ctx, addr, "/", http.Header{
					"Sec-Websocket-Version":    {"13"},
					"Sec-Websocket-Extensions": {o.offer},
				})
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, st.Status)
				sc := <-conns
				ext := st.Header.Get("Sec-Websocket-Extensions")
				params, err := handshake.ParseExtensions(nil, ext)
				require.NoError(t, err, "response %q", ext)
				require.Len(t, params, 1)
				require.Equal(t, "permessage-deflate", params[0].Name)
				br := bufio.NewReader(st)
				for i, n := range []int{16, 256, 4096, 16384, 131072} {
					op, m := compressionCase(data, i, n)
					for _, fragSize := range []int{0, 256} {
						writeCompressedAs(t, h2RawConn{st}, op, m, fragSize, true)
						gotOp, got, compressed := readCompressedRsv(t, br, false)
						require.False(t, t.Failed())
						require.Equal(t, op, gotOp)
						if o.bits > 0 && o.bits < 15 && len(m) > 1<<o.bits {
							require.False(t, compressed, "a %d-byte message compressed beyond a %d-bit window", len(m), o.bits)
						}
						require.True(t, bytes.Equal(m, got), "echo of %d bytes (fragment %d) differs", len(m), fragSize)
					}
				}
				p := &abPeer{t: t, conn: h2RawConn{st}, br: br, masked: true}
				p.write(closeFrame(1000, ""))
				h, _, err := p.readFrame()
				require.NoError(t, err)
				require.Equal(t, frame.OpClose, h.Opcode)
				<-sc.Done()
				st.Close()
			})
		}
		require.NoError(t, wsSrv.Shutdown(ctx))
	})

	t.Run("client", func(t *testing.T) {
		type run struct {
			t    *testing.T
			c    abCase
			done chan error
		}
		var runs sync.Map // case index → run
		srv := startH2(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			acc, err := (&handshake.Server{InsecureSkipOriginCheck: true}).Upgrade(w, r)
			if !assert.NoError(t, err) {
				return
			}
			defer func() { <-acc.Done }()
			defer acc.Conn.Close()
			v, ok := runs.Load(r.URL.Query().Get("case"))
			if !assert.True(t, ok) {
				return
			}
			rn := v.(run)
			err = errors.New("the raw server's checks failed")
			defer func() { rn.done <- err }() // also after a require's Goexit
			p := &abPeer{t: rn.t, conn: acc.Conn, br: acc.Reader, masked: false}
			p.run(rn.c)
			err = nil
		}))
		url, tc := wssURL(srv, "/")
		// In parallel: the WebSockets share one HTTP/2 connection.
		for i, c := range abCases() {
			t.Run(c.id, func(t *testing.T) {
				t.Parallel()
				done := make(chan error, 1)
				runs.Store(fmt.Sprint(i), run{t, c, done})
				cc := echoClient(t, fmt.Sprintf("%s?case=%d", url, i), ws.WithHTTP2(), ws.WithTLSConfig(tc))
				require.NoError(t, <-done)
				<-cc.Done() // the handler's return ended the stream
				var ce *ws.CloseError
				if !errors.As(cc.Err(), &ce) {
					t.Fatalf("client ended with %v, not a close handshake", cc.Err())
				}
			})
		}
	})
}

// TestAutobahnHTTP2ClientLargeAndCompressed: 9.x (16 MiB text and binary,
// 1 MiB in 64-byte fragments) and 12.x/13.x (each permessage-deflate answer
// of Autobahn's fuzzingserver, compressed echoes) from a raw server on an
// RFC 8441 stream to our client dialling with WithHTTP2. It re-runs itself
// with GODEBUG=http2xconnect=1.
func TestAutobahnHTTP2ClientLargeAndCompressed(t *testing.T) {
	if !h2test.ReexecWithXConnect(t) {
		return
	}
	for _, c := range []struct {
		id       string
		op       frame.Opcode
		size     int
		fragment int
	}{
		{"9.1.6/16 MiB text", frame.OpText, 16 << 20, 0},
		{"9.2.6/16 MiB binary", frame.OpBinary, 16 << 20, 0},
		{"9.4.1/1 MiB binary in 64-byte fragments", frame.OpBinary, 1 << 20, 64},
	} {
		t.Run(c.id, func(t *testing.T) {
			payload := bytes.Repeat([]byte("*"), c.size)
			got := make(chan []byte, 1)
			srv := startH2(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				acc, err := (&handshake.Server{InsecureSkipOriginCheck: true}).Upgrade(w, r)
				if !assert.NoError(t, err) {
					return
				}
				defer func() { <-acc.Done }()
				defer acc.Conn.Close()
				var m []byte
				defer func() { got <- m }() // also after a require's Goexit
				wrote := make(chan struct{})
				go func() {
					defer close(wrote)
					bw := bufio.NewWriterSize(acc.Conn, 64<<10)
					frag := c.fragment
					if frag == 0 {
						frag = len(payload)
					}
					for i := 0; i < len(payload); i += frag {
						op := frame.OpContinuation
						if i == 0 {
							op = c.op
						}
						end := min(i+frag, len(payload))
						_, _ = bw.Write(rawFrame(end == len(payload), 0, op, false, payload[i:end]))
					}
					_ = bw.Flush()
				}()
				defer func() { <-wrote }()
				p := &abPeer{t: t, conn: acc.Conn, br: acc.Reader, masked: false}
				for {
					h, b, err := p.readFrame()
					if err != nil || h.Opcode == frame.OpClose {
						return
					}
					m = append(m, b...)
					if h.Fin {
						break
					}
				}
				p.write(closeFrame(1000, ""))
				_, _, _ = p.readFrame()
			}))
			url, tc := wssURL(srv, "/")
			cc := echoClient(t, url, ws.WithHTTP2(), ws.WithTLSConfig(tc))
			m := <-got
			require.True(t, bytes.Equal(payload, m), "echo differs (%d bytes)", len(m))
			<-cc.Done()
		})
	}

	data, err := os.ReadFile("docs/design.md")
	require.NoError(t, err)
	for _, tc := range []struct {
		id         string
		clientBits int
		server     handshake.PerMessageDeflate
	}{
		{"12.x, 13.1/accept the offer", 0, handshake.PerMessageDeflate{}},
		{"13.2/server_no_context_takeover", 0, handshake.PerMessageDeflate{ServerNoContextTakeover: true}},
		{"13.3/client_max_window_bits=8", 15, handshake.PerMessageDeflate{ClientMaxWindowBits: 8}},
		{"13.5/both, 8", 15, handshake.PerMessageDeflate{ServerNoContextTakeover: true, ClientMaxWindowBits: 8}},
	} {
		t.Run(tc.id, func(t *testing.T) {
			neg := tc.server
			done := make(chan struct{})
			srv := startH2(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				acc, err := (&handshake.Server{Extensions: []handshake.Negotiator{&neg}, InsecureSkipOriginCheck: true}).Upgrade(w, r)
				if !assert.NoError(t, err) {
					close(done)
					return
				}
				defer func() { <-acc.Done }()
				defer acc.Conn.Close()
				defer close(done) // also after a require's Goexit
				if acc.Deflate == nil {
					t.Error("permessage-deflate not agreed")
					return
				}
				for i, n := range []int{16, 4096, 131072} {
					op, m := compressionCase(data, i, n)
					for _, fragSize := range []int{0, 256} {
						writeCompressedAs(t, acc.Conn, op, m, fragSize, false)
						gotOp, got := readCompressedAs(t, acc.Reader, true)
						if gotOp != op || !bytes.Equal(m, got) {
							t.Errorf("echo of %d bytes (fragment %d) differs", len(m), fragSize)
							return
						}
					}
				}
				p := &abPeer{t: t, conn: acc.Conn, br: acc.Reader, masked: false}
				p.write(closeFrame(1000, ""))
				_, _, _ = p.readFrame()
			}))
			url, tlsc := wssURL(srv, "/")
			opts := []ws.DialOption{ws.WithHTTP2(), ws.WithTLSConfig(tlsc), ws.WithCompression()}
			if tc.clientBits != 0 {
				opts = append(opts, ws.WithClientMaxWindowBits(tc.clientBits))
			}
			cc := echoClient(t, url, opts...)
			<-done
			<-cc.Done()
		})
	}
}
