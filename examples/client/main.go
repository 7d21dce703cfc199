// Command client dials a WebSocket server, sends each line of stdin as a
// text message and prints every message that arrives, one per line.
//
//	go run ./examples/client ws://localhost:8080/
//	go run ./examples/client -name gopher ws://localhost:8080/ws   # join the chat
//
// End of input closes the connection with 1000 (normal closure); SIGINT or
// SIGTERM closes it with 1001 (going away).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wsactor/ws"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

// run connects to the URL in args, copies stdin lines to the server and
// messages from it to stdout, and returns when stdin ends (after a clean
// close), the server closes, or ctx is cancelled.
func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	name := fs.String("name", "", "add ?name=NAME to the URL (the chat example uses it)")
	timeout := fs.Duration("timeout", 10*time.Second, "handshake timeout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: client [-name NAME] ws://host:port/path")
	}
	u, err := url.Parse(fs.Arg(0))
	if err != nil {
		return err
	}
	if *name != "" {
		q := u.Query()
		q.Set("name", *name)
		u.RawQuery = q.Encode()
	}

	dctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	// WithLifetime(ctx): a signal closes the connection with 1001.
	conn, _, err := ws.Dial(dctx, u.String(), ws.WithLifetime(ctx), ws.WithMaxMessageSize(1<<20))
	if err != nil {
		return err
	}

	// Read stdin on its own goroutine: a blocked Read cannot be cancelled.
	lines := make(chan string)
	inputDone := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-conn.Done():
				return
			}
		}
		inputDone <- sc.Err()
	}()

	incoming := conn.Incoming()
	for {
		select {
		case msg, ok := <-incoming:
			if !ok {
				return closeErr(conn.Err())
			}
			if msg.Type == ws.TextMessage {
				fmt.Fprintf(stdout, "%s\n", msg.Data)
			} else {
				fmt.Fprintf(stdout, "binary message: %d bytes\n", len(msg.Data))
			}
		case line := <-lines:
			if err := conn.Send(ctx, ws.Text(line)); err != nil {
				<-conn.Done()
				return closeErr(conn.Err())
			}
		case err := <-inputDone:
			// Start the close handshake and keep printing until the server
			// answers it: replies to the last lines may still be on their way.
			if err != nil {
				return err
			}
			inputDone = nil
			go func() {
				cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = conn.Close(cctx, ws.StatusNormalClosure, "")
			}()
		}
	}
}

// closeErr treats a normal closure or a going-away as success.
func closeErr(err error) error {
	var ce *ws.CloseError
	if errors.As(err, &ce) && (ce.Code == ws.StatusNormalClosure || ce.Code == ws.StatusGoingAway) {
		return nil
	}
	return err
}
