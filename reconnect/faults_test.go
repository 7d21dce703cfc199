package reconnect_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws"
	"github.com/wsactor/ws/reconnect"
)

// TestFaults breaks the connection in the ways networks do and checks, via
// Events, that each ends in a reconnect. The keepalive (100 ms ping, 200 ms
// pong timeout) is what notices the black hole and the slow link.
func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode int32
	}{
		{"5.2/cut mid-frame", cut},
		{"7.1.1/black hole without FIN", blackHole},
		{"7.1.1/slow link beyond the pong timeout", slow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, nil)
			p := newProxy(t, srv.addr)
			c, err := reconnect.New(p.url(), fastBackoff(), reconnect.WithEventBuffer(1024),
				reconnect.WithDialOptions(ws.WithKeepalive(100*time.Millisecond, 200*time.Millisecond)))
			require.NoError(t, err)
			wait := start(t, context.Background(), c)
			go func() { // keep Incoming drained
				for range c.Incoming() {
				}
			}()
			ev := &recorder{t: t, ch: c.Events()}
			ev.until(is[reconnect.Connected])
			p.fault(tc.mode)
			if tc.mode == cut { // make the server send a frame to cut
				c.Outgoing() <- ws.Binary(make([]byte, 4096))
			}
			d := ev.until(is[reconnect.Disconnected]).(reconnect.Disconnected)
			require.Error(t, d.Err)
			t.Logf("disconnected after %v: %v", d.Uptime, d.Err)
			ev.until(is[reconnect.Connected])
			require.NoError(t, c.Close(context.Background()))
			require.ErrorIs(t, wait(), reconnect.ErrClosed)
		})
	}
}
