// Command chatcluster is the chat example's room spread over several
// processes: each serves the same page and /ws as examples/chat, and the
// processes share their rooms through Redis (package redishub). Start a
// Redis, then as many nodes as you like, each on its own port:
//
//	redis-server --port 6379 --save '' &
//	go run . -addr localhost:8081 -redis redis://localhost:6379/0 &
//	go run . -addr localhost:8082 -redis redis://localhost:6379/0 &
//	go run ../client -name gopher ws://localhost:8081/ws ws://localhost:8082/ws
//
// A browser on http://localhost:8081/ and one on http://localhost:8082/
// are in one room and see one member list.
//
// SIGTERM (or SIGINT) drains a node: it stops accepting, closes its
// WebSockets with 1001 (going away) — their clients reconnect, with
// jitter, to another node or to this one once it is back — removes its
// presence from Redis and exits. A rolling restart is that, one node at a
// time. Every line also goes to a Redis stream per room and carries its
// ID: the page and examples/client reconnect with ?since= the last ID
// they saw and are sent what they missed, once (see package redishub).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsactor/ws/examples/chat/chatroom"
	"github.com/wsactor/ws/examples/chatcluster/redishub"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chatcluster:", err)
		os.Exit(1)
	}
}

// run serves one node until ctx is cancelled, then drains it. It prints
// "listening on http://ADDR/" to stdout once the socket is open.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("chatcluster", flag.ContinueOnError)
	addr := fs.String("addr", "localhost:8080", "address to listen on")
	redisURL := fs.String("redis", "redis://localhost:6379/0", "Redis to share the rooms through")
	node := fs.String("node", "", "this node's name in presence keys (default: the listening address)")
	history := fs.Int("history", 50, "lines of history a newcomer receives (those this node has seen)")
	ttl := fs.Duration("presence-ttl", 15*time.Second, "how long a node's presence outlives it if it dies without draining")
	quiet := fs.Bool("quiet", false, "no join and leave lines, only the member list (for large rooms)")
	queue := fs.Int("queue", 64, "messages that may wait for a member before it is dropped with 1008")
	streamLen := fs.Int("stream-len", 10000, "about how many lines each room's Redis stream keeps for clients resuming with ?since=")
	replay := fs.Int("replay", 1000, "most lines sent to a resuming client; one that missed more is told so")
	listEvery := fs.Duration("list-every", 250*time.Millisecond, "least time between two member lists sent to a room")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opt, err := redis.ParseURL(*redisURL)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *node == "" {
		*node = ln.Addr().String()
	}
	if opt.MaxRetries == 0 {
		// One retry covers a pooled connection that a Redis restart
		// broke; more would keep a member waiting for seconds to learn
		// that its line was not delivered.
		opt.MaxRetries = 1
	}
	rdb := redis.NewClient(opt)
	hub := redishub.New(rdb, redishub.Options{Node: *node, History: *history, Queue: *queue, TTL: *ttl, ListEvery: *listEvery, Quiet: *quiet, StreamLen: *streamLen, Replay: *replay})

	err = chatroom.Serve(ctx, ln, hub, stdout)
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(err, hub.Close(cctx), rdb.Close())
}
