//go:build !js

package ws_test

import (
	"bytes"
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
)

// countingListener counts the bytes read from every accepted connection.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	return countingConn{c, l.n}, err
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestCompressionNegotiation: compression is used only when both sides
// enable it, and then it shrinks what crosses the wire.
func TestCompressionNegotiation(t *testing.T) {
	msg := bytes.Repeat([]byte(`{"symbol":"WS","price":42.5,"volume":1000}`), 25_000) // ~1 MiB of JSON
	for _, tc := range []struct {
		name           string
		server, client bool
		takeover       bool
	}{
		{"off by default", false, false, false},
		{"server only", true, false, false},
		{"client only", false, true, false},
		{"7.1.1/both, no context takeover", true, true, false},
		{"7.1.1/both, context takeover", true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var wire atomic.Int64
			var sopts []ws.AcceptOption
			var copts []ws.DialOption
			if tc.server {
				sopts = append(sopts, ws.WithCompression())
			}
			if tc.client {
				copts = append(copts, ws.WithCompression())
			}
			if tc.takeover {
				sopts = append(sopts, ws.WithContextTakeover())
				copts = append(copts, ws.WithContextTakeover())
			}
			h := ws.Handler(echo, sopts...)
			srv := httptest.NewUnstartedServer(h)
			srv.Listener = countingListener{srv.Listener, &wire}
			srv.Start()
			defer srv.Close()
			defer h.Shutdown(context.Background())

			c, resp, err := ws.Dial(testCtx(t), wsURL(srv), copts...)
			require.NoError(t, err)
			ext := resp.Header.Get("Sec-WebSocket-Extensions")
			both := tc.server && tc.client
			require.Equal(t, both, strings.Contains(ext, "permessage-deflate"), "extensions %q", ext)
			require.Equal(t, both && !tc.takeover, strings.Contains(ext, "server_no_context_takeover"), "extensions %q", ext)

			before := wire.Load()
			for range 3 {
				require.NoError(t, c.Send(testCtx(t), ws.Binary(msg)))
				got := recv(t, c)
				require.True(t, bytes.Equal(msg, got.Data))
				require.NoError(t, c.Send(testCtx(t), ws.Text("small")))
				require.Equal(t, "small", string(recv(t, c).Data))
			}
			sent := wire.Load() - before
			t.Logf("%d bytes of messages crossed the wire as %d", 3*(len(msg)+5), sent)
			if both {
				require.Less(t, sent, int64(len(msg)/10), "compressed")
			} else {
				require.Greater(t, sent, int64(3*len(msg)), "not compressed")
			}
			require.NoError(t, c.Close(testCtx(t), ws.StatusNormalClosure, ""))
		})
	}
}

func TestCompressionOptions(t *testing.T) {
	for _, tc := range []struct {
		opt  ws.Option
		want string
	}{
		{ws.WithCompressionLevel(9), "WithCompressionLevel requires WithCompression"},
		{ws.WithContextTakeover(), "WithContextTakeover requires WithCompression"},
		{ws.WithClientMaxWindowBits(10), "WithClientMaxWindowBits requires WithCompression"},
		{ws.WithCompressionThreshold(1), "WithCompressionThreshold requires WithCompression"},
	} {
		_, _, err := ws.Dial(testCtx(t), "ws://127.0.0.1:1/", tc.opt)
		require.ErrorContains(t, err, tc.want)
		_, err = ws.NewServer(echo, tc.opt)
		require.ErrorContains(t, err, tc.want)
	}
	for _, opts := range [][]ws.DialOption{
		{ws.WithCompression(), ws.WithCompressionLevel(10)},
		{ws.WithCompression(), ws.WithClientMaxWindowBits(7)},
		{ws.WithCompression(), ws.WithClientMaxWindowBits(16)},
	} {
		_, _, err := ws.Dial(testCtx(t), "ws://127.0.0.1:1/", opts...)
		require.Error(t, err)
	}
}

// TestCompressionClientOffer: with compression on, ws.Dial offers
// client_max_window_bits (RFC 7692 §7.1.2.2) like Chromium and npm ws do, so
// servers that accept compression only from clients able to honour a window
// limit still compress; a server given no limit answers without one.
func TestCompressionClientOffer(t *testing.T) {
	var offer atomic.Value
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		offer.Store(ws.RequestFromContext(ctx).Header.Get("Sec-WebSocket-Extensions"))
		for m := range c.Incoming() {
			if c.Send(ctx, m) != nil {
				return
			}
		}
	}, ws.WithCompression())
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx := context.Background()
	c, resp, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), ws.WithCompression())
	require.NoError(t, err)
	require.NoError(t, c.Send(ctx, ws.Text(strings.Repeat("compress me ", 100))))
	got := <-c.Incoming()
	require.Equal(t, strings.Repeat("compress me ", 100), string(got.Data))
	require.NoError(t, c.Close(ctx, ws.StatusNormalClosure, ""))
	require.NoError(t, h.Shutdown(ctx))

	require.Equal(t, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits", offer.Load())
	require.Equal(t, "permessage-deflate; server_no_context_takeover; client_no_context_takeover", resp.Header.Get("Sec-WebSocket-Extensions"))
}
