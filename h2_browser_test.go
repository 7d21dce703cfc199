//go:build !js

package ws_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/internal/h2test"
	"github.com/wsactor/ws/internal/wstest"
)

// browserEcho is the page script: open wss://<page's host>/ws, send a line,
// report the echo.
const browserEcho = `
(async () => {
  const result = { ok: false };
  window.__wsTestResult = result;
  try {
    const sock = new WebSocket('wss://' + location.host + '/ws');
    await new Promise((resolve, reject) => { sock.onopen = resolve; sock.onerror = () => reject(new Error('websocket error')); });
    const echo = new Promise((resolve) => { sock.onmessage = (e) => resolve(e.data); });
    sock.send('hello over ' + location.protocol);
    result.echo = await echo;
    sock.close(1000, 'bye');
    result.ok = true;
  } catch (e) {
    result.error = String(e);
  }
  document.body.textContent = JSON.stringify(result);
  window.__wsTestDone = true;
})();
`

// browserServer serves a page at / and an echoing ws.Handler at /ws over
// TLS with HTTP/2, and reports the ProtoMajor of each WebSocket request.
func browserServer(t *testing.T) (url string, protos chan int) {
	t.Helper()
	protos = make(chan int, 10)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>h2 echo</title><body>loading</body>"))
	})
	// Any method: over HTTP/2 the WebSocket request is a CONNECT.
	mux.Handle("/ws", ws.Handler(func(ctx context.Context, c *ws.Conn) {
		protos <- ws.RequestFromContext(ctx).ProtoMajor
		for m := range c.Incoming() {
			if c.Send(ctx, m) != nil {
				return
			}
		}
	}))
	srv := startH2(t, mux)
	return srv.URL + "/", protos
}

func runBrowserEcho(t *testing.T, wantProto int) {
	url, protos := browserServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	shot := wstest.ArtifactPath(t, "h2-echo.png")
	t.Logf("screenshot %s", shot)
	res, err := wstest.RunChromiumEval(t, ctx, url, shot, browserEcho)
	require.NoError(t, err, "result %s", res)
	var got struct {
		OK   bool   `json:"ok"`
		Echo string `json:"echo"`
	}
	require.NoError(t, json.Unmarshal(res, &got))
	assert.True(t, got.OK)
	assert.Equal(t, "hello over https:", got.Echo)
	assert.Equal(t, wantProto, <-protos, "the WebSocket request's ProtoMajor")
}

// TestChromiumHTTP2: headless Chromium on an https page of our server opens
// its WebSocket over the page's HTTP/2 connection (RFC 8441), since the
// server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL; the server sees
// ProtoMajor 2.
func TestChromiumHTTP2(t *testing.T) {
	wstest.RequirePeer(t, wstest.PeerChromium)
	if !h2test.ReexecWithXConnect(t) {
		return
	}
	runBrowserEcho(t, 2)
}

// TestChromiumHTTP2Off: without GODEBUG=http2xconnect=1 the page still
// comes over HTTP/2, but Chromium opens the WebSocket over HTTP/1.1, and it
// works as before.
func TestChromiumHTTP2Off(t *testing.T) {
	wstest.RequirePeer(t, wstest.PeerChromium)
	if strings.Contains(os.Getenv("GODEBUG"), h2test.XConnect) {
		t.Skip("the process runs with GODEBUG=http2xconnect=1; this test is about its absence")
	}
	runBrowserEcho(t, 1)
}
