//go:build !js

package ws_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/wsactor/ws"
)

// A server tuned past the defaults: its limits, buffers and timers, the
// origins it trusts, a per-request subprotocol choice and compression.
func ExampleHandler_options() {
	life, endAll := context.WithCancel(context.Background())
	defer endAll()
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		for msg := range c.Incoming() {
			if err := c.Send(ctx, msg); err != nil {
				return
			}
		}
	},
		// Limits: what one peer may make the server hold.
		ws.WithMaxMessageSize(1<<20),
		ws.WithMaxFrameSize(256<<10),
		ws.WithIncomingBuffer(8),
		ws.WithIncomingBytes(2<<20),
		ws.WithOutgoingBuffer(8),
		ws.WithReadBufferSize(4<<10),
		ws.WithWriteBufferSize(8<<10),
		ws.WithFragmentSize(64<<10),
		// Timers.
		ws.WithKeepalive(20*time.Second, 10*time.Second),
		ws.WithWriteTimeout(10*time.Second),
		ws.WithCloseGracePeriod(2*time.Second),
		ws.WithFailLinger(100*time.Millisecond),
		ws.WithHandshakeTimeout(5*time.Second),
		ws.WithLifetime(life), // endAll closes every connection with 1001
		// Who may connect, and what they speak.
		ws.WithOrigins("https://app.example.com", "localhost:*"),
		ws.WithResponseHeader(http.Header{"X-Node": {"eu-1"}}),
		ws.WithSubprotocolSelector(func(r *http.Request, offered []string) string {
			for _, p := range offered {
				if p == "chat.v2" && r.URL.Query().Get("beta") == "1" {
					return p
				}
			}
			return ""
		}),
		ws.WithCompression(),
		ws.WithCompressionLevel(1),
		ws.WithCompressionThreshold(512),
		ws.WithContextTakeover(),
		ws.WithClientMaxWindowBits(12),
	)
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/?beta=1"
	c, resp, err := ws.Dial(ctx, url, ws.WithSubprotocols("chat.v1", "chat.v2"), ws.WithCompression())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	fmt.Println(c.Subprotocol(), resp.Header.Get("X-Node"))
	_ = c.Send(ctx, ws.Text(strings.Repeat("compressible ", 100)))
	msg := <-c.Incoming()
	fmt.Println(len(msg.Data), "bytes back")
	// Output:
	// chat.v2 eu-1
	// 1300 bytes back
}

// A client for a service behind TLS and a corporate proxy, sending the
// headers a browser page at the service's origin would.
func ExampleDial_options() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := ws.Dial(ctx, "wss://ws.example.invalid/feed",
		ws.WithHeader(http.Header{"Authorization": {"Bearer token"}}),
		ws.WithOrigin("https://app.example.com"),
		ws.WithTLSConfig(&tls.Config{MinVersion: tls.VersionTLS13}),
		ws.WithProxy(http.ProxyFromEnvironment),
		ws.WithRedirects(2),
		ws.WithDialer(&net.Dialer{KeepAlive: 15 * time.Second}),
		ws.WithHandshakeTimeout(5*time.Second),
		ws.WithKeepalive(15*time.Second, 10*time.Second),
	)
	var dnsErr *net.DNSError
	fmt.Println(errors.As(err, &dnsErr)) // .invalid never resolves
	// Output: true
}

// Ping measures the round trip on demand; OnPing and OnPong see the
// control frames as they arrive, and Stats counts what went through.
func ExampleConn_Ping() {
	url, stop := echoServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	pongs := make(chan struct{}, 1)
	c, _, err := ws.Dial(ctx, url,
		ws.OnPing(func([]byte) {}), // pings are answered without it; it only observes
		ws.OnPong(func([]byte) { pongs <- struct{}{} }))
	if err != nil {
		fmt.Println(err)
		return
	}
	rtt, err := c.Ping(ctx)
	<-pongs
	fmt.Println(err, rtt > 0)

	_ = c.Send(ctx, ws.Binary([]byte{1, 2, 3}))
	msg, err := c.Receive(ctx)
	fmt.Println(msg.Data, err)
	st := c.Stats()
	fmt.Println(st.MessagesOut, st.MessagesIn, st.BytesIn, st.RTT == rtt)
	fmt.Println(c.LocalAddr().Network(), c.RemoteAddr().String() == strings.TrimPrefix(url, "ws://"))

	// CloseNow skips the handshake: the connection ends abnormally.
	_ = c.CloseNow()
	fmt.Printf("%d\n", ws.CloseStatus(c.Err()))
	// Output:
	// <nil> true
	// [1 2 3] <nil>
	// 1 1 3 true
	// tcp true
	// 1006
}

// RequestFromContext gives the handler the upgrade request; NewServer
// reports bad options as an error; Len counts the live connections;
// ServeHTTP lets the Server sit behind middleware.
func ExampleNewServer() {
	joined := make(chan string, 1)
	h, err := ws.NewServer(func(ctx context.Context, c *ws.Conn) {
		r := ws.RequestFromContext(ctx)
		joined <- r.URL.Query().Get("user")
		<-c.Done()
	}, ws.WithAnyOrigin())
	if err != nil {
		fmt.Println(err)
		return
	}
	auth := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("user") == "" {
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(auth)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	_, _, err = ws.Dial(ctx, url)
	var rej *ws.RejectError
	fmt.Println(errors.As(err, &rej), rej.Status)

	c, _, err := ws.Dial(ctx, url+"?user=ada")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(<-joined, h.Len())
	_ = c.Close(ctx, ws.StatusNormalClosure, "")
	_ = h.Shutdown(ctx)

	_, err = ws.NewServer(func(context.Context, *ws.Conn) {}, ws.WithCloseGracePeriod(0))
	fmt.Println(err)
	// Output:
	// true 401
	// ada 1
	// ws: WithCloseGracePeriod: duration must be positive
}

// With WithRecycledBuffers, releasing each message after use lets the next
// one reuse its buffer: a steady stream is received without allocating.
func ExampleWithRecycledBuffers() {
	url, stop := echoServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := ws.Dial(ctx, url, ws.WithRecycledBuffers(false))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	total := 0
	for i := range 3 {
		_ = c.Send(ctx, ws.Text(fmt.Sprint("message ", i)))
		msg := <-c.Incoming()
		total += len(msg.Data)
		msg.Release() // msg.Data must not be used after this
	}
	fmt.Println(total)
	// Output: 27
}

// A broadcast: the message is framed (and, with compression, compressed)
// once, and each connection writes the same bytes.
func ExamplePrepare() {
	url, stop := echoServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var members []*ws.Conn
	for range 3 {
		c, _, err := ws.Dial(ctx, url)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer c.CloseNow()
		members = append(members, c)
	}
	pm, err := ws.Prepare(ws.Text("news for everyone"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pm.Type() == ws.TextMessage, pm.Len())
	for _, c := range members {
		if err := c.SendPrepared(ctx, pm); err != nil {
			fmt.Println(err)
		}
	}
	for _, c := range members {
		msg := <-c.Incoming() // the echo server sends it back
		fmt.Printf("%s\n", msg.Data)
	}
	// Output:
	// true 17
	// news for everyone
	// news for everyone
	// news for everyone
}

// Streaming: a message is sent from an io.Reader and received as one,
// fragment by fragment, so it never has to fit in memory. The server
// streams each message back as it reads it.
func ExampleConn_SendStream() {
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		for {
			typ, r, err := c.NextReader(ctx)
			if err != nil {
				return
			}
			if err := c.SendStream(ctx, typ, r); err != nil {
				return
			}
		}
	}, ws.WithStreamedReceive(), ws.WithMaxMessageSize(64<<20))
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"),
		ws.WithStreamedReceive(), ws.WithMaxMessageSize(64<<20), ws.WithFragmentSize(64<<10))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	// 16 MiB of zeros, never held in memory by either side.
	go func() { _ = c.SendStream(ctx, ws.BinaryMessage, io.LimitReader(zeros{}, 16<<20)) }()
	_, r, err := c.NextReader(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	n, err := io.Copy(io.Discard, r)
	fmt.Println(n, err)
	_, err = r.Read(make([]byte, 1))
	fmt.Println(err) // the reader is done once the message has been read
	// Output:
	// 16777216 <nil>
	// EOF
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
