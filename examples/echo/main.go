// Command echo is a WebSocket echo server: every message received on / is
// sent back with its type (text stays text, binary stays binary).
//
//	go run ./examples/echo -addr localhost:8080
//	go run ./examples/client ws://localhost:8080/
//
// It shows the settings a server should have: an http.Server with header
// timeouts and size limits, explicit message limits, the default same-origin
// check, and a graceful shutdown on SIGINT/SIGTERM that closes every
// connection with 1001 (going away).
package main

import (
	"context"
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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

// run serves until ctx is cancelled, then shuts down gracefully. It prints
// "listening on ws://ADDR/" to stdout once the socket is open.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	addr := fs.String("addr", "localhost:8080", "address to listen on")
	maxMsg := fs.Int64("max-message", 16<<20, "largest message accepted, in bytes")
	if err := fs.Parse(args); err != nil {
		return err
	}

	echo := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		for msg := range c.Incoming() {
			if err := c.Send(ctx, msg); err != nil {
				return
			}
		}
	},
		ws.WithMaxMessageSize(*maxMsg),
		ws.WithKeepalive(30*time.Second, 30*time.Second),
		ws.WithCloseGracePeriod(5*time.Second),
	)

	srv := &http.Server{
		Handler:           echo,
		ReadHeaderTimeout: 5 * time.Second, // slow-loris guard for the handshake
		MaxHeaderBytes:    16 << 10,
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening on ws://%s/\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}

	// Stop accepting, then close every WebSocket with 1001 and wait for the
	// handlers, all within ten seconds.
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = errors.Join(srv.Shutdown(sctx), echo.Shutdown(sctx))
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
