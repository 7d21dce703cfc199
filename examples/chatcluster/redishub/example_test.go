package redishub_test

import (
	"context"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsactor/ws/examples/chat/chatroom"
	"github.com/wsactor/ws/examples/chatcluster/redishub"
)

// A node of a chat cluster: the room of package chatroom, shared through
// Redis. Run it on several ports; SIGTERM drains one.
func ExampleNew() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()
	ln, err := net.Listen("tcp", "localhost:8081")
	if err != nil {
		panic(err)
	}
	hub := redishub.New(rdb, redishub.Options{Node: ln.Addr().String(), History: 50})
	err = chatroom.Serve(ctx, ln, hub, os.Stdout) // until SIGTERM; members get 1001
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hub.Close(cctx) // leave the presence of every room
	if err != nil {
		panic(err)
	}
}
