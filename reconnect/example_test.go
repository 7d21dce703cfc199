package reconnect_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/handshake"
	"github.com/wsactor/ws/reconnect"
)

// exampleServer serves one echo connection per request on 127.0.0.1 and
// returns its URL and a function that stops it.
func exampleServer() (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acc, err := (&handshake.Server{}).Upgrade(w, r)
		if err != nil {
			return
		}
		conn, err := actor.New(acc.Conn, acc.Reader, frame.Server)
		if err != nil {
			acc.Conn.Close()
			return
		}
		for m := range conn.Incoming() {
			if conn.Send(r.Context(), m) != nil {
				break
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(ctx, frame.StatusNormalClosure, "")
	}), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "ws://" + ln.Addr().String() + "/", func() { srv.Close() }
}

// A client that subscribes in OnConnect, sends, receives, and closes. The
// same Incoming, Outgoing and Events serve every connection it makes.
func Example() {
	url, stop := exampleServer()
	defer stop()

	c, err := reconnect.New(url,
		reconnect.OnConnect(func(ctx context.Context, conn *actor.Conn) error {
			return conn.Send(ctx, actor.Text("subscribe prices")) // before queued messages
		}))
	if err != nil {
		panic(err)
	}
	go c.Run(context.Background())

	c.Outgoing() <- actor.Text("hello") // queued until connected, then flushed
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

// Plugging in ws.Dial (or any dialer) with a token refreshed for every dial.
// The root package is above reconnect, so this example shows the shape with
// a dialer of our own; with ws:
//
//	reconnect.WithDialer(func(ctx context.Context, url string, h http.Header) (*ws.Conn, *http.Response, error) {
//		return ws.Dial(ctx, url, ws.WithHeader(h), ws.WithSubprotocols("v2"))
//	})
func ExampleWithDialer() {
	url, stop := exampleServer()
	defer stop()
	var dials int
	c, err := reconnect.New(url,
		reconnect.WithHeader(func(ctx context.Context) (http.Header, error) {
			return http.Header{"Authorization": {"Bearer fresh-token"}}, nil // e.g. from an OAuth refresh
		}),
		reconnect.WithDialer(func(ctx context.Context, url string, h http.Header) (*actor.Conn, *http.Response, error) {
			dials++
			acc, err := (&handshake.Client{Header: h}).Dial(ctx, url)
			if err != nil {
				return nil, nil, err
			}
			conn, err := actor.New(acc.Conn, acc.Reader, frame.Client, actor.WithKeepalive(15*time.Second, 10*time.Second))
			if err != nil {
				acc.Conn.Close()
				return nil, nil, err
			}
			return conn, acc.Response, nil
		}))
	if err != nil {
		panic(err)
	}
	go c.Run(context.Background())
	fmt.Println(c.Send(context.Background(), actor.Text("ping")), string((<-c.Incoming()).Data))
	fmt.Println(c.Close(context.Background()), dials)
	// Output:
	// <nil> ping
	// <nil> 1
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
