//go:build !js

package ws_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws"
)

// netDial is a WithNetDial function over the in-memory listener of
// memory_test.go: each dial hands one end of a new net.Pipe to Accept.
func (l *pipeListener) netDial(context.Context, string, string) (net.Conn, error) { return l.dial() }

// serveOn serves h on ln until the returned function shuts both down.
func serveOn(ln net.Listener, h *ws.Server) (stop func()) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = srv.Serve(ln) }()
	return func() {
		_ = h.Shutdown(context.Background())
		_ = srv.Close()
		wg.Wait()
	}
}

// TestWithNetDial dials through WithNetDial over a unix socket and over
// an in-memory pipe: the URL's host only names the server, the function
// decides where the bytes go, and the connection works as over TCP.
func TestWithNetDial(t *testing.T) {
	for _, tc := range []struct {
		name   string
		listen func(t *testing.T) (net.Listener, func(ctx context.Context, network, addr string) (net.Conn, error))
	}{
		{"unix socket", func(t *testing.T) (net.Listener, func(context.Context, string, string) (net.Conn, error)) {
			dir, err := os.MkdirTemp("", "ws") // short: socket paths are limited to ~100 bytes
			require.NoError(t, err)
			t.Cleanup(func() { os.RemoveAll(dir) })
			sock := filepath.Join(dir, "s")
			ln, err := net.Listen("unix", sock)
			require.NoError(t, err)
			return ln, func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", sock)
			}
		}},
		{"net.Pipe", func(*testing.T) (net.Listener, func(context.Context, string, string) (net.Conn, error)) {
			ln := newPipeListener()
			return ln, ln.netDial
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, dialFn := tc.listen(t)
			stop := serveOn(ln, ws.Handler(echo, ws.WithSubprotocols("v1")))
			defer stop()
			c := dial(t, "ws://backend.internal/feed", ws.WithNetDial(dialFn), ws.WithSubprotocols("v1"),
				ws.WithProxy(http.ProxyURL(nil)))
			require.Equal(t, "v1", c.Subprotocol())
			require.NoError(t, c.Send(testCtx(t), ws.Text("over "+tc.name)))
			require.Equal(t, "over "+tc.name, string(recv(t, c).Data))
		})
	}
}

// TestWithNetDialError: the function's error is Dial's, and no goroutine
// is left behind.
func TestWithNetDialError(t *testing.T) {
	_, _, err := ws.Dial(testCtx(t), "ws://backend.internal/", ws.WithProxy(http.ProxyURL(nil)),
		ws.WithNetDial(func(context.Context, string, string) (net.Conn, error) { return nil, net.ErrClosed }))
	require.ErrorIs(t, err, net.ErrClosed)
}

// TestWithCookieJar: the jar's cookies for the URL go with the upgrade
// request, merged with WithHeader's Cookie, and the Set-Cookie of the 101
// response lands in the jar, so the next dial sends it.
func TestWithCookieJar(t *testing.T) {
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		_ = c.Send(ctx, ws.Text(ws.RequestFromContext(ctx).Header.Get("Cookie")))
		echo(ctx, c)
	}, ws.WithResponseHeader(http.Header{"Set-Cookie": {"session=s1; Path=/"}}))
	srv := httptest.NewServer(h)
	defer func() { _ = h.Shutdown(context.Background()); srv.Close() }()
	site, err := url.Parse(srv.URL)
	require.NoError(t, err)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	jar.SetCookies(site, []*http.Cookie{{Name: "pref", Value: "dark", Path: "/"}})

	for _, want := range []string{"extra=1; pref=dark", "extra=1; pref=dark; session=s1"} {
		c := dial(t, wsURL(srv), ws.WithCookieJar(jar), ws.WithHeader(http.Header{"Cookie": {"extra=1"}}))
		require.Equal(t, want, string(recv(t, c).Data))
		require.NoError(t, c.Close(testCtx(t), ws.StatusNormalClosure, ""))
	}
	var names []string
	for _, ck := range jar.Cookies(site) {
		names = append(names, ck.Name+"="+ck.Value)
	}
	require.ElementsMatch(t, []string{"pref=dark", "session=s1"}, names)
}

// A connection over an in-memory pipe: WithNetDial decides where the bytes
// go, so a server in the same process needs no socket (a unix socket or a
// SOCKS dialer plug in the same way).
func ExampleWithNetDial() {
	ln := newPipeListener()
	stop := serveOn(ln, ws.Handler(func(ctx context.Context, c *ws.Conn) {
		for m := range c.Incoming() {
			_ = c.Send(ctx, m)
		}
	}))
	defer stop()

	ctx := context.Background()
	c, _, err := ws.Dial(ctx, "ws://in-process/", ws.WithNetDial(ln.netDial), ws.WithProxy(http.ProxyURL(nil)))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = c.Send(ctx, ws.Text("hello through a pipe"))
	fmt.Println(string((<-c.Incoming()).Data))
	fmt.Println(c.Close(ctx, ws.StatusNormalClosure, ""))
	// Output:
	// hello through a pipe
	// <nil>
}

// Cookies a site set for its pages go with the upgrade request, and the
// server's Set-Cookie is kept for the next dial.
func ExampleWithCookieJar() {
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		_ = c.Send(ctx, ws.Text("cookies: "+ws.RequestFromContext(ctx).Header.Get("Cookie")))
	}, ws.WithResponseHeader(http.Header{"Set-Cookie": {"session=abc; Path=/; HttpOnly"}}))
	srv := httptest.NewServer(h)
	defer func() { _ = h.Shutdown(context.Background()); srv.Close() }()

	jar, _ := cookiejar.New(nil)
	site, _ := url.Parse(srv.URL)
	jar.SetCookies(site, []*http.Cookie{{Name: "lang", Value: "en", Path: "/"}})
	ctx := context.Background()
	for range 2 {
		c, _, err := ws.Dial(ctx, "ws"+srv.URL[len("http"):], ws.WithCookieJar(jar))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(string((<-c.Incoming()).Data))
		<-c.Done() // the handler returned: the server closed with 1000
	}
	// Output:
	// cookies: lang=en
	// cookies: lang=en; session=abc
}
