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
// Newcomers receive the last messages. Messages use permessage-deflate when
// the browser offers it, without context takeover, so an idle member costs
// no compressor memory; each line is framed and compressed once for the
// whole room (ws.Prepare) and written to every member as the same bytes.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wsactor/ws"
)

//go:embed index.html
var indexHTML []byte

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
	if err := fs.Parse(args); err != nil {
		return err
	}

	room := newRoom(50)
	chat := ws.Handler(room.serve, chatOptions()...)

	mux := http.NewServeMux()
	mux.Handle("GET /ws", chat)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
		_, _ = w.Write(indexHTML)
	})
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second, // plain HTTP only: hijacked sockets drop deadlines
		MaxHeaderBytes:    16 << 10,
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening on http://%s/\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = errors.Join(srv.Shutdown(sctx), chat.Shutdown(sctx))
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
