package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/examples/chat/chatroom"
	"github.com/wsactor/ws/examples/chatcluster/internal/redistest"
	"github.com/wsactor/ws/reconnect"
)

// The test binary doubles as the chatcluster command: with
// CHATCLUSTER_NODE=1 it runs main, so that the tests start real node
// processes and stop them with a real SIGTERM.
func TestMain(m *testing.M) {
	if os.Getenv("CHATCLUSTER_NODE") == "1" {
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// node is one chatcluster process.
type node struct {
	t     *testing.T
	addr  string
	args  []string
	cmd   *exec.Cmd
	done  chan struct{}
	mu    sync.Mutex
	out   strings.Builder
	exits []error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// startNodes starts n nodes sharing rs, each with extra flags.
func startNodes(t *testing.T, rs *redistest.Server, n int, extra ...string) []*node {
	nodes := make([]*node, n)
	for i := range nodes {
		addr := freeAddr(t)
		nodes[i] = &node{t: t, addr: addr, args: append([]string{"-addr", addr, "-redis", rs.URL(), "-node", fmt.Sprintf("n%d", i+1)}, extra...)}
		nodes[i].start()
		t.Cleanup(nodes[i].stop)
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.stop() // the cleanups registered above run after this one
			n.mu.Lock()
			if strings.Contains(n.out.String(), "DATA RACE") {
				t.Errorf("node %s: the race detector reported a race", n.addr)
			}
			n.mu.Unlock()
		}
		if t.Failed() {
			for _, n := range nodes {
				n.mu.Lock()
				t.Logf("node %s output:\n%s", n.addr, n.out.String())
				n.mu.Unlock()
			}
		}
	})
	return nodes
}

func (n *node) url() string  { return "ws://" + n.addr + "/ws" }
func (n *node) page() string { return "http://" + n.addr + "/" }

// start runs the node and waits for its "listening on" line.
func (n *node) start() {
	n.t.Helper()
	cmd := exec.Command(os.Args[0], n.args...)
	cmd.Env = append(os.Environ(), "CHATCLUSTER_NODE=1")
	stdout, err := cmd.StdoutPipe()
	require.NoError(n.t, err)
	cmd.Stderr = cmd.Stdout
	require.NoError(n.t, cmd.Start())
	listening := make(chan struct{})
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		seen := false
		for sc.Scan() {
			n.mu.Lock()
			n.out.WriteString(sc.Text() + "\n")
			n.mu.Unlock()
			if !seen && strings.HasPrefix(sc.Text(), "listening on ") {
				seen = true
				close(listening)
			}
		}
		err := cmd.Wait()
		n.mu.Lock()
		n.exits = append(n.exits, err)
		n.mu.Unlock()
		close(done)
	}()
	select {
	case <-listening:
	case <-done:
		n.t.Fatalf("node %s exited before listening:\n%s", n.addr, n.out.String())
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		n.t.Fatalf("node %s not listening in time", n.addr)
	}
	n.mu.Lock()
	n.cmd, n.done = cmd, done
	n.mu.Unlock()
}

// stop sends SIGTERM and waits for the node to exit (SIGKILL after 15 s).
func (n *node) stop() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// kill ends the node with SIGKILL: no drain, no goodbye to Redis.
func (n *node) kill() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.cmd = nil
	n.mu.Unlock()
	_ = cmd.Process.Kill()
	<-done
}

// lastExit is the result of the node's last run.
func (n *node) lastExit() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.exits[len(n.exits)-1]
}

// client is a chat member on reconnect.Client, dialling a given node
// first, recording everything it receives.
type client struct {
	name   string
	rc     *reconnect.Client
	resume *chatroom.Resume // nil: dials without ?since=

	node     atomic.Value // URL of the last dial: the node of the current connection
	connects atomic.Int32

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	got     map[string]int
	lines   []string
	notices []string
	members []string
	chat    int // chat lines received
	closes  []ws.StatusCode
}

// closeCodes returns the close codes of the connections that ended under
// the client so far.
func (c *client) closeCodes() []ws.StatusCode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.closes)
}

func newClient(t *testing.T, ctx context.Context, name string, urls []string, first int) *client {
	t.Helper()
	return startClient(t, ctx, name, urls, first, nil)
}

// startClient is newClient resuming with r (nil: no resume): each redial
// carries ?since= the last line ID received.
func startClient(t *testing.T, ctx context.Context, name string, urls []string, first int, r *chatroom.Resume) *client {
	t.Helper()
	c := &client{name: name, resume: r, got: make(map[string]int), changed: make(chan struct{})}
	// chatroom.DialAny's policy (a random node other than the last),
	// from a chosen first node, so that each test knows where each
	// client starts.
	last := -1
	dial := func(ctx context.Context, _ string, opts ...ws.DialOption) (*ws.Conn, *http.Response, error) {
		i := first
		if last >= 0 {
			i = rand.IntN(len(urls))
			if len(urls) > 1 {
				i = rand.IntN(len(urls) - 1)
				if i >= last {
					i++
				}
			}
		}
		last = i
		c.node.Store(urls[i])
		u := urls[i] + "?name=" + name
		if c.resume != nil {
			u = c.resume.URL(u)
		}
		return ws.Dial(ctx, u, opts...)
	}
	rc, err := reconnect.New(urls[first],
		reconnect.WithDialFunc(dial),
		reconnect.WithOutgoingBuffer(1000),
		reconnect.OnConnect(func(context.Context, *ws.Conn) error {
			c.connects.Add(1)
			return nil
		}))
	require.NoError(t, err)
	c.rc = rc
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		_ = rc.Run(ctx)
	}()
	go func() {
		for ev := range rc.Events() {
			if d, ok := ev.(reconnect.Disconnected); ok {
				c.mu.Lock()
				c.closes = append(c.closes, ws.CloseStatus(d.Err))
				c.mu.Unlock()
			}
		}
	}()
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for m := range rc.Incoming() {
			c.record(string(m.Data))
		}
	}()
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rc.Close(cctx)
		<-runDone
		<-readDone
	})
	return c
}

// record counts a message by its text, without its ID: a line replayed
// twice counts twice, which is what the restart tests measure.
func (c *client) record(msg string) {
	line := msg
	if c.resume != nil {
		line, _ = c.resume.See(msg)
	} else {
		_, line = chatroom.SplitID(msg)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, line)
	if names, ok := chatroom.ParseMembers(line); ok {
		c.members = names
	} else if strings.HasPrefix(line, "* ") {
		c.notices = append(c.notices, line)
	} else {
		c.got[line]++
		c.chat++
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

// waitUntil waits until cond, called with c.mu held, is true.
func (c *client) waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for {
		c.mu.Lock()
		ok, ch := cond(), c.changed
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			c.mu.Lock()
			defer c.mu.Unlock()
			t.Fatalf("%s: no %s; members %q, last lines %q", c.name, what, c.members, c.lines[max(0, len(c.lines)-10):])
		}
	}
}

func (c *client) waitLines(t *testing.T, ctx context.Context, lines ...string) {
	t.Helper()
	c.waitUntil(t, ctx, fmt.Sprintf("lines %q", lines), func() bool {
		for _, l := range lines {
			if c.got[l] == 0 {
				return false
			}
		}
		return true
	})
}

func (c *client) waitMembers(t *testing.T, ctx context.Context, names []string) {
	t.Helper()
	c.waitUntil(t, ctx, fmt.Sprintf("member list %q", names), func() bool { return slices.Equal(c.members, names) })
}

func (c *client) waitNotice(t *testing.T, ctx context.Context, notice string, from int) int {
	t.Helper()
	at := -1
	c.waitUntil(t, ctx, fmt.Sprintf("notice %q", notice), func() bool {
		for i := from; i < len(c.notices); i++ {
			if strings.HasPrefix(c.notices[i], notice) {
				at = i
				return true
			}
		}
		return false
	})
	return at
}

func (c *client) chatCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.chat
}

func (c *client) noticeCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.notices)
}

func (c *client) count(line string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got[line]
}

// waitTraffic waits until every client has received n more chat lines.
func waitTraffic(t *testing.T, ctx context.Context, clients []*client, n int) {
	t.Helper()
	base := make([]int, len(clients))
	for i, c := range clients {
		base[i] = c.chatCount()
	}
	for i, c := range clients {
		c.waitUntil(t, ctx, fmt.Sprintf("%d more chat lines", n), func() bool { return c.chat >= base[i]+n })
	}
}
