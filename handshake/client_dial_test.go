package handshake_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws/handshake"
)

// TestDialNetDialUnix reaches a server on a unix socket: NetDial replaces
// the TCP dial and the handshake runs unchanged on what it returns.
func TestDialNetDialUnix(t *testing.T) {
	dir, err := os.MkdirTemp("", "hs") // short: socket paths are limited to ~100 bytes
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "s")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv := &http.Server{Handler: echoHandler(t, &handshake.Server{})}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = srv.Serve(ln) }()
	defer func() { srv.Close(); wg.Wait() }()

	var gotNetwork, gotAddr string
	c := &handshake.Client{
		Proxy: http.ProxyURL(nil),
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			gotNetwork, gotAddr = network, addr
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}
	acc, err := c.Dial(context.Background(), "ws://backend/feed")
	require.NoError(t, err)
	require.Equal(t, "tcp", gotNetwork)
	require.Equal(t, "backend:80", gotAddr)
	echo(t, acc)
}

// TestDialNetDialPipe runs the whole handshake in memory: NetDial hands
// out one end of a net.Pipe and handshake.Server answers on the other.
func TestDialNetDialPipe(t *testing.T) {
	a, b := net.Pipe()
	served := make(chan error, 1)
	go func() {
		acc, err := (&handshake.Server{Subprotocols: []string{"v1"}}).Handshake(context.Background(), b)
		if err != nil {
			served <- err
			return
		}
		defer acc.Conn.Close()
		buf := make([]byte, 5)
		if _, err := io.ReadFull(acc.Reader, buf); err != nil {
			served <- err
			return
		}
		_, err = acc.Conn.Write(buf)
		served <- err
	}()
	c := &handshake.Client{
		Subprotocols: []string{"v1"},
		Proxy:        http.ProxyURL(nil),
		NetDial: func(context.Context, string, string) (net.Conn, error) {
			return a, nil
		},
	}
	acc, err := c.Dial(context.Background(), "ws://in-memory/")
	require.NoError(t, err)
	require.Equal(t, "v1", acc.Protocol)
	echo(t, acc)
	require.NoError(t, <-served)
}

// TestDialNetDialProxy shows NetDial opens the connection to the proxy,
// and CONNECT then runs over it.
func TestDialNetDialProxy(t *testing.T) {
	s := httptest.NewServer(echoHandler(t, &handshake.Server{}))
	defer s.Close()
	proxy, stop := connectProxy(t)
	defer stop()
	proxy.User = url.UserPassword("user", "pass")
	var addrs []string
	c := &handshake.Client{
		Proxy: http.ProxyURL(proxy),
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			addrs = append(addrs, addr)
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	acc, err := c.Dial(context.Background(), wsURL(s, "/"))
	require.NoError(t, err)
	require.Equal(t, []string{proxy.Host}, addrs)
	echo(t, acc)
}

func TestDialNetDialErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		dial func(context.Context, string, string) (net.Conn, error)
		want string
	}{
		{"error", func(context.Context, string, string) (net.Conn, error) { return nil, io.ErrClosedPipe }, "closed pipe"},
		{"nil conn", func(context.Context, string, string) (net.Conn, error) { return nil, nil }, "nil connection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &handshake.Client{Proxy: http.ProxyURL(nil), NetDial: tc.dial}
			_, err := c.Dial(context.Background(), "ws://example.invalid/")
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// TestDialCookieJar sends the jar's cookies for the URL (ws as http: a
// cookie set by the site's pages) merged with Header's Cookie into one field, and stores the
// server's Set-Cookie, from a 101 and from a refusal alike.
func TestDialCookieJar(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string // Cookie fields the server received, one per request
	)
	mux := http.NewServeMux()
	mux.Handle("/ws", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, join(r.Header.Values("Cookie")))
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s2", Path: "/"})
		echoHandler(t, &handshake.Server{}).ServeHTTP(w, r)
	}))
	mux.Handle("/denied", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "denied", Value: "yes", Path: "/"})
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	s := httptest.NewServer(mux)
	defer s.Close()
	site, err := url.Parse(s.URL)
	require.NoError(t, err)

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	jar.SetCookies(site, []*http.Cookie{{Name: "pref", Value: "dark", Path: "/"}})
	c := &handshake.Client{Jar: jar, Proxy: http.ProxyURL(nil), Header: http.Header{"Cookie": {"extra=1"}}}

	acc, err := c.Dial(context.Background(), wsURL(s, "/ws"))
	require.NoError(t, err)
	echo(t, acc)
	acc, err = c.Dial(context.Background(), wsURL(s, "/ws"))
	require.NoError(t, err)
	echo(t, acc)

	mu.Lock()
	require.Equal(t, []string{"extra=1; pref=dark", "extra=1; pref=dark; session=s2"}, seen)
	mu.Unlock()
	names := func() map[string]string {
		m := map[string]string{}
		for _, ck := range jar.Cookies(site) {
			m[ck.Name] = ck.Value
		}
		return m
	}
	assert.Equal(t, map[string]string{"pref": "dark", "session": "s2"}, names())

	_, err = c.Dial(context.Background(), wsURL(s, "/denied"))
	var rej *handshake.RejectError
	require.ErrorAs(t, err, &rej)
	require.Equal(t, http.StatusUnauthorized, rej.Status)
	assert.Equal(t, "yes", names()["denied"])
}

func join(vs []string) string {
	out := ""
	for i, v := range vs {
		if i > 0 {
			out += " | "
		}
		out += v
	}
	return out
}
