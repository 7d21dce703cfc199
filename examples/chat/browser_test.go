package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/internal/wstest"
)

// pageScript drives the chat page: wait for the socket, post a line, wait
// until the log shows every line in want, report the log.
const pageScript = `
(async () => {
  const want = %s;
  const result = { ok: false };
  window.__wsTestResult = result;
  const lines = () => Array.from(document.querySelectorAll('#log li')).map((li) => li.textContent);
  const until = async (cond) => { while (!cond()) await new Promise((r) => setTimeout(r, 50)); };
  try {
    await until(() => window.chat && window.chat.sock.readyState === WebSocket.OPEN);
    window.chat.send(%q);
    await until(() => want.every((w) => lines().includes(w)));
    result.ok = true;
  } catch (e) {
    result.error = String(e);
  }
  result.log = lines();
  window.__wsTestDone = true;
})();
`

// TestChatInChromium: two headless Chromium pages and a Go client chat in
// one room; each sees the others' lines. The screenshots are the evidence.
func TestChatInChromium(t *testing.T) {
	wstest.RequirePeer(t, wstest.PeerChromium)
	base, stop := start(t)
	ctx := wstest.DeadlineAfter(t, 90*time.Second)

	gopher := join(t, base, "gopher")
	require.NoError(t, gopher.Send(ctx, ws.Text("hi from Go")))

	want := []string{"alice: hello from alice", "bob: hello from bob", "gopher: hi from Go"}
	wantJSON, _ := json.Marshal(want)
	// Both browsers start on the test's goroutine (StartChromium may skip
	// or fail the test) and run side by side while the Go client reads.
	names := []string{"alice", "bob"}
	browsers := make([]*wstest.Chromium, len(names))
	for i, name := range names {
		shot := wstest.ArtifactPath(t, "chat-"+name+".png")
		t.Logf("%s: screenshot %s", name, shot)
		browsers[i] = wstest.StartChromium(t, ctx, base+"?name="+name, shot,
			fmt.Sprintf(pageScript, wantJSON, "hello from "+name))
	}
	waitForAll(t, gopher, "alice: hello from alice", "bob: hello from bob")
	for i, name := range names {
		res, err := browsers[i].Wait()
		t.Logf("%s: %s", name, res)
		require.NoError(t, err, name)
		require.True(t, strings.Contains(string(res), `"ok":true`), name)
	}
	require.NoError(t, stop())
}

// reconnectScript: say "one", then as soon as the page goes offline type a
// line (the page queues it) and wait until it is back through the room.
const reconnectScript = `
(async () => {
  const result = { ok: false, states: [] };
  window.__wsTestResult = result;
  const lines = () => Array.from(document.querySelectorAll('#log li')).map((li) => li.textContent);
  const until = async (cond) => { while (!cond()) await new Promise((r) => setTimeout(r, 10)); };
  try {
    await until(() => window.chat && window.chat.state() === 'connected');
    window.chat.onstate = (s) => {
      result.states.push(s);
      if (s !== 'connected' && result.queued === undefined) {
        window.chat.send('queued while offline');
        result.queued = window.chat.queued();
        result.statusWhileOffline = document.getElementById('status').textContent;
      }
    };
    window.chat.send('one');
    await until(() => lines().includes('pat: queued while offline'));
    result.connects = window.chat.connects();
    result.members = window.chat.members();
    result.ok = result.queued === 1 && result.connects === 2;
  } catch (e) {
    result.error = String(e);
  }
  result.log = lines();
  window.__wsTestDone = true;
})();
`

// TestChatPageReconnects: the server restarts under an open page; the page
// shows it is offline, queues the line typed meanwhile, reconnects by
// itself with backoff and sends it, and gets the new member list.
func TestChatPageReconnects(t *testing.T) {
	wstest.RequirePeer(t, wstest.PeerChromium)
	ctx := wstest.DeadlineAfter(t, 60*time.Second)
	base, stop := start(t)
	addr := strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/")

	gopher := join(t, base, "gopher")
	shot := wstest.ArtifactPath(t, "chat-reconnect.png")
	t.Logf("screenshot %s", shot)
	page := wstest.StartChromium(t, ctx, base+"?name=pat", shot, reconnectScript)
	waitFor(t, gopher, "pat: one")

	require.NoError(t, stop()) // 1001 to the page and to gopher
	_, _ = wstest.StartProgram(t, run, "-addr", addr)
	gopher = join(t, base, "gopher")
	waitFor(t, gopher, "pat: queued while offline")
	res, err := page.Wait()
	t.Logf("page: %s", res)
	require.NoError(t, err)
	require.Contains(t, string(res), `"ok":true`)
	require.Contains(t, string(res), `"members":["gopher","pat"]`)
}
