// Command session shows resumable sessions (package session): a server
// that echoes, and a client that sends numbered messages and prints the
// echoes. The server can reset all its connections every few seconds (a
// flaky network): the client resumes its session each time and every echo
// still appears once, in order. Kill the server process and start it again
// and the session is gone with it: the client says so (the resync hook)
// and goes on in a new session, without duplicates.
//
//	go run ./examples/session -serve 127.0.0.1:8082 -reset-every 3s &
//	go run ./examples/session ws://127.0.0.1:8082/
//	# every 3 s: "disconnected", "connected", and the echoes go on, none missing
//	# kill -9 the server, start it again: "session lost: ...; resync", then a new session
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
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/reconnect"
	"github.com/wsactor/ws/session"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "session:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("session", flag.ContinueOnError)
	addr := fs.String("serve", "", "run the echo server on this address")
	resetEvery := fs.Duration("reset-every", 0, "server: reset every connection this often (0: never)")
	every := fs.Duration("every", 500*time.Millisecond, "client: interval between messages")
	count := fs.Int("n", 0, "client: stop after the echo of message n (0: never)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	out := &lockedWriter{w: stdout}
	if *addr != "" {
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			return err
		}
		out.println("serving on " + ln.Addr().String())
		return serve(ctx, ln, *resetEvery)
	}
	if fs.NArg() != 1 {
		return errors.New("usage: session [-every d] [-n count] ws://host:port/  |  session -serve addr [-reset-every d]")
	}
	return client(ctx, fs.Arg(0), *every, *count, out)
}

// newEcho returns the session server: each session echoes what its client
// sends, once each, in order.
func newEcho() (*session.Server, error) {
	return session.NewServer(func(ctx context.Context, s *session.Session) {
		for m := range s.Incoming() {
			if s.Send(ctx, ws.Text("echo "+string(m.Data))) != nil {
				return
			}
		}
	})
}

// server is the echo server on a listener, with its live sockets, so
// that they can be reset.
type server struct {
	srv *session.Server
	hs  *http.Server

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func newServer() (*server, error) {
	srv, err := newEcho()
	if err != nil {
		return nil, err
	}
	s := &server{srv: srv, conns: map[net.Conn]struct{}{}}
	s.hs = &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second,
		ConnState: func(c net.Conn, st http.ConnState) {
			s.mu.Lock()
			defer s.mu.Unlock()
			switch st {
			case http.StateNew:
				s.conns[c] = struct{}{}
			case http.StateClosed:
				delete(s.conns, c)
			}
		}}
	return s, nil
}

// reset resets every connection (RST, no close frame), as a flaky network
// or a proxy would. Sessions are kept, and resumed by their clients.
func (s *server) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
		delete(s.conns, c)
	}
}

// shutdown ends the sessions (clients are told) and the server.
func (s *server) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(s.srv.Shutdown(ctx), s.hs.Shutdown(ctx))
}

// serve runs the echo server on ln until ctx ends, resetting every
// connection each resetEvery if it is not 0.
func serve(ctx context.Context, ln net.Listener, resetEvery time.Duration) error {
	s, err := newServer()
	if err != nil {
		return err
	}
	if resetEvery > 0 {
		t := time.NewTicker(resetEvery)
		defer t.Stop()
		go func() {
			for {
				select {
				case <-t.C:
					s.reset()
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- s.hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	return s.shutdown()
}

// client sends "N" every interval and prints each echo; it stops after
// the echo of count (0: never) or when ctx ends.
func client(ctx context.Context, url string, every time.Duration, count int, out *lockedWriter) error {
	sc, err := session.NewClient(session.OnLost(func(l *session.LostError) {
		// The application's resync: here only a report. A real one
		// reloads its state; l.Unacked were sent and never delivered.
		out.println(fmt.Sprintf("session lost: %v; %d unacknowledged; resync", l.Err, len(l.Unacked)))
	}))
	if err != nil {
		return err
	}
	c, err := reconnect.New(url, reconnect.WithLayer(sc),
		reconnect.WithBackoff(&reconnect.FullJitter{Initial: 200 * time.Millisecond, Max: 2 * time.Second}),
		reconnect.WithDialOptions(ws.WithKeepalive(5*time.Second, 5*time.Second)))
	if err != nil {
		return err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(ctx) }()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for ev := range c.Events() {
			switch e := ev.(type) {
			case reconnect.Connected:
				out.println("connected, session " + sc.ID())
			case reconnect.Disconnected:
				out.println(fmt.Sprintf("disconnected: %v", e.Err))
			}
		}
	}()
	finished := make(chan struct{})
	go func() {
		defer wg.Done()
		for m := range c.Incoming() {
			out.println(string(m.Data))
			if n, err := strconv.Atoi(strings.TrimPrefix(string(m.Data), "echo ")); err == nil && n == count {
				close(finished)
			}
		}
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
send:
	for n := 1; count == 0 || n <= count; n++ {
		select {
		case c.Outgoing() <- ws.Text(strconv.Itoa(n)):
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

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) println(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.w, s)
}
