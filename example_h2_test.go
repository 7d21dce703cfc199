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

// WithHTTP2 asks for RFC 8441. Started with GODEBUG=http2xconnect=1, this
// server advertises extended CONNECT and both WebSockets are streams of one
// TLS connection (the handler sees HTTP/2.0); without it Dial upgrades over
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
