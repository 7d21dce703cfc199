package actor_test

import (
	"context"
	"fmt"

	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
)

// A server broadcasts one message to every client: Prepare frames it (and
// with permessage-deflate compresses it) once, and SendPrepared writes
// those bytes to each connection.
func ExamplePrepare() {
	ctx := context.Background()
	var clients, servers []*actor.Conn
	for range 3 {
		c, s := pair()
		clients, servers = append(clients, c), append(servers, s)
	}

	pm, err := actor.Prepare(actor.Text(`{"event":"tick"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range servers {
		go func() {
			if err := s.SendPrepared(ctx, pm); err != nil {
				fmt.Println(err)
			}
		}()
	}
	for i, c := range clients {
		m := <-c.Incoming()
		fmt.Printf("client %d: %s\n", i, m.Data)
	}
	for _, c := range clients {
		_ = c.Close(ctx, frame.StatusNormalClosure, "")
	}
	// Output:
	// client 0: {"event":"tick"}
	// client 1: {"event":"tick"}
	// client 2: {"event":"tick"}
}

// Data that is compressed already gains nothing from permessage-deflate:
// Uncompressed sends it as it is, on Send, Outgoing and Prepare alike.
func ExampleMessage_uncompressed() {
	client, server := pair()
	ctx := context.Background()
	jpeg := []byte{0xff, 0xd8, 0xff, 0xe0}
	go func() {
		_ = server.Send(ctx, actor.Message{Type: frame.OpBinary, Data: jpeg, Uncompressed: true})
	}()
	m := <-client.Incoming()
	fmt.Printf("% x\n", m.Data)
	_ = client.Close(ctx, frame.StatusNormalClosure, "")
	// Output:
	// ff d8 ff e0
}
