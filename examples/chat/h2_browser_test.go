package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/examples/chat/chatroom"
	"github.com/wsactor/ws/internal/h2test"
	"github.com/wsactor/ws/internal/wstest"
)

// TestChatInChromiumOverHTTP2 is TestChatInChromium over https with
// extended CONNECT on: both Chromium pages open their WebSocket as an RFC
// 8441 stream of the page's HTTP/2 connection, the Go client dials with
// ws.WithHTTP2, and the room works as over HTTP/1.1. The chat's handler
// is registered for every method (over HTTP/2 the request is a CONNECT,
// which "GET /ws" would not match). The screenshots are the evidence. It
// re-runs itself with GODEBUG=http2xconnect=1.
func TestChatInChromiumOverHTTP2(t *testing.T) {
	wstest.RequirePeer(t, wstest.PeerChromium)
	if !h2test.ReexecWithXConnect(t) {
		return
	}
	ctx := wstest.DeadlineAfter(t, 90*time.Second)
	chat := chatroom.Handler(chatroom.NewMemory(50, 64))
	protos := make(chan string, 10)
	mux := http.NewServeMux()
	mux.Handle("/ws", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		protos <- r.URL.Query().Get("name") + " " + r.Proto
		chat.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /{$}", chatroom.Page)
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	defer func() { assert.NoError(t, chat.Shutdown(context.Background())) }()
	base := srv.URL + "/"
	tc := srv.Client().Transport.(*http.Transport).TLSClientConfig

	gopher, _, err := ws.Dial(ctx, "wss"+strings.TrimPrefix(base, "https")+"ws?name=gopher",
		ws.WithHTTP2(), ws.WithTLSConfig(tc))
	require.NoError(t, err)
	defer gopher.CloseNow()
	require.NoError(t, gopher.Send(ctx, ws.Text("hi from Go")))

	want := []string{"alice: hello from alice", "bob: hello from bob", "gopher: hi from Go"}
	wantJSON, _ := json.Marshal(want)
	names := []string{"alice", "bob"}
	browsers := make([]*wstest.Chromium, len(names))
	for i, name := range names {
		shot := wstest.ArtifactPath(t, "chat-h2-"+name+".png")
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
	got := map[string]bool{}
	for range 3 {
		got[<-protos] = true
	}
	assert.Equal(t, map[string]bool{"gopher HTTP/2.0": true, "alice HTTP/2.0": true, "bob HTTP/2.0": true}, got)
	require.NoError(t, gopher.Close(ctx, ws.StatusNormalClosure, ""))
}
