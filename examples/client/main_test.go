package main

import (
	"bufio"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wsactor/ws"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestClient runs the client against an in-process echo server: each stdin
// line comes back on stdout, and the end of stdin closes with 1000.
func TestClient(t *testing.T) {
	closed := make(chan error, 1)
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		require.Equal(t, "gopher", ws.RequestFromContext(ctx).URL.Query().Get("name"))
		for m := range c.Incoming() {
			if err := c.Send(ctx, m); err != nil {
				break
			}
		}
		<-c.Done()
		closed <- c.Err()
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-name", "gopher", "ws" + strings.TrimPrefix(srv.URL, "http") + "/"}, inR, outW)
		outW.Close()
		errc <- err
	}()
	out := bufio.NewScanner(outR)
	for _, line := range []string{"hello", "wörld", "third line"} {
		_, err := io.WriteString(inW, line+"\n")
		require.NoError(t, err)
		require.True(t, out.Scan())
		require.Equal(t, line, out.Text())
	}
	require.NoError(t, inW.Close())
	require.False(t, out.Scan(), "no more output")
	require.NoError(t, <-errc)

	var ce *ws.CloseError
	require.ErrorAs(t, <-closed, &ce)
	require.Equal(t, ws.StatusNormalClosure, ce.Code)
	require.True(t, ce.Remote)
}

// TestClientServerCloses: the server going away ends the client without an
// error; a refused handshake is an error.
func TestClientServerCloses(t *testing.T) {
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		_ = c.Send(ctx, ws.Text("bye"))
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out strings.Builder
	inR, inW := io.Pipe()
	defer inW.Close()
	require.NoError(t, run(ctx, []string{"ws" + strings.TrimPrefix(srv.URL, "http")}, inR, &out))
	require.Equal(t, "bye\n", out.String())

	require.Error(t, run(ctx, []string{strings.Replace(srv.URL, "http", "ws", 1) + "/", "extra"}, inR, &out))
	require.Error(t, run(ctx, []string{"ws://127.0.0.1:1/"}, inR, &out), "nothing listens on port 1")
}
