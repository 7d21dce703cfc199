//go:build !js

package ws_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/internal/h2test"
)

// hellos records the ALPN protocols each TLS ClientHello offered a test
// server: one entry per TLS connection.
type hellos struct {
	mu     sync.Mutex
	offers [][]string
}

func (h *hellos) config(next []string) *tls.Config {
	return &tls.Config{
		NextProtos: next,
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.offers = append(h.offers, append([]string(nil), hello.SupportedProtos...))
			return nil, nil
		},
	}
}

func (h *hellos) snapshot() [][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]string(nil), h.offers...)
}

// Kinds of TLS server for startCounted.
const (
	rfc8441   = "h2 with RFC 8441"       // net/http's HTTP/2; needs GODEBUG=http2xconnect=1
	http1Only = "http/1.1 only"          // ALPN http/1.1
	h2NoConn  = "h2 without the setting" // net/http's HTTP/2 in a process without the GODEBUG
	h2Frames  = "frame-level h2"         // a frame-level h2 server without the setting
)

// startCounted serves an echo ws.Handler over TLS as kind says, noting
// each WebSocket request in p and each TLS connection's ALPN offer.
func startCounted(t *testing.T, kind string, p *peers) (*httptest.Server, *hellos) {
	t.Helper()
	wsSrv := h2EchoServer(p)
	srv := httptest.NewUnstartedServer(wsSrv)
	h := &hellos{}
	switch kind {
	case rfc8441, h2NoConn:
		srv.EnableHTTP2 = true
		srv.TLS = h.config([]string{"h2", "http/1.1"})
	case http1Only:
		srv.TLS = h.config([]string{"http/1.1"})
	case h2Frames:
		srv.TLS = h.config([]string{"h2", "http/1.1"})
		srv.Config.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){"h2": serveH2WithoutConnect}
	}
	srv.StartTLS()
	t.Cleanup(func() {
		require.NoError(t, wsSrv.Shutdown(context.Background()))
		srv.Close()
	})
	return srv, h
}

// serveH2WithoutConnect speaks just enough HTTP/2 to be a server without
// RFC 8441: the preface, SETTINGS without ENABLE_CONNECT_PROTOCOL, then
// it reads until the client goes.
func serveH2WithoutConnect(_ *http.Server, c *tls.Conn, _ http.Handler) {
	defer c.Close()
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c, preface); err != nil {
		return
	}
	fr := http2.NewFramer(c, c)
	if fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100}) != nil {
		return
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
			if fr.WriteSettingsAck() != nil {
				return
			}
		}
	}
}

// echoOnce dials url, checks one echo, and returns the open Conn and the
// response protocol's major version.
func echoOnce(t *testing.T, ctx context.Context, url string, opts ...ws.DialOption) (*ws.Conn, int) {
	t.Helper()
	c, resp, err := ws.Dial(ctx, url, opts...)
	require.NoError(t, err)
	require.NoError(t, c.Send(ctx, ws.Text("hi")))
	m, err := c.Receive(ctx)
	require.NoError(t, err)
	require.Equal(t, "hi", string(m.Data))
	return c, resp.ProtoMajor
}

// connectProxy is an HTTP proxy that tunnels CONNECT requests and counts
// them.
type connectProxy struct {
	*httptest.Server
	mu      sync.Mutex
	tunnels int
	wg      sync.WaitGroup
}

func startConnectProxy(t *testing.T) *connectProxy {
	p := &connectProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Counted from the start: httptest's Close waits for the request
		// until it is hijacked, so this Add comes before the cleanup's Wait.
		p.wg.Add(1)
		defer p.wg.Done()
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		down, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		p.mu.Lock()
		p.tunnels++
		p.mu.Unlock()
		_, _ = io.WriteString(down, "HTTP/1.1 200 Connection established\r\n\r\n")
		upDone := make(chan struct{})
		go func() { defer close(upDone); _, _ = io.Copy(up, down); up.Close() }()
		_, _ = io.Copy(down, up)
		down.Close()
		<-upDone
	}))
	t.Cleanup(func() { p.Close(); p.wg.Wait() })
	return p
}

func (p *connectProxy) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tunnels
}

// TestHTTP2AutoDial: against a server with RFC 8441 (re-run with
// GODEBUG=http2xconnect=1), a plain Dial of a wss URL goes over HTTP/2 and
// two WebSockets share one TLS connection; WithHTTP1 keeps to HTTP/1.1 on
// a connection of its own and offers only http/1.1; a proxy keeps
// HTTP/1.1 unless WithHTTP2 asks for h2 through it.
func TestHTTP2AutoDial(t *testing.T) {
	if !h2test.ReexecWithXConnect(t) {
		return
	}
	direct := ws.WithProxy(http.ProxyURL(nil))
	for _, tc := range []struct {
		name       string
		opts       []ws.DialOption
		proxied    bool
		wantProto  int
		wantOffers [][]string // one per TLS connection, for two WebSockets
	}{
		{"default", nil, false, 2, [][]string{{"h2", "http/1.1"}}},
		{"WithHTTP2", []ws.DialOption{direct, ws.WithHTTP2()}, false, 2, [][]string{{"h2", "http/1.1"}}},
		{"WithHTTP1", []ws.DialOption{direct, ws.WithHTTP1()}, false, 1, [][]string{{"http/1.1"}, {"http/1.1"}}},
		{"WithHTTP1 after WithHTTP2", []ws.DialOption{direct, ws.WithHTTP2(), ws.WithHTTP1()}, false, 1, [][]string{{"http/1.1"}, {"http/1.1"}}},
		{"through a proxy", nil, true, 1, [][]string{{"http/1.1"}, {"http/1.1"}}},
		{"through a proxy with WithHTTP2", []ws.DialOption{ws.WithHTTP2()}, true, 2, [][]string{{"h2", "http/1.1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var p peers
			srv, h := startCounted(t, rfc8441, &p)
			u, tlsc := wssURL(srv, "/")
			opts := append([]ws.DialOption{ws.WithTLSConfig(tlsc)}, tc.opts...)
			var proxy *connectProxy
			if tc.proxied {
				proxy = startConnectProxy(t)
				pu, err := url.Parse(proxy.URL)
				require.NoError(t, err)
				opts = append(opts, ws.WithProxy(http.ProxyURL(pu)))
			}
			a, protoA := echoOnce(t, ctx, u, opts...)
			b, protoB := echoOnce(t, ctx, u, opts...)
			assert.Equal(t, []int{tc.wantProto, tc.wantProto}, []int{protoA, protoB}, "response protocols")
			_, protos := p.snapshot()
			assert.Equal(t, map[int]int{tc.wantProto: 2}, protos, "protocols the handler saw")
			assert.Equal(t, tc.wantOffers, h.snapshot(), "ALPN offered per TLS connection")
			if proxy != nil {
				assert.Equal(t, len(tc.wantOffers), proxy.count(), "CONNECT tunnels")
			}
			require.NoError(t, a.Close(ctx, ws.StatusNormalClosure, ""))
			require.NoError(t, b.Close(ctx, ws.StatusNormalClosure, ""))
		})
	}
}

// TestHTTP2AutoFallback: against TLS servers without RFC 8441 a plain Dial
// upgrades over HTTP/1.1. A server that picks http/1.1 gets the upgrade on
// the connection that offered h2; one that picks h2 without
// SETTINGS_ENABLE_CONNECT_PROTOCOL costs a second connection the first
// time only: Dial remembers it and the next Dial offers only http/1.1.
func TestHTTP2AutoFallback(t *testing.T) {
	xconnect := strings.Contains(os.Getenv("GODEBUG"), h2test.XConnect)
	first, h1 := []string{"h2", "http/1.1"}, []string{"http/1.1"}
	for _, tc := range []struct {
		kind   string
		opts   []ws.DialOption
		offers [][]string // TLS connections for two Dials, one after the other
	}{
		{http1Only, nil, [][]string{first, h1}},
		{h2Frames, nil, [][]string{first, h1, h1}},
		{h2NoConn, nil, [][]string{first, h1, h1}},
		{h2Frames + " with WithHTTP2", []ws.DialOption{ws.WithHTTP2()}, [][]string{first, h1, h1}},
		{h2Frames + " with WithHTTP1", []ws.DialOption{ws.WithHTTP1()}, [][]string{h1, h1}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			kind, _, _ := strings.Cut(tc.kind, " with ")
			if kind == h2NoConn && xconnect {
				t.Skip("the process runs with GODEBUG=http2xconnect=1: net/http's server advertises RFC 8441 (the frame-level rows cover this)")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var p peers
			srv, h := startCounted(t, kind, &p)
			u, tlsc := wssURL(srv, "/")
			opts := append([]ws.DialOption{ws.WithTLSConfig(tlsc), ws.WithProxy(http.ProxyURL(nil))}, tc.opts...)
			for range 2 {
				c, proto := echoOnce(t, ctx, u, opts...)
				assert.Equal(t, 1, proto)
				require.NoError(t, c.Close(ctx, ws.StatusNormalClosure, ""))
			}
			_, protos := p.snapshot()
			assert.Equal(t, map[int]int{1: 2}, protos)
			assert.Equal(t, tc.offers, h.snapshot(), "ALPN offered per TLS connection")
		})
	}
}
