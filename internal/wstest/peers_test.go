package wstest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/wsactor/ws/internal/wstest"
)

// The tests below run the peers against each other, without wsactor: they
// prove the harness before anything is blamed on the library.

func TestNodeEcho(t *testing.T) {
	t.Parallel()
	srv := wstest.StartNodeServer(t, "echo")
	ctx := wstest.Deadline(t)
	events, err := wstest.RunNodeClient(t, ctx, srv.URL+"/echo", []wstest.Step{
		wstest.SendText("hello, wörld"),
		wstest.ExpectText("hello, wörld"),
		wstest.SendText(""),
		wstest.ExpectText(""),
		wstest.SendFill(wstest.Binary, 1<<20, wstest.FillSeq, 0),
		wstest.ExpectFill(wstest.Binary, 1<<20, wstest.FillSeq, 0),
		wstest.SendFill(wstest.Text, 3000, wstest.FillPRNG, 7).Fragmented(1000),
		wstest.ExpectFill(wstest.Text, 3000, wstest.FillPRNG, 7),
		wstest.Send(wstest.Binary, []byte{0, 1, 2, 0xff}),
		wstest.Expect(wstest.Binary, []byte{0, 1, 2, 0xff}),
		wstest.Ping("are you there"),
		wstest.Close(4000, "bye").Expecting(4000, "bye"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if last := events[len(events)-1]; last.Event != "done" {
		t.Fatalf("last event %s, want done", last.Raw)
	}
	var sawMiB bool
	for _, ev := range events {
		if ev.Event == "message" && ev.Type == wstest.Binary && ev.Len == 1<<20 {
			sawMiB = true
		}
	}
	if !sawMiB {
		t.Error("no 1 MiB binary message among the client's events")
	}

	hs, err := srv.WaitEvents(ctx, "headers", 1)
	if err != nil {
		t.Fatal(err)
	}
	h := hs[0].Header()
	if hs[0].Method != "GET" || hs[0].URL != "/echo" || h.Get("Sec-WebSocket-Version") != "13" || h.Get("Sec-WebSocket-Key") == "" {
		t.Errorf("handshake request %s: want GET /echo with version 13 and a key", hs[0].Raw)
	}
	closes, err := srv.WaitEvents(ctx, "close", 1)
	if err != nil {
		t.Fatal(err)
	}
	if closes[0].Code != 4000 || closes[0].Reason != "bye" {
		t.Errorf("server saw close %s, want 4000 bye", closes[0].Raw)
	}
	msgs, err := srv.WaitEvents(ctx, "message", 5)
	if err != nil {
		t.Fatal(err)
	}
	if want := wstest.SHA256(wstest.Fill(wstest.Binary, 1<<20, wstest.FillSeq, 0)); msgs[2].SHA256 != want {
		t.Errorf("server got %s, want the 1 MiB seq fill (sha256 %s)", msgs[2].Raw, want)
	}
}

func TestNodeDeflate(t *testing.T) {
	t.Parallel()
	srv := wstest.StartNodeServer(t, "--deflate", "--server-no-context-takeover", "--server-max-window-bits", "10")
	events, err := wstest.RunNodeClient(t, wstest.Deadline(t), srv.URL, []wstest.Step{
		wstest.SendFill(wstest.Text, 100_000, wstest.FillSeq, 0),
		wstest.ExpectFill(wstest.Text, 100_000, wstest.FillSeq, 0),
		wstest.SendFill(wstest.Binary, 100_000, wstest.FillPRNG, 3).Fragmented(16_384),
		wstest.ExpectFill(wstest.Binary, 100_000, wstest.FillPRNG, 3),
		wstest.SendText("not compressed").Uncompressed(),
		wstest.ExpectText("not compressed"),
	}, "--deflate", "--client-no-context-takeover")
	if err != nil {
		t.Fatal(err)
	}
	open := find(t, events, "open")
	for _, want := range []string{"permessage-deflate", "server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits=10"} {
		if !strings.Contains(open.Extensions, want) {
			t.Errorf("negotiated %q, want it to contain %q", open.Extensions, want)
		}
	}
}

func TestNodeSubprotocols(t *testing.T) {
	t.Parallel()
	srv := wstest.StartNodeServer(t, "--subprotocols", "b,c")
	events, err := wstest.RunNodeClient(t, wstest.Deadline(t), srv.URL, nil, "--protocols", "a,b,c", "--origin", "http://example.test")
	if err != nil {
		t.Fatal(err)
	}
	if got := find(t, events, "open").Protocol; got != "b" {
		t.Errorf("protocol %q, want b (the client's first supported offer)", got)
	}
	hs, err := srv.WaitEvents(wstest.Deadline(t), "headers", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := hs[0].Header().Get("Origin"); got != "http://example.test" {
		t.Errorf("Origin %q, want http://example.test", got)
	}
}

func TestNodeServerCloses(t *testing.T) {
	t.Parallel()
	srv := wstest.StartNodeServer(t, "--close", "4001", "go away")
	_, err := wstest.RunNodeClient(t, wstest.Deadline(t), srv.URL, []wstest.Step{
		wstest.SendText("x"),
		wstest.WaitClose(4001, "go away"),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNodeMaxPayload(t *testing.T) {
	t.Parallel()
	srv := wstest.StartNodeServer(t, "--max-payload", "1000")
	ctx := wstest.Deadline(t)
	_, err := wstest.RunNodeClient(t, ctx, srv.URL, []wstest.Step{
		wstest.SendFill(wstest.Binary, 2000, wstest.FillSeq, 0),
		wstest.WaitClose(1009, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := srv.WaitEvents(ctx, "error", 1)
	if err != nil {
		t.Fatal(err)
	}
	if errs[0].ErrorCode != "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" || errs[0].CloseCode != 1009 {
		t.Errorf("server error %s, want WS_ERR_UNSUPPORTED_MESSAGE_LENGTH / 1009", errs[0].Raw)
	}
}

func TestNodeClientReportsMismatch(t *testing.T) {
	t.Parallel()
	srv := wstest.StartNodeServer(t)
	events, err := wstest.RunNodeClient(t, wstest.Deadline(t), srv.URL, []wstest.Step{
		wstest.SendText("one"),
		wstest.ExpectText("two"),
	})
	if err == nil {
		t.Fatal("a wrong echo passed")
	}
	if f := find(t, events, "fail"); f.Step != 1 || !strings.Contains(f.Reason, `want "two"`) {
		t.Errorf("fail event %s, want step 1 naming the expected text", f.Raw)
	}
}

func TestNodeClientRejected(t *testing.T) {
	t.Parallel()
	wstest.RequirePeer(t, wstest.PeerNode)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer hs.Close()
	url := "ws" + strings.TrimPrefix(hs.URL, "http")
	if _, err := wstest.RunNodeClient(t, wstest.Deadline(t), url, []wstest.Step{wstest.ExpectReject(http.StatusForbidden)}); err != nil {
		t.Fatal(err)
	}
	if _, err := wstest.RunNodeClient(t, wstest.Deadline(t), url, []wstest.Step{wstest.SendText("x")}); err == nil {
		t.Fatal("a refused handshake passed")
	}
}

const chromiumPage = `<!doctype html>
<title>wstest</title>
<h1 id="status">running</h1>
<script>
(async () => {
  const result = { ok: false, steps: [] };
  try {
    const ws = new WebSocket(%q);
    ws.binaryType = 'arraybuffer';
    const next = () => new Promise((resolve, reject) => {
      ws.onmessage = (e) => resolve(e.data);
      ws.onclose = (e) => reject(new Error('closed ' + e.code));
    });
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('error')); });
    result.steps.push('open');
    ws.send('hello from chromium');
    if ((await next()) !== 'hello from chromium') throw new Error('text echo');
    result.steps.push('text');
    const bin = new Uint8Array(65536).map((_, i) => i & 255);
    ws.send(bin);
    const got = new Uint8Array(await next());
    if (got.length !== bin.length || got.some((b, i) => b !== bin[i])) throw new Error('binary echo');
    result.steps.push('binary');
    const closed = new Promise((resolve) => { ws.onclose = (e) => resolve(e); });
    ws.close(4000, 'bye');
    const e = await closed;
    result.close = { code: e.code, reason: e.reason, wasClean: e.wasClean };
    result.extensions = ws.extensions;
    result.ok = e.code === 4000 && e.reason === 'bye' && e.wasClean;
  } catch (err) {
    result.error = String(err);
  }
  document.getElementById('status').textContent = result.ok ? 'ok' : 'failed: ' + result.error;
  window.__wsTestResult = result;
  window.__wsTestDone = true;
})();
</script>
`

func TestChromium(t *testing.T) {
	t.Parallel()
	wstest.RequirePeer(t, wstest.PeerChromium)
	srv := wstest.StartNodeServer(t, "echo", "--deflate")
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, chromiumPage, srv.URL+"/browser")
	}))
	defer page.Close()

	shot := wstest.ArtifactPath(t, "chromium.png")
	raw, err := wstest.RunChromium(t, wstest.DeadlineAfter(t, 90e9), page.URL, shot)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		OK         bool     `json:"ok"`
		Steps      []string `json:"steps"`
		Extensions string   `json:"extensions"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("result %s: %v", raw, err)
	}
	if !res.OK || len(res.Steps) != 3 || !strings.Contains(res.Extensions, "permessage-deflate") {
		t.Errorf("result %s: want ok after open, text, binary, with permessage-deflate", raw)
	}
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("screenshot %s is not a PNG", shot)
	}
	hs, err := srv.WaitEvents(wstest.Deadline(t), "headers", 1)
	if err != nil {
		t.Fatal(err)
	}
	if ua := hs[0].Header().Get("User-Agent"); !strings.Contains(ua, "Chrome") {
		t.Errorf("User-Agent %q, want Chromium's", ua)
	}
}

func TestChromiumEvalAndFailure(t *testing.T) {
	t.Parallel()
	wstest.RequirePeer(t, wstest.PeerChromium)
	raw, err := wstest.RunChromiumEval(t, wstest.DeadlineAfter(t, 90e9), "about:blank", wstest.ArtifactPath(t, "fail.png"),
		`window.__wsTestResult = {ok: false, why: "on purpose"}; window.__wsTestDone = true;`)
	if err == nil {
		t.Fatalf("ok:false passed: %s", raw)
	}
	if !strings.Contains(string(raw), "on purpose") {
		t.Errorf("result %s, want the page's result", raw)
	}
}

func TestTCPPair(t *testing.T) {
	t.Parallel()
	c, s := wstest.TCPPair(t)
	ctx := wstest.Deadline(t)
	dl, _ := ctx.Deadline()
	_ = c.SetDeadline(dl)
	_ = s.SetDeadline(dl)
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := s.Read(buf); err != nil || string(buf) != "ping" {
		t.Fatalf("read %q, %v", buf, err)
	}
}

func find(t *testing.T, events []wstest.Event, kind string) wstest.Event {
	t.Helper()
	for _, ev := range events {
		if ev.Event == kind {
			return ev
		}
	}
	t.Fatalf("no %q event among %d", kind, len(events))
	return wstest.Event{}
}
