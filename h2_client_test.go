//go:build !js

package ws_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/handshake"
	"github.com/wsactor/ws/internal/h2test"
)

// wssURL is the wss URL of a TLS test server, and the TLS config that
// trusts its certificate.
func wssURL(srv *httptest.Server, path string) (string, *tls.Config) {
	return "wss://" + srv.Listener.Addr().String() + path, srv.Client().Transport.(*http.Transport).TLSClientConfig
}

// peers records the client address and protocol version of each
// WebSocket request a handler got.
type peers struct {
	mu     sync.Mutex
	addrs  map[string]int
	protos map[int]int
}

func (p *peers) note(r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.addrs == nil {
		p.addrs, p.protos = map[string]int{}, map[int]int{}
	}
	p.addrs[r.RemoteAddr]++
	p.protos[r.ProtoMajor]++
}

func (p *peers) snapshot() (addrs int, protos map[int]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := map[int]int{}
	for k, v := range p.protos {
		m[k] = v
	}
	return len(p.addrs), m
}

// h2EchoServer is a ws.Handler that echoes and notes each request.
func h2EchoServer(p *peers, opts ...ws.AcceptOption) *ws.Server {
	return ws.Handler(func(ctx context.Context, c *ws.Conn) {
		p.note(ws.RequestFromContext(ctx))
		for m := range c.Incoming() {
			if c.Send(ctx, m) != nil {
				return
			}
		}
	}, opts...)
}

// TestHTTP2Dial runs ws.Dial with WithHTTP2 against ws.Handler over
// net/http's HTTP/2 server (re-run with GODEBUG=http2xconnect=1).
func TestHTTP2Dial(t *testing.T) {
	if !h2test.ReexecWithXConnect(t) {
		return
	}
	t.Run("echo with subprotocol, compression and flow control", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var p peers
		wsSrv := h2EchoServer(&p, ws.WithSubprotocols("chat"), ws.WithCompression())
		srv := startH2(t, wsSrv)
		url, tc := wssURL(srv, "/echo?room=1")
		c, resp, err := ws.Dial(ctx, url, ws.WithHTTP2(), ws.WithTLSConfig(tc),
			ws.WithSubprotocols("chat"), ws.WithCompression())
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, 2, resp.ProtoMajor)
		assert.Equal(t, "chat", c.Subprotocol())
		assert.Contains(t, resp.Header.Get("Sec-Websocket-Extensions"), "permessage-deflate")

		// 4 MiB of incompressible-enough data in each direction is more
		// than every flow-control window on both sides.
		big := make([]byte, 4<<20)
		for i := range big {
			big[i] = byte(i * 7919 >> 3)
		}
		for _, m := range []ws.Message{ws.Text("hello"), ws.Binary(big), ws.Text(strings.Repeat("z", 100000))} {
			require.NoError(t, c.Send(ctx, m))
			got, err := c.Receive(ctx)
			require.NoError(t, err)
			assert.Equal(t, m.Type, got.Type)
			assert.True(t, string(m.Data) == string(got.Data), "echo of %d bytes", len(m.Data))
		}
		_, err = c.Ping(ctx)
		require.NoError(t, err)
		require.NoError(t, c.Close(ctx, ws.StatusNormalClosure, "bye"))
		require.NoError(t, wsSrv.Shutdown(ctx))
		_, protos := p.snapshot()
		assert.Equal(t, map[int]int{2: 1}, protos)
	})

	t.Run("100 WebSockets on one HTTP/2 connection at once", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		var p peers
		wsSrv := h2EchoServer(&p)
		srv := startH2(t, wsSrv)
		url, tc := wssURL(srv, "/")
		const n, rounds = 100, 5
		conns := make([]*ws.Conn, n)
		var g group
		for i := range conns {
			g.Go(func() error {
				c, _, err := ws.Dial(ctx, url, ws.WithHTTP2(), ws.WithTLSConfig(tc))
				conns[i] = c
				return err
			})
		}
		require.NoError(t, g.Wait())
		for i, c := range conns {
			g.Go(func() error {
				for r := range rounds {
					want := fmt.Sprintf("ws %d round %d", i, r)
					if err := c.Send(ctx, ws.Text(want)); err != nil {
						return err
					}
					m, err := c.Receive(ctx)
					if err != nil {
						return err
					}
					if string(m.Data) != want {
						return fmt.Errorf("got %q, want %q", m.Data, want)
					}
				}
				return c.Close(ctx, ws.StatusNormalClosure, "")
			})
		}
		require.NoError(t, g.Wait())
		// Every handler function has run: each WebSocket was echoed.
		addrs, protos := p.snapshot()
		assert.Equal(t, 1, addrs, "one TCP connection carries them all")
		assert.Equal(t, map[int]int{2: n}, protos)
		require.NoError(t, wsSrv.Shutdown(ctx))
	})

	t.Run("the server's reset and connection loss mid-message", func(t *testing.T) {
		tests := []struct {
			name string
			// end ends the victim's stream after the start of a frame; the
			// bystander shares its connection.
			end            func(srv *httptest.Server)
			want           error
			bystanderLives bool
		}{
			{"RST_STREAM", func(*httptest.Server) { panic(http.ErrAbortHandler) }, ws.ErrStreamReset, true},
			{"connection closed", func(srv *httptest.Server) { srv.CloseClientConnections() }, ws.ErrConnectionLost, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				var p peers
				bystanders := h2EchoServer(&p)
				var srv *httptest.Server
				dialled := make(chan struct{})
				mux := http.NewServeMux()
				mux.Handle("/echo", bystanders)
				mux.HandleFunc("/victim", func(w http.ResponseWriter, r *http.Request) {
					p.note(r)
					acc, err := (&handshake.Server{}).UpgradeConnect(w, r)
					if !assert.NoError(t, err) {
						return
					}
					defer acc.Conn.Close()
					// A binary frame announcing 1000 bytes, of which 10 come.
					_, err = acc.Conn.Write(append([]byte{0x82, 0x7e, 0x03, 0xe8}, make([]byte, 10)...))
					assert.NoError(t, err)
					<-dialled // the 200 has reached the client
					tt.end(srv)
					<-r.Context().Done()
				})
				srv = startH2(t, mux)
				url, tc := wssURL(srv, "/echo")
				by, _, err := ws.Dial(ctx, url, ws.WithHTTP2(), ws.WithTLSConfig(tc))
				require.NoError(t, err)
				defer by.CloseNow()
				require.NoError(t, by.Send(ctx, ws.Text("first")))
				_, err = by.Receive(ctx) // the bystander's handler has run
				require.NoError(t, err)
				victim, _, err := ws.Dial(ctx, strings.Replace(url, "/echo", "/victim", 1), ws.WithHTTP2(), ws.WithTLSConfig(tc))
				require.NoError(t, err)
				close(dialled)
				<-victim.Done()
				err = victim.Err()
				t.Log(err)
				assert.ErrorIs(t, err, tt.want)
				assert.Equal(t, ws.StatusAbnormalClosure, ws.CloseStatus(err))
				addrs, _ := p.snapshot()
				assert.Equal(t, 1, addrs, "the victim and the bystander share a connection")

				if tt.bystanderLives {
					require.NoError(t, by.Send(ctx, ws.Text("still here")))
					m, err := by.Receive(ctx)
					require.NoError(t, err)
					assert.Equal(t, "still here", string(m.Data))
					require.NoError(t, by.Close(ctx, ws.StatusNormalClosure, ""))
				} else {
					<-by.Done()
					assert.ErrorIs(t, by.Err(), ws.ErrConnectionLost)
				}
				require.NoError(t, bystanders.Shutdown(ctx))
			})
		}
	})

	t.Run("GOAWAY: open WebSockets go on through http.Server.Shutdown", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var p peers
		wsSrv := h2EchoServer(&p)
		srv := startH2(t, wsSrv)
		url, tc := wssURL(srv, "/")
		c, _, err := ws.Dial(ctx, url, ws.WithHTTP2(), ws.WithTLSConfig(tc))
		require.NoError(t, err)
		shut := make(chan error, 1)
		go func() { shut <- srv.Config.Shutdown(ctx) }() // GOAWAY, then it waits for the handler
		for i := range 3 {
			require.NoError(t, c.Send(ctx, ws.Text(fmt.Sprint(i))))
			m, err := c.Receive(ctx)
			require.NoError(t, err)
			assert.Equal(t, fmt.Sprint(i), string(m.Data))
		}
		require.NoError(t, wsSrv.Shutdown(ctx))
		<-c.Done()
		assert.Equal(t, ws.StatusGoingAway, ws.CloseStatus(c.Err()))
		require.NoError(t, <-shut)
	})

	t.Run("a request header block over one frame goes in CONTINUATION frames", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		got := make(chan int, 1)
		wsSrv := ws.Handler(func(ctx context.Context, c *ws.Conn) {
			got <- len(ws.RequestFromContext(ctx).Header.Get("X-Big"))
		})
		srv := startH2(t, wsSrv)
		url, tc := wssURL(srv, "/")
		big := strings.Repeat("0123456789", 5000) // 50 KB, over 16 KiB after Huffman coding
		c, _, err := ws.Dial(ctx, url, ws.WithHTTP2(), ws.WithTLSConfig(tc),
			ws.WithHeader(http.Header{"X-Big": {big}}))
		require.NoError(t, err)
		assert.Equal(t, len(big), <-got)
		<-c.Done()
		require.NoError(t, wsSrv.Shutdown(ctx))
	})

	t.Run("refusal", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		srv := startH2(t, ws.Handler(func(context.Context, *ws.Conn) {}))
		url, tc := wssURL(srv, "/")
		_, _, err := ws.Dial(ctx, url, ws.WithHTTP2(), ws.WithTLSConfig(tc), ws.WithOrigin("https://evil.example"))
		var re *ws.RejectError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, http.StatusForbidden, re.Status)
		assert.Contains(t, string(re.Body), "origin")
	})
}

// TestHTTP2DialFallback: WithHTTP2 against servers without RFC 8441 —
// HTTP/1.1 only in TLS, or HTTP/2 without extended CONNECT (this process
// runs without GODEBUG=http2xconnect=1) — upgrades over HTTP/1.1.
func TestHTTP2DialFallback(t *testing.T) {
	if strings.Contains(os.Getenv("GODEBUG"), h2test.XConnect) {
		t.Skip("the process runs with GODEBUG=http2xconnect=1; this test needs a server without it")
	}
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprint("server HTTP/2 ", h2), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var p peers
			wsSrv := h2EchoServer(&p)
			srv := httptest.NewUnstartedServer(wsSrv)
			srv.EnableHTTP2 = h2
			srv.StartTLS()
			defer srv.Close()
			url, tc := wssURL(srv, "/")
			var g group
			for range 3 {
				g.Go(func() error {
					c, resp, err := ws.Dial(ctx, url, ws.WithHTTP2(), ws.WithTLSConfig(tc))
					if err != nil {
						return err
					}
					if resp.StatusCode != http.StatusSwitchingProtocols {
						return errors.New(resp.Status)
					}
					if err := c.Send(ctx, ws.Text("hi")); err != nil {
						return err
					}
					if _, err := c.Receive(ctx); err != nil {
						return err
					}
					return c.Close(ctx, ws.StatusNormalClosure, "")
				})
			}
			require.NoError(t, g.Wait())
			_, protos := p.snapshot()
			assert.Equal(t, map[int]int{1: 3}, protos)
			require.NoError(t, wsSrv.Shutdown(ctx))
		})
	}
}

// group runs functions on goroutines and collects their errors.
type group struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

func (g *group) Go(f func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(); err != nil {
			g.mu.Lock()
			g.errs = append(g.errs, err)
			g.mu.Unlock()
		}
	}()
}

func (g *group) Wait() error {
	g.wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	err := errors.Join(g.errs...)
	g.errs = nil
	return err
}
