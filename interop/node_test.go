package interop

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/internal/wstest"
)

const big = 16 << 20 // the "large message" size of the interop matrix

func wsURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") }

// dialNode dials a ws-server.js and closes the connection at the end.
func dialNode(t *testing.T, url string, opts ...ws.DialOption) (*ws.Conn, *http.Response) {
	t.Helper()
	c, resp, err := ws.Dial(wstest.Deadline(t), url, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(ctx, ws.StatusNormalClosure, "")
		<-c.Done()
	})
	return c, resp
}

func recv(t *testing.T, ctx context.Context, c *ws.Conn) ws.Message {
	t.Helper()
	select {
	case m, ok := <-c.Incoming():
		require.True(t, ok, "connection ended: %v", c.Err())
		return m
	case <-ctx.Done():
		t.Fatal("no message before the deadline")
	}
	return ws.Message{}
}

func fill(typ string, n int, seed uint32) ws.Message {
	p := wstest.Fill(typ, n, wstest.FillPRNG, seed)
	if typ == wstest.Text {
		return ws.Message{Type: ws.TextMessage, Data: p}
	}
	return ws.Binary(p)
}

// TestOurClientNodeServer: ws.Dial against the npm ws server in echo mode.
func TestOurClientNodeServer(t *testing.T) {
	t.Parallel()
	srv := wstest.StartNodeServer(t, "echo")
	ctx := wstest.Deadline(t)

	t.Run("messages", func(t *testing.T) {
		c, resp := dialNode(t, srv.URL+"/echo", ws.WithMaxMessageSize(big+1))
		require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
		for _, m := range []ws.Message{
			ws.Text("hello, wörld"),
			ws.Text(""),
			ws.Binary(nil),
			ws.Binary([]byte{0, 1, 2, 0xff}),
			fill(wstest.Text, big, 1),
			fill(wstest.Binary, big, 2),
		} {
			require.NoError(t, c.Send(ctx, m))
			got := recv(t, ctx, c)
			require.Equal(t, m.Type, got.Type)
			require.Equal(t, len(m.Data), len(got.Data))
			require.Equal(t, wstest.SHA256(m.Data), wstest.SHA256(got.Data))
		}
		rtt, err := c.Ping(ctx)
		require.NoError(t, err, "npm ws answers our ping")
		t.Logf("ping RTT to npm ws: %v", rtt)
	})

	t.Run("fragmented", func(t *testing.T) {
		c, _ := dialNode(t, srv.URL+"/echo", ws.WithFragmentSize(1000))
		m := fill(wstest.Text, 10_000, 3)
		require.NoError(t, c.Send(ctx, m))
		got := recv(t, ctx, c)
		require.Equal(t, wstest.SHA256(m.Data), wstest.SHA256(got.Data))
	})

	t.Run("we close with 4000", func(t *testing.T) {
		c, _ := dialNode(t, srv.URL+"/echo")
		require.NoError(t, c.Close(ctx, 4000, "bye"))
		// Other subtests' closes are logged too, in any order: wait for ours.
		for n := 1; ; n++ {
			evs, err := srv.WaitEvents(ctx, "close", n)
			require.NoError(t, err)
			if ev := evs[n-1]; ev.Code == 4000 {
				require.Equal(t, "bye", ev.Reason)
				break
			}
		}
		var ce *ws.CloseError
		require.ErrorAs(t, c.Err(), &ce)
		require.Equal(t, ws.StatusCode(4000), ce.Code)
		require.False(t, ce.Remote)
	})

	t.Run("subprotocol and handshake", func(t *testing.T) {
		srv := wstest.StartNodeServer(t, "echo", "--subprotocols", "chat.v2,chat.v1")
		n := len(srv.HeaderEvents())
		c, resp := dialNode(t, srv.URL+"/sub?x=1", ws.WithSubprotocols("chat.v1", "chat.v2"),
			ws.WithHeader(http.Header{"X-Trace": {"abc"}}))
		require.Equal(t, "chat.v1", c.Subprotocol(), "npm ws picks the first the client offers")
		require.Equal(t, "chat.v1", resp.Header.Get("Sec-WebSocket-Protocol"))
		evs, err := srv.WaitEvents(ctx, "headers", n+1)
		require.NoError(t, err)
		req := evs[n]
		require.Equal(t, "GET", req.Method)
		require.Equal(t, "/sub?x=1", req.URL)
		require.Equal(t, "1.1", req.HTTPVersion)
		h := req.Header()
		require.Equal(t, "13", h.Get("Sec-WebSocket-Version"))
		require.Equal(t, "abc", h.Get("X-Trace"))
		require.Equal(t, strings.TrimPrefix(srv.URL, "ws://"), h.Get("Host"))
		require.Empty(t, h.Get("Sec-WebSocket-Extensions"), "no compression offered unless asked")
	})
}

// TestNodeServerCloses: the npm ws server closes with 4001 on the first
// message; our client reports it as a remote CloseError.
func TestNodeServerCloses(t *testing.T) {
	t.Parallel()
	srv := wstest.StartNodeServer(t, "echo", "--close", "4001", "server says bye")
	ctx := wstest.Deadline(t)
	c, _ := dialNode(t, srv.URL+"/")
	require.NoError(t, c.Send(ctx, ws.Text("trigger")))
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("connection did not end")
	}
	var ce *ws.CloseError
	require.ErrorAs(t, c.Err(), &ce)
	require.Equal(t, ws.StatusCode(4001), ce.Code)
	require.Equal(t, "server says bye", ce.Reason)
	require.True(t, ce.Remote)
}

// TestNodeServerLimit: the npm ws server with maxPayload 1000 closes with
// 1009 when our message is bigger.
func TestNodeServerLimit(t *testing.T) {
	t.Parallel()
	srv := wstest.StartNodeServer(t, "echo", "--max-payload", "1000")
	ctx := wstest.Deadline(t)
	c, _ := dialNode(t, srv.URL+"/")
	require.NoError(t, c.Send(ctx, ws.Binary(make([]byte, 1001))))
	<-c.Done()
	var ce *ws.CloseError
	require.ErrorAs(t, c.Err(), &ce)
	require.Equal(t, ws.StatusMessageTooBig, ce.Code)
}

// ourServer runs fn in a ws.Handler on 127.0.0.1 and records how each
// connection ended.
type ourServer struct {
	*ws.Server
	URL  string
	mu   sync.Mutex
	errs []error
	done chan struct{} // receives after each handler returns
}

func startOurServer(t *testing.T, fn func(ctx context.Context, c *ws.Conn), opts ...ws.AcceptOption) *ourServer {
	t.Helper()
	s := &ourServer{done: make(chan struct{}, 16)}
	s.Server = ws.Handler(func(ctx context.Context, c *ws.Conn) {
		fn(ctx, c)
		<-c.Done()
		s.mu.Lock()
		s.errs = append(s.errs, c.Err())
		s.mu.Unlock()
		s.done <- struct{}{}
	}, opts...)
	srv := httptest.NewServer(s.Server)
	s.URL = wsURL(srv)
	t.Cleanup(func() {
		require.NoError(t, s.Shutdown(context.Background()))
		srv.Close()
	})
	return s
}

// lastErr waits for the next handler to finish and returns its Err.
func (s *ourServer) lastErr(t *testing.T, ctx context.Context) error {
	t.Helper()
	select {
	case <-s.done:
	case <-ctx.Done():
		t.Fatal("handler did not finish")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errs[len(s.errs)-1]
}

func echo(ctx context.Context, c *ws.Conn) {
	for m := range c.Incoming() {
		if err := c.Send(ctx, m); err != nil {
			return
		}
	}
}

func requireRemoteClose(t *testing.T, err error, code ws.StatusCode, reason string) {
	t.Helper()
	var ce *ws.CloseError
	require.ErrorAs(t, err, &ce, "err = %v", err)
	require.Equal(t, code, ce.Code, "err = %v", err)
	require.Equal(t, reason, ce.Reason)
	require.True(t, ce.Remote)
}

// TestNodeClientOurServer: the npm ws client against ws.Handler.
func TestNodeClientOurServer(t *testing.T) {
	t.Parallel()
	srv := startOurServer(t, echo, ws.WithMaxMessageSize(big+1), ws.WithSubprotocols("chat.v2", "chat.v1"))
	ctx := wstest.Deadline(t)

	t.Run("messages", func(t *testing.T) {
		events, err := wstest.RunNodeClient(t, ctx, srv.URL+"/", []wstest.Step{
			wstest.SendText("hello, wörld"),
			wstest.ExpectText("hello, wörld"),
			wstest.SendText(""),
			wstest.ExpectText(""),
			wstest.Send(wstest.Binary, nil),
			wstest.Expect(wstest.Binary, nil),
			wstest.Send(wstest.Binary, []byte{0, 1, 2, 0xff}),
			wstest.Expect(wstest.Binary, []byte{0, 1, 2, 0xff}),
			wstest.SendFill(wstest.Text, big, wstest.FillPRNG, 5),
			wstest.ExpectFill(wstest.Text, big, wstest.FillPRNG, 5),
			wstest.SendFill(wstest.Binary, big, wstest.FillPRNG, 6),
			wstest.ExpectFill(wstest.Binary, big, wstest.FillPRNG, 6),
			wstest.SendFill(wstest.Text, 10_000, wstest.FillPRNG, 7).Fragmented(999),
			wstest.ExpectFill(wstest.Text, 10_000, wstest.FillPRNG, 7),
			wstest.SendFill(wstest.Binary, 10_000, wstest.FillSeq, 0).Fragmented(1),
			wstest.ExpectFill(wstest.Binary, 10_000, wstest.FillSeq, 0),
			wstest.Ping("are you there"),
			wstest.Ping(""),
			// RFC 6455 §5.5.1: the answer echoes the code; the reason is ours.
			{Op: "close", Code: 4000, Reason: "bye", ExpectCode: 4000},
		})
		require.NoError(t, err)
		requireRemoteClose(t, srv.lastErr(t, ctx), 4000, "bye")
		require.Equal(t, "upgrade", events[0].Event)
		h := events[0].Headers
		require.Equal(t, "websocket", strings.ToLower(h["upgrade"]))
		require.Empty(t, h["sec-websocket-extensions"])
	})

	t.Run("subprotocol", func(t *testing.T) {
		events, err := wstest.RunNodeClient(t, ctx, srv.URL+"/", nil, "--protocols", "chat.v1,chat.v2")
		require.NoError(t, err)
		var proto string
		for _, ev := range events {
			if ev.Event == "open" {
				proto = ev.Protocol
			}
		}
		require.Equal(t, "chat.v2", proto, "our server's preference wins")
		srv.lastErr(t, ctx)
	})

	t.Run("compression offer declined", func(t *testing.T) {
		events, err := wstest.RunNodeClient(t, ctx, srv.URL+"/", []wstest.Step{
			wstest.SendText("plain"), wstest.ExpectText("plain"),
		}, "--deflate")
		require.NoError(t, err)
		for _, ev := range events {
			if ev.Event == "open" {
				require.Empty(t, ev.Extensions, "compression is off by default")
			}
		}
		srv.lastErr(t, ctx)
	})

	t.Run("foreign origin refused", func(t *testing.T) {
		_, err := wstest.RunNodeClient(t, ctx, srv.URL+"/", []wstest.Step{wstest.ExpectReject(http.StatusForbidden)},
			"--origin", "https://evil.example")
		require.NoError(t, err)
	})

	t.Run("invalid UTF-8 gets 1007", func(t *testing.T) {
		_, err := wstest.RunNodeClient(t, ctx, srv.URL+"/", []wstest.Step{
			wstest.Send(wstest.Text, []byte("bad \xff")),
			{Op: "wait-close", ExpectCode: 1007}, // any reason
		})
		require.NoError(t, err)
		var ce *ws.CloseError
		err = srv.lastErr(t, ctx)
		require.ErrorAs(t, err, &ce)
		require.Equal(t, ws.StatusInvalidFramePayloadData, ce.Code)
		require.False(t, ce.Remote)
	})
}

// TestOurServerCloses: our handler closes with 4002; the npm client sees
// the code and reason.
func TestOurServerCloses(t *testing.T) {
	t.Parallel()
	srv := startOurServer(t, func(ctx context.Context, c *ws.Conn) {
		<-c.Incoming()
		_ = c.Close(ctx, 4002, "server done")
	})
	ctx := wstest.Deadline(t)
	_, err := wstest.RunNodeClient(t, ctx, srv.URL+"/", []wstest.Step{
		wstest.SendText("x"),
		wstest.WaitClose(4002, "server done"),
	})
	require.NoError(t, err)
	var ce *ws.CloseError
	require.ErrorAs(t, srv.lastErr(t, ctx), &ce)
	require.Equal(t, ws.StatusCode(4002), ce.Code)
	require.False(t, ce.Remote)
}

// TestOurServerShutdownNodeClient: Shutdown reaches an npm client as 1001.
func TestOurServerShutdownNodeClient(t *testing.T) {
	t.Parallel()
	ourServerShutdownNodeClient(t)
}

// ourServerShutdownNodeClient is TestOurServerShutdownNodeClient's body,
// which TestPeerMissingSkips also runs without the peer. The client is
// started on the test's goroutine, where its RequirePeer can skip the test,
// and runs while the test waits for it to connect.
func ourServerShutdownNodeClient(t *testing.T) {
	started := make(chan struct{}, 1)
	srv := startOurServer(t, func(ctx context.Context, c *ws.Conn) {
		started <- struct{}{}
		echo(ctx, c)
	})
	ctx := wstest.Deadline(t)
	client := wstest.StartNodeClient(t, ctx, srv.URL+"/", []wstest.Step{wstest.WaitClose(1001, "")})
	select {
	case <-started:
	case <-ctx.Done():
		_, err := client.Wait()
		t.Fatalf("client did not connect: %v", err)
	}
	require.NoError(t, srv.Shutdown(ctx))
	_, err := client.Wait()
	require.NoError(t, err)
	var ce *ws.CloseError
	require.ErrorAs(t, srv.lastErr(t, ctx), &ce)
	require.Equal(t, ws.StatusGoingAway, ce.Code)
	require.False(t, ce.Remote)
}
