package reconnect_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws"
	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/reconnect"
)

// TestSoak: 200 clients (50 per overflow policy, outgoing buffer 16) send
// numbered messages every 10 ms while the server is killed and restarted 5
// times. The server records every number; the test reports, per policy,
// what was delivered, duplicated, refused by the policy, reported as maybe
// lost, and lost without a report, and checks the guarantees: no
// duplicates, no reordering (for the sequential senders), and nothing lost
// without a report except messages in flight when a connection died. That
// last one is checked exactly rather than by size (how much is in flight
// depends on how far behind a loaded machine's server runs): for a
// sequential sender, what is lost silently must form at most one run per
// outage in its stream of unreported messages. The figures are in
// docs/reconnect.md.
func TestSoak(t *testing.T) {
	const (
		perPolicy = 50
		perClient = 200
		restarts  = 5
	)
	policies := []reconnect.Policy{reconnect.Block, reconnect.DropOldest, reconnect.DropNewest, reconnect.Fail}
	n := perPolicy * len(policies)

	var (
		mu       sync.Mutex
		received = make([][]int, n)
		seenMu   sync.Mutex
		seen     map[int]bool // clients connected since the last start
		allSeen  chan struct{}
	)
	resetSeen := func() {
		seenMu.Lock()
		seen, allSeen = map[int]bool{}, make(chan struct{})
		seenMu.Unlock()
	}
	resetSeen()
	srv := newServer(t, func(ctx context.Context, conn *actor.Conn, r *http.Request) {
		id, _ := strconv.Atoi(r.URL.Query().Get("id"))
		seenMu.Lock()
		if !seen[id] {
			seen[id] = true
			if len(seen) == n {
				close(allSeen)
			}
		}
		seenMu.Unlock()
		for m := range conn.Incoming() {
			seq, err := strconv.Atoi(string(m.Data))
			if err != nil {
				continue
			}
			mu.Lock()
			received[id] = append(received[id], seq)
			mu.Unlock()
		}
	})

	type tally struct {
		refused, maybeLost atomic.Int64
		mu                 sync.Mutex
		reported           map[int]bool // seqs refused or reported maybe lost
	}
	tallies := make([]tally, n)
	report := func(i int, data []byte) {
		seq, err := strconv.Atoi(string(data))
		if err != nil {
			return
		}
		tallies[i].mu.Lock()
		if tallies[i].reported == nil {
			tallies[i].reported = map[int]bool{}
		}
		tallies[i].reported[seq] = true
		tallies[i].mu.Unlock()
	}
	clients := make([]*reconnect.Client, n)
	var evWG sync.WaitGroup
	for i := range clients {
		c, err := reconnect.New(srv.url()+"?id="+strconv.Itoa(i),
			reconnect.WithBackoff(&reconnect.FullJitter{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}),
			reconnect.WithResetAfter(0), reconnect.WithOutgoingBuffer(16), reconnect.WithOverflow(policies[i%len(policies)]))
		require.NoError(t, err)
		clients[i] = c
		start(t, context.Background(), c)
		evWG.Add(1)
		go func() {
			defer evWG.Done()
			for ev := range c.Events() {
				if d, ok := ev.(reconnect.Dropped); ok {
					report(i, d.Message.Data)
					if errors.Is(d.Err, reconnect.ErrMaybeLost) {
						tallies[i].maybeLost.Add(1)
					} else {
						tallies[i].refused.Add(1)
					}
				}
			}
		}()
	}
	<-allSeen

	// Senders: every 10 ms, one numbered message per client. Under Fail,
	// Send (which reports ErrBufferFull instead of waiting) runs on its own
	// goroutine so that messages can queue; the others use Outgoing.
	var sendWG sync.WaitGroup
	for i, c := range clients {
		sendWG.Add(1)
		go func() {
			defer sendWG.Done()
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			var inflight sync.WaitGroup
			defer inflight.Wait()
			for seq := range perClient {
				<-tick.C
				msg := ws.Text(strconv.Itoa(seq))
				if policies[i%len(policies)] != reconnect.Fail {
					c.Outgoing() <- msg
					continue
				}
				inflight.Add(1)
				go func() {
					defer inflight.Done()
					if err := c.Send(context.Background(), msg); errors.Is(err, reconnect.ErrBufferFull) {
						tallies[i].refused.Add(1)
						report(i, msg.Data)
					}
				}()
			}
		}()
	}
	// The outages: up 250 ms, down 150 ms, five times. The sleeps stand
	// for a server's uptime and restart time; nothing waits on them.
	for range restarts {
		time.Sleep(250 * time.Millisecond)
		srv.kill()
		time.Sleep(150 * time.Millisecond)
		resetSeen()
		srv.start()
	}
	sendWG.Wait()
	seenMu.Lock()
	wait := allSeen
	seenMu.Unlock()
	<-wait // every client is connected again: Close can flush
	for _, c := range clients {
		require.NoError(t, c.Close(context.Background()))
	}
	evWG.Wait()
	srv.kill()

	t.Logf("soak: %d clients, %d messages each every 10 ms, server killed and restarted %d times", n, perClient, restarts)
	t.Logf("%-12s %9s %9s %10s %9s %10s %9s", "policy", "sent", "delivered", "duplicated", "refused", "maybe-lost", "lost")
	for p, pol := range policies {
		var sent, delivered, dup, refused, maybe, lost int
		for i := p; i < n; i += len(policies) {
			got := map[int]int{}
			last := -1
			for _, s := range received[i] {
				got[s]++
				if pol != reconnect.Fail { // Fail's senders are concurrent goroutines: no order among them
					require.Greater(t, s, last, "client %d: %d after %d: reordered or duplicated", i, s, last)
				}
				last = s
			}
			sent += perClient
			delivered += len(got)
			for _, k := range got {
				dup += k - 1
			}
			refused += int(tallies[i].refused.Load())
			maybe += int(tallies[i].maybeLost.Load())
			if pol != reconnect.Fail { // sequential: silent losses only at outages
				runs := silentRuns(perClient, got, tallies[i].reported)
				require.LessOrEqual(t, runs, restarts, "client %d (%s): %d runs of messages lost without a report, for %d outages",
					i, strings.TrimSpace(pol.String()), runs, restarts)
			}
		}
		lost = sent - delivered - refused
		t.Logf("%-12s %9d %9d %10d %9d %10d %9d", pol, sent, delivered, dup, refused, maybe, lost)
		require.Zero(t, dup, "at-most-once: no duplicates")
		if pol == reconnect.Block {
			require.Zero(t, refused)
		}
	}
}

// silentRuns counts the runs of messages 0..total-1 that were neither
// delivered nor reported, in the stream of unreported messages: a reported
// one (refused by the policy, or reported maybe lost) does not end a run,
// since it never went out. Messages in flight when a connection died are
// the last ones written on it, so each outage adds at most one run.
func silentRuns(total int, delivered map[int]int, reported map[int]bool) int {
	runs, inRun := 0, false
	for seq := range total {
		switch {
		case reported[seq]:
		case delivered[seq] > 0:
			inRun = false
		case !inRun:
			runs, inRun = runs+1, true
		}
	}
	return runs
}
