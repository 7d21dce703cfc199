//go:build !js

package ws_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func wsURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") }

func echo(ctx context.Context, c *ws.Conn) {
	for msg := range c.Incoming() {
		if err := c.Send(ctx, msg); err != nil {
			return
		}
	}
}

// startEcho serves echo through ws.Handler on 127.0.0.1 and shuts both
// servers down at the end of the test.
func startEcho(t *testing.T, opts ...ws.AcceptOption) (*ws.Server, string) {
	t.Helper()
	h := ws.Handler(echo, opts...)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		require.NoError(t, h.Shutdown(context.Background()))
		srv.Close()
	})
	return h, wsURL(srv)
}

func dial(t *testing.T, url string, opts ...ws.DialOption) *ws.Conn {
	t.Helper()
	c, resp, err := ws.Dial(testCtx(t), url, opts...)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(ctx, ws.StatusNormalClosure, "")
		<-c.Done()
	})
	return c
}

func recv(t *testing.T, c *ws.Conn) ws.Message {
	t.Helper()
	select {
	case m, ok := <-c.Incoming():
		require.True(t, ok, "connection ended: %v", c.Err())
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("no message")
	}
	return ws.Message{}
}

func TestEchoRoundTrip(t *testing.T) {
	_, url := startEcho(t, ws.WithMaxMessageSize(20<<20))
	c := dial(t, url, ws.WithMaxMessageSize(20<<20), ws.WithFragmentSize(64<<10))
	ctx := testCtx(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB
	for _, m := range []ws.Message{
		ws.Text("hello"),
		ws.Text(""),
		ws.Binary([]byte{0, 1, 2, 0xff}),
		ws.Binary(nil),
		ws.Text("héllo, 世界"),
		ws.Binary(big),
	} {
		require.NoError(t, c.Send(ctx, m))
		got := recv(t, c)
		require.Equal(t, m.Type, got.Type)
		require.Equal(t, len(m.Data), len(got.Data))
		require.True(t, bytes.Equal(m.Data, got.Data))
	}
	rtt, err := c.Ping(ctx)
	require.NoError(t, err)
	require.Greater(t, rtt, time.Duration(0))
}

func TestTextBinaryConstructors(t *testing.T) {
	require.Equal(t, ws.Message{Type: ws.TextMessage, Data: []byte("a")}, ws.Text("a"))
	b := []byte{1}
	m := ws.Binary(b)
	require.Equal(t, ws.BinaryMessage, m.Type)
	require.Same(t, &b[0], &m.Data[0], "Binary does not copy")
}

// TestOptionSides: a side-specific option must not satisfy the other side's
// option interface (so giving it there does not compile), while shared
// options satisfy both.
func TestOptionSides(t *testing.T) {
	for name, o := range map[string]any{
		"WithHeader": ws.WithHeader(nil), "WithTLSConfig": ws.WithTLSConfig(nil), "WithProxy": ws.WithProxy(nil),
		"WithRedirects": ws.WithRedirects(1),
		"WithDialer":    ws.WithDialer(nil), "WithOrigin": ws.WithOrigin("https://x"),
	} {
		_, isAccept := o.(ws.AcceptOption)
		require.False(t, isAccept, "%s is a DialOption only", name)
	}
	for name, o := range map[string]any{
		"WithOrigins": ws.WithOrigins("x"), "WithAnyOrigin": ws.WithAnyOrigin(), "WithResponseHeader": ws.WithResponseHeader(nil),
		"WithSubprotocolSelector": ws.WithSubprotocolSelector(nil),
	} {
		_, isDial := o.(ws.DialOption)
		require.False(t, isDial, "%s is an AcceptOption only", name)
	}
	var shared []ws.Option = []ws.Option{
		ws.WithMaxMessageSize(1), ws.WithMaxFrameSize(1), ws.WithFragmentSize(1), ws.WithIncomingBuffer(1),
		ws.WithOutgoingBuffer(1), ws.WithReadBufferSize(1), ws.WithWriteBufferSize(1), ws.WithKeepalive(0, 0),
		ws.WithWriteTimeout(1), ws.WithCloseGracePeriod(1), ws.WithLifetime(context.Background()),
		ws.WithSubprotocols("a"), ws.OnPing(func([]byte) {}), ws.OnPong(func([]byte) {}),
		ws.WithHandshakeTimeout(time.Second), ws.WithIncomingBytes(1), ws.WithFailLinger(0),
		ws.WithRecycledBuffers(false),
	}
	for _, o := range shared {
		var d ws.DialOption = o
		var a ws.AcceptOption = o
		_, _ = d, a
	}
}

func TestInvalidOptions(t *testing.T) {
	_, _, err := ws.Dial(testCtx(t), "ws://127.0.0.1:1/", ws.WithMaxMessageSize(0))
	require.ErrorContains(t, err, "WithMaxMessageSize")

	_, err = ws.NewServer(echo, ws.WithCloseGracePeriod(-1))
	require.ErrorContains(t, err, "WithCloseGracePeriod")
	_, err = ws.NewServer(nil)
	require.ErrorContains(t, err, "nil handler")
	require.PanicsWithError(t, "ws: WithIncomingBytes: size must be positive", func() {
		ws.Handler(echo, ws.WithIncomingBytes(0))
	})
	for _, o := range []ws.Option{ws.WithFailLinger(-1), ws.WithHandshakeTimeout(-1)} {
		_, err = ws.NewServer(echo, o)
		require.Error(t, err)
	}

	// Accept reports invalid options per call, answering 500.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := ws.Accept(w, r, ws.WithCloseGracePeriod(-1))
		assert.ErrorContains(t, err, "WithCloseGracePeriod")
	}))
	defer srv.Close()
	_, _, err = ws.Dial(testCtx(t), wsURL(srv))
	var rej *ws.RejectError
	require.ErrorAs(t, err, &rej)
	require.Equal(t, http.StatusInternalServerError, rej.Status)
}

func TestDialRejectAndRedirect(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/forbidden", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no entry", http.StatusForbidden)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/echo", http.StatusFound)
	})
	mux.Handle("/echo", ws.Handler(echo))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	_, resp, err := ws.Dial(testCtx(t), wsURL(srv)+"/forbidden")
	require.Nil(t, resp)
	var rej *ws.RejectError
	require.ErrorAs(t, err, &rej)
	require.Equal(t, http.StatusForbidden, rej.Status)
	require.Contains(t, string(rej.Body), "no entry")

	_, _, err = ws.Dial(testCtx(t), wsURL(srv)+"/moved")
	var red *ws.RedirectError
	require.ErrorAs(t, err, &red)
	require.Equal(t, http.StatusFound, red.Status)

	c := dial(t, wsURL(srv)+"/moved", ws.WithRedirects(1))
	require.NoError(t, c.Send(testCtx(t), ws.Text("followed")))
	require.Equal(t, "followed", string(recv(t, c).Data))
}

func TestSubprotocolAndRequest(t *testing.T) {
	got := make(chan string, 1)
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		got <- c.Subprotocol() + " " + ws.RequestFromContext(ctx).URL.Query().Get("room")
	}, ws.WithSubprotocols("v2", "v1"))
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := dial(t, wsURL(srv)+"/?room=42", ws.WithSubprotocols("v1", "v2"))
	require.Equal(t, "v2 42", <-got, "the server's preference wins")
	require.Equal(t, "v2", c.Subprotocol())
	// The handler returned: the server closes with 1000.
	<-c.Done()
	var ce *ws.CloseError
	require.ErrorAs(t, c.Err(), &ce)
	require.Equal(t, ws.StatusNormalClosure, ce.Code)
	require.True(t, ce.Remote)
	require.NoError(t, h.Shutdown(testCtx(t)))
}

func TestOriginPolicy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   []ws.AcceptOption
		origin string
		ok     bool
	}{
		{"no origin (non-browser)", nil, "", true},
		{"same origin", nil, "http://HOST", true},
		{"foreign origin refused by default", nil, "https://evil.example", false},
		{"pattern", []ws.AcceptOption{ws.WithOrigins("*.example.com")}, "https://app.example.com", true},
		{"pattern does not match", []ws.AcceptOption{ws.WithOrigins("*.example.com")}, "https://example.org", false},
		{"any origin", []ws.AcceptOption{ws.WithAnyOrigin()}, "https://evil.example", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, url := startEcho(t, tc.opts...)
			origin := strings.ReplaceAll(tc.origin, "HOST", strings.TrimPrefix(url, "ws://"))
			c, _, err := ws.Dial(testCtx(t), url, ws.WithOrigin(origin))
			if !tc.ok {
				var rej *ws.RejectError
				require.ErrorAs(t, err, &rej)
				require.Equal(t, http.StatusForbidden, rej.Status)
				return
			}
			require.NoError(t, err)
			require.NoError(t, c.Close(testCtx(t), ws.StatusNormalClosure, ""))
		})
	}
}

func TestResponseAndRequestHeaders(t *testing.T) {
	seen := make(chan string, 1)
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		seen <- ws.RequestFromContext(ctx).Header.Get("Authorization")
	}, ws.WithResponseHeader(http.Header{"X-Server": {"wsactor"}}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, resp, err := ws.Dial(testCtx(t), wsURL(srv), ws.WithHeader(http.Header{"Authorization": {"Bearer t"}}))
	require.NoError(t, err)
	require.Equal(t, "wsactor", resp.Header.Get("X-Server"))
	require.Equal(t, "Bearer t", <-seen)
	<-c.Done()
	require.NoError(t, h.Shutdown(testCtx(t)))
}

// The handler's ctx is cancelled when its connection ends, so a handler
// that waits on it (a subscription, a ticker) returns with the connection.
func TestHandlerCtxEndsWithConn(t *testing.T) {
	returned := make(chan struct{})
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		defer close(returned)
		<-ctx.Done()
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, _, err := ws.Dial(testCtx(t), wsURL(srv))
	require.NoError(t, err)
	require.NoError(t, c.Close(testCtx(t), ws.StatusNormalClosure, ""))
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler's ctx was not cancelled when its connection ended")
	}
	require.NoError(t, h.Shutdown(testCtx(t)))
}

// TestShutdown: Server.Shutdown closes every live connection with 1001,
// waits for the handlers, and refuses new upgrades with 503.
func TestShutdown(t *testing.T) {
	h := ws.Handler(echo, ws.WithCloseGracePeriod(2*time.Second))
	srv := httptest.NewServer(h)
	defer srv.Close()

	const n = 5
	conns := make([]*ws.Conn, n)
	for i := range conns {
		conns[i] = dial(t, wsURL(srv))
		require.NoError(t, conns[i].Send(testCtx(t), ws.Text("up")))
		recv(t, conns[i]) // the handler runs
	}
	require.Equal(t, n, h.Len())

	require.NoError(t, h.Shutdown(testCtx(t)))
	require.Equal(t, 0, h.Len())
	for _, c := range conns {
		<-c.Done()
		var ce *ws.CloseError
		require.ErrorAs(t, c.Err(), &ce)
		require.Equal(t, ws.StatusGoingAway, ce.Code)
		require.True(t, ce.Remote)
	}

	_, _, err := ws.Dial(testCtx(t), wsURL(srv))
	var rej *ws.RejectError
	require.ErrorAs(t, err, &rej)
	require.Equal(t, http.StatusServiceUnavailable, rej.Status)
	require.NoError(t, h.Shutdown(testCtx(t)), "Shutdown again")
}

// TestShutdownDeadline: a handler that ignores both its ctx and its
// connection's end keeps Shutdown waiting until ctx expires; the
// connections are then dropped at once.
func TestShutdownDeadline(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		close(entered)
		<-release
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := dial(t, wsURL(srv))
	<-entered

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, h.Shutdown(ctx), context.DeadlineExceeded)
	<-c.Done()
	close(release)
	require.NoError(t, h.Shutdown(testCtx(t)))
}

// TestShutdownRecipeAccept: connections from ws.Accept bound with
// WithLifetime to a context that http.Server.RegisterOnShutdown cancels
// are closed with 1001 by http.Server.Shutdown.
func TestShutdownRecipeAccept(t *testing.T) {
	life, goAway := context.WithCancel(context.Background())
	defer goAway()
	var wg sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, ws.WithLifetime(life))
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		echo(r.Context(), c)
	}))
	srv.Config.RegisterOnShutdown(goAway)
	srv.Start()
	defer srv.Close()

	c := dial(t, wsURL(srv))
	require.NoError(t, c.Send(testCtx(t), ws.Text("x")))
	recv(t, c)
	require.NoError(t, srv.Config.Shutdown(testCtx(t)))
	<-c.Done()
	var ce *ws.CloseError
	require.ErrorAs(t, c.Err(), &ce)
	require.Equal(t, ws.StatusGoingAway, ce.Code)
	wg.Wait()
}

func TestDialContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, url := startEcho(t)
	_, _, err := ws.Dial(ctx, url)
	require.True(t, errors.Is(err, context.Canceled), "err = %v", err)
}
