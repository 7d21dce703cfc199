//go:build js

package ws_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wsactor/ws"
)

// Under GOOS=js GOARCH=wasm, Dial opens the connection with the host's
// WebSocket (the browser's, or Node's global one) and the calls are those of
// the native build. Only the differences show here: Ping is refused, and
// Close sends 1000 or a code in 3000–4999. The example needs a server, so it
// is compiled, not run.
func ExampleDial_wasm() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := ws.Dial(ctx, "wss://echo.example/ws", ws.WithSubprotocols("chat.v1"))
	if err != nil {
		fmt.Println("dial:", err) // no status or headers: the host hides them
		return
	}
	fmt.Println(resp.StatusCode, c.Subprotocol()) // synthetic 101, the server's choice

	if err := c.Send(ctx, ws.Text("hello")); err != nil {
		fmt.Println("send:", err)
		return
	}
	if msg, err := c.Receive(ctx); err == nil {
		fmt.Println(string(msg.Data))
	}
	if _, err := c.Ping(ctx); errors.Is(err, ws.ErrPingUnsupported) {
		fmt.Println("no pings from a page")
	}
	if err := c.Close(ctx, ws.StatusNormalClosure, "bye"); err != nil {
		fmt.Println("close:", err)
	}
}
