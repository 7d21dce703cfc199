package wstest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// NodeServer is a running ws-server.js: the npm ws WebSocketServer on
// 127.0.0.1. Its methods are safe for concurrent use.
type NodeServer struct {
	// URL is "ws://127.0.0.1:PORT"; append a path if the test wants one.
	URL string

	mu      sync.Mutex
	events  []ServerEvent
	other   []string      // stderr lines that are not JSON events
	changed chan struct{} // closed and replaced on every new event
	exited  chan struct{} // closed once the process has been waited for
	exitErr error         // set before exited is closed
}

// ServerEvent is one JSON line ws-server.js writes to stderr. Event says
// which fields are set:
//
//	"headers"          Method, URL, HTTPVersion, RawHeaders: an upgrade request as received
//	"response-headers" Lines: the handshake response ws wrote
//	"connection"       Protocol, Extensions: an accepted connection
//	"message"          Type ("text"/"binary"), Len, SHA256: a received message
//	"close"            Code, Reason: a connection's end as ws reports it
//	"error"            Message, ErrorCode ("WS_ERR_..."), CloseCode: ws rejected what it read
type ServerEvent struct {
	Event       string   `json:"event"`
	Method      string   `json:"method,omitempty"`
	URL         string   `json:"url,omitempty"`
	HTTPVersion string   `json:"httpVersion,omitempty"`
	RawHeaders  []string `json:"rawHeaders,omitempty"`
	Lines       []string `json:"lines,omitempty"`
	Protocol    string   `json:"protocol,omitempty"`
	Extensions  string   `json:"extensions,omitempty"`
	Type        string   `json:"type,omitempty"`
	Len         int      `json:"len,omitempty"`
	SHA256      string   `json:"sha256,omitempty"`
	Code        int      `json:"code,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Message     string   `json:"message,omitempty"`
	ErrorCode   string   `json:"errorCode,omitempty"`
	CloseCode   int      `json:"closeCode,omitempty"`

	// Raw is the line as written.
	Raw json.RawMessage `json:"-"`
}

// Header returns a "headers" event's RawHeaders as an http.Header
// (canonical keys, repeated fields kept in order).
func (e ServerEvent) Header() http.Header {
	h := make(http.Header)
	for i := 0; i+1 < len(e.RawHeaders); i += 2 {
		h.Add(e.RawHeaders[i], e.RawHeaders[i+1])
	}
	return h
}

// StartNodeServer starts ws-server.js with args (see its header comment:
// "echo", "--subprotocols a,b", "--deflate", "--server-no-context-takeover",
// "--client-no-context-takeover", "--server-max-window-bits N",
// "--client-max-window-bits N", "--close CODE REASON", "--max-payload N"),
// waits until it listens, and returns it. It calls RequirePeer(t, PeerNode)
// first. A t.Cleanup closes the server's stdin, waits for it to exit (killing
// it after a few seconds) and, if the test failed, logs its stderr.
func StartNodeServer(t testing.TB, args ...string) *NodeServer {
	t.Helper()
	RequirePeer(t, PeerNode)

	ctx, cancel := context.WithCancel(context.Background())
	s := &NodeServer{changed: make(chan struct{}), exited: make(chan struct{})}
	portc := make(chan int, 1)
	cmd := nodeCommand(ctx, "ws-server.js", args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		t.Fatalf("wstest: ws-server.js stdin: %v", err)
	}
	stdout := &lineWriter{fn: func(line []byte) {
		var p struct {
			Port int `json:"port"`
		}
		if json.Unmarshal(line, &p) == nil && p.Port > 0 {
			select {
			case portc <- p.Port:
			default:
			}
			return
		}
		s.addLine(line)
	}}
	stderr := &lineWriter{fn: s.addLine}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("wstest: start ws-server.js: %v", err)
	}
	go func() {
		err := cmd.Wait()
		stdout.flush()
		stderr.flush()
		s.mu.Lock()
		s.exitErr = err
		s.mu.Unlock()
		close(s.exited)
	}()
	t.Cleanup(func() {
		stdin.Close() // ws-server.js exits when stdin closes
		select {
		case <-s.exited:
		case <-time.After(killDelay):
			cancel() // SIGTERM, then SIGKILL after killDelay
			<-s.exited
		}
		cancel()
		if t.Failed() {
			s.logTo(t)
		}
	})

	select {
	case port := <-portc:
		s.URL = fmt.Sprintf("ws://127.0.0.1:%d", port)
		return s
	case <-s.exited:
		s.logTo(t)
		t.Fatalf("wstest: ws-server.js %q exited before listening: %v", args, s.exitErr)
	case <-time.After(30 * time.Second):
		s.logTo(t)
		t.Fatalf("wstest: ws-server.js %q did not listen within 30s", args)
	}
	return nil
}

func (s *NodeServer) addLine(line []byte) {
	var ev ServerEvent
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := json.Unmarshal(line, &ev); err != nil || ev.Event == "" {
		s.other = append(s.other, string(line))
		return
	}
	ev.Raw = append(json.RawMessage(nil), line...)
	s.events = append(s.events, ev)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *NodeServer) logTo(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range s.events {
		if len(ev.Raw) > 2000 {
			t.Logf("ws-server.js: %s...", ev.Raw[:2000])
			continue
		}
		t.Logf("ws-server.js: %s", ev.Raw)
	}
	for _, l := range s.other {
		t.Logf("ws-server.js: %s", l)
	}
}

// Events returns a copy of the events received so far whose Event is kind,
// or all of them if kind is "".
func (s *NodeServer) Events(kind string) []ServerEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return filterEvents(s.events, kind)
}

// HeaderEvents returns the "headers" events so far: one per upgrade request
// the server received, accepted or not. The server logs a request before it
// answers it, but the line may reach the test a moment after the client has
// the response: use WaitEvents(ctx, "headers", n) to wait for it.
func (s *NodeServer) HeaderEvents() []ServerEvent {
	return s.Events("headers")
}

// WaitEvents blocks until at least n events of kind ("" for any) have
// arrived and returns the first n. It fails with ctx.Err() when ctx ends
// first, or with an error if the server exits first.
func (s *NodeServer) WaitEvents(ctx context.Context, kind string, n int) ([]ServerEvent, error) {
	for {
		s.mu.Lock()
		evs := filterEvents(s.events, kind)
		changed := s.changed
		s.mu.Unlock()
		if len(evs) >= n {
			return evs[:n], nil
		}
		select {
		case <-changed:
		case <-s.exited:
			// Lines written before exit are in by now; look once more.
			if evs := s.Events(kind); len(evs) >= n {
				return evs[:n], nil
			}
			return nil, fmt.Errorf("wstest: ws-server.js exited (%v) after %d of %d %q events", s.exitErr, len(evs), n, kind)
		case <-ctx.Done():
			return nil, fmt.Errorf("wstest: %d of %d %q events from ws-server.js: %w", len(evs), n, kind, ctx.Err())
		}
	}
}

func filterEvents(evs []ServerEvent, kind string) []ServerEvent {
	var out []ServerEvent
	for _, ev := range evs {
		if kind == "" || ev.Event == kind {
			out = append(out, ev)
		}
	}
	return out
}
