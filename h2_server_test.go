//go:build !js

package ws_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
	"github.com/wsactor/ws/handshake"
	"github.com/wsactor/ws/internal/h2test"
)

// startH2 serves h over TLS with HTTP/2 (and HTTP/1.1 for clients that do
// not offer h2).
func startH2(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: 2000}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// h2Open opens an RFC 8441 WebSocket on hc with the frame-level client
// and runs an actor.Conn on it, with permessage-deflate when the server
// agreed to it. header is added to the request.
func h2Open(t *testing.T, ctx context.Context, hc *h2test.Client, authority string, header http.Header) (*actor.Conn, *h2test.Stream) {
	t.Helper()
	h := http.Header{"Sec-Websocket-Version": {"13"}, "Origin": {"https://" + authority}}
	for k, vs := range header {
		h[k] = vs
	}
	st, err := hc.Connect(ctx, authority, "/ws?x=1", h)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, st.Status, "response header %v", st.Header)
	var opts []actor.Option
	if v := st.Header.Get("Sec-Websocket-Extensions"); v != "" {
		exts, err := handshake.ParseExtensions(nil, v)
		require.NoError(t, err)
		require.Len(t, exts, 1)
		p, err := handshake.ParseDeflateParams(exts[0])
		require.NoError(t, err)
		ext, err := deflate.New(p, frame.Client, deflate.Config{ResetCompressor: true})
		require.NoError(t, err)
		opts = append(opts, actor.WithExtension(ext))
	}
	c, err := actor.New(st, nil, frame.Client, opts...)
	require.NoError(t, err)
	return c, st
}

// TestHTTP2Server runs ws.Handler and ws.Accept behind net/http's HTTP/2
// server with extended CONNECT on (it re-runs itself with
// GODEBUG=http2xconnect=1 when the process lacks it).
func TestHTTP2Server(t *testing.T) {
	if !h2test.ReexecWithXConnect(t) {
		return
	}
	t.Run("Handler negotiates as on HTTP/1.1 and echoes", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		type seen struct {
			method, proto, path, query, sub string
		}
		seenc := make(chan seen, 1)
		wsSrv := ws.Handler(func(ctx context.Context, c *ws.Conn) {
			r := ws.RequestFromContext(ctx)
			seenc <- seen{r.Method, r.Proto, r.URL.Path, r.URL.RawQuery, c.Subprotocol()}
			for m := range c.Incoming() {
				if c.Send(ctx, m) != nil {
					return
				}
			}
		}, ws.WithSubprotocols("chat"), ws.WithCompression())
		srv := startH2(t, wsSrv)
		addr := srv.Listener.Addr().String()
		hc, err := h2test.Dial(ctx, addr)
		require.NoError(t, err)
		defer hc.Close()
		require.Equal(t, uint32(1), hc.Settings()[http2.SettingEnableConnectProtocol])

		c, st := h2Open(t, ctx, hc, addr, http.Header{
			"Sec-Websocket-Protocol":   {"other, chat"},
			"Sec-Websocket-Extensions": {"permessage-deflate; client_max_window_bits"},
		})
		assert.Equal(t, "chat", st.Header.Get("Sec-Websocket-Protocol"))
		assert.Contains(t, st.Header.Get("Sec-Websocket-Extensions"), "permessage-deflate")
		assert.Empty(t, st.Header.Get("Sec-Websocket-Accept"), "RFC 8441 §5: no accept key")
		assert.Equal(t, seen{"CONNECT", "HTTP/2.0", "/ws", "x=1", "chat"}, <-seenc)

		for _, msg := range []string{"one", strings.Repeat("compressible ", 10000), "three"} {
			require.NoError(t, c.Send(ctx, actor.Text(msg)))
			m, err := c.Receive(ctx)
			require.NoError(t, err)
			assert.Equal(t, msg, string(m.Data))
		}
		require.NoError(t, c.Close(ctx, frame.StatusNormalClosure, ""))
		require.NoError(t, st.Ended(ctx), "the stream ends with END_STREAM once the handler returns")
		require.NoError(t, wsSrv.Shutdown(ctx))
	})

	t.Run("refusals keep the connection", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		called := make(chan struct{}, 10)
		srv := startH2(t, ws.Handler(func(ctx context.Context, c *ws.Conn) { called <- struct{}{} },
			ws.WithSubprotocols("chat")))
		addr := srv.Listener.Addr().String()
		hc, err := h2test.Dial(ctx, addr)
		require.NoError(t, err)
		defer hc.Close()
		tests := []struct {
			name   string
			header http.Header
			status int
		}{
			{"foreign origin", http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
			{"version 8", http.Header{"Sec-Websocket-Version": {"8"}}, http.StatusBadRequest},
			{"a key", http.Header{"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}}, http.StatusBadRequest},
		}
		for _, tt := range tests {
			h := http.Header{"Sec-Websocket-Version": {"13"}, "Origin": {"https://" + addr}}
			for k, vs := range tt.header {
				h[k] = vs
			}
			st, err := hc.Connect(ctx, addr, "/", h)
			require.NoError(t, err, tt.name)
			assert.Equal(t, tt.status, st.Status, tt.name)
		}
		c, _ := h2Open(t, ctx, hc, addr, nil)
		<-called
		<-c.Done()
		assert.Equal(t, ws.StatusNormalClosure, actor.CloseStatus(c.Err()))
		assert.Len(t, called, 0, "refused requests never reach the handler function")
	})

	t.Run("Shutdown closes every HTTP/2 WebSocket with 1001", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		const n = 3
		var started sync.WaitGroup
		started.Add(n)
		wsSrv := ws.Handler(func(ctx context.Context, c *ws.Conn) {
			started.Done()
			for range c.Incoming() {
			}
		})
		srv := startH2(t, wsSrv)
		addr := srv.Listener.Addr().String()
		hc, err := h2test.Dial(ctx, addr)
		require.NoError(t, err)
		defer hc.Close()
		conns := make([]*actor.Conn, n)
		for i := range conns {
			conns[i], _ = h2Open(t, ctx, hc, addr, nil)
		}
		started.Wait()
		require.Equal(t, n, wsSrv.Len())
		require.NoError(t, errors.Join(wsSrv.Shutdown(ctx), srv.Config.Shutdown(ctx)))
		for _, c := range conns {
			<-c.Done()
			var ce *actor.CloseError
			require.ErrorAs(t, c.Err(), &ce)
			assert.Equal(t, frame.StatusGoingAway, ce.Code)
			assert.True(t, ce.Remote)
		}
	})

	t.Run("Accept", func(t *testing.T) {
		tests := []struct {
			name string
			wait bool // the http handler waits for the Conn
		}{
			{"handler waits for Done", true},
			{"handler returns at once", false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				connc := make(chan *ws.Conn, 1)
				srv := startH2(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					c, err := ws.Accept(w, r)
					if !assert.NoError(t, err) {
						return
					}
					connc <- c
					go func() {
						for m := range c.Incoming() {
							if c.Send(ctx, m) != nil {
								return
							}
						}
					}()
					if tt.wait {
						<-c.Done()
					}
				}))
				addr := srv.Listener.Addr().String()
				hc, err := h2test.Dial(ctx, addr)
				require.NoError(t, err)
				defer hc.Close()
				c, _ := h2Open(t, ctx, hc, addr, nil)
				sc := <-connc
				if !tt.wait {
					<-sc.Done()
					assert.ErrorIs(t, sc.Err(), ws.ErrHandlerReturned)
					<-c.Done()
					return
				}
				require.NoError(t, c.Send(ctx, actor.Text("hi")))
				m, err := c.Receive(ctx)
				require.NoError(t, err)
				assert.Equal(t, "hi", string(m.Data))
				require.NoError(t, c.Close(ctx, frame.StatusNormalClosure, ""))
				<-sc.Done()
				assert.Equal(t, ws.StatusNormalClosure, ws.CloseStatus(sc.Err()))
			})
		}
	})

	t.Run("the client's reset and connection loss mid-message", func(t *testing.T) {
		tests := []struct {
			name string
			end  func(hc *h2test.Client, st *h2test.Stream) error
			want error
		}{
			{"RST_STREAM CANCEL", func(_ *h2test.Client, st *h2test.Stream) error { return st.Reset(http2.ErrCodeCancel) }, ws.ErrStreamReset},
			{"TCP connection closed", func(hc *h2test.Client, _ *h2test.Stream) error { return hc.Close() }, ws.ErrConnectionLost},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				errc := make(chan error, 1)
				partial := make(chan struct{})
				srv := startH2(t, ws.Handler(func(ctx context.Context, c *ws.Conn) {
					close(partial)
					<-c.Done()
					errc <- c.Err()
				}))
				addr := srv.Listener.Addr().String()
				hc, err := h2test.Dial(ctx, addr)
				require.NoError(t, err)
				defer hc.Close()
				h := http.Header{"Sec-Websocket-Version": {"13"}, "Origin": {"https://" + addr}}
				st, err := hc.Connect(ctx, addr, "/", h)
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, st.Status)
				<-partial
				// A masked binary frame announcing 1000 bytes, of which 10 come.
				_, err = st.Write(append([]byte{0x82, 0xfe, 0x03, 0xe8, 1, 2, 3, 4}, make([]byte, 10)...))
				require.NoError(t, err)
				require.NoError(t, tt.end(hc, st))
				err = <-errc
				assert.ErrorIs(t, err, tt.want)
				assert.Equal(t, ws.StatusAbnormalClosure, ws.CloseStatus(err))
				t.Log(err)
			})
		}
	})
}

// TestHTTP2Off: without GODEBUG=http2xconnect=1 the server does not offer
// RFC 8441, so the same ws.Handler serves only HTTP/1.1 upgrades, which a
// client that offers h2 and http/1.1 in ALPN still gets.
func TestHTTP2Off(t *testing.T) {
	if strings.Contains(os.Getenv("GODEBUG"), h2test.XConnect) {
		t.Skip("the process runs with GODEBUG=http2xconnect=1; this test is about its absence")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := startH2(t, ws.Handler(func(ctx context.Context, c *ws.Conn) {
		for m := range c.Incoming() {
			_ = c.Send(ctx, m)
		}
	}, ws.WithAnyOrigin()))
	hc, err := h2test.Dial(ctx, srv.Listener.Addr().String())
	require.NoError(t, err)
	_, advertised := hc.Settings()[http2.SettingEnableConnectProtocol]
	assert.False(t, advertised)
	require.NoError(t, hc.Close())
}
