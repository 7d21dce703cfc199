//go:build !js

package ws_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/internal/wstest"
)

// The wasm tests run ws.Dial compiled for GOOS=js GOARCH=wasm against this
// package's Handler: they build testdata/wasmclient, which drives the host's
// WebSocket through the js build of the package, and run it under Node
// (Go's wasm_exec_node.js) and in headless Chromium (wasm_exec.js). The
// program checks text and binary echoes, the order of Outgoing and Send,
// the refused Ping and close code, its own close (4000) and the server's
// (4001), the receive backlog behind a full Incoming, and the max message
// size; checkWasmEndings checks what the server saw of each connection's
// end.

// wasmClientSteps are the steps testdata/wasmclient passes, in order.
var wasmClientSteps = []string{"refused-header", "reject", "echo", "server-close", "backlog", "too-big"}

// TestDialWasmNode runs the wasm client under node with each way of giving
// it a global WebSocket that this machine has: the built-in one (Node 22
// and later), the built-in one behind --experimental-websocket (Node 20
// and 21, undici's client), and the npm ws package that
// internal/wstest/peers.sh installs, assigned to globalThis.WebSocket by a
// preloaded script. With none of them it skips, or fails under CI=true.
func TestDialWasmNode(t *testing.T) {
	execJS := filepath.Join(goroot(t), "lib", "wasm", "wasm_exec_node.js")
	runs := wasmNodeRuns(t)
	wasm := buildWasmClient(t)
	for _, run := range runs {
		t.Run(run.name, func(t *testing.T) {
			srv, endings := startWasmServer(t)
			ctx, cancel := context.WithTimeout(wstest.Deadline(t), 60*time.Second)
			defer cancel()
			args := append(run.args, execJS, wasm, "ws"+strings.TrimPrefix(srv.URL, "http"))
			cmd := exec.CommandContext(ctx, "node", args...)
			cmd.Env = append(os.Environ(), run.env...)
			cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGKILL) }
			cmd.WaitDelay = 5 * time.Second
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			var lines []string
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			err = cmd.Wait()
			require.NoError(t, err, "wasm client failed:\nstdout:\n%s\nstderr:\n%s", strings.Join(lines, "\n"), stderr.String())
			checkWasmOutput(t, lines)
			checkWasmEndings(t, ctx, endings)
		})
	}
}

// TestDialWasmChromium runs the wasm client in headless Chromium, from a
// page served by the test server, so that Dial uses the browser's
// WebSocket.
func TestDialWasmChromium(t *testing.T) {
	wstest.RequirePeer(t, wstest.PeerChromium)
	execJS := filepath.Join(goroot(t), "lib", "wasm", "wasm_exec.js")
	wasm := buildWasmClient(t)
	srv, endings := startWasmServer(t, func(mux *http.ServeMux) {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("<!doctype html><title>wasm client</title>\n<script src=\"/wasm_exec.js\"></script>\n"))
		})
		mux.HandleFunc("/wasm_exec.js", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, execJS) })
		mux.HandleFunc("/client.wasm", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/wasm")
			http.ServeFile(w, r, wasm)
		})
	})
	// wasm_exec.js prints the program's output with console.log, several
	// lines per call at times; go.exit receives its exit code.
	const script = `
const lines = [];
const log = console.log.bind(console);
console.log = (...a) => { lines.push(...a.join(" ").split("\n")); log(...a); };
const go = new Go();
let exitCode = null;
go.exit = (code) => { exitCode = code; };
go.argv = ["wasmclient", "ws://" + location.host];
WebAssembly.instantiateStreaming(fetch("/client.wasm"), go.importObject)
  .then((r) => go.run(r.instance))
  .then(() => { window.__wsTestResult = { ok: exitCode === 0, exitCode, lines }; },
        (e) => { window.__wsTestResult = { ok: false, error: String(e), lines }; })
  .finally(() => { window.__wsTestDone = true; });
`
	ctx, cancel := context.WithTimeout(wstest.Deadline(t), 60*time.Second)
	defer cancel()
	raw, err := wstest.RunChromiumEval(t, ctx, srv.URL+"/", wstest.ArtifactPath(t, "wasm-client.png"), script)
	require.NoError(t, err, "result %s", raw)
	var res struct {
		Lines []string `json:"lines"`
	}
	require.NoError(t, json.Unmarshal(raw, &res))
	checkWasmOutput(t, res.Lines)
	checkWasmEndings(t, ctx, endings)
}

// wasmEnding is how one connection ended, as its server handler saw it.
type wasmEnding struct {
	path string
	err  error
}

// startWasmServer serves the endpoints testdata/wasmclient dials, plus what
// extra adds; each handler reports its connection's end on the channel.
func startWasmServer(t *testing.T, extra ...func(*http.ServeMux)) (*httptest.Server, <-chan wasmEnding) {
	t.Helper()
	endings := make(chan wasmEnding, 16)
	mux := http.NewServeMux()
	echo := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		for m := range c.Incoming() {
			if err := c.Send(ctx, m); err != nil {
				break
			}
		}
		endings <- wasmEnding{"/echo", c.Err()}
	}, ws.WithSubprotocols("echo.v1"))
	serverClose := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		err := c.Send(ctx, ws.Text("closing soon"))
		if err == nil {
			err = c.Close(ctx, 4001, "server bye")
		}
		endings <- wasmEnding{"/serverclose", err}
	})
	// flood sends n binary messages of size bytes, each starting with its
	// index, then waits for the client to close.
	flood := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		q := ws.RequestFromContext(ctx).URL.Query()
		n, _ := strconv.Atoi(q.Get("n"))
		size, _ := strconv.Atoi(q.Get("size"))
		for i := range n {
			p := fmt.Appendf(nil, "%03d", i)
			p = append(p, bytes.Repeat([]byte{'.'}, size-len(p))...)
			if c.Send(ctx, ws.Binary(p)) != nil {
				break
			}
		}
		for range c.Incoming() {
		}
		endings <- wasmEnding{"/flood", c.Err()}
	})
	mux.Handle("/echo", echo)
	mux.Handle("/serverclose", serverClose)
	mux.Handle("/flood", flood)
	mux.HandleFunc("/reject", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	})
	for _, f := range extra {
		f(mux)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, h := range []*ws.Server{echo, serverClose, flood} {
			assert.NoError(t, h.Shutdown(ctx))
		}
		srv.Close()
	})
	return srv, endings
}

// checkWasmOutput checks that the client passed every step and finished.
func checkWasmOutput(t *testing.T, lines []string) {
	t.Helper()
	var passed []string
	for _, line := range lines {
		if name, ok := strings.CutPrefix(line, "PASS "); ok {
			passed = append(passed, name)
		}
	}
	require.Equal(t, wasmClientSteps, passed, "output:\n%s", strings.Join(lines, "\n"))
	require.Contains(t, lines, "DONE")
}

// checkWasmEndings checks the server's view of the client's connections:
// one echo connection the client closed with 4000 "bye", one the server
// closed with a completed handshake, and two floods.
func checkWasmEndings(t *testing.T, ctx context.Context, endings <-chan wasmEnding) {
	t.Helper()
	seen := map[string][]error{}
	for range 4 {
		select {
		case e := <-endings:
			seen[e.path] = append(seen[e.path], e.err)
		case <-ctx.Done():
			t.Fatalf("the server saw only %v: %v", seen, ctx.Err())
		}
	}
	require.Len(t, seen["/echo"], 1)
	var ce *ws.CloseError
	require.ErrorAs(t, seen["/echo"][0], &ce)
	assert.Equal(t, ws.StatusCode(4000), ce.Code)
	assert.Equal(t, "bye", ce.Reason)
	assert.True(t, ce.Remote, "the wasm side started the close")
	assert.NoError(t, ce.Err)
	require.Equal(t, []error{nil}, seen["/serverclose"], "the wasm side answered the server's close")
	require.Len(t, seen["/flood"], 2)
	codes := []ws.StatusCode{ws.CloseStatus(seen["/flood"][0]), ws.CloseStatus(seen["/flood"][1])}
	// The backlog connection closes with 1000; the one that got a message
	// over its limit closes without a code (the WebSocket API may not send
	// 1009), which the server reports as 1005.
	assert.ElementsMatch(t, []ws.StatusCode{ws.StatusNormalClosure, ws.StatusNoStatusRcvd}, codes)
}

// wasmNodeRun is one way to run a js/wasm program under node with a global
// WebSocket.
type wasmNodeRun struct {
	name string
	args []string // node flags
	env  []string
}

// wasmNodeRuns lists the ways this machine's node can give the wasm client
// a global WebSocket (see TestDialWasmNode).
func wasmNodeRuns(t *testing.T) []wasmNodeRun {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		missingWasmPeer(t, "node 20 or later in $PATH (apt-get install nodejs)")
	}
	hasWebSocket := func(run wasmNodeRun) bool {
		cmd := exec.Command("node", append(run.args, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)")...)
		cmd.Env = append(os.Environ(), run.env...)
		return cmd.Run() == nil
	}
	var runs []wasmNodeRun
	if builtin := (wasmNodeRun{name: "global"}); hasWebSocket(builtin) {
		runs = append(runs, builtin)
	} else if flag := (wasmNodeRun{name: "experimental-websocket", args: []string{"--experimental-websocket"}}); hasWebSocket(flag) {
		runs = append(runs, flag)
	}
	npm := filepath.Join(wstest.NodeDir(), "node_modules", "ws")
	if _, err := os.Stat(filepath.Join(npm, "package.json")); err == nil {
		preload, err := filepath.Abs(filepath.Join("testdata", "wasmclient", "npm-ws.cjs"))
		require.NoError(t, err)
		run := wasmNodeRun{name: "npm-ws", args: []string{"--require", preload}, env: []string{"WASM_NPM_WS=" + npm}}
		require.True(t, hasWebSocket(run), "npm ws in %s does not give node a global WebSocket", npm)
		runs = append(runs, run)
	}
	if len(runs) == 0 {
		missingWasmPeer(t, "a global WebSocket in node (22+, or 20+ with --experimental-websocket) or npm ws in "+npm+" (`make peers`)")
	}
	return runs
}

// missingWasmPeer skips the test for want of what, or fails it under
// CI=true, where a missing peer is a broken machine.
func missingWasmPeer(t *testing.T, what string) {
	t.Helper()
	msg := t.Name() + " needs " + what
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " [CI=true: a missing peer fails]")
	}
	t.Skip(msg)
}

// goroot returns the GOROOT of the go command in $PATH, which builds the
// wasm client and ships its wasm_exec scripts.
func goroot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		missingWasmPeer(t, "the go command in $PATH, to build the wasm client: "+err.Error())
	}
	return strings.TrimSpace(string(out))
}

// buildWasmClient builds testdata/wasmclient for js/wasm; the build cache
// makes every build after the first one quick.
func buildWasmClient(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "wasmclient.wasm")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/wasmclient")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOFLAGS=")
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "building the wasm client: %s", msg)
	return out
}
