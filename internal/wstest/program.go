package wstest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// RunFunc is an example program's testable body: it serves until ctx is
// cancelled (as SIGINT would) and prints "listening on URL" as its first
// line on stdout.
type RunFunc func(ctx context.Context, args []string, stdout io.Writer) error

// StartProgram runs an example's run function with args on its own
// goroutine, waits for its "listening on URL" line and returns the URL and
// a stop function that cancels it as SIGINT would and returns run's result.
// stop may be called more than once; the test's cleanup calls it too, so
// the program never outlives the test.
func StartProgram(t testing.TB, run RunFunc, args ...string) (url string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		err := run(ctx, args, pw)
		pw.CloseWithError(errors.New("run returned"))
		errc <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		require.NoError(t, err, "no first line from the program: %v", <-errc)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	var once sync.Once
	var result error
	stop = func() error {
		once.Do(func() {
			cancel()
			result = <-errc
		})
		return result
	}
	t.Cleanup(func() { _ = stop() })
	require.True(t, ok, "first line %q", line)
	return url, stop
}
