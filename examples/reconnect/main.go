// Command reconnect is a WebSocket client that survives its server being
// stopped and started again. It sends a numbered message every interval,
// prints what comes back and every state change of the connection.
//
//	go run ./examples/echo -addr 127.0.0.1:8081 &
//	go run ./examples/reconnect -at-least-once ws://127.0.0.1:8081/
//	# stop and start examples/echo: the client reconnects and carries on
//
// By default delivery is at-most-once: a message being written when the
// connection dies may be lost. With -at-least-once the client keeps every
// message until its echo comes back (the echo is the acknowledgement),
// sends the unacknowledged ones again in OnConnect, and drops duplicate
// echoes by sequence number: nothing is lost, duplicates are absorbed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/reconnect"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "reconnect:", err)
		os.Exit(1)
	}
}

// run sends "seq N" every -every until -n echoes came back (0: forever) or
// ctx ends, printing echoes and events to stdout.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("reconnect", flag.ContinueOnError)
	every := fs.Duration("every", time.Second, "interval between messages")
	count := fs.Int("n", 0, "stop after this many messages were echoed (0: never)")
	alo := fs.Bool("at-least-once", false, "resend unacknowledged messages after a reconnect")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: reconnect [flags] ws://host:port/path")
	}
	out := &lockedWriter{w: stdout}
	acks := &window{}

	opts := []reconnect.Option{
		// Every dial is ws.Dial with these options (TLS, a proxy,
		// compression or subprotocols would go here too): a keepalive
		// that replaces a connection to a vanished server within 10 s.
		reconnect.WithDialOptions(ws.WithKeepalive(5*time.Second, 5*time.Second)),
		// A header computed for every dial, e.g. a refreshed token.
		reconnect.WithHeader(func(context.Context) (http.Header, error) {
			return http.Header{"Authorization": {"Bearer " + strconv.FormatInt(time.Now().Unix(), 10)}}, nil
		}),
	}
	if *alo {
		// Resend what the server has not acknowledged, in order, before the
		// queue of messages sent while offline is flushed.
		opts = append(opts, reconnect.OnConnect(func(ctx context.Context, conn *ws.Conn) error {
			for _, seq := range acks.unacked() {
				if err := conn.Send(ctx, ws.Text("seq "+strconv.Itoa(seq))); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	c, err := reconnect.New(fs.Arg(0), opts...)
	if err != nil {
		return err
	}

	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(ctx) }()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // events
		defer wg.Done()
		for ev := range c.Events() {
			out.println(describe(ev))
		}
	}()
	finished := make(chan struct{})
	wg.Add(1)
	go func() { // echoes
		defer wg.Done()
		for m := range c.Incoming() {
			seq, err := strconv.Atoi(strings.TrimPrefix(string(m.Data), "seq "))
			if err != nil || !acks.ack(seq) {
				continue // not ours, or a duplicate
			}
			out.println("echo " + strconv.Itoa(seq))
			if *count > 0 && seq == *count {
				close(finished)
			}
		}
	}()

	tick := time.NewTicker(*every)
	defer tick.Stop()
	err = nil
send:
	for seq := 1; *count == 0 || seq <= *count; seq++ {
		acks.sent(seq)
		select {
		case c.Outgoing() <- ws.Text("seq " + strconv.Itoa(seq)):
		case <-c.Done():
			break send
		}
		select {
		case <-tick.C:
		case <-c.Done():
			break send
		}
	}
	select {
	case <-finished:
	case <-c.Done():
	}
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.Close(cctx)
	if err = <-runErr; errors.Is(err, reconnect.ErrClosed) {
		err = nil
	}
	wg.Wait()
	return err
}

// window tracks sent and acknowledged sequence numbers; the echo server
// answers in order, so an echo of N acknowledges everything up to N.
type window struct {
	mu      sync.Mutex
	last    int // highest sequence sent
	acked   int // highest sequence echoed
	pending []int
}

func (w *window) sent(seq int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = seq
	w.pending = append(w.pending, seq)
}

// ack records an echo and reports whether it is new.
func (w *window) ack(seq int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if seq <= w.acked {
		return false
	}
	w.acked = seq
	for len(w.pending) > 0 && w.pending[0] <= seq {
		w.pending = w.pending[1:]
	}
	return true
}

func (w *window) unacked() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.pending...)
}

func describe(ev reconnect.Event) string {
	switch e := ev.(type) {
	case reconnect.Connecting:
		return fmt.Sprintf("connecting (attempt %d)", e.Attempt)
	case reconnect.Connected:
		return "connected"
	case reconnect.Disconnected:
		return fmt.Sprintf("disconnected after %v: %v", e.Uptime.Round(time.Millisecond), e.Err)
	case reconnect.Retrying:
		return fmt.Sprintf("retrying in %v (attempt %d): %v", e.In.Round(time.Millisecond), e.Attempt, e.Err)
	case reconnect.GaveUp:
		return fmt.Sprintf("gave up: %v", e.Err)
	case reconnect.Dropped:
		return fmt.Sprintf("dropped %q: %v", e.Message.Data, e.Err)
	}
	return fmt.Sprintf("%#v", ev)
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) println(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.w, s)
}
