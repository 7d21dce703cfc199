// Command chat serves a web page and a WebSocket chat room on one port.
// Open http://localhost:8080/ in two browser tabs and chat; a Go client can
// join too:
//
//	go run ./examples/chat
//	go run ./examples/client -name gopher ws://localhost:8080/ws
//
// Every text message a member sends is broadcast to the room as
// "name: text". A member that does not keep up is dropped (close 1008) rather
// than allowed to stall the room: the hub never blocks on a member's queue.
// Newcomers receive the last messages and everyone receives the member
// list on each change. Messages use permessage-deflate when the browser
// offers it, without context takeover, so an idle member costs no
// compressor memory; each line is framed and compressed once for the whole
// room (ws.Prepare) and written to every member as the same bytes.
//
// The room is the in-memory hub of package chatroom: one process, nothing
// to set up. The same room across several processes, through Redis, is the
// chatcluster command (examples/chatcluster, a module of its own). SIGINT
// or SIGTERM drains: the listener closes and every member gets 1001.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/wsactor/ws/examples/chat/chatroom"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

// run serves the chat until ctx is cancelled, then shuts down gracefully.
// It prints "listening on http://ADDR/" to stdout once the socket is open.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	addr := fs.String("addr", "localhost:8080", "address to listen on")
	history := fs.Int("history", 50, "lines of history a newcomer receives")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	return chatroom.Serve(ctx, ln, chatroom.NewMemory(*history, 64), stdout)
}
