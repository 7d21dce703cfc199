package wstest

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Step is one step of a ws-client.js script. Build steps with the
// constructors below (SendText, Expect, Ping, Close, ...); the fields mirror
// the JSON the script reads, and a zero field is left out.
type Step struct {
	Op           string  `json:"op"`
	Type         string  `json:"type,omitempty"`
	Text         string  `json:"text,omitempty"`
	Hex          string  `json:"hex,omitempty"`
	Size         int     `json:"size,omitempty"`
	Fill         string  `json:"fill,omitempty"`
	Seed         uint32  `json:"seed,omitempty"`
	FragmentSize int     `json:"fragmentSize,omitempty"` // send: frames of this many bytes
	Compress     *bool   `json:"compress,omitempty"`     // send: false skips deflate
	Len          int     `json:"len,omitempty"`
	SHA256       string  `json:"sha256,omitempty"`
	Data         string  `json:"data,omitempty"` // ping payload
	Code         int     `json:"code,omitempty"` // close: code to send, 0 for none
	Reason       string  `json:"reason,omitempty"`
	ExpectCode   int     `json:"expectCode,omitempty"`
	ExpectReason *string `json:"expectReason,omitempty"`
	Status       int     `json:"status,omitempty"`    // expect-reject
	ErrorCode    string  `json:"errorCode,omitempty"` // expect-error
	Ms           int     `json:"ms,omitempty"`        // sleep
	Timeout      int     `json:"timeout,omitempty"`   // ms for this step; 0: the script's default (10s)
}

// SendText sends s as one text message.
func SendText(s string) Step { return Send(Text, []byte(s)) }

// Send sends p as one message of type typ (Text or Binary). A text payload
// that is not valid UTF-8 is sent as is, for tests of 1007 handling.
func Send(typ string, p []byte) Step {
	if typ == Text && utf8.Valid(p) {
		return Step{Op: "send", Type: typ, Text: string(p)}
	}
	return Step{Op: "send", Type: typ, Hex: hex.EncodeToString(p)}
}

// SendFill sends the size-byte message Fill(typ, size, fill, seed).
func SendFill(typ string, size int, fill string, seed uint32) Step {
	return Step{Op: "send", Type: typ, Size: size, Fill: fill, Seed: seed}
}

// Fragmented returns s (a send step) split into frames of n bytes each.
func (s Step) Fragmented(n int) Step { s.FragmentSize = n; return s }

// Uncompressed returns s (a send step) sent without permessage-deflate.
func (s Step) Uncompressed() Step { f := false; s.Compress = &f; return s }

// Expect waits for the next message and checks its type, length and
// SHA-256 against p (and, for short text, the text itself).
func Expect(typ string, p []byte) Step {
	st := Step{Op: "expect", Type: typ, Len: len(p), SHA256: SHA256(p)}
	if typ == Text && utf8.Valid(p) && len(p) <= 1024 {
		st.Text = string(p)
	}
	return st
}

// ExpectText waits for the next message and checks it is the text s.
func ExpectText(s string) Step { return Expect(Text, []byte(s)) }

// ExpectFill waits for the next message and checks it is
// Fill(typ, size, fill, seed).
func ExpectFill(typ string, size int, fill string, seed uint32) Step {
	return Expect(typ, Fill(typ, size, fill, seed))
}

// Ping sends a ping with payload data and waits for the matching pong.
func Ping(data string) Step { return Step{Op: "ping", Data: data} }

// Close starts the close handshake with code (0: no status) and reason and
// waits for it to end. Chain Expecting to check what the peer answered.
func Close(code int, reason string) Step { return Step{Op: "close", Code: code, Reason: reason} }

// WaitClose waits for the peer to close, skipping messages, and checks the
// code (unless 0) and the reason (always; "" means none).
func WaitClose(code int, reason string) Step {
	return Step{Op: "wait-close"}.Expecting(code, reason)
}

// Expecting returns s (a close or wait-close step) checking that the
// connection ends with code (unless 0) and reason (exactly).
func (s Step) Expecting(code int, reason string) Step {
	s.ExpectCode = code
	s.ExpectReason = &reason
	return s
}

// ExpectError waits for ws to report an error; errorCode ("WS_ERR_...",
// "" for any) is what ws names it, e.g. WS_ERR_INVALID_UTF8.
func ExpectError(errorCode string) Step { return Step{Op: "expect-error", ErrorCode: errorCode} }

// ExpectReject, as the first step, requires the handshake to be refused
// with HTTP status (0 for any).
func ExpectReject(status int) Step { return Step{Op: "expect-reject", Status: status} }

// Sleep pauses the script; use it only to let the peer act first, never to
// synchronise.
func Sleep(d time.Duration) Step { return Step{Op: "sleep", Ms: int(d / time.Millisecond)} }

// Event is one JSON line ws-client.js prints. Event says which fields are
// set:
//
//	"upgrade"             Status, Headers (lower-case names): the 101 response
//	"open"                Protocol, Extensions
//	"message"             Type, Len, SHA256, Text (text of at most 1024 bytes)
//	"pong"                Data
//	"close"               Code, Reason
//	"error"               Message, ErrorCode, CloseCode
//	"unexpected-response" Status, Headers: a refused handshake
//	"fail"                Step (index), Reason: why the script failed
//	"done"                the script succeeded
type Event struct {
	Event      string            `json:"event"`
	Type       string            `json:"type,omitempty"`
	Len        int               `json:"len,omitempty"`
	SHA256     string            `json:"sha256,omitempty"`
	Text       string            `json:"text,omitempty"`
	Data       string            `json:"data,omitempty"`
	Code       int               `json:"code,omitempty"`
	Reason     string            `json:"reason,omitempty"`
	Protocol   string            `json:"protocol,omitempty"`
	Extensions string            `json:"extensions,omitempty"`
	Status     int               `json:"status,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
	Message    string            `json:"message,omitempty"`
	ErrorCode  string            `json:"errorCode,omitempty"`
	CloseCode  int               `json:"closeCode,omitempty"`
	Step       int               `json:"step,omitempty"`

	// Raw is the line as printed.
	Raw json.RawMessage `json:"-"`
}

// RunNodeClient runs ws-client.js against url with steps and returns the
// events it printed. args are client options: "--protocols a,b",
// "--deflate", "--server-no-context-takeover", "--client-no-context-takeover",
// "--server-max-window-bits N", "--client-max-window-bits N",
// "--origin O", "--header 'Name: value'", "--max-payload N",
// "--timeout MS" (per step, default 10000).
//
// It blocks until the script ends; ctx bounds it (60s if ctx has no
// deadline), and cancelling it kills the client. The error is non-nil when
// the script failed (a "fail" event: a mismatch, a timeout, the connection
// ending early), the client could not run, or ctx ended; the events are
// returned either way. It is StartNodeClient then Wait, so it must be
// called on the test's goroutine; a test that needs the client running
// while it does something else calls StartNodeClient itself.
func RunNodeClient(t testing.TB, ctx context.Context, url string, steps []Step, args ...string) ([]Event, error) {
	t.Helper()
	return StartNodeClient(t, ctx, url, steps, args...).Wait()
}

// NodeClient is a ws-client.js started by StartNodeClient.
type NodeClient struct {
	t      testing.TB
	url    string
	steps  []Step
	ctx    context.Context
	cancel context.CancelFunc
	cmd    *exec.Cmd
	stdout *lineWriter
	stderr bytes.Buffer

	once   sync.Once
	events []Event
	lines  []string
	err    error
}

// StartNodeClient starts ws-client.js as RunNodeClient does and returns
// without waiting for it. It calls RequirePeer(t, PeerNode) first and fails
// the test if the client cannot start, so it must run on the test's
// goroutine: t.Skip and t.Fatal stop only the goroutine that calls them.
// A t.Cleanup kills the client if it is still running and waits for it.
func StartNodeClient(t testing.TB, ctx context.Context, url string, steps []Step, args ...string) *NodeClient {
	t.Helper()
	RequirePeer(t, PeerNode)
	if steps == nil {
		steps = []Step{}
	}
	script, err := json.Marshal(steps)
	if err != nil {
		t.Fatalf("wstest: encode steps: %v", err)
	}
	path := filepath.Join(t.TempDir(), "steps.json")
	if err := os.WriteFile(path, script, 0o644); err != nil {
		t.Fatalf("wstest: write steps: %v", err)
	}

	nc := &NodeClient{t: t, url: url, steps: steps}
	nc.ctx, nc.cancel = withDefaultTimeout(ctx, 60*time.Second)
	nc.stdout = &lineWriter{fn: func(line []byte) {
		nc.lines = append(nc.lines, string(line))
		var ev Event
		if json.Unmarshal(line, &ev) == nil && ev.Event != "" {
			ev.Raw = append(json.RawMessage(nil), line...)
			nc.events = append(nc.events, ev)
		}
	}}
	nc.cmd = nodeCommand(nc.ctx, "ws-client.js", append([]string{url, "--script", path}, args...)...)
	nc.cmd.Stdout, nc.cmd.Stderr = nc.stdout, &nc.stderr
	if err := nc.cmd.Start(); err != nil {
		nc.cancel()
		t.Fatalf("wstest: start ws-client.js: %v", err)
	}
	t.Cleanup(func() {
		nc.cancel()
		_, _ = nc.Wait()
	})
	return nc
}

// Wait waits for the client to end and returns its events and error, as
// RunNodeClient does. It never stops the test (no t.Skip, t.Fatal or
// t.FailNow), so any goroutine may call it, any number of times; on failure
// it logs the client's output with t.Logf.
func (nc *NodeClient) Wait() ([]Event, error) {
	nc.once.Do(nc.wait)
	return nc.events, nc.err
}

func (nc *NodeClient) wait() {
	runErr := nc.cmd.Wait()
	nc.stdout.flush()
	defer nc.cancel()
	if runErr == nil {
		return
	}
	for _, l := range nc.lines {
		nc.t.Logf("ws-client.js: %s", l)
	}
	var why []string
	for _, ev := range nc.events {
		if ev.Event == "fail" {
			why = append(why, fmt.Sprintf("step %d %s: %s", ev.Step, describeStep(nc.steps, ev.Step), ev.Reason))
		}
	}
	if nc.ctx.Err() != nil {
		why = append(why, nc.ctx.Err().Error())
	}
	if s := strings.TrimSpace(nc.stderr.String()); s != "" {
		why = append(why, "stderr: "+s)
	}
	nc.err = fmt.Errorf("wstest: ws-client.js %s: %w: %s", nc.url, runErr, strings.Join(why, "; "))
}

func describeStep(steps []Step, i int) string {
	if i < 0 || i >= len(steps) {
		return "(after the last step)"
	}
	st := steps[i]
	st.Hex = "" // keep messages short
	if len(st.Text) > 64 {
		st.Text = st.Text[:64] + "..."
	}
	b, _ := json.Marshal(st)
	return string(b)
}
