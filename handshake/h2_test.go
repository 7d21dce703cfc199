package handshake_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/handshake"
	"github.com/wsactor/ws/internal/h2test"
)

// h2Server starts an HTTPS server speaking HTTP/2 on loopback and a client
// connection to it; both are closed by cleanup.
func h2Server(t *testing.T, h http.HandlerFunc) (*httptest.Server, *h2test.Client) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := h2test.Dial(ctx, srv.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return srv, c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wsHeader is a browser's RFC 8441 request header: no Sec-WebSocket-Key.
func wsHeader(kv ...string) http.Header {
	h := http.Header{"Sec-Websocket-Version": {"13"}}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// serverSeen is what the handler saw of the request and the handshake.
type serverSeen struct {
	method, proto, protocol string
	acc                     *handshake.Accepted
	err                     error
}

// h2EchoHandler upgrades with hs and echoes messages with the frame layer
// until the client's close frame, which it answers; then it closes the
// stream and waits for Done, as UpgradeConnect requires.
func h2EchoHandler(hs *handshake.Server, seen chan<- serverSeen) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := serverSeen{method: r.Method, proto: r.Proto, protocol: r.Header.Get(":protocol")}
		if !handshake.IsConnectRequest(r) {
			http.NotFound(w, r)
			seen <- s
			return
		}
		acc, err := hs.UpgradeConnect(w, r)
		s.acc, s.err = acc, err
		seen <- s
		if err != nil {
			return
		}
		sc := acc.Conn.(*handshake.StreamConn)
		defer func() { <-sc.Done() }()
		defer acc.Conn.Close()
		fr := frame.NewReader(acc.Reader, frame.Server, frame.ReaderConfig{})
		fw := frame.NewWriter(acc.Conn, frame.Server, frame.WriterConfig{})
		for {
			op, p, err := fr.ReadMessage(nil)
			if err != nil {
				return
			}
			if op == frame.OpClose {
				_ = fw.WriteControl(frame.OpClose, p)
				_ = fw.Flush()
				return
			}
			if err := fw.WriteMessage(op, p); err != nil {
				return
			}
			if err := fw.Flush(); err != nil {
				return
			}
		}
	}
}

func TestIsConnectRequest(t *testing.T) {
	tests := []struct {
		name   string
		method string
		major  int
		proto  string
		want   bool
	}{
		{"RFC 8441", "CONNECT", 2, "websocket", true},
		{"case of :protocol", "CONNECT", 2, "WebSocket", true},
		{"HTTP/3", "CONNECT", 3, "websocket", true},
		{"plain CONNECT", "CONNECT", 2, "", false},
		{"other protocol", "CONNECT", 2, "connect-udp", false},
		{"GET", "GET", 2, "websocket", false},
		{"HTTP/1.1", "CONNECT", 1, "websocket", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{Method: tt.method, ProtoMajor: tt.major, Header: http.Header{}}
			if tt.proto != "" {
				r.Header.Set(":protocol", tt.proto)
			}
			assert.Equal(t, tt.want, handshake.IsConnectRequest(r))
		})
	}
}

// TestUpgradeConnect runs in a child process with GODEBUG=http2xconnect=1,
// without which net/http's HTTP/2 server refuses extended CONNECT.
func TestUpgradeConnect(t *testing.T) {
	if !h2test.ReexecWithXConnect(t) {
		return
	}

	t.Run("server advertises extended CONNECT", func(t *testing.T) {
		_, c := h2Server(t, func(http.ResponseWriter, *http.Request) {})
		assert.Equal(t, uint32(1), c.Settings()[http2.SettingEnableConnectProtocol])
	})

	t.Run("echo", func(t *testing.T) {
		seen := make(chan serverSeen, 1)
		hs := &handshake.Server{
			Subprotocols: []string{"chat"},
			Extensions:   []handshake.Negotiator{&handshake.PerMessageDeflate{}},
		}
		srv, c := h2Server(t, h2EchoHandler(hs, seen))
		ctx := testCtx(t)
		st, err := c.Connect(ctx, srv.Listener.Addr().String(), "/room/1?x=y", wsHeader(
			"Sec-WebSocket-Protocol", "v2, chat",
			"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits",
		))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, st.Status)
		assert.Equal(t, "chat", st.Header.Get("Sec-WebSocket-Protocol"))
		assert.Equal(t, "permessage-deflate", st.Header.Get("Sec-WebSocket-Extensions"))
		assert.Empty(t, st.Header.Get("Sec-WebSocket-Accept"))
		assert.Empty(t, st.Header.Get("Content-Length"))

		s := <-seen
		require.NoError(t, s.err)
		assert.Equal(t, "CONNECT", s.method)
		assert.Equal(t, "HTTP/2.0", s.proto)
		assert.Equal(t, "websocket", s.protocol)
		assert.Equal(t, "chat", s.acc.Protocol)
		require.NotNil(t, s.acc.Deflate)
		req := s.acc.Request
		assert.Equal(t, "CONNECT", req.Method())
		assert.Equal(t, "/room/1", req.Path())
		assert.Equal(t, "x=y", req.RawQuery())
		assert.Equal(t, []string{"v2", "chat"}, req.Subprotocols())
		assert.Empty(t, req.Key())
		assert.Equal(t, "127.0.0.1", strings.Split(s.acc.Conn.RemoteAddr().String(), ":")[0])
		assert.Equal(t, srv.Listener.Addr().String(), s.acc.Conn.LocalAddr().String())

		// Several round trips prove that both directions stream: each
		// echo comes back before the next message is sent.
		fw := frame.NewWriter(st, frame.Client, frame.WriterConfig{})
		fr := frame.NewReader(bufio.NewReader(st), frame.Client, frame.ReaderConfig{})
		for _, msg := range []string{"one", "two", strings.Repeat("x", 100<<10)} {
			require.NoError(t, fw.WriteMessage(frame.OpText, []byte(msg)))
			require.NoError(t, fw.Flush())
			op, p, err := fr.ReadMessage(nil)
			require.NoError(t, err)
			assert.Equal(t, frame.OpText, op)
			assert.Equal(t, msg, string(p))
		}
		cp, err := frame.AppendClosePayload(nil, frame.StatusNormalClosure, "bye")
		require.NoError(t, err)
		require.NoError(t, fw.WriteControl(frame.OpClose, cp))
		require.NoError(t, fw.Flush())
		op, p, err := fr.ReadMessage(nil)
		require.NoError(t, err)
		assert.Equal(t, frame.OpClose, op)
		assert.Equal(t, cp, p)
		// The handler returns once the stream is closed: END_STREAM, which
		// the client reads as EOF.
		_, _, err = fr.ReadMessage(nil)
		assert.ErrorIs(t, err, io.EOF)
		require.NoError(t, st.Ended(ctx))
		require.NoError(t, st.Close())
	})

	t.Run("two WebSockets on one connection", func(t *testing.T) {
		seen := make(chan serverSeen, 2)
		srv, c := h2Server(t, h2EchoHandler(&handshake.Server{}, seen))
		ctx := testCtx(t)
		authority := srv.Listener.Addr().String()
		a, err := c.Connect(ctx, authority, "/a", wsHeader())
		require.NoError(t, err)
		b, err := c.Connect(ctx, authority, "/b", wsHeader())
		require.NoError(t, err)
		require.NotEqual(t, a.ID(), b.ID())
		for range 2 {
			require.NoError(t, (<-seen).err)
		}
		fa, fb := frame.NewWriter(a, frame.Client, frame.WriterConfig{}), frame.NewWriter(b, frame.Client, frame.WriterConfig{})
		ra := frame.NewReader(bufio.NewReader(a), frame.Client, frame.ReaderConfig{})
		rb := frame.NewReader(bufio.NewReader(b), frame.Client, frame.ReaderConfig{})
		require.NoError(t, fa.WriteMessage(frame.OpBinary, []byte("to a")))
		require.NoError(t, fa.Flush())
		require.NoError(t, fb.WriteMessage(frame.OpBinary, []byte("to b")))
		require.NoError(t, fb.Flush())
		_, p, err := rb.ReadMessage(nil)
		require.NoError(t, err)
		assert.Equal(t, "to b", string(p))
		_, p, err = ra.ReadMessage(nil)
		require.NoError(t, err)
		assert.Equal(t, "to a", string(p))
		// A half-close ends one WebSocket (the handler reads EOF), not the other.
		require.NoError(t, a.CloseWrite())
		_, _, err = ra.ReadMessage(nil)
		require.Error(t, err)
		require.NoError(t, fb.WriteMessage(frame.OpBinary, []byte("still here")))
		require.NoError(t, fb.Flush())
		_, p, err = rb.ReadMessage(nil)
		require.NoError(t, err)
		assert.Equal(t, "still here", string(p))
		require.NoError(t, b.CloseWrite())
		_, _, err = rb.ReadMessage(nil)
		require.Error(t, err)
	})

	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name    string
			server  handshake.Server
			pseudo  []hpack.HeaderField
			header  http.Header
			status  int
			err     error
			version string // expected Sec-WebSocket-Version in the answer
		}{
			{name: "cross origin", header: wsHeader("Origin", "https://evil.example"), status: 403, err: handshake.ErrOrigin},
			{name: "version", header: http.Header{"Sec-Websocket-Version": {"8"}}, status: 400, err: handshake.ErrVersion, version: "13"},
			{name: "no version", header: http.Header{}, status: 400, err: handshake.ErrVersion, version: "13"},
			{name: "key", header: wsHeader("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), status: 400, err: handshake.ErrConnectKey},
			{name: "subprotocols", header: wsHeader("Sec-WebSocket-Protocol", "a b"), status: 400, err: handshake.ErrSubprotocols},
			{name: "extensions", header: wsHeader("Sec-WebSocket-Extensions", "permessage-deflate;;"), status: 400, err: handshake.ErrExtensions},
			{name: "two origins", header: wsHeader("Origin", "https://a", "Origin", "https://b"), status: 400, err: handshake.ErrMalformedRequest},
			{name: "other protocol", pseudo: []hpack.HeaderField{
				{Name: ":method", Value: "CONNECT"}, {Name: ":protocol", Value: "connect-udp"},
				{Name: ":scheme", Value: "https"}, {Name: ":path", Value: "/"}, {Name: ":authority", Value: "x"},
			}, header: wsHeader(), status: 400, err: handshake.ErrConnectProtocol},
			{name: "GET over HTTP/2", pseudo: []hpack.HeaderField{
				{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "https"},
				{Name: ":path", Value: "/"}, {Name: ":authority", Value: "x"},
			}, header: wsHeader(), status: 400, err: handshake.ErrConnectProtocol},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				errc := make(chan error, 1)
				srv, c := h2Server(t, func(w http.ResponseWriter, r *http.Request) {
					_, err := tt.server.UpgradeConnect(w, r)
					errc <- err
				})
				ctx := testCtx(t)
				var st *h2test.Stream
				var err error
				if tt.pseudo != nil {
					st, err = c.Request(ctx, tt.pseudo, tt.header)
				} else {
					st, err = c.Connect(ctx, srv.Listener.Addr().String(), "/", tt.header)
				}
				require.NoError(t, err)
				assert.Equal(t, tt.status, st.Status)
				assert.Equal(t, tt.version, st.Header.Get("Sec-WebSocket-Version"))
				var rej *handshake.RejectError
				err = <-errc
				require.ErrorAs(t, err, &rej)
				assert.Equal(t, tt.status, rej.Status)
				assert.ErrorIs(t, err, tt.err)
				body, err := io.ReadAll(st)
				require.NoError(t, err)
				assert.Equal(t, rej.Reason+"\n", string(body))
				// The refusal ends its stream only: no GOAWAY, and the
				// connection carries the next WebSocket.
				require.NoError(t, c.Err())
				ok, err := c.Connect(ctx, srv.Listener.Addr().String(), "/", wsHeader())
				require.NoError(t, err)
				assert.Equal(t, http.StatusOK, ok.Status)
				<-errc
			})
		}
	})

	t.Run("reserved header on w", func(t *testing.T) {
		errc := make(chan error, 1)
		srv, c := h2Server(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Sec-WebSocket-Accept", "x")
			_, err := (&handshake.Server{}).UpgradeConnect(w, r)
			errc <- err
		})
		st, err := c.Connect(testCtx(t), srv.Listener.Addr().String(), "/", wsHeader())
		require.NoError(t, err)
		assert.Equal(t, http.StatusInternalServerError, st.Status)
		assert.ErrorIs(t, <-errc, handshake.ErrReservedHeader)
	})

	t.Run("StreamConn", func(t *testing.T) {
		type step struct {
			name string
			do   func(t *testing.T, sc *handshake.StreamConn, st *h2test.Stream)
		}
		steps := []step{
			{"no read deadlines", func(t *testing.T, sc *handshake.StreamConn, _ *h2test.Stream) {
				assert.ErrorIs(t, sc.SetReadDeadline(time.Time{}), os.ErrNoDeadline)
				assert.ErrorIs(t, sc.SetReadDeadline(time.Now().Add(time.Hour)), os.ErrNoDeadline)
				assert.ErrorIs(t, sc.SetDeadline(time.Time{}), os.ErrNoDeadline)
				require.NoError(t, sc.SetWriteDeadline(time.Now().Add(time.Hour)))
				require.NoError(t, sc.SetWriteDeadline(time.Time{}))
				require.NoError(t, sc.Close())
			}},
			{"client half-close is EOF", func(t *testing.T, sc *handshake.StreamConn, st *h2test.Stream) {
				_, err := st.Write([]byte("abc"))
				require.NoError(t, err)
				require.NoError(t, st.CloseWrite())
				b, err := io.ReadAll(sc)
				require.NoError(t, err)
				assert.Equal(t, "abc", string(b))
				require.NoError(t, sc.Close())
			}},
			{"Close unblocks Read", func(t *testing.T, sc *handshake.StreamConn, _ *h2test.Stream) {
				errc := make(chan error, 1)
				go func() {
					_, err := sc.Read(make([]byte, 1))
					errc <- err
				}()
				require.NoError(t, sc.Close())
				assert.ErrorIs(t, <-errc, net.ErrClosed)
				assert.ErrorIs(t, sc.Close(), net.ErrClosed)
				_, err := sc.Write([]byte("x"))
				assert.ErrorIs(t, err, net.ErrClosed)
				assert.ErrorIs(t, sc.SetWriteDeadline(time.Time{}), net.ErrClosed)
			}},
			{"Close unblocks a Write held by flow control", func(t *testing.T, sc *handshake.StreamConn, st *h2test.Stream) {
				// The client reads nothing, so its 64 KiB window fills
				// and the 1 MiB write waits for credit.
				errc := make(chan error, 1)
				go func() {
					_, err := sc.Write(make([]byte, 1<<20))
					errc <- err
				}()
				require.Equal(t, 65535, st.WaitBuffered(testCtx(t), 65535))
				require.NoError(t, sc.Close())
				assert.ErrorIs(t, <-errc, net.ErrClosed)
				var se *h2test.StreamError
				require.ErrorAs(t, st.Ended(testCtx(t)), &se)
				assert.Equal(t, http2.ErrCodeInternal, se.Code)
			}},
			{"expired write deadline resets the stream", func(t *testing.T, sc *handshake.StreamConn, st *h2test.Stream) {
				require.NoError(t, sc.SetWriteDeadline(time.Unix(1, 0)))
				var se *h2test.StreamError
				require.ErrorAs(t, st.Ended(testCtx(t)), &se)
				assert.Equal(t, http2.ErrCodeInternal, se.Code)
				_, err := sc.Write([]byte("x"))
				assert.Error(t, err)
				require.NoError(t, sc.Close())
			}},
		}
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				accc := make(chan *handshake.Accepted, 1)
				srv, c := h2Server(t, func(w http.ResponseWriter, r *http.Request) {
					acc, err := (&handshake.Server{}).UpgradeConnect(w, r)
					if !assert.NoError(t, err) {
						close(accc)
						return
					}
					accc <- acc
					<-acc.Conn.(*handshake.StreamConn).Done()
				})
				st, err := c.Connect(testCtx(t), srv.Listener.Addr().String(), "/", wsHeader())
				require.NoError(t, err)
				acc := <-accc
				require.NotNil(t, acc)
				s.do(t, acc.Conn.(*handshake.StreamConn), st)
			})
		}
	})
}

// Without GODEBUG=http2xconnect=1 the server resets the stream of an
// extended CONNECT before any handler runs: the reason for the re-exec.
func TestUpgradeConnectNeedsGODEBUG(t *testing.T) {
	if strings.Contains(os.Getenv("GODEBUG"), h2test.XConnect) {
		t.Skip("this process runs with " + h2test.XConnect + ": the refusal cannot be observed")
	}
	called := make(chan struct{}, 1)
	srv, c := h2Server(t, func(http.ResponseWriter, *http.Request) { called <- struct{}{} })
	_, advertised := c.Settings()[http2.SettingEnableConnectProtocol]
	assert.False(t, advertised)
	_, err := c.Connect(testCtx(t), srv.Listener.Addr().String(), "/", wsHeader())
	var se *h2test.StreamError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http2.ErrCodeProtocol, se.Code)
	assert.Empty(t, called)
}
