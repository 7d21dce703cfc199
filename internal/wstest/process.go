package wstest

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// killDelay is how long a cancelled peer gets between SIGTERM (which lets
// playwright close its browser) and SIGKILL.
const killDelay = 5 * time.Second

// nodeCommand returns node running script from NodeDir with args. Cancelling
// ctx sends SIGTERM, then SIGKILL after killDelay; Wait then returns even if
// the process left its pipes open.
func nodeCommand(ctx context.Context, script string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Join(NodeDir(), script)}, args...)...)
	cmd.Dir = NodeDir()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = killDelay
	return cmd
}

// lineWriter is an io.Writer calling fn with each complete line (without
// its newline); flush hands over a final unterminated line. exec.Cmd copies
// output into it on its own goroutine and Wait waits for that copy, so fn
// never runs after Wait returns.
type lineWriter struct {
	mu  sync.Mutex
	buf []byte
	fn  func(line []byte)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := bytes.TrimSuffix(w.buf[:i], []byte("\r"))
		w.fn(line)
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.fn(w.buf)
		w.buf = nil
	}
}

// withDefaultTimeout bounds ctx by d unless it already has a deadline.
func withDefaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}
