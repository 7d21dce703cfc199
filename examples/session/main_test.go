package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start runs a server on addr ("127.0.0.1:0" for any port).
func start(t *testing.T, addr string) (*server, string) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 100 { // the same port as a server that just died
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, err)
	s, err := newServer()
	require.NoError(t, err)
	go func() { _ = s.hs.Serve(ln) }()
	return s, ln.Addr().String()
}

// runClient runs the client command and returns its output lines as they
// come, and its result.
func runClient(t *testing.T, args ...string) (<-chan string, <-chan error) {
	t.Helper()
	pr, pw := io.Pipe()
	lines, result := make(chan string, 1000), make(chan error, 1)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	go func() {
		err := run(context.Background(), args, pw)
		_ = pw.Close()
		result <- err
	}()
	return lines, result
}

// echoes checks that the echoes in lines are 1..n, once each, in order.
func echoes(t *testing.T, lines []string, n int) {
	t.Helper()
	var got []int
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, "echo "); ok {
			i, err := strconv.Atoi(v)
			require.NoError(t, err)
			got = append(got, i)
		}
	}
	want := make([]int, n)
	for i := range want {
		want[i] = i + 1
	}
	assert.Equal(t, want, got)
}

// TestResume: the server resets every connection again and again; the
// client resumes its session each time, and every echo arrives once, in
// order, in one session.
func TestResume(t *testing.T) {
	s, addr := start(t, "127.0.0.1:0")
	defer func() { require.NoError(t, s.shutdown()) }()
	lines, result := runClient(t, "-every", "10ms", "-n", "40", "ws://"+addr+"/")
	var out []string
	resets := 0
	for l := range lines {
		out = append(out, l)
		if strings.HasPrefix(l, "echo ") && len(out)%8 == 0 {
			s.reset()
			resets++
		}
	}
	require.NoError(t, <-result)
	echoes(t, out, 40)
	assert.Positive(t, resets)
	assert.NotContains(t, strings.Join(out, "\n"), "session lost")
	t.Logf("%d resets:\n%s", resets, strings.Join(out, "\n"))
}

// TestServerKilled: the server dies with its sessions and another starts on
// the same address. The client reports the session lost (the resync
// hook), starts a new one, and no echo appears twice.
func TestServerKilled(t *testing.T) {
	s1, addr := start(t, "127.0.0.1:0")
	lines, result := runClient(t, "-every", "20ms", "-n", "15", "ws://"+addr+"/")
	var (
		out    []string
		s2     *server
		killed bool
	)
	for l := range lines {
		out = append(out, l)
		if l == "echo 3" && !killed { // a crash: sockets reset, sessions gone
			killed = true
			_ = s1.hs.Close()
			s1.reset()
			require.NoError(t, s1.shutdown()) // the dead process's goroutines
			s2, _ = start(t, addr)
		}
	}
	require.NoError(t, <-result)
	require.NoError(t, s2.shutdown())
	all := strings.Join(out, "\n")
	assert.Contains(t, all, "session lost: session: unknown or expired session")
	seen := map[string]bool{}
	for _, l := range out {
		if strings.HasPrefix(l, "echo ") {
			assert.False(t, seen[l], "duplicate %s", l)
			seen[l] = true
		}
	}
	assert.True(t, seen["echo 15"])
	t.Logf("\n%s", all)
}
