package actor_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
)

// pair returns a client and a server Conn over an in-memory pipe, as if a
// handshake had just completed.
func pair() (client, server *actor.Conn) {
	a, b := net.Pipe()
	client, _ = actor.New(a, nil, frame.Client)
	server, _ = actor.New(b, nil, frame.Server)
	return client, server
}

func ExampleNew() {
	client, server := pair()
	ctx := context.Background()

	// The server echoes every message until the connection ends.
	go func() {
		for m := range server.Incoming() {
			select {
			case server.Outgoing() <- m:
			case <-server.Done():
			}
		}
	}()

	if err := client.Send(ctx, actor.Text("hello")); err != nil {
		fmt.Println(err)
	}
	m := <-client.Incoming()
	fmt.Printf("%s %q\n", m.Type, m.Data)

	// The close handshake; the server's Err says who closed and how.
	fmt.Println(client.Close(ctx, frame.StatusNormalClosure, "done"))
	<-server.Done()
	var ce *actor.CloseError
	if errors.As(server.Err(), &ce) {
		fmt.Println(int(ce.Code), ce.Reason, ce.Remote)
	}
	// Output:
	// text "hello"
	// <nil>
	// 1000 done true
}

func ExampleConn_Ping() {
	client, server := pair()
	defer server.Close(context.Background(), frame.StatusNormalClosure, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rtt, err := client.Ping(ctx) // the server answers without being read
	fmt.Println(err == nil, rtt > 0)
	// Output: true true
}

func ExampleConn_Send_cancel() {
	client, server := pair()
	defer client.Close(context.Background(), frame.StatusNormalClosure, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A cancelled Send ends only itself; the connection goes on.
	fmt.Println(client.Send(ctx, actor.Text("dropped")))
	fmt.Println(client.Send(context.Background(), actor.Text("sent")))
	fmt.Printf("%s\n", (<-server.Incoming()).Data)
	// Output:
	// context canceled
	// <nil>
	// sent
}

func ExampleWithLifetime() {
	life, shutdown := context.WithCancel(context.Background())
	a, b := net.Pipe()
	client, _ := actor.New(a, nil, frame.Client)
	server, _ := actor.New(b, nil, frame.Server, actor.WithLifetime(life))
	shutdown() // e.g. the server is going down: every connection closes with 1001
	<-client.Done()
	<-server.Done()
	fmt.Println(actor.CloseStatus(client.Err()))
	// Output: going away
}

// A consumer that is done with each message's bytes gives them back, so the
// connection receives without allocating.
func ExampleMessage_Release() {
	a, b := net.Pipe()
	client, _ := actor.New(a, nil, frame.Client)
	server, _ := actor.New(b, nil, frame.Server, actor.WithRecycledBuffers(false))
	ctx := context.Background()
	go func() {
		for _, s := range []string{"one", "two", "three"} {
			_ = client.Send(ctx, actor.Text(s))
		}
	}()
	for range 3 {
		m := <-server.Incoming()
		fmt.Println(string(m.Data)) // copy out what must outlive Release
		m.Release()                 // m.Data may now hold the next message
	}
	fmt.Println(client.Close(ctx, frame.StatusNormalClosure, ""))
	// Output:
	// one
	// two
	// three
	// <nil>
}
