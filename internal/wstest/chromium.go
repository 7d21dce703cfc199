package wstest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// RunChromium opens pageURL in a fresh headless Chromium profile (through
// chromium.js and playwright-core), waits until the page sets
// window.__wsTestDone = true, writes a PNG screenshot to screenshotPath and
// returns JSON.stringify(window.__wsTestResult).
//
// The error is non-nil when the result has "ok": false, the page did not
// finish in time, or the browser could not run; the result (on timeout
// {"ok":false,"error":"timeout ...","partial":...}) is returned when there is
// one. ctx bounds the whole run (60s if ctx has no deadline); the page gets
// that time minus 5s. The page's console goes to t.Log when it fails. It
// is StartChromium then Wait, so it must be called on the test's goroutine.
func RunChromium(t testing.TB, ctx context.Context, pageURL, screenshotPath string) (json.RawMessage, error) {
	t.Helper()
	return StartChromium(t, ctx, pageURL, screenshotPath, "").Wait()
}

// RunChromiumEval is RunChromium that also runs script in the page, as a
// classic <script> added after the page loads, so a test can drive any page
// (even about:blank) without serving JavaScript. The script must set
// window.__wsTestResult and then window.__wsTestDone = true.
func RunChromiumEval(t testing.TB, ctx context.Context, pageURL, screenshotPath, script string) (json.RawMessage, error) {
	t.Helper()
	return StartChromium(t, ctx, pageURL, screenshotPath, script).Wait()
}

// Chromium is a browser run started by StartChromium.
type Chromium struct {
	t      testing.TB
	url    string
	ctx    context.Context
	cancel context.CancelFunc
	cmd    *exec.Cmd
	stdout *lineWriter
	errw   *lineWriter

	once   sync.Once
	result json.RawMessage
	extra  []string
	stderr []string
	err    error
}

// StartChromium starts the run RunChromium (script "") or RunChromiumEval
// makes and returns without waiting for it. It calls
// RequirePeer(t, PeerChromium) first and fails the test if the browser
// cannot start, so it must run on the test's goroutine: t.Skip and t.Fatal
// stop only the goroutine that calls them. A t.Cleanup kills the browser if
// it is still running and waits for it.
func StartChromium(t testing.TB, ctx context.Context, pageURL, screenshotPath, script string) *Chromium {
	t.Helper()
	RequirePeer(t, PeerChromium)
	b := &Chromium{t: t, url: pageURL}
	b.ctx, b.cancel = withDefaultTimeout(ctx, 60*time.Second)

	pageTimeout := 30 * time.Second
	if dl, ok := b.ctx.Deadline(); ok {
		pageTimeout = max(time.Until(dl)-5*time.Second, time.Second)
	}
	args := []string{pageURL, screenshotPath, "--timeout", strconv.FormatInt(pageTimeout.Milliseconds(), 10)}
	if script != "" {
		path := filepath.Join(t.TempDir(), "page-script.js")
		if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
			b.cancel()
			t.Fatalf("wstest: write page script: %v", err)
		}
		args = append(args, "--eval-file", path)
	}

	b.stdout = &lineWriter{fn: func(line []byte) {
		if b.result == nil && json.Valid(line) {
			b.result = append(json.RawMessage(nil), line...)
			return
		}
		b.extra = append(b.extra, string(line))
	}}
	b.errw = &lineWriter{fn: func(line []byte) { b.stderr = append(b.stderr, string(line)) }}
	b.cmd = nodeCommand(b.ctx, "chromium.js", args...)
	b.cmd.Stdout, b.cmd.Stderr = b.stdout, b.errw
	if err := b.cmd.Start(); err != nil {
		b.cancel()
		t.Fatalf("wstest: start chromium.js: %v", err)
	}
	t.Cleanup(func() {
		b.cancel()
		_, _ = b.Wait()
	})
	return b
}

// Wait waits for the run to end and returns the page's result and error,
// as RunChromium does. It never stops the test (no t.Skip, t.Fatal or
// t.FailNow), so any goroutine may call it, any number of times; on failure
// it logs the browser's stderr with t.Logf.
func (b *Chromium) Wait() (json.RawMessage, error) {
	b.once.Do(b.wait)
	return b.result, b.err
}

func (b *Chromium) wait() {
	runErr := b.cmd.Wait()
	b.stdout.flush()
	b.errw.flush()
	defer b.cancel()
	if runErr == nil {
		return
	}
	for _, l := range b.stderr {
		b.t.Logf("chromium.js: %s", l)
	}
	why := []string{}
	if b.result != nil {
		why = append(why, "result "+string(b.result))
	}
	why = append(why, b.extra...)
	if b.ctx.Err() != nil {
		why = append(why, b.ctx.Err().Error())
	}
	b.err = fmt.Errorf("wstest: chromium.js %s: %w: %s", b.url, runErr, strings.Join(why, "; "))
}

// ArtifactPath returns a path for a file a test leaves behind, such as a
// screenshot: under $WSTEST_ARTIFACTS/<test name>/ when that is set (CI keeps
// the directory), else in t.TempDir().
func ArtifactPath(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("WSTEST_ARTIFACTS")
	if dir == "" {
		return filepath.Join(t.TempDir(), name)
	}
	safe := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r == ' ' {
			return '_'
		}
		return r
	}, t.Name())
	dir = filepath.Join(dir, safe)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("wstest: artifacts dir: %v", err)
	}
	return filepath.Join(dir, name)
}
