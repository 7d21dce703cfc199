//go:build !js

package ws_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/wsactor/ws"
)

// Dial uses RFC 8441 by itself for wss URLs; WithHTTP2 also asks for it
// through a proxy. Started with GODEBUG=http2xconnect=1, this server
// advertises extended CONNECT and both WebSockets are streams of one TLS
// connection (the handler sees HTTP/2.0); without it Dial upgrades over
// HTTP/1.1 and the program prints the same messages.
func ExampleWithHTTP2() {
	wsSrv := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		for msg := range c.Incoming() {
			if err := c.Send(ctx, msg); err != nil {
				return
			}
		}
	})
	srv := httptest.NewUnstartedServer(wsSrv)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	defer wsSrv.Shutdown(context.Background())
	// Trust the test server's certificate.
	tlsConfig := srv.Client().Transport.(*http.Transport).TLSClientConfig

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, name := range []string{"first", "second"} {
		conn, _, err := ws.Dial(ctx, "wss://"+srv.Listener.Addr().String()+"/",
			ws.WithHTTP2(), ws.WithTLSConfig(tlsConfig))
		if err != nil {
			fmt.Println(err)
			return
		}
		if err := conn.Send(ctx, ws.Text("hello from the "+name)); err != nil {
			fmt.Println(err)
			return
		}
		msg := <-conn.Incoming()
		fmt.Printf("%s\n", msg.Data)
		defer conn.Close(ctx, ws.StatusNormalClosure, "")
	}
	// Output:
	// hello from the first
	// hello from the second
}

// WithHTTP1 keeps a wss Dial on HTTP/1.1 even against a server with RFC
// 8441: TLS offers only http/1.1 and the answer is the 101 of an Upgrade.
func ExampleWithHTTP1() {
	wsSrv := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		<-c.Done()
	})
	srv := httptest.NewUnstartedServer(wsSrv)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	defer wsSrv.Shutdown(context.Background())
	tlsConfig := srv.Client().Transport.(*http.Transport).TLSClientConfig

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := ws.Dial(ctx, "wss://"+srv.Listener.Addr().String()+"/",
		ws.WithHTTP1(), ws.WithTLSConfig(tlsConfig))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close(ctx, ws.StatusNormalClosure, "")
	fmt.Println(resp.Proto, resp.Status)
	// Output:
	// HTTP/1.1 101 Switching Protocols
}
