package actor_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

// A message streamed from an io.Reader to a peer that reads it as one:
// neither side holds the whole message.
func ExampleConn_SendStream() {
	a, b := net.Pipe()
	client, _ := actor.New(a, nil, frame.Client)
	server, _ := actor.New(b, nil, frame.Server, actor.WithStreamedReceive())
	ctx := context.Background()

	// 10 MiB, read in DefaultStreamChunk pieces and sent as fragments.
	src := io.LimitReader(strings.NewReader(strings.Repeat("x", 10<<20)), 10<<20)
	go func() {
		if err := client.SendStream(ctx, frame.OpText, src); err != nil {
			fmt.Println(err)
		}
	}()

	typ, r, err := server.NextReader(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	n, err := io.Copy(io.Discard, r) // or to a file: the payload is never in memory whole
	fmt.Println(typ, n, err)

	fmt.Println(client.Close(ctx, frame.StatusNormalClosure, ""))
	<-server.Done()
	// Output:
	// text 10485760 <nil>
	// <nil>
}

// With WithStreamedReceive every message comes through NextReader, here
// compressed with permessage-deflate; closing a reader early skips the rest
// of its message.
func ExampleConn_NextReader() {
	a, b := net.Pipe()
	ext := func(role frame.Role) actor.Option {
		e, _ := deflate.New(deflate.Params{}, role, deflate.Config{})
		return actor.WithExtension(e)
	}
	client, _ := actor.New(a, nil, frame.Client, ext(frame.Client))
	server, _ := actor.New(b, nil, frame.Server, ext(frame.Server), actor.WithStreamedReceive())
	ctx := context.Background()

	go func() {
		_ = client.Send(ctx, actor.Text(strings.Repeat("skipped ", 1000)))
		_ = client.SendStream(ctx, frame.OpBinary, strings.NewReader(strings.Repeat("kept ", 1000)))
	}()

	_, r, _ := server.NextReader(ctx)
	head := make([]byte, 7)
	_, _ = io.ReadFull(r, head)
	fmt.Printf("%q\n", head)
	_ = r.Close() // the connection reads and discards the rest

	typ, r, _ := server.NextReader(ctx)
	h := sha256.New()
	n, err := io.Copy(h, r)
	fmt.Println(typ, n, err, fmt.Sprintf("%x", h.Sum(nil)) == fmt.Sprintf("%x", sha256.Sum256([]byte(strings.Repeat("kept ", 1000)))))

	fmt.Println(client.Close(ctx, frame.StatusNormalClosure, ""))
	<-server.Done()
	// Output:
	// "skipped"
	// binary 5000 <nil> true
	// <nil>
}

// In streamed mode Incoming delivers nothing; it is still closed at the
// connection's end.
func ExampleWithStreamedReceive() {
	a, b := net.Pipe()
	client, _ := actor.New(a, nil, frame.Client)
	server, _ := actor.New(b, nil, frame.Server, actor.WithStreamedReceive(), actor.WithMaxMessageSize(1<<40))
	ctx := context.Background()

	go func() { _ = client.Send(ctx, actor.Binary([]byte{1, 2, 3})) }()
	_, r, _ := server.NextReader(ctx)
	p, err := io.ReadAll(r)
	fmt.Println(p, err)

	_ = client.Close(ctx, frame.StatusNormalClosure, "")
	_, open := <-server.Incoming()
	fmt.Println(open)
	// Output:
	// [1 2 3] <nil>
	// false
}
