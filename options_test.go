//go:build !js

package ws_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
)

func TestSubprotocolSelector(t *testing.T) {
	for _, tc := range []struct {
		name    string
		offer   []string
		pick    func(r *http.Request, offered []string) string
		want    string
		refused bool
	}{
		{"by request", []string{"chat.v1", "chat.v2"}, func(r *http.Request, offered []string) string {
			if r.URL.Query().Get("legacy") != "" {
				return offered[0]
			}
			return offered[len(offered)-1]
		}, "chat.v2", false},
		{"none", []string{"a"}, func(*http.Request, []string) string { return "" }, "", false},
		{"not offered", []string{"a"}, func(*http.Request, []string) string { return "b" }, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []string
			_, url := startEcho(t, ws.WithSubprotocols("ignored"), ws.WithSubprotocolSelector(
				func(r *http.Request, offered []string) string {
					seen = append([]string(nil), offered...)
					return tc.pick(r, offered)
				}))
			c, _, err := ws.Dial(testCtx(t), url, ws.WithSubprotocols(tc.offer...))
			if tc.refused {
				var rej *ws.RejectError
				require.ErrorAs(t, err, &rej)
				require.Equal(t, http.StatusInternalServerError, rej.Status)
				return
			}
			require.NoError(t, err)
			defer c.CloseNow()
			require.Equal(t, tc.offer, seen, "the selector sees the offer in the client's order")
			require.Equal(t, tc.want, c.Subprotocol())
		})
	}
}

// pipeHijacker is a ResponseWriter whose connection is one end of a
// net.Pipe: writes block until the other end reads, like a client that
// sent its upgrade request and then stopped reading.
type pipeHijacker struct {
	http.ResponseWriter
	conn net.Conn
}

func (h pipeHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return h.conn, bufio.NewReadWriter(bufio.NewReader(h.conn), bufio.NewWriter(h.conn)), nil
}

func TestAcceptHandshakeTimeout(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	r := httptest.NewRequest(http.MethodGet, "http://example.com/", nil)
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	w := pipeHijacker{ResponseWriter: httptest.NewRecorder(), conn: server}

	c, err := ws.Accept(w, r, ws.WithHandshakeTimeout(50e6))
	require.Nil(t, c)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "the 101 could not be written to a client that does not read")
	_, err = server.Write([]byte("x"))
	require.ErrorIs(t, err, io.ErrClosedPipe, "Accept closed the connection it gave up on")
}

func TestConnOptionsReachTheConnection(t *testing.T) {
	t.Run("WithRecycledBuffers", func(t *testing.T) {
		_, url := startEcho(t)
		c := dial(t, url, ws.WithRecycledBuffers(true))
		require.NoError(t, c.Send(testCtx(t), ws.Text("hello")))
		m := recv(t, c)
		require.Equal(t, "hello", string(m.Data))
		m.Release()
		require.Equal(t, strings.Repeat("\xdb", 5), string(m.Data[:5]), "checked mode poisons a released buffer")
		require.PanicsWithValue(t, "ws: Message released twice", m.Release)
	})
	t.Run("WithFailLinger", func(t *testing.T) {
		// A zero linger sends the 1002 at once, with no Close from the
		// application: the client sees the close frame although nobody
		// on the server calls Close (the handler blocks until the end).
		done := make(chan struct{})
		h := ws.Handler(func(ctx context.Context, c *ws.Conn) { <-done }, ws.WithFailLinger(0))
		srv := httptest.NewServer(h)
		defer srv.Close()
		defer close(done)
		conn, br := upgradeRaw(t, srv.Listener.Addr().String(), "")
		defer conn.Close()
		_, err := conn.Write(rawFrame(true, 0, 0x3, true, nil)) // reserved opcode
		require.NoError(t, err)
		require.Equal(t, ws.StatusProtocolError, readClose(t, br, false))
	})
}
