//go:build js

// Command wasmclient is the GOOS=js GOARCH=wasm side of TestDialWasm: it
// dials the echo server whose base URL (ws://127.0.0.1:port) is its first
// argument through the host's WebSocket, checks what comes back, prints
// "PASS step" for each step and "DONE" at the end, and exits with status 1
// after printing "FAIL step: why" at the first mismatch.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/wsactor/ws"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Println("FAIL args: usage: wasmclient ws://host:port")
		os.Exit(2)
	}
	base := strings.TrimSuffix(os.Args[1], "/")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, s := range steps {
		if err := s.run(ctx, base); err != nil {
			fmt.Printf("FAIL %s: %v\n", s.name, err)
			os.Exit(1)
		}
		fmt.Println("PASS " + s.name)
	}
	fmt.Println("DONE")
}

type step struct {
	name string
	run  func(ctx context.Context, base string) error
}

var steps = []step{
	{"refused-header", refusedHeader},
	{"reject", reject},
	{"echo", echo},
	{"server-close", serverClose},
	{"backlog", backlog},
	{"too-big", tooBig},
}

// refusedHeader: an option the host cannot honour fails Dial up front.
func refusedHeader(ctx context.Context, base string) error {
	c, resp, err := ws.Dial(ctx, base+"/echo", ws.WithHeader(http.Header{"Authorization": {"Bearer x"}}))
	if err == nil || c != nil || resp != nil {
		return fmt.Errorf("dial with a header: %v, %v, %v; want an error", c, resp, err)
	}
	return nil
}

// reject: a refused upgrade is a failed open with close code 1006.
func reject(ctx context.Context, base string) error {
	c, resp, err := ws.Dial(ctx, base+"/reject")
	if err == nil || c != nil || resp != nil {
		return fmt.Errorf("dial of a 403: %v, %v, %v; want an error", c, resp, err)
	}
	var ce *ws.CloseError
	if !errors.As(err, &ce) || ce.Code != ws.StatusAbnormalClosure {
		return fmt.Errorf("dial of a 403: %v; want a *CloseError with 1006", err)
	}
	return nil
}

func echo(ctx context.Context, base string) error {
	c, resp, err := ws.Dial(ctx, "http"+strings.TrimPrefix(base, "ws")+"/echo",
		ws.WithSubprotocols("echo.v1"), ws.WithTLSConfig(nil), ws.WithKeepalive(0, 0))
	if err != nil {
		return err
	}
	defer c.CloseNow()
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Protocol") != "echo.v1" || c.Subprotocol() != "echo.v1" {
		return fmt.Errorf("response %d %v, subprotocol %q", resp.StatusCode, resp.Header, c.Subprotocol())
	}
	roundTrip := func(m ws.Message) error {
		if err := c.Send(ctx, m); err != nil {
			return err
		}
		got, err := c.Receive(ctx)
		if err != nil {
			return err
		}
		if got.Type != m.Type || !bytes.Equal(got.Data, m.Data) {
			return fmt.Errorf("echo of %v (%d bytes) is %v (%d bytes)", m.Type, len(m.Data), got.Type, len(got.Data))
		}
		return nil
	}
	small := make([]byte, 256)
	for i := range small {
		small[i] = byte(i)
	}
	large := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), 200<<10/18)
	for _, m := range []ws.Message{ws.Text("héllo, wasm"), ws.Text(""), ws.Binary(small), ws.Binary(large), ws.Binary(nil)} {
		if err := roundTrip(m); err != nil {
			return err
		}
	}
	// Outgoing, then a Send: the Send's message goes last.
	for i := range 40 {
		c.Outgoing() <- ws.Text(fmt.Sprint("out ", i))
	}
	if err := c.Send(ctx, ws.Text("after")); err != nil {
		return err
	}
	for i := range 41 {
		want := fmt.Sprint("out ", i)
		if i == 40 {
			want = "after"
		}
		got, err := c.Receive(ctx)
		if err != nil {
			return err
		}
		if string(got.Data) != want {
			return fmt.Errorf("message %d is %q, want %q", i, got.Data, want)
		}
	}
	if _, err := c.Ping(ctx); !errors.Is(err, ws.ErrPingUnsupported) {
		return fmt.Errorf("ping: %v, want ErrPingUnsupported", err)
	}
	if err := c.Close(ctx, ws.StatusGoingAway, ""); err == nil {
		return errors.New("close with 1001 was not refused")
	}
	if err := roundTrip(ws.Text("still open")); err != nil {
		return fmt.Errorf("after a refused close: %w", err)
	}
	st := c.Stats()
	if st.MessagesOut != 47 || st.MessagesIn != 47 || st.BytesOut != st.BytesIn || st.OutgoingDropped != 0 {
		return fmt.Errorf("stats %+v", st)
	}
	if err := c.Close(ctx, 4000, "bye"); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	// The close event reports the server's answer: our code echoed, and
	// its own (empty) reason.
	var ce *ws.CloseError
	if !errors.As(c.Err(), &ce) || ce.Code != 4000 || ce.Reason != "" || ce.Remote || ce.Err != nil {
		return fmt.Errorf("err after Close: %v", c.Err())
	}
	if _, ok := <-c.Incoming(); ok {
		return errors.New("incoming still open after Close")
	}
	if err := c.Send(ctx, ws.Text("late")); !errors.Is(err, ws.ErrClosed) {
		return fmt.Errorf("send after Close: %v, want ErrClosed", err)
	}
	select {
	case <-c.Context().Done():
	default:
		return errors.New("context not cancelled after the end")
	}
	return nil
}

// serverClose: the server sends one message and closes with 4001.
func serverClose(ctx context.Context, base string) error {
	c, _, err := ws.Dial(ctx, base+"/serverclose")
	if err != nil {
		return err
	}
	defer c.CloseNow()
	var got []string
	for m := range c.Incoming() {
		got = append(got, string(m.Data))
	}
	if len(got) != 1 || got[0] != "closing soon" {
		return fmt.Errorf("received %q", got)
	}
	<-c.Done()
	var ce *ws.CloseError
	if !errors.As(c.Err(), &ce) || ce.Code != 4001 || ce.Reason != "server bye" || !ce.Remote || ce.Err != nil {
		return fmt.Errorf("err: %v", c.Err())
	}
	if err := c.Close(ctx, ws.StatusNormalClosure, ""); err != nil {
		return fmt.Errorf("close after the peer's close: %v", err)
	}
	return nil
}

// backlog: 100 messages arrive while nobody reads; past Incoming's 4 they
// wait behind it and all come out in order.
func backlog(ctx context.Context, base string) error {
	c, _, err := ws.Dial(ctx, base+"/flood?n=100&size=100", ws.WithIncomingBuffer(4))
	if err != nil {
		return err
	}
	defer c.CloseNow()
	for c.Stats().MessagesIn < 100 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("stats %+v: %w", c.Stats(), ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	if q := c.Stats().IncomingQueued; q != 100 {
		return fmt.Errorf("incoming queued %d, want 100", q)
	}
	for i := range 100 {
		m, err := c.Receive(ctx)
		if err != nil {
			return err
		}
		if want := fmt.Sprintf("%03d", i); !bytes.HasPrefix(m.Data, []byte(want)) || len(m.Data) != 100 {
			return fmt.Errorf("message %d starts %q (%d bytes)", i, m.Data[:min(3, len(m.Data))], len(m.Data))
		}
	}
	return c.Close(ctx, ws.StatusNormalClosure, "")
}

// tooBig: a message over WithMaxMessageSize ends the connection with 1009.
func tooBig(ctx context.Context, base string) error {
	c, _, err := ws.Dial(ctx, base+"/flood?n=1&size=2000", ws.WithMaxMessageSize(1000))
	if err != nil {
		return err
	}
	defer c.CloseNow()
	<-c.Done()
	if ws.CloseStatus(c.Err()) != ws.StatusMessageTooBig {
		return fmt.Errorf("err: %v, want 1009", c.Err())
	}
	return nil
}
