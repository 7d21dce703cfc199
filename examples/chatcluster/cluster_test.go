package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/examples/chat/chatroom"
	"github.com/wsactor/ws/examples/chatcluster/internal/redistest"
	"github.com/wsactor/ws/examples/chatcluster/redishub"
	"github.com/wsactor/ws/internal/wstest"
)

func urlsOf(nodes []*node) []string {
	urls := make([]string, len(nodes))
	for i, n := range nodes {
		urls[i] = n.url()
	}
	return urls
}

// TestClusterRoom: three nodes and a Redis form one room: a member on
// each node sees the others' lines and the same member list.
func TestClusterRoom(t *testing.T) {
	rs := redistest.Start(t)
	ctx := wstest.DeadlineAfter(t, 60*time.Second)
	nodes := startNodes(t, rs, 3)
	urls := urlsOf(nodes)
	names := []string{"ann", "ben", "cat"}
	clients := make([]*client, len(names))
	for i, name := range names {
		clients[i] = newClient(t, ctx, name, urls, i)
	}
	for _, c := range clients {
		c.waitMembers(t, ctx, names)
	}
	var want []string
	for _, c := range clients {
		require.NoError(t, c.rc.Send(ctx, ws.Text("hi from "+c.name)))
		want = append(want, c.name+": hi from "+c.name)
	}
	for _, c := range clients {
		c.waitLines(t, ctx, want...)
		for _, l := range want {
			require.Equal(t, 1, c.count(l), "%s got %q more than once", c.name, l)
		}
	}
	for i, c := range clients {
		require.Equal(t, urls[i], c.node.Load(), "each client is on its own node")
	}
}

// phaseStats counts, for the lines sent in one phase, the deliveries
// expected (lines × clients), lost and duplicated.
type phaseStats struct {
	name             string
	moved            int // clients whose node restarted
	lines, maybeLost int // lines sent; of them, Send said ErrMaybeLost
	expected         int // lines × clients
	lost, dup        int // deliveries
	lostEverywhere   int // lines no client received
}

// TestClusterRollingRestart: six clients chat through three nodes while
// each node in turn gets SIGTERM, drains (1001) and comes back. Clients
// reconnect to another node. Every line sent is counted at every client:
// outside the restarts nothing may be lost; the loss during each restart
// is reported. Without history (pub/sub alone) nothing may be duplicated.
// With the default history of 50 lines, a client that reconnects is sent
// the new node's last lines: some it missed (less loss), some it had
// (duplicates, reported). With resume, a client that reconnects presents
// the ID of its last line (?since=) and gets the room's stream after it:
// nothing may be lost or duplicated, restarts included.
func TestClusterRollingRestart(t *testing.T) {
	for _, tc := range []struct {
		name    string
		history int
		resume  bool
	}{
		{"history-0", 0, false},
		{"history-50", 50, false},
		{"resume", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) { rollingRestart(t, tc.history, tc.resume) })
	}
}

func rollingRestart(t *testing.T, history int, resume bool) {
	rs := redistest.Start(t)
	ctx := wstest.DeadlineAfter(t, 100*time.Second)
	nodes := startNodes(t, rs, 3, "-history", strconv.Itoa(history))
	urls := urlsOf(nodes)
	const nClients = 6
	clients := make([]*client, nClients)
	var names []string
	for i := range clients {
		var r *chatroom.Resume
		if resume {
			r = new(chatroom.Resume)
		}
		clients[i] = startClient(t, ctx, fmt.Sprintf("c%d", i), urls, i%len(nodes), r)
		names = append(names, clients[i].name)
	}
	slices.Sort(names)
	for _, c := range clients {
		c.waitMembers(t, ctx, names)
	}

	type sent struct {
		phase     int
		maybeLost bool
	}
	var (
		phase  atomic.Int32
		sentMu sync.Mutex
		sends  = make(map[string]sent) // "c0: c0-17" → phase
		stop   = make(chan struct{})
		wg     sync.WaitGroup
	)
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(40 * time.Millisecond)
			defer tick.Stop()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				text := fmt.Sprintf("%s-%d", c.name, k)
				err := c.rc.Send(ctx, ws.Text(text))
				// A line belongs to the phase in which its Send returned
				// (it was written to a node), read under sentMu so that a
				// phase change and the snapshot below see it on one side.
				sentMu.Lock()
				sends[c.name+": "+text] = sent{phase: int(phase.Load()), maybeLost: err != nil}
				sentMu.Unlock()
				if ctx.Err() != nil {
					return
				}
			}
		}()
	}

	waitTraffic(t, ctx, clients, 50)
	// Before the first SIGTERM, every line of the steady phase reaches
	// every client.
	sentMu.Lock()
	phase.Store(1)
	var steady []string
	for line, s := range sends {
		if s.phase == 0 {
			steady = append(steady, line)
		}
	}
	sentMu.Unlock()
	for _, c := range clients {
		c.waitLines(t, ctx, steady...)
	}
	moved := make([]int, len(nodes))
	for i, n := range nodes {
		var movers []*client
		before := map[*client]int32{}
		for _, c := range clients {
			if c.node.Load() == n.url() {
				movers = append(movers, c)
				before[c] = c.connects.Load()
			}
		}
		phase.Store(int32(i + 1))
		n.stop()
		require.NoError(t, n.lastExit(), "node %d exits cleanly on SIGTERM", i+1)
		n.start()
		for _, c := range movers {
			c.waitUntil(t, ctx, "reconnect", func() bool { return c.connects.Load() > before[c] })
		}
		waitTraffic(t, ctx, clients, 30)
		moved[i] = len(movers)
	}
	phase.Store(int32(len(nodes) + 1))
	waitTraffic(t, ctx, clients, 50)
	close(stop)
	wg.Wait()

	// Each sender's lines are published in order, so once every client
	// has every sender's last line it has everything it will get.
	var fins []string
	for _, c := range clients {
		require.NoError(t, c.rc.Send(ctx, ws.Text("fin")))
		fins = append(fins, c.name+": fin")
	}
	for _, c := range clients {
		c.waitLines(t, ctx, fins...)
		c.waitMembers(t, ctx, names)
	}

	stats := make([]phaseStats, len(nodes)+2)
	stats[0].name = "steady, before"
	for i := range nodes {
		stats[i+1].name = fmt.Sprintf("restart of node %d", i+1)
	}
	stats[len(nodes)+1].name = "steady, after"
	for line, s := range sends {
		st := &stats[s.phase]
		st.lines++
		if s.maybeLost {
			st.maybeLost++
		}
		got := 0
		for _, c := range clients {
			st.expected++
			switch n := c.count(line); {
			case n == 0:
				st.lost++
			case n > 1:
				st.dup += n - 1
			}
			if c.count(line) > 0 {
				got++
			}
		}
		if got == 0 {
			st.lostEverywhere++
		}
	}
	for i, m := range moved {
		stats[i+1].moved = m
	}
	// Lines reach every client at rate: lines per second while all are
	// connected, which turns a loss into the time a moved client missed.
	rate := float64(nClients) / (40 * time.Millisecond).Seconds()
	t.Logf("%-18s %5s %6s %9s %5s %6s %4s %9s %9s %10s", "phase", "moved", "lines", "delivered", "lost", "lost%", "dup", "lost-all", "send-lost", "ms/moved")
	for _, s := range stats {
		pct, ms := 0.0, 0.0
		if s.expected > 0 {
			pct = 100 * float64(s.lost) / float64(s.expected)
		}
		if s.moved > 0 {
			ms = 1000 * float64(s.lost) / float64(s.moved) / rate
		}
		t.Logf("%-18s %5d %6d %9d %5d %5.1f%% %4d %9d %9d %10.0f", s.name, s.moved, s.lines, s.expected-s.lost, s.lost, pct, s.dup, s.lostEverywhere, s.maybeLost, ms)
	}
	for _, s := range stats {
		if history == 0 {
			require.Zero(t, s.dup, "%s: duplicated deliveries", s.name)
		}
		if resume {
			require.Zero(t, s.lost, "%s: lost deliveries with resume", s.name)
		}
	}
	for _, c := range clients {
		for _, code := range c.closeCodes() {
			require.Equal(t, ws.StatusGoingAway, code, "%s: a draining node closes with 1001", c.name)
		}
	}
	require.Zero(t, stats[0].lost, "nothing lost before the restarts")
	require.Zero(t, stats[len(stats)-1].lost, "nothing lost after the restarts")
}

// TestClusterRedisRestart: Redis goes away mid-chat. Every member is told
// ("* relay unavailable"), a line sent meanwhile comes back to its sender
// as not delivered, and when Redis is back the nodes resubscribe, tell
// their members, rewrite their presence, and the room works again. The
// restarted Redis (no persistence) has lost the room's stream: ann, who
// resumes, is told she missed lines when her node restarts next.
func TestClusterRedisRestart(t *testing.T) {
	rs := redistest.Start(t)
	ctx := wstest.DeadlineAfter(t, 60*time.Second)
	nodes := startNodes(t, rs, 3)
	urls := urlsOf(nodes)
	names := []string{"ann", "ben", "cat"}
	clients := make([]*client, len(names))
	for i, name := range names {
		var r *chatroom.Resume
		if i == 0 {
			r = new(chatroom.Resume)
		}
		clients[i] = startClient(t, ctx, name, urls, i, r)
	}
	for _, c := range clients {
		c.waitMembers(t, ctx, names)
	}
	require.NoError(t, clients[0].rc.Send(ctx, ws.Text("before")))
	for _, c := range clients {
		c.waitLines(t, ctx, "ann: before")
	}

	from := make([]int, len(clients))
	for i, c := range clients {
		from[i] = c.noticeCount()
	}
	t0 := time.Now()
	rs.Stop()
	for i, c := range clients {
		from[i] = c.waitNotice(t, ctx, redishub.UnavailableLine, from[i]) + 1
	}
	require.NoError(t, clients[1].rc.Send(ctx, ws.Text("during the outage")))
	clients[1].waitNotice(t, ctx, "* not delivered (relay unavailable", from[1])

	t.Logf("Redis stopped: every member told, and a line refused, within %v", time.Since(t0).Round(time.Millisecond))
	rs.Restart()
	t1 := time.Now()
	for i, c := range clients {
		c.waitNotice(t, ctx, redishub.RestoredLine, from[i])
	}
	t.Logf("Redis restarted: every member told it is restored within %v", time.Since(t1).Round(time.Millisecond))
	// The restarted Redis is empty: the member list comes back from the
	// presence the nodes rewrite.
	for _, c := range clients {
		c.waitMembers(t, ctx, names)
	}
	// ann's last line ("ann: before") was in the stream Redis lost.
	annFrom, annConnects := clients[0].noticeCount(), clients[0].connects.Load()
	nodes[0].stop()
	nodes[0].start()
	clients[0].waitUntil(t, ctx, "reconnect", func() bool { return clients[0].connects.Load() > annConnects })
	clients[0].waitNotice(t, ctx, chatroom.MissedLine, annFrom)
	for _, c := range clients {
		c.waitMembers(t, ctx, names)
	}
	// A newcomer's join shows that every node's presence is in Redis again.
	clients = append(clients, newClient(t, ctx, "dan", urls, 0))
	names = append(names, "dan")
	for _, c := range clients {
		c.waitMembers(t, ctx, names)
	}
	t.Logf("presence rebuilt and a newcomer seen by all within %v of the restart", time.Since(t1).Round(time.Millisecond))
	require.NoError(t, clients[2].rc.Send(ctx, ws.Text("after")))
	for _, c := range clients {
		c.waitLines(t, ctx, "cat: after")
		require.Zero(t, c.count("ben: during the outage"), "a line refused during the outage is not delivered later")
	}
	for _, c := range clients {
		for _, l := range c.notices {
			require.False(t, strings.HasPrefix(l, "* dropped"), "%s: %s", c.name, l)
		}
	}
	_ = context.Background
}

// TestClusterNodeCrash: a node killed without a drain (SIGKILL) cannot
// remove its presence; its key expires after the presence TTL, and every
// member list loses the dead node's entries while its members, who
// reconnected elsewhere, appear once.
func TestClusterNodeCrash(t *testing.T) {
	rs := redistest.Start(t)
	ctx := wstest.DeadlineAfter(t, 60*time.Second)
	nodes := startNodes(t, rs, 3, "-presence-ttl", "5s")
	urls := urlsOf(nodes)
	names := []string{"ann", "ben", "cat"}
	clients := make([]*client, len(names))
	for i, name := range names {
		clients[i] = newClient(t, ctx, name, urls, i)
	}
	for _, c := range clients {
		c.waitMembers(t, ctx, names)
	}
	before := clients[0].connects.Load()
	t0 := time.Now()
	nodes[0].kill()
	clients[0].waitUntil(t, ctx, "reconnect", func() bool { return clients[0].connects.Load() > before })
	// ann rejoined on node 2 while node 1's stale entry for her lives on
	// until it expires (3.3 to 5 s after the kill; ann is back within about 1 s):
	// the lists say "ann" twice, then once.
	for _, c := range clients {
		c.waitMembers(t, ctx, []string{"ann", "ann", "ben", "cat"})
	}
	for _, c := range clients {
		c.waitMembers(t, ctx, names)
	}
	t.Logf("crashed node's presence gone from every list %v after the kill", time.Since(t0).Round(time.Millisecond))
	require.NoError(t, clients[1].rc.Send(ctx, ws.Text("still here")))
	for _, c := range clients {
		c.waitLines(t, ctx, "ben: still here")
	}
}

// TestClusterSubscriberBreak: Redis stays up but every node's pub/sub
// connection is killed (CLIENT KILL TYPE pubsub), twice, while three
// clients chat. Each node tells its members, resubscribes, reads the lines
// published meanwhile from each room's stream, and says the relay is
// restored: every line reaches every client exactly once — the clients'
// own lines, and a line published in the same pipeline as the kill, which
// no subscription can have seen live.
func TestClusterSubscriberBreak(t *testing.T) {
	rs := redistest.Start(t)
	ctx := wstest.DeadlineAfter(t, 60*time.Second)
	nodes := startNodes(t, rs, 3, "-history", "0")
	urls := urlsOf(nodes)
	names := []string{"ann", "ben", "cat"}
	clients := make([]*client, len(names))
	for i, name := range names {
		clients[i] = newClient(t, ctx, name, urls, i)
	}
	for _, c := range clients {
		c.waitMembers(t, ctx, names)
	}
	admin := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer admin.Close()

	var (
		mu    sync.Mutex
		lines []string
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				text := fmt.Sprintf("%s-%d", c.name, k)
				if c.rc.Send(ctx, ws.Text(text)) != nil {
					return
				}
				mu.Lock()
				lines = append(lines, c.name+": "+text)
				mu.Unlock()
			}
		}()
	}
	// What redishub's publish script does, for the room "lobby" under
	// the default prefix.
	const publish = `local id = redis.call('XADD', KEYS[1], '*', 'l', ARGV[1])
redis.call('PUBLISH', ARGV[2], 'L' .. id .. ' ' .. ARGV[1])
return id`
	var gapLines []string
	for k := range 2 {
		waitTraffic(t, ctx, clients, 30)
		from := make([]int, len(clients))
		for i, c := range clients {
			from[i] = c.noticeCount()
		}
		line := fmt.Sprintf("zed: in break %d", k)
		gapLines = append(gapLines, line)
		var killed *redis.IntCmd
		_, err := admin.Pipelined(ctx, func(p redis.Pipeliner) error {
			killed = p.ClientKillByFilter(ctx, "TYPE", "pubsub")
			p.Eval(ctx, publish, []string{"chat:room:lobby:log"}, line, "chat:room:lobby")
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, int64(len(nodes)), killed.Val(), "one subscription per node")
		for i, c := range clients {
			c.waitNotice(t, ctx, redishub.RestoredLine, c.waitNotice(t, ctx, redishub.UnavailableLine, from[i])+1)
		}
	}
	waitTraffic(t, ctx, clients, 30)
	close(stop)
	wg.Wait()
	var fins []string
	for _, c := range clients {
		require.NoError(t, c.rc.Send(ctx, ws.Text("fin")))
		fins = append(fins, c.name+": fin")
	}
	lines = append(lines, gapLines...)
	lost, dup := 0, 0
	for _, c := range clients {
		c.waitLines(t, ctx, fins...)
		for _, l := range lines {
			switch n := c.count(l); {
			case n == 0:
				lost++
			case n > 1:
				dup += n - 1
			}
		}
	}
	t.Logf("%d lines × %d clients through two subscription breaks: %d lost, %d duplicated", len(lines), len(clients), lost, dup)
	require.Zero(t, lost, "lost deliveries")
	require.Zero(t, dup, "duplicated deliveries")
}
