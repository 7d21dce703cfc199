package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/examples/chat/chatroom"
	"github.com/wsactor/ws/examples/chatcluster/internal/redistest"
	"github.com/wsactor/ws/internal/wstest"
)

// envInt returns the integer in the environment variable name, or def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// rssKiB is the resident set of process pid, from /proc.
func rssKiB(t *testing.T, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, err := strconv.Atoi(strings.Fields(rest)[0])
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestClusterLoad measures fan-out in one room of CHATCLUSTER_CLIENTS
// clients (default 3000): spread over three nodes, then all on one node,
// both through Redis, with -quiet (no join lines: 3000 arrivals would be
// 9 million of them) and member lists at most every 2 s. CHATCLUSTER_RATE lines per second (default 20) for
// CHATCLUSTER_SECONDS (default 10) are sent by ten of the clients; every
// client times every line from its send. It reports deliveries per
// second, p50/p99 latency and the resident memory each connection adds to
// its node. It is a measurement, not a check: it runs only when
// CHATCLUSTER_LOAD=1, without -race (docs/cluster.md has its figures).
func TestClusterLoad(t *testing.T) {
	if os.Getenv("CHATCLUSTER_LOAD") != "1" {
		t.Skip("a measurement: run with CHATCLUSTER_LOAD=1 (and without -race)")
	}
	total := envInt("CHATCLUSTER_CLIENTS", 3000)
	for _, nNodes := range []int{3, 1} {
		t.Run(fmt.Sprintf("%d-nodes", nNodes), func(t *testing.T) { loadRun(t, nNodes, total) })
	}
}

func loadRun(t *testing.T, nNodes, total int) {
	rate := envInt("CHATCLUSTER_RATE", 20)
	seconds := envInt("CHATCLUSTER_SECONDS", 10)
	rs := redistest.Start(t)
	ctx := wstest.DeadlineAfter(t, 10*time.Minute)
	nodes := startNodes(t, rs, nNodes, "-history", "0", "-list-every", "2s", "-quiet")
	rss0 := make([]int, nNodes)
	for i, n := range nodes {
		rss0[i] = rssKiB(t, n.cmd.Process.Pid)
	}

	var (
		mu        sync.Mutex
		lats      []time.Duration
		delivered atomic.Int64
		lastRx    atomic.Int64 // unix nanoseconds of the last delivery
		fullLists atomic.Int64 // clients whose last member list has every client
	)
	conns := make([]*ws.Conn, total)
	readers := sync.WaitGroup{}
	var (
		dialing sync.WaitGroup
		sem     = make(chan struct{}, 32)
		dialErr atomic.Value
	)
	for i := range conns {
		dialing.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; dialing.Done() }()
			c, _, err := ws.Dial(ctx, fmt.Sprintf("%s?name=u%d", nodes[i%nNodes].url(), i))
			if err != nil {
				dialErr.Store(err)
				return
			}
			conns[i] = c
			readers.Add(1)
			go func() {
				defer readers.Done()
				var mine []time.Duration
				full := false
				for m := range c.Incoming() {
					_, line := chatroom.SplitID(string(m.Data))
					if names, ok := chatroom.ParseMembers(line); ok {
						if now := len(names) == total; now != full {
							full = now
							if full {
								fullLists.Add(1)
							} else {
								fullLists.Add(-1)
							}
						}
						continue
					}
					_, body, ok := strings.Cut(line, ": ")
					f := strings.Fields(body)
					if !ok || len(f) != 2 || f[0] != "load" {
						continue
					}
					sent, err := strconv.ParseInt(f[1], 10, 64)
					if err != nil {
						continue
					}
					now := time.Now()
					mine = append(mine, now.Sub(time.Unix(0, sent)))
					delivered.Add(1)
					lastRx.Store(now.UnixNano())
				}
				mu.Lock()
				lats = append(lats, mine...)
				mu.Unlock()
			}()
		}()
	}
	dialing.Wait()
	defer func() {
		for _, c := range conns {
			if c == nil {
				continue
			}
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = c.Close(cctx, ws.StatusNormalClosure, "")
			cancel()
		}
		readers.Wait()
	}()
	if err, _ := dialErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	// Every client has a member list of all: every node is subscribed
	// and has every join behind it.
	t.Logf("%d clients connected", total)
	for i := 0; fullLists.Load() < int64(total); i++ {
		select {
		case <-ctx.Done():
			t.Fatalf("only %d of %d clients have the full member list", fullLists.Load(), total)
		case <-time.After(100 * time.Millisecond):
		}
		if i%50 == 49 {
			closed := 0
			var last error
			for _, c := range conns {
				select {
				case <-c.Done():
					closed++
					last = c.Err()
				default:
				}
			}
			t.Logf("%d of %d clients have the full member list; %d connections ended, the last with %v", fullLists.Load(), total, closed, last)
		}
	}
	rss := make([]int, nNodes)
	for i, n := range nodes {
		rss[i] = rssKiB(t, n.cmd.Process.Pid)
	}

	senders := conns[:10]
	n := rate * seconds
	start := time.Now()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	for k := range n {
		<-tick.C
		msg := fmt.Sprintf("load %d", time.Now().UnixNano())
		require.NoError(t, senders[k%len(senders)].Send(ctx, ws.Text(msg)))
	}
	tick.Stop()
	want := int64(n * total)
	for delivered.Load() < want {
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d deliveries", delivered.Load(), want)
		case <-time.After(50 * time.Millisecond):
		}
	}
	elapsed := time.Unix(0, lastRx.Load()).Sub(start)
	for _, c := range conns {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = c.Close(cctx, ws.StatusNormalClosure, "")
		cancel()
	}
	readers.Wait()
	slices.Sort(lats)
	perConn := 0.0
	for i := range nodes {
		perConn += float64(rss[i]-rss0[i]) / float64(total/nNodes)
	}
	perConn /= float64(nNodes)
	t.Logf("%d node(s), %d clients in one room: %d lines → %d deliveries in %v = %.0f deliveries/s; latency p50 %v, p99 %v, max %v; node memory %.1f KiB per connection (RSS)",
		nNodes, total, n, len(lats), elapsed.Round(time.Millisecond), float64(len(lats))/elapsed.Seconds(),
		lats[len(lats)/2].Round(10*time.Microsecond), lats[len(lats)*99/100].Round(10*time.Microsecond), lats[len(lats)-1].Round(time.Millisecond), perConn)
}
