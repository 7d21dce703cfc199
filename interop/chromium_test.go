package interop

import (
	"context"
	_ "embed"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/internal/wstest"
)

//go:embed testdata/echo.html
var echoPage []byte

// TestChromiumEcho: headless Chromium loads a page from our server and
// exchanges text and binary messages (0 B to 1 MiB) with ws.Handler over a
// chosen subprotocol, closes with 4000, then is closed by the server with
// 4003. It also records the handshake Chromium sends, with its default
// permessage-deflate offer, which our server declines by default and
// accepts with WithCompression.
func TestChromiumEcho(t *testing.T) {
	t.Parallel()
	wstest.RequirePeer(t, wstest.PeerChromium)
	t.Run("plain", func(t *testing.T) { chromiumEcho(t, false) })
	t.Run("compressed", func(t *testing.T) { chromiumEcho(t, true) })
}

func chromiumEcho(t *testing.T, compress bool) {
	type seen struct {
		protocols, extensions string
		err                   error
	}
	var (
		mu    sync.Mutex
		conns []seen
	)
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		r := ws.RequestFromContext(ctx)
		for m := range c.Incoming() {
			if m.Type == ws.TextMessage && string(m.Data) == "close-me" {
				_ = c.Close(ctx, 4003, "server bye")
				break
			}
			if err := c.Send(ctx, m); err != nil {
				break
			}
		}
		<-c.Done()
		mu.Lock()
		conns = append(conns, seen{r.Header.Get("Sec-WebSocket-Protocol"), r.Header.Get("Sec-WebSocket-Extensions"), c.Err()})
		mu.Unlock()
	}, ws.WithSubprotocols("chat.v1"), ws.WithMaxMessageSize(4<<20), compression(compress))
	mux := http.NewServeMux()
	mux.Handle("/ws", h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(echoPage)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	shot := wstest.ArtifactPath(t, "chromium-echo-"+map[bool]string{false: "plain", true: "deflate"}[compress]+".png")
	res, err := wstest.RunChromium(t, wstest.Deadline(t), srv.URL+"/", shot)
	t.Logf("screenshot: %s", shot)
	t.Logf("page result: %s", res)
	require.NoError(t, err)
	require.NoError(t, h.Shutdown(wstest.Deadline(t)))

	var page struct {
		OK         bool   `json:"ok"`
		Protocol   string `json:"protocol"`
		Extensions string `json:"extensions"`
	}
	require.NoError(t, json.Unmarshal(res, &page))
	require.True(t, page.OK)
	require.Equal(t, "chat.v1", page.Protocol)
	if compress {
		require.Contains(t, page.Extensions, "permessage-deflate")
		require.Contains(t, page.Extensions, "server_no_context_takeover")
	} else {
		require.Empty(t, page.Extensions, "compression is off by default")
	}

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, conns, 2)
	// The page's two connections may end in either order: the first is the
	// one that offered subprotocols (the second offers none).
	if conns[0].protocols == "" {
		conns[0], conns[1] = conns[1], conns[0]
	}
	t.Logf("Chromium offered: protocols %q, extensions %q", conns[0].protocols, conns[0].extensions)
	require.Equal(t, "chat.v2, chat.v1", conns[0].protocols)
	require.Contains(t, conns[0].extensions, "permessage-deflate")
	requireRemoteClose(t, conns[0].err, 4000, "bye from the browser")
	var ce *ws.CloseError
	require.ErrorAs(t, conns[1].err, &ce)
	require.Equal(t, ws.StatusCode(4003), ce.Code)
	require.False(t, ce.Remote)
}

// compression returns WithCompression, or nil (ignored) when off.
func compression(on bool) ws.Option {
	if on {
		return ws.WithCompression()
	}
	return nil
}
