package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/examples/chatcluster/internal/redistest"
	"github.com/wsactor/ws/internal/wstest"
)

// pageScript drives a chat page: wait for the member list members, say
// hello, wait for every line in want, then say "NAME ready". If offline is
// set, type a line as soon as the page goes offline (the page queues it)
// and wait until it comes back through the room after the page
// reconnected; otherwise wait for that line from the other page. Either
// page then waits for awayLine, which the Go client sends while the
// offline page's node is down: the page resumes with ?since= and the node
// replays it. No chat line may be shown twice.
const pageScript = `
(async () => {
  const want = %s, members = %s, name = %q, offline = %t, afterLine = %q, awayLine = %q;
  const result = { ok: false, states: [] };
  window.__wsTestResult = result;
  const lines = () => Array.from(document.querySelectorAll('#log li')).map((li) => li.textContent);
  const until = async (cond) => { while (!cond()) await new Promise((r) => setTimeout(r, 10)); };
  const sameMembers = () => JSON.stringify(window.chat.members()) === JSON.stringify(members);
  try {
    await until(() => window.chat && window.chat.state() === 'connected' && sameMembers());
    window.chat.send('hello from ' + name);
    await until(() => want.every((w) => lines().includes(w)));
    result.membersBefore = window.chat.members();
    if (offline) {
      // Type as soon as the page notices, before it can reconnect.
      let typed;
      const wasTyped = new Promise((resolve) => { typed = resolve; });
      window.chat.onstate = (s) => {
        result.states.push(s);
        if (s !== 'connected' && !result.queuedWhileOffline) {
          window.chat.send('typed offline');
          result.queuedWhileOffline = window.chat.queued();
          typed();
        }
      };
      window.chat.send(name + ' ready');
      await wasTyped;
      await until(() => window.chat.state() === 'connected');
      result.connects = window.chat.connects();
    } else {
      window.chat.send(name + ' ready');
    }
    await until(() => lines().includes(afterLine) && lines().includes(awayLine) && sameMembers());
    result.membersAfter = window.chat.members();
    result.lastId = window.chat.lastId();
    const chat = lines().filter((l) => !l.startsWith('* ') && !l.startsWith('(queued) '));
    result.dups = chat.filter((l, i) => chat.indexOf(l) !== i);
    if (result.dups.length) throw new Error('shown twice: ' + result.dups.join(' | '));
    result.ok = true;
  } catch (e) {
    result.error = String(e);
  }
  result.log = lines();
  window.__wsTestDone = true;
})();
`

// TestClusterBrowsers: two headless Chromium pages on two nodes and a Go
// client on the third are in one room: each sees the others' lines and
// the same member list. Then alice's node restarts: her page shows it is
// offline, queues the line typed meanwhile, reconnects by itself and
// sends it; bob and the Go client receive it. The Go client's line sent
// while alice's node was down reaches her page on reconnect (the page
// resumes from the last line ID it saw), and neither page shows a line
// twice. The screenshots are the evidence.
func TestClusterBrowsers(t *testing.T) {
	wstest.RequirePeer(t, wstest.PeerChromium)
	rs := redistest.Start(t)
	ctx := wstest.DeadlineAfter(t, 100*time.Second)
	nodes := startNodes(t, rs, 3)

	gopher := newClient(t, ctx, "gopher", []string{nodes[2].url()}, 0)

	want := []string{"alice: hello from alice", "bob: hello from bob", "gopher: hello from gopher"}
	members := []string{"alice", "bob", "gopher"}
	wantJSON, _ := json.Marshal(want)
	membersJSON, _ := json.Marshal(members)
	const after = "alice: typed offline"
	const away = "gopher: while alice was away"
	names := []string{"alice", "bob"}
	browsers := make([]*wstest.Chromium, len(names))
	for i, name := range names {
		shot := wstest.ArtifactPath(t, "cluster-"+name+".png")
		t.Logf("%s on node %d: screenshot %s", name, i+1, shot)
		browsers[i] = wstest.StartChromium(t, ctx, nodes[i].page()+"?name="+name, shot,
			fmt.Sprintf(pageScript, wantJSON, membersJSON, name, name == "alice", after, away))
	}
	// Each node's history holds only what it has seen, so everyone says
	// hello once all three are in the room.
	gopher.waitMembers(t, ctx, members)
	require.NoError(t, gopher.rc.Send(ctx, ws.Text("hello from gopher")))
	gopher.waitLines(t, ctx, "alice: hello from alice", "bob: hello from bob", "alice: alice ready", "bob: bob ready")

	nodes[0].stop() // alice's node: her page goes offline
	require.NoError(t, gopher.rc.Send(ctx, ws.Text(strings.TrimPrefix(away, "gopher: "))))
	gopher.waitLines(t, ctx, away)
	nodes[0].start()
	gopher.waitLines(t, ctx, after)
	for i, name := range names {
		res, err := browsers[i].Wait()
		t.Logf("%s: %s", name, res)
		require.NoError(t, err, name)
		require.True(t, strings.Contains(string(res), `"ok":true`), name)
	}
	require.Equal(t, 1, gopher.count(after), "the queued line is sent once")
}
