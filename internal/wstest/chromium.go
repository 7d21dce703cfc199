package wstest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
// calls RequirePeer(t, PeerChromium) first.
func RunChromium(t testing.TB, ctx context.Context, pageURL, screenshotPath string) (json.RawMessage, error) {
	t.Helper()
	return runChromium(t, ctx, pageURL, screenshotPath, "")
}

// RunChromiumEval is RunChromium that also runs script in the page, as a
// classic <script> added after the page loads, so a test can drive any page
// (even about:blank) without serving JavaScript. The script must set
// window.__wsTestResult and then window.__wsTestDone = true.
func RunChromiumEval(t testing.TB, ctx context.Context, pageURL, screenshotPath, script string) (json.RawMessage, error) {
	t.Helper()
	return runChromium(t, ctx, pageURL, screenshotPath, script)
}

func runChromium(t testing.TB, ctx context.Context, pageURL, screenshotPath, script string) (json.RawMessage, error) {
	t.Helper()
	RequirePeer(t, PeerChromium)
	ctx, cancel := withDefaultTimeout(ctx, 60*time.Second)
	defer cancel()

	pageTimeout := 30 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		pageTimeout = max(time.Until(dl)-5*time.Second, time.Second)
	}
	args := []string{pageURL, screenshotPath, "--timeout", strconv.FormatInt(pageTimeout.Milliseconds(), 10)}
	if script != "" {
		path := filepath.Join(t.TempDir(), "page-script.js")
		if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
			return nil, fmt.Errorf("wstest: write page script: %w", err)
		}
		args = append(args, "--eval-file", path)
	}

	var (
		result json.RawMessage
		extra  []string
		stderr []string
	)
	stdout := &lineWriter{fn: func(line []byte) {
		if result == nil && json.Valid(line) {
			result = append(json.RawMessage(nil), line...)
			return
		}
		extra = append(extra, string(line))
	}}
	errw := &lineWriter{fn: func(line []byte) { stderr = append(stderr, string(line)) }}
	cmd := nodeCommand(ctx, "chromium.js", args...)
	cmd.Stdout, cmd.Stderr = stdout, errw
	runErr := cmd.Run()
	stdout.flush()
	errw.flush()
	if runErr == nil {
		return result, nil
	}
	for _, l := range stderr {
		t.Logf("chromium.js: %s", l)
	}
	why := []string{}
	if result != nil {
		why = append(why, "result "+string(result))
	}
	why = append(why, extra...)
	if ctx.Err() != nil {
		why = append(why, ctx.Err().Error())
	}
	return result, fmt.Errorf("wstest: chromium.js %s: %w: %s", pageURL, runErr, strings.Join(why, "; "))
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
