//go:build !js

package ws_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/wsactor/ws"
)

// echoServer starts an in-process echo server for the examples and returns
// its ws:// URL and a function that stops it.
func echoServer() (string, func()) {
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		for msg := range c.Incoming() {
			if err := c.Send(ctx, msg); err != nil {
				return
			}
		}
	})
	srv := httptest.NewServer(h)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), func() {
		_ = h.Shutdown(context.Background())
		srv.Close()
	}
}

func ExampleDial() {
	url, stop := echoServer()
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := ws.Dial(ctx, url)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := conn.Send(ctx, ws.Text("hello")); err != nil {
		fmt.Println(err)
		return
	}
	msg := <-conn.Incoming()
	fmt.Printf("%s\n", msg.Data)
	fmt.Println(conn.Close(ctx, ws.StatusNormalClosure, "bye"))
	// Output:
	// hello
	// <nil>
}

func ExampleAccept() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := ws.Accept(w, r, ws.WithSubprotocols("greeting.v1"), ws.WithMaxMessageSize(4<<10))
		if err != nil {
			return // Accept has answered the request
		}
		// The connection outlives this handler: run it on its own goroutine
		// (or block here until it ends).
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = conn.Send(ctx, ws.Text("welcome, "+conn.Subprotocol()+" speaker"))
			<-conn.Done()
		}()
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), ws.WithSubprotocols("greeting.v1"))
	if err != nil {
		fmt.Println(err)
		return
	}
	msg := <-conn.Incoming()
	fmt.Printf("%s\n", msg.Data)
	fmt.Println(conn.Close(ctx, ws.StatusNormalClosure, ""))
	// Output:
	// welcome, greeting.v1 speaker
	// <nil>
}

func ExampleHandler() {
	chat := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		for msg := range c.Incoming() {
			if msg.Type != ws.TextMessage {
				_ = c.Close(ctx, ws.StatusUnsupportedData, "text only")
				return
			}
			_ = c.Send(ctx, ws.Text(strings.ToUpper(string(msg.Data))))
		}
	}, ws.WithMaxMessageSize(1<<10))
	srv := httptest.NewServer(chat)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"))
	if err != nil {
		fmt.Println(err)
		return
	}
	conn.Outgoing() <- ws.Text("shout")
	fmt.Printf("%s\n", (<-conn.Incoming()).Data)

	// Shutdown closes every connection with 1001 and waits for the handlers.
	fmt.Println(chat.Shutdown(ctx))
	<-conn.Done()
	var ce *ws.CloseError
	if errors.As(conn.Err(), &ce) {
		fmt.Println(ce.Code)
	}
	// Output:
	// SHOUT
	// <nil>
	// going away
}

func ExampleWithCompression() {
	// Both sides must enable compression for it to be used.
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		for msg := range c.Incoming() {
			_ = c.Send(ctx, msg)
		}
	}, ws.WithCompression())
	srv := httptest.NewServer(h)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), ws.WithCompression())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Header.Get("Sec-WebSocket-Extensions"))
	_ = conn.Send(ctx, ws.Text(strings.Repeat("compressible ", 100)))
	fmt.Println(len((<-conn.Incoming()).Data))
	fmt.Println(conn.Close(ctx, ws.StatusNormalClosure, ""))
	// Output:
	// permessage-deflate; server_no_context_takeover; client_no_context_takeover
	// 1300
	// <nil>
}
