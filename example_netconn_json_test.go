//go:build !js

package ws_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/wsactor/ws"
)

func ExampleNetConn() {
	// The server runs a line protocol over the WebSocket as if over TCP:
	// it answers each line in upper case until the client closes.
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		nc := ws.NetConn(ctx, c, ws.BinaryMessage)
		defer nc.Close()
		sc := bufio.NewScanner(nc)
		for sc.Scan() {
			if _, err := fmt.Fprintln(nc, strings.ToUpper(sc.Text())); err != nil {
				return
			}
		}
		// sc.Err() is nil: the client's Close reads as io.EOF.
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"))
	if err != nil {
		fmt.Println(err)
		return
	}
	nc := ws.NetConn(ctx, conn, ws.BinaryMessage)
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(nc)
	for _, line := range []string{"hello", "through the tunnel"} {
		fmt.Fprintln(nc, line)
		reply, _ := r.ReadString('\n')
		fmt.Print(reply)
	}
	fmt.Println(nc.Close())
	// Output:
	// HELLO
	// THROUGH THE TUNNEL
	// <nil>
}

func ExampleNetConn_copy() {
	// An echo server in one line: io.Copy both ways over one NetConn.
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		nc := ws.NetConn(ctx, c, ws.BinaryMessage)
		_, _ = io.Copy(nc, nc)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"))
	if err != nil {
		fmt.Println(err)
		return
	}
	nc := ws.NetConn(ctx, conn, ws.BinaryMessage)
	defer nc.Close()
	go func() { _, _ = io.Copy(nc, strings.NewReader("a stream of bytes")) }()
	buf := make([]byte, len("a stream of bytes"))
	_, err = io.ReadFull(nc, buf)
	fmt.Printf("%s %v\n", buf, err)
	// Output:
	// a stream of bytes <nil>
}

type greeting struct {
	Name string `json:"name"`
	Text string `json:"text,omitempty"`
}

// jsonServer serves fn with ws.Handler for the examples and returns its
// ws:// URL and a function that stops it.
func jsonServer(fn func(ctx context.Context, c *ws.Conn)) (string, func()) {
	h := ws.Handler(fn)
	srv := httptest.NewServer(h)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), func() {
		_ = h.Shutdown(context.Background())
		srv.Close()
	}
}

func ExampleSendJSON() {
	// The server shows the text of each message it gets.
	texts := make(chan string, 1)
	url, stop := jsonServer(func(ctx context.Context, c *ws.Conn) {
		for m := range c.Incoming() {
			texts <- string(m.Data)
		}
	})
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := ws.Dial(ctx, url)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := ws.SendJSON(ctx, conn, greeting{Name: "ada", Text: "hi"}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(<-texts)
	fmt.Println(conn.Close(ctx, ws.StatusNormalClosure, ""))
	// Output:
	// {"name":"ada","text":"hi"}
	// <nil>
}

func ExampleReceiveJSON() {
	// The server sends one good greeting and one that is not JSON.
	url, stop := jsonServer(func(ctx context.Context, c *ws.Conn) {
		_ = ws.SendJSON(ctx, c, greeting{Name: "grace"})
		_ = c.Send(ctx, ws.Text("{oops"))
		<-c.Done()
	})
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := ws.Dial(ctx, url)
	if err != nil {
		fmt.Println(err)
		return
	}
	g, err := ws.ReceiveJSON[greeting](ctx, conn)
	fmt.Println(g.Name, err)

	_, err = ws.ReceiveJSON[greeting](ctx, conn)
	var de *ws.DecodeError
	if errors.As(err, &de) {
		fmt.Printf("not JSON: %q\n", de.Data) // the connection is still open
	}
	fmt.Println(conn.Close(ctx, ws.StatusNormalClosure, ""))
	// Output:
	// grace <nil>
	// not JSON: "{oops"
	// <nil>
}

func ExampleJSON() {
	// The server greets everyone who sends their name, tells a client that
	// sends something else, and stops when the client closes.
	url, stop := jsonServer(func(ctx context.Context, c *ws.Conn) {
		for g, err := range ws.JSON[greeting](c) {
			var de *ws.DecodeError
			switch {
			case errors.As(err, &de):
				_ = ws.SendJSON(ctx, c, greeting{Text: "cannot read " + string(de.Data)})
			case err != nil:
				return // the connection failed; a normal close ends the loop without one
			default:
				_ = ws.SendJSON(ctx, c, greeting{Name: g.Name, Text: "hello, " + g.Name})
			}
		}
	})
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := ws.Dial(ctx, url)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = ws.SendJSON(ctx, conn, greeting{Name: "ada"})
	_ = conn.Send(ctx, ws.Text("bob"))
	_ = ws.SendJSON(ctx, conn, greeting{Name: "grace"})
	for range 3 {
		g, err := ws.ReceiveJSON[greeting](ctx, conn)
		fmt.Println(g.Text, err)
	}
	fmt.Println(conn.Close(ctx, ws.StatusNormalClosure, ""))
	// Output:
	// hello, ada <nil>
	// cannot read bob <nil>
	// hello, grace <nil>
	// <nil>
}
