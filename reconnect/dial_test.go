package reconnect_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws"
	"github.com/wsactor/ws/reconnect"
)

// oneEcho is a ws.Handler function that echoes one message and returns,
// so the server closes with 1000 and the client has to dial again.
func oneEcho(ctx context.Context, conn *ws.Conn) {
	select {
	case m, ok := <-conn.Incoming():
		if ok {
			_ = conn.Send(ctx, m)
		}
	case <-ctx.Done():
	}
}

// restarts returns a ws.Handler function that ends each of the first n
// connections after one echo and echoes on the ones after, so a client
// dials exactly n+1 times before it is closed. seen, if not nil, is called
// with each upgrade request.
func restarts(n int64, seen func(*http.Request)) func(context.Context, *ws.Conn) {
	var count atomic.Int64
	return func(ctx context.Context, conn *ws.Conn) {
		if seen != nil {
			seen(ws.RequestFromContext(ctx))
		}
		if count.Add(1) <= n {
			oneEcho(ctx, conn)
			return
		}
		for m := range conn.Incoming() {
			if conn.Send(ctx, m) != nil {
				return
			}
		}
	}
}

// serveHTTP serves h on ln until the test ends.
func serveHTTP(t *testing.T, ln net.Listener, h *ws.Server) {
	t.Helper()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = h.Shutdown(context.Background())
		_ = srv.Close()
		wg.Wait()
	})
}

// httptestServer serves h with httptest (TLS if secure) until the test ends
// and returns its ws or wss URL.
func httptestServer(t *testing.T, h *ws.Server, secure bool) (*httptest.Server, string) {
	t.Helper()
	var s *httptest.Server
	if secure {
		s = httptest.NewTLSServer(h)
	} else {
		s = httptest.NewServer(h)
	}
	t.Cleanup(func() { _ = h.Shutdown(context.Background()); s.Close() })
	return s, "ws" + strings.TrimPrefix(s.URL, "http") + "/"
}

// connectProxy is an HTTP CONNECT proxy on 127.0.0.1 that counts the
// tunnels it opens.
type connectProxy struct {
	ln      net.Listener
	tunnels atomic.Int64
	wg      sync.WaitGroup
	mu      sync.Mutex
	open    map[net.Conn]struct{}
}

func newConnectProxy(t *testing.T) *connectProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &connectProxy{ln: ln, open: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for c := range p.open {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *connectProxy) url() *url.URL { return &url.URL{Scheme: "http", Host: p.ln.Addr().String()} }

func (p *connectProxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.open[c] = struct{}{}
	} else {
		delete(p.open, c)
	}
}

func (p *connectProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *connectProxy) serve(c net.Conn) {
	defer p.wg.Done()
	p.track(c, true)
	defer func() { p.track(c, false); c.Close() }()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		return
	}
	up, err := net.Dial("tcp", req.Host)
	if err != nil {
		_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	p.track(up, true)
	defer func() { p.track(up, false); up.Close() }()
	p.tunnels.Add(1)
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(up, br)
		up.Close()
		close(done)
	}()
	_, _ = io.Copy(c, up)
	c.Close()
	<-done
}

// TestDialOptionsAcrossReconnects runs a client whose every connection the
// server ends after one echo, so it dials three times, and checks that
// each dial went through ws.Dial with the options given: TLS, compression,
// subprotocols, WithNetDial to a unix socket, an HTTP proxy.
func TestDialOptionsAcrossReconnects(t *testing.T) {
	const dials = 3
	for _, tc := range []struct {
		name string
		// setup starts the server and returns the client's URL and options.
		setup func(t *testing.T) (string, []ws.DialOption)
		// check inspects each connection, as OnConnect sees it.
		check func(t *testing.T, conn *ws.Conn, resp *http.Response)
	}{
		{
			name: "TLS",
			setup: func(t *testing.T) (string, []ws.DialOption) {
				var overTLS atomic.Int64
				s, u := httptestServer(t, ws.Handler(restarts(dials-1, func(r *http.Request) {
					if r.TLS != nil {
						overTLS.Add(1)
					}
				})), true)
				t.Cleanup(func() { require.EqualValues(t, dials, overTLS.Load(), "every upgrade over TLS") })
				return u, []ws.DialOption{ws.WithTLSConfig(s.Client().Transport.(*http.Transport).TLSClientConfig)}
			},
			check: func(*testing.T, *ws.Conn, *http.Response) {},
		},
		{
			name: "compression",
			setup: func(t *testing.T) (string, []ws.DialOption) {
				_, u := httptestServer(t, ws.Handler(restarts(dials-1, nil), ws.WithCompression()), false)
				return u, []ws.DialOption{ws.WithCompression()}
			},
			check: func(t *testing.T, _ *ws.Conn, resp *http.Response) {
				require.Contains(t, resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")
			},
		},
		{
			name: "subprotocols",
			setup: func(t *testing.T) (string, []ws.DialOption) {
				_, u := httptestServer(t, ws.Handler(restarts(dials-1, nil), ws.WithSubprotocols("v2", "v1")), false)
				return u, []ws.DialOption{ws.WithSubprotocols("v1")}
			},
			check: func(t *testing.T, conn *ws.Conn, _ *http.Response) {
				require.Equal(t, "v1", conn.Subprotocol())
			},
		},
		{
			name: "WithNetDial to a unix socket",
			setup: func(t *testing.T) (string, []ws.DialOption) {
				dir, err := os.MkdirTemp("", "rc") // short: socket paths are limited to ~100 bytes
				require.NoError(t, err)
				t.Cleanup(func() { os.RemoveAll(dir) })
				sock := filepath.Join(dir, "s")
				ln, err := net.Listen("unix", sock)
				require.NoError(t, err)
				serveHTTP(t, ln, ws.Handler(restarts(dials-1, nil)))
				return "ws://backend.internal/", []ws.DialOption{
					ws.WithProxy(http.ProxyURL(nil)),
					ws.WithNetDial(func(ctx context.Context, _, _ string) (net.Conn, error) {
						var d net.Dialer
						return d.DialContext(ctx, "unix", sock)
					}),
				}
			},
			check: func(t *testing.T, conn *ws.Conn, _ *http.Response) {
				require.Equal(t, "unix", conn.RemoteAddr().Network())
			},
		},
		{
			name: "HTTP proxy",
			setup: func(t *testing.T) (string, []ws.DialOption) {
				_, u := httptestServer(t, ws.Handler(restarts(dials-1, nil)), false)
				p := newConnectProxy(t)
				t.Cleanup(func() { require.EqualValues(t, dials, p.tunnels.Load(), "one CONNECT per dial") })
				return u, []ws.DialOption{ws.WithProxy(http.ProxyURL(p.url()))}
			},
			check: func(*testing.T, *ws.Conn, *http.Response) {},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, opts := tc.setup(t)
			conns := make(chan *ws.Conn, dials)
			c, err := reconnect.New(u, fastBackoff(), reconnect.WithEventBuffer(1024),
				reconnect.WithDialOptions(opts...),
				reconnect.OnConnect(func(_ context.Context, conn *ws.Conn) error {
					conns <- conn
					return nil
				}))
			require.NoError(t, err)
			wait := start(t, context.Background(), c)
			ev := &recorder{t: t, ch: c.Events()}
			for i := range dials {
				connected := ev.until(is[reconnect.Connected]).(reconnect.Connected)
				tc.check(t, <-conns, connected.Response)
				msg := strings.Repeat("compressible ", 100) + string(rune('a'+i))
				require.NoError(t, c.Send(context.Background(), ws.Text(msg)))
				require.Equal(t, msg, string((<-c.Incoming()).Data))
				if i < dials-1 {
					d := ev.until(is[reconnect.Disconnected]).(reconnect.Disconnected)
					require.Equal(t, ws.StatusNormalClosure, ws.CloseStatus(d.Err), "the server ended it after one echo")
				}
			}
			require.NoError(t, c.Close(context.Background()))
			require.ErrorIs(t, wait(), reconnect.ErrClosed)
			require.EqualValues(t, dials, c.Stats().Connects)
		})
	}
}

// TestInvalidDialOptions: a ws option ws.Dial would refuse fails New, instead
// of every dial being refused and retried.
func TestInvalidDialOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  ws.DialOption
	}{
		{"keepalive with one zero", ws.WithKeepalive(time.Second, 0)},
		{"compression level without compression", ws.WithCompressionLevel(5)},
		{"negative redirects", ws.WithRedirects(-1)},
		{"empty subprotocol", ws.WithSubprotocols("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := reconnect.New("ws://127.0.0.1:1/", reconnect.WithDialOptions(tc.opt))
			require.ErrorContains(t, err, "reconnect: WithDialOptions: ws:")
		})
	}
	// Valid options need no I/O to be checked, and a bad URL is left to Run.
	var called atomic.Bool
	_, err := reconnect.New("ftp://example.com/", reconnect.WithDialOptions(
		ws.WithKeepalive(time.Second, time.Second),
		ws.WithNetDial(func(context.Context, string, string) (net.Conn, error) { called.Store(true); return nil, io.EOF })))
	require.NoError(t, err)
	require.False(t, called.Load())
}

// TestHeaderFuncOverDialOptions: WithHeader's result goes with every dial
// and wins over a ws.WithHeader in WithDialOptions, while the other ws
// options stay in force.
func TestHeaderFuncOverDialOptions(t *testing.T) {
	got := make(chan http.Header, 2)
	h := ws.Handler(restarts(1, func(r *http.Request) { got <- r.Header }), ws.WithSubprotocols("v1"))
	_, u := httptestServer(t, h, false)
	var n atomic.Int64
	c, err := reconnect.New(u, fastBackoff(),
		reconnect.WithDialOptions(ws.WithHeader(http.Header{"X-Static": {"replaced"}}), ws.WithSubprotocols("v1")),
		reconnect.WithHeader(func(context.Context) (http.Header, error) {
			return http.Header{"Authorization": {"Bearer " + string(rune('0'+n.Add(1)))}}, nil
		}))
	require.NoError(t, err)
	wait := start(t, context.Background(), c)
	for i := range 2 {
		hdr := <-got
		require.Equal(t, "Bearer "+string(rune('1'+i)), hdr.Get("Authorization"))
		require.Empty(t, hdr.Get("X-Static"))
		require.Equal(t, "v1", hdr.Get("Sec-WebSocket-Protocol"))
		require.NoError(t, c.Send(context.Background(), ws.Text("x")))
		<-c.Incoming()
	}
	require.NoError(t, c.Close(context.Background()))
	require.ErrorIs(t, wait(), reconnect.ErrClosed)
}
