// Command client dials a WebSocket server, sends each line of stdin as a
// text message and prints every message that arrives, one per line. It
// stays connected: when the connection ends it dials again, with a
// jittered backoff (package reconnect), and lines typed meanwhile wait in a
// bounded queue and are sent on reconnect. With several URLs (the nodes of
// a chat cluster) each redial tries the next one.
//
//	go run ./examples/client ws://localhost:8080/
//	go run ./examples/client -name gopher ws://localhost:8080/ws   # join the chat
//	go run ./examples/client -name gopher ws://localhost:8081/ws ws://localhost:8082/ws
//
// State changes (connected, disconnected, retrying) go to stderr, so that
// stdout carries only messages. End of input closes the connection with
// 1000 (normal closure) after the queued lines are written; SIGINT or
// SIGTERM closes it with 1001 (going away). -max-attempts gives up after
// that many failed attempts in a row.
//
// A chat line arrives as "@ID text" (see package chatroom): the client
// prints the text, remembers the last ID and redials with ?since=ID, so
// that the node it reconnects to sends the lines it missed, and it prints
// a line whose ID it has seen already only once.
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
	"github.com/wsactor/ws/examples/chat/chatroom"
	"github.com/wsactor/ws/reconnect"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

// run connects to the URLs in args, copies stdin lines to the server and
// messages from it to stdout, and returns when stdin ends (after a clean
// close), ctx is cancelled, or the client gives up.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "add ?name=NAME to the URLs (the chat example uses it)")
	timeout := fs.Duration("timeout", 10*time.Second, "handshake timeout")
	queue := fs.Int("queue", 100, "lines that may wait while offline; stdin is not read while it is full")
	maxAttempts := fs.Int("max-attempts", 0, "give up after this many failed attempts in a row (0: never)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: client [-name NAME] ws://host:port/path [more URLs of the same service]")
	}
	var urls []string
	for _, raw := range fs.Args() {
		u, err := url.Parse(raw)
		if err != nil {
			return err
		}
		if *name != "" {
			q := u.Query()
			q.Set("name", *name)
			u.RawQuery = q.Encode()
		}
		urls = append(urls, u.String())
	}

	resume := new(chatroom.Resume)
	c, err := reconnect.New(urls[0],
		reconnect.WithDialFunc(chatroom.DialAnyResume(resume, urls...)),
		reconnect.WithDialOptions(ws.WithMaxMessageSize(1<<20), ws.WithHandshakeTimeout(*timeout)),
		reconnect.WithOutgoingBuffer(*queue),
		reconnect.WithMaxAttempts(*maxAttempts))
	if err != nil {
		return err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(ctx) }()
	go report(c.Events(), stderr)

	// Read stdin on its own goroutine: a blocked Read cannot be cancelled.
	// At its end, Close writes what is queued and closes with 1000.
	go func() {
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			select {
			case c.Outgoing() <- ws.Text(sc.Text()):
			case <-c.Done():
				return
			}
		}
		if err := sc.Err(); err != nil {
			fmt.Fprintln(stderr, "stdin:", err)
		}
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(cctx)
	}()

	for msg := range c.Incoming() {
		if msg.Type == ws.TextMessage {
			if text, fresh := resume.See(string(msg.Data)); fresh {
				fmt.Fprintf(stdout, "%s\n", text)
			}
		} else {
			fmt.Fprintf(stdout, "binary message: %d bytes\n", len(msg.Data))
		}
	}
	err = <-runErr
	if errors.Is(err, reconnect.ErrClosed) || (ctx.Err() != nil && errors.Is(err, ctx.Err())) {
		return nil
	}
	return closeErr(err)
}

// report prints the client's state changes, one line each.
func report(events <-chan reconnect.Event, w io.Writer) {
	for ev := range events {
		switch e := ev.(type) {
		case reconnect.Connected:
			where := ""
			if e.Response != nil && e.Response.Request != nil {
				where = " to " + e.Response.Request.URL.Host
			}
			fmt.Fprintf(w, "* connected%s\n", where)
		case reconnect.Disconnected:
			fmt.Fprintf(w, "* disconnected after %s: %v\n", e.Uptime.Round(time.Millisecond), e.Err)
		case reconnect.Retrying:
			fmt.Fprintf(w, "* retrying in %s (attempt %d): %v\n", e.In.Round(time.Millisecond), e.Attempt, e.Err)
		case reconnect.Dropped:
			fmt.Fprintf(w, "* not sent: %q: %v\n", e.Message.Data, e.Err)
		case reconnect.GaveUp:
			fmt.Fprintf(w, "* gave up: %v\n", e.Err)
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
