package handshake_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsactor/ws/handshake"
)

// memConn is an in-memory connection that replays a request and discards
// writes, so that benchmarks measure the handshake, not the network.
type memConn struct {
	r bytes.Reader
	w io.Writer
}

func (c *memConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *memConn) Write(p []byte) (int, error)      { return c.w.Write(p) }
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return nil }
func (c *memConn) RemoteAddr() net.Addr             { return nil }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

const browserRequest = "GET /chat HTTP/1.1\r\n" +
	"Host: 127.0.0.1:8080\r\n" +
	"Connection: Upgrade\r\n" +
	"Pragma: no-cache\r\n" +
	"Cache-Control: no-cache\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n" +
	"Upgrade: websocket\r\n" +
	"Origin: http://127.0.0.1:8080\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Sec-WebSocket-Protocol: chat\r\n\r\n"

func BenchmarkServerRaw(b *testing.B) {
	srv := &handshake.Server{Subprotocols: []string{"chat"}}
	ctx := context.Background()
	c := &memConn{w: io.Discard}
	req := []byte(browserRequest)
	b.ReportAllocs()
	b.SetBytes(int64(len(req)))
	for i := 0; i < b.N; i++ {
		c.r.Reset(req)
		if _, err := srv.Handshake(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkServerRawDeflate(b *testing.B) {
	srv := &handshake.Server{Subprotocols: []string{"chat"}, Extensions: []handshake.Negotiator{&handshake.PerMessageDeflate{}}}
	req := []byte(strings.Replace(browserRequest, "\r\n\r\n", "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n", 1))
	ctx := context.Background()
	c := &memConn{w: io.Discard}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.r.Reset(req)
		if _, err := srv.Handshake(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServerHTTP measures Upgrade through net/http's server, with a
// fresh loopback connection per handshake.
func BenchmarkServerHTTP(b *testing.B) {
	srv := &handshake.Server{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if acc, err := srv.Upgrade(w, r); err == nil {
			acc.Conn.Close()
		}
	}))
	defer s.Close()
	c := &handshake.Client{Proxy: http.ProxyURL(nil)}
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		acc, err := c.Dial(context.Background(), url)
		if err != nil {
			b.Fatal(err)
		}
		acc.Conn.Close()
	}
}

// BenchmarkClient measures the client side on an in-memory connection
// that replays a canned 101.
func BenchmarkClient(b *testing.B) {
	const resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
	c := &memConn{w: io.Discard}
	respb := []byte(resp)
	nonce := strings.NewReader("")
	cl := &handshake.Client{Rand: nonce}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		nonce.Reset("the sample nonce")
		c.r.Reset(respb)
		if _, err := cl.Handshake(ctx, c, "ws://example.com/chat"); err != nil {
			b.Fatal(err)
		}
	}
}
