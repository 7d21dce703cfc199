package reconnect_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/internal/h2test"
	"github.com/wsactor/ws/reconnect"
)

// TestOverHTTP2: the reconnecting client dials with ws.WithHTTP2; the
// server ends the first WebSocket with 1012 (service restart) and the
// client reconnects over HTTP/2 and delivers its message on the second.
// It re-runs itself with GODEBUG=http2xconnect=1.
func TestOverHTTP2(t *testing.T) {
	if !h2test.ReexecWithXConnect(t) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var n atomic.Int32
	protos := make(chan int, 10)
	wsSrv := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		protos <- ws.RequestFromContext(ctx).ProtoMajor
		if n.Add(1) == 1 {
			_ = c.Close(ctx, ws.StatusServiceRestart, "restart")
			return
		}
		for m := range c.Incoming() {
			if c.Send(ctx, m) != nil {
				return
			}
		}
	})
	srv := httptest.NewUnstartedServer(wsSrv)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	defer wsSrv.Shutdown(ctx)
	tc := srv.Client().Transport.(*http.Transport).TLSClientConfig

	c, err := reconnect.New("wss://"+srv.Listener.Addr().String()+"/", fastBackoff(),
		reconnect.WithDialOptions(ws.WithHTTP2(), ws.WithTLSConfig(tc)))
	require.NoError(t, err)
	wait := start(t, ctx, c)
	assert.Equal(t, 2, <-protos)
	assert.Equal(t, 2, <-protos, "the second connection is HTTP/2 too")
	require.NoError(t, c.Send(ctx, ws.Text("after the restart")))
	m := <-c.Incoming()
	assert.Equal(t, "after the restart", string(m.Data))
	require.NoError(t, c.Close(ctx))
	assert.ErrorIs(t, wait(), reconnect.ErrClosed)
}
