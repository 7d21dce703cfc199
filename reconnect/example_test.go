package reconnect_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/reconnect"
)

// exampleServer serves echo connections on 127.0.0.1, with subprotocol
// "v2" when offered, and returns its URL and a function that stops it.
func exampleServer() (string, func()) {
	h := ws.Handler(func(ctx context.Context, conn *ws.Conn) {
		for m := range conn.Incoming() {
			if conn.Send(ctx, m) != nil {
				return
			}
		}
	}, ws.WithSubprotocols("v2"))
	srv := httptest.NewServer(h)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), func() {
		_ = h.Shutdown(context.Background())
		srv.Close()
	}
}

// A client that subscribes in OnConnect, sends, receives, and closes. The
// same Incoming, Outgoing and Events serve every connection it makes.
func Example() {
	url, stop := exampleServer()
	defer stop()

	c, err := reconnect.New(url,
		reconnect.OnConnect(func(ctx context.Context, conn *ws.Conn) error {
			return conn.Send(ctx, ws.Text("subscribe prices")) // before queued messages
		}))
	if err != nil {
		panic(err)
	}
	go c.Run(context.Background())

	c.Outgoing() <- ws.Text("hello") // queued until connected, then flushed
	for range 2 {
		fmt.Println(string((<-c.Incoming()).Data))
	}
	fmt.Println(c.Close(context.Background()))
	for ev := range c.Events() { // closed once the client has ended
		switch e := ev.(type) {
		case reconnect.Connecting:
			fmt.Println("connecting, attempt", e.Attempt)
		case reconnect.Connected:
			fmt.Println("connected:", e.Response.StatusCode)
		}
	}
	// Output:
	// subscribe prices
	// hello
	// <nil>
	// connecting, attempt 1
	// connected: 101
}

// Every dial goes through ws.Dial with the same ws options (here a
// subprotocol and a keepalive that replaces a half-open connection within
// 25 s; TLS, a proxy or compression go the same way), and with a header
// computed for that dial, e.g. a token refreshed before each attempt.
func ExampleWithDialOptions() {
	url, stop := exampleServer()
	defer stop()
	var tokens int
	c, err := reconnect.New(url,
		reconnect.WithDialOptions(ws.WithSubprotocols("v2"), ws.WithKeepalive(15*time.Second, 10*time.Second)),
		reconnect.WithHeader(func(ctx context.Context) (http.Header, error) {
			tokens++ // e.g. an OAuth refresh
			return http.Header{"Authorization": {"Bearer token-" + strconv.Itoa(tokens)}}, nil
		}),
		reconnect.OnConnect(func(ctx context.Context, conn *ws.Conn) error {
			fmt.Println("subprotocol:", conn.Subprotocol())
			return nil
		}))
	if err != nil {
		panic(err)
	}
	go c.Run(context.Background())
	fmt.Println(c.Send(context.Background(), ws.Text("ping")), string((<-c.Incoming()).Data))
	fmt.Println(c.Close(context.Background()), tokens)
	// Output:
	// subprotocol: v2
	// <nil> ping
	// <nil> 1
}

// WithDialFunc wraps ws.Dial, here to count the dials and see the options
// each one gets (those of WithDialOptions, then WithHeader's).
func ExampleWithDialFunc() {
	url, stop := exampleServer()
	defer stop()
	var dials, opts int
	c, err := reconnect.New(url,
		reconnect.WithDialOptions(ws.WithCompression()),
		reconnect.WithDialFunc(func(ctx context.Context, url string, o ...ws.DialOption) (*ws.Conn, *http.Response, error) {
			dials, opts = dials+1, len(o)
			return ws.Dial(ctx, url, o...)
		}))
	if err != nil {
		panic(err)
	}
	go c.Run(context.Background())
	fmt.Println(c.Send(context.Background(), ws.Text("ping")), string((<-c.Incoming()).Data))
	fmt.Println(c.Close(context.Background()), dials, opts)
	// Output:
	// <nil> ping
	// <nil> 1 1
}

// Full and decorrelated jitter are backoff.BackOff implementations; with a
// seeded source their delays are reproducible.
func ExampleFullJitter() {
	b := &reconnect.FullJitter{Initial: 100 * time.Millisecond, Max: time.Second}
	for range 6 {
		d := b.NextBackOff()
		fmt.Println(d >= 0 && d < time.Second)
	}
	// Output:
	// true
	// true
	// true
	// true
	// true
	// true
}
