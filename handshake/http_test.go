package handshake_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws/handshake"
)

// echoHandler upgrades with srv and echoes the first five bytes.
func echoHandler(t *testing.T, srv *handshake.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Server", "test")
		acc, err := srv.Upgrade(w, r)
		if err != nil {
			return
		}
		defer acc.Conn.Close()
		b := make([]byte, 5)
		if _, err := io.ReadFull(acc.Reader, b); err != nil {
			t.Errorf("server read: %v", err)
			return
		}
		_, _ = acc.Conn.Write(b)
	})
}

// echo sends five bytes on an accepted client connection and reads them back.
func echo(t *testing.T, acc *handshake.Accepted) {
	t.Helper()
	defer acc.Conn.Close()
	_, err := acc.Conn.Write([]byte("hello"))
	require.NoError(t, err)
	b := make([]byte, 5)
	_, err = io.ReadFull(acc.Reader, b)
	require.NoError(t, err)
	require.Equal(t, "hello", string(b))
}

func wsURL(s *httptest.Server, path string) string {
	return strings.Replace(s.URL, "http", "ws", 1) + path
}

func TestUpgradeHTTP(t *testing.T) {
	srv := &handshake.Server{
		Subprotocols: []string{"v2", "v1"},
		Extensions:   []handshake.Negotiator{&handshake.PerMessageDeflate{ServerNoContextTakeover: true}},
	}
	s := httptest.NewServer(echoHandler(t, srv))
	defer s.Close()
	c := &handshake.Client{
		Subprotocols: []string{"v1", "v2"},
		Extensions:   []handshake.Negotiator{&handshake.PerMessageDeflate{}},
		Proxy:        http.ProxyURL(nil),
	}
	acc, err := c.Dial(context.Background(), wsURL(s, "/feed?x=1"))
	require.NoError(t, err)
	require.Equal(t, "v2", acc.Protocol)
	require.Equal(t, "test", acc.Response.Header.Get("X-Server"))
	require.NotNil(t, acc.Deflate)
	require.True(t, acc.Deflate.ServerNoContextTakeover)
	echo(t, acc)
}

func TestUpgradeHTTPRefusals(t *testing.T) {
	s := httptest.NewServer(echoHandler(t, &handshake.Server{}))
	defer s.Close()

	resp, err := http.Get(s.URL) // 4.2.1: not an upgrade
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 400, resp.StatusCode)
	require.Contains(t, string(body), "Upgrade")

	req, err := http.NewRequest("GET", s.URL, nil)
	require.NoError(t, err)
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Version", "7")
	resp, err = http.DefaultClient.Do(req) // 4.4: wrong version
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 426, resp.StatusCode)
	require.Equal(t, "13", resp.Header.Get("Sec-WebSocket-Version"))
	http.DefaultClient.CloseIdleConnections()

	// 10.2: a cross-origin browser request is refused with a body.
	_, err = (&handshake.Client{Origin: "https://evil.example", Proxy: http.ProxyURL(nil)}).Dial(context.Background(), wsURL(s, "/"))
	var rej *handshake.RejectError
	require.ErrorAs(t, err, &rej)
	require.Equal(t, 403, rej.Status)
	require.Contains(t, string(rej.Body), "origin not allowed")
}

func TestDialTLS(t *testing.T) {
	s := httptest.NewTLSServer(echoHandler(t, &handshake.Server{}))
	defer s.Close()
	c := &handshake.Client{TLSConfig: s.Client().Transport.(*http.Transport).TLSClientConfig, Proxy: http.ProxyURL(nil)}
	acc, err := c.Dial(context.Background(), wsURL(s, "/"))
	require.NoError(t, err)
	echo(t, acc)

	// Without the test CA the certificate is refused.
	_, err = (&handshake.Client{Proxy: http.ProxyURL(nil)}).Dial(context.Background(), wsURL(s, "/"))
	require.ErrorContains(t, err, "tls")
}

// connectProxy is an HTTP CONNECT proxy for tests that requires Basic
// credentials user:pass.
func connectProxy(t *testing.T) (*url.URL, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil || req.Method != http.MethodConnect {
					return
				}
				want := "Basic " + base64.StdEncoding.EncodeToString([]byte("user:pass"))
				if req.Header.Get("Proxy-Authorization") != want {
					_, _ = io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 6\r\n\r\nwho?\r\n")
					return
				}
				up, err := net.Dial("tcp", req.Host)
				if err != nil {
					_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
					return
				}
				defer up.Close()
				_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
				done := make(chan struct{})
				go func() {
					_, _ = io.Copy(up, br)
					up.(*net.TCPConn).CloseWrite()
					close(done)
				}()
				_, _ = io.Copy(c, up)
				c.Close()
				<-done
			}()
		}
	}()
	return &url.URL{Scheme: "http", Host: ln.Addr().String()}, func() { ln.Close(); wg.Wait() }
}

func TestDialProxy(t *testing.T) {
	s := httptest.NewTLSServer(echoHandler(t, &handshake.Server{}))
	defer s.Close()
	proxy, stop := connectProxy(t)
	defer stop()

	good := *proxy
	good.User = url.UserPassword("user", "pass")
	c := &handshake.Client{TLSConfig: s.Client().Transport.(*http.Transport).TLSClientConfig, Proxy: http.ProxyURL(&good)}
	acc, err := c.Dial(context.Background(), wsURL(s, "/"))
	require.NoError(t, err)
	echo(t, acc)

	bad := *proxy
	bad.User = url.UserPassword("user", "wrong")
	c.Proxy = http.ProxyURL(&bad)
	_, err = c.Dial(context.Background(), wsURL(s, "/"))
	var rej *handshake.RejectError
	require.ErrorAs(t, err, &rej)
	require.Equal(t, 407, rej.Status)
	require.ErrorIs(t, err, handshake.ErrProxy)
}

func TestDialRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/ws", echoHandler(t, &handshake.Server{}))
	mux.Handle("/old", http.RedirectHandler("/ws", http.StatusFound))
	mux.Handle("/loop", http.RedirectHandler("/loop", http.StatusTemporaryRedirect))
	s := httptest.NewServer(mux)
	defer s.Close()
	c := &handshake.Client{Proxy: http.ProxyURL(nil)}

	// Off by default: the redirect is returned.
	_, err := c.Dial(context.Background(), wsURL(s, "/old"))
	var re *handshake.RedirectError
	require.ErrorAs(t, err, &re)
	require.Equal(t, 302, re.Status)
	require.Equal(t, wsURL(s, "/ws"), re.Location)

	c.MaxRedirects = 3
	acc, err := c.Dial(context.Background(), wsURL(s, "/old"))
	require.NoError(t, err)
	echo(t, acc)

	_, err = c.Dial(context.Background(), wsURL(s, "/loop"))
	require.ErrorIs(t, err, handshake.ErrTooManyRedirects)
	require.ErrorAs(t, err, &re)

	// wss to ws is refused.
	ts := httptest.NewTLSServer(http.RedirectHandler(s.URL+"/ws", http.StatusMovedPermanently))
	defer ts.Close()
	c.TLSConfig = ts.Client().Transport.(*http.Transport).TLSClientConfig
	_, err = c.Dial(context.Background(), wsURL(ts, "/"))
	require.ErrorIs(t, err, handshake.ErrDowngrade)
}

func TestIsUpgradeRequest(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	require.False(t, handshake.IsUpgradeRequest(r))
	r.Header.Set("Upgrade", "WebSocket")
	r.Header.Set("Connection", "keep-alive, Upgrade")
	require.True(t, handshake.IsUpgradeRequest(r))
}
