package session_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/wsactor/ws"
	"github.com/wsactor/ws/reconnect"
	"github.com/wsactor/ws/session"
)

// TestSoak: 200 clients, 50 numbered messages each way per client (10,000
// each way in all), while every server-side socket is reset 5 times. Each
// side must receive exactly 1..50 from each peer, once each, in order, and
// no session may be lost. Compare TestSoak of package reconnect, which
// loses messages in flight without sessions.
func TestSoak(t *testing.T) {
	const (
		clients   = 200
		perClient = 50
		kills     = 5
		pace      = 5 * time.Millisecond // between a sender's messages
	)
	// Each sender spreads its messages over the kills+1 connection
	// rounds: message j goes in round (j-1)*(kills+1)/perClient, once
	// gate[round] is open. A round's gate opens when every client is on a
	// connection of the round, and the kill comes 20 ms later, while the
	// round's messages are being sent (about 9 per sender, 5 ms apart):
	// on a loaded machine too, every kill finds messages in flight both
	// ways, and others are queued during the outage.
	gate := make([]chan struct{}, kills+1)
	for i := range gate {
		gate[i] = make(chan struct{})
	}
	wait := func(done <-chan struct{}, j int) bool {
		select {
		case <-gate[(j-1)*(kills+1)/perClient]:
			return true
		case <-done:
			return false
		}
	}
	var (
		mu      sync.Mutex
		atSrv   = make([][]int, clients) // what the server received, per client
		atCli   = make([][]int, clients) // what each client received
		srvDone sync.WaitGroup           // per client: the server received all
		cliDone sync.WaitGroup           // per client: the client received all
		lost    atomic.Int64
	)
	srvDone.Add(clients)
	cliDone.Add(clients)
	srv := newSessionServer(t, func(ctx context.Context, s *session.Session) {
		id, _ := strconv.Atoi(s.Key())
		go func() { // the server's own stream to the client
			for i := 1; i <= perClient; i++ {
				if !wait(ctx.Done(), i) || s.Send(ctx, ws.Text(strconv.Itoa(i))) != nil {
					return
				}
				time.Sleep(pace)
			}
		}()
		for m := range s.Incoming() {
			n, _ := strconv.Atoi(string(m.Data))
			mu.Lock()
			atSrv[id] = append(atSrv[id], n)
			if len(atSrv[id]) == perClient {
				srvDone.Done()
			}
			mu.Unlock()
		}
	}, session.WithKey(func(r *http.Request) (string, error) { return r.URL.Query().Get("id"), nil }))
	ts := listen(t, srv)

	var all []*reconnect.Client
	var scs []*session.Client
	for i := range clients {
		c, sc := newClient(t, ts.url()+"?id="+strconv.Itoa(i),
			[]session.Option{session.OnLost(func(*session.LostError) { lost.Add(1) })})
		all = append(all, c)
		scs = append(scs, sc)
		go func() {
			for m := range c.Incoming() {
				n, _ := strconv.Atoi(string(m.Data))
				mu.Lock()
				atCli[i] = append(atCli[i], n)
				if len(atCli[i]) == perClient {
					cliDone.Done()
				}
				mu.Unlock()
			}
		}()
		go func() {
			for j := 1; j <= perClient; j++ {
				if !wait(c.Done(), j) {
					return
				}
				select {
				case c.Outgoing() <- ws.Text(strconv.Itoa(j)):
				case <-c.Done():
					return
				}
				time.Sleep(pace)
			}
		}()
	}

	for k := range kills + 1 {
		// Every client on a connection of this round, then its traffic.
		for _, c := range all {
			for c.Stats().Connects < int64(k+1) {
				time.Sleep(5 * time.Millisecond)
			}
		}
		close(gate[k])
		if k == kills {
			break
		}
		time.Sleep(20 * time.Millisecond)
		ts.kill()
		mu.Lock()
		var a, b int
		for i := range clients {
			a += len(atSrv[i])
			b += len(atCli[i])
		}
		mu.Unlock()
		t.Logf("kill %d: server has %d, clients have %d", k+1, a, b)
	}
	waitGroup(t, &srvDone, "the server to receive every message")
	waitGroup(t, &cliDone, "every client to receive every message")

	want := make([]int, perClient)
	for i := range want {
		want[i] = i + 1
	}
	mu.Lock()
	defer mu.Unlock()
	var dupOrLost int
	for i := range clients {
		if !assert.Equal(t, want, atSrv[i], "server from client %d", i) ||
			!assert.Equal(t, want, atCli[i], "client %d", i) {
			dupOrLost++
		}
	}
	assert.Zero(t, dupOrLost)
	assert.Zero(t, lost.Load(), "sessions lost")
	var connects int64
	var cs session.ClientStats
	for i, c := range all {
		connects += c.Stats().Connects
		st := scs[i].Stats()
		cs.Resumed += st.Resumed
		cs.Replayed += st.Replayed
		cs.Duplicates += st.Duplicates
	}
	ss := srv.Stats()
	t.Logf("%d connections, %d resumed; replayed by the clients %d, by the server %d; duplicates dropped at the server %d, at the clients %d",
		connects, cs.Resumed, cs.Replayed, ss.Replayed, ss.Duplicates, cs.Duplicates)
	t.Logf("%d clients, %d messages each way in all, %d kills: delivered exactly once, in order", clients, clients*perClient, kills)
}

// waitGroup waits for wg, failing after a minute (a hang, not a timing).
func waitGroup(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("gave up waiting for %s", what)
	}
}
