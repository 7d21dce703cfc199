package main

import (
	"bufio"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wsactor/ws"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func wsURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") + "/" }

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
		err := run(ctx, []string{"-name", "gopher", wsURL(srv)}, inR, outW, io.Discard)
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

// TestClientGivesUp: with -max-attempts 1 a server that closes at once
// ends the client without an error, and a refused dial is an error.
func TestClientGivesUp(t *testing.T) {
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
	require.NoError(t, run(ctx, []string{"-max-attempts", "1", wsURL(srv)}, inR, &out, io.Discard))
	require.Equal(t, "bye\n", out.String())

	require.Error(t, run(ctx, []string{"-max-attempts", "1", "ws://127.0.0.1:1/"}, inR, &out, io.Discard), "nothing listens on port 1")
	require.Error(t, run(ctx, nil, inR, &out, io.Discard), "no URL")
}

// TestClientFailsOver: the server the client is on goes away (1001); the
// client redials the other one, and a line typed while it was offline is
// sent there.
func TestClientFailsOver(t *testing.T) {
	servers := make([]*httptest.Server, 2)
	handlers := make([]*ws.Server, 2)
	for i, name := range []string{"A", "B"} {
		handlers[i] = ws.Handler(func(ctx context.Context, c *ws.Conn) {
			if c.Send(ctx, ws.Text("hello from "+name)) != nil {
				return
			}
			for m := range c.Incoming() {
				if c.Send(ctx, ws.Text(name+" echoes "+string(m.Data))) != nil {
					return
				}
			}
		})
		servers[i] = httptest.NewServer(handlers[i])
		defer servers[i].Close()
		defer handlers[i].Shutdown(context.Background())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		err := run(ctx, []string{wsURL(servers[0]), wsURL(servers[1])}, inR, outW, errW)
		outW.Close()
		errW.Close()
		errc <- err
	}()
	states := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(errR)
		for sc.Scan() {
			states <- sc.Text()
		}
		close(states)
	}()
	waitState := func(prefix string) {
		t.Helper()
		for s := range states {
			t.Log(s)
			if strings.HasPrefix(s, prefix) {
				return
			}
		}
		t.Fatalf("no state %q", prefix)
	}
	out := bufio.NewScanner(outR)
	require.True(t, out.Scan())
	first := strings.TrimPrefix(out.Text(), "hello from ")
	waitState("* connected")
	other, gone := "B", 0
	if first == "B" {
		other, gone = "A", 1
	}

	require.NoError(t, handlers[gone].Shutdown(ctx)) // 1001 to the client
	waitState("* disconnected")
	_, err := io.WriteString(inW, "typed offline\n")
	require.NoError(t, err)
	require.True(t, out.Scan())
	require.Equal(t, "hello from "+other, out.Text())
	require.True(t, out.Scan())
	require.Equal(t, other+" echoes typed offline", out.Text())

	require.NoError(t, inW.Close())
	require.False(t, out.Scan())
	require.NoError(t, <-errc)
	for range states {
	}
}

// TestClientResumes: the client prints a chat line's text without its
// ID, redials with ?since= the last ID it saw, and prints a line the new
// server sends again (its replay overlapping what was seen) only once.
func TestClientResumes(t *testing.T) {
	sinces := make(chan string, 2)
	first := true
	var mu sync.Mutex
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		sinces <- ws.RequestFromContext(ctx).URL.Query().Get("since")
		mu.Lock()
		lines := []string{"@1-1 ann: one", "@1-2 ann: two"}
		if !first {
			lines = []string{"@1-2 ann: two", "* notice", "@1-3 ann: three"}
		}
		wasFirst := first
		first = false
		mu.Unlock()
		for _, l := range lines {
			if c.Send(ctx, ws.Text(l)) != nil {
				return
			}
		}
		if wasFirst {
			_ = c.Close(ctx, ws.StatusGoingAway, "restart")
			return
		}
		for range c.Incoming() {
		}
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
		err := run(ctx, []string{wsURL(srv)}, inR, outW, io.Discard)
		outW.Close()
		errc <- err
	}()
	out := bufio.NewScanner(outR)
	for _, want := range []string{"ann: one", "ann: two", "* notice", "ann: three"} {
		require.True(t, out.Scan())
		require.Equal(t, want, out.Text())
	}
	require.Equal(t, "", <-sinces, "the first dial has no since")
	require.Equal(t, "1-2", <-sinces, "the redial presents the last ID seen")
	require.NoError(t, inW.Close())
	require.False(t, out.Scan())
	require.NoError(t, <-errc)
}
