package session_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/reconnect"
	"github.com/wsactor/ws/session"
)

// A session server that echoes, and a reconnecting client with the
// session layer: what the client sends arrives once, in order, and so do
// the echoes, even if connections die in between.
func ExampleNewServer() {
	srv, err := session.NewServer(func(ctx context.Context, s *session.Session) {
		for m := range s.Incoming() { // once each, in order, across reconnects
			if s.Send(ctx, ws.Text("echo "+string(m.Data))) != nil {
				return
			}
		}
	}, session.WithDetachedTimeout(time.Minute))
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	defer srv.Shutdown(context.Background())

	sc, err := session.NewClient(session.OnLost(func(l *session.LostError) {
		fmt.Println("resync:", l.Err) // the server could not resume the session
	}))
	if err != nil {
		panic(err)
	}
	c, err := reconnect.New("ws://"+ln.Addr().String()+"/", reconnect.WithLayer(sc))
	if err != nil {
		panic(err)
	}
	go func() { _ = c.Run(context.Background()) }()
	defer c.Close(context.Background())

	for _, s := range []string{"a", "b", "c"} {
		c.Outgoing() <- ws.Text(s)
	}
	for range 3 {
		fmt.Println(string((<-c.Incoming()).Data))
	}
	// Output:
	// echo a
	// echo b
	// echo c
}

// NewClient is a reconnect.Layer; OnLost is the application's resync
// hook.
func ExampleNewClient() {
	sc, err := session.NewClient(
		session.OnLost(func(l *session.LostError) {
			// Reload the state from the server; l.Unacked were not delivered.
			fmt.Println("session lost:", l.Err, len(l.Unacked))
		}),
		session.WithReplayLimit(256, 1<<20))
	if err != nil {
		panic(err)
	}
	c, err := reconnect.New("wss://example.com/feed", reconnect.WithLayer(sc))
	fmt.Println(c != nil, err)
	// Output: true <nil>
}
