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
