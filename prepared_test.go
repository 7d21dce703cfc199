//go:build !js

package ws_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
)

// TestPreparedBroadcast: a server sends prepared messages, interleaved
// with ordinary and uncompressed ones, to several clients over compressed
// connections with and without context takeover; every client receives
// every message intact and in order.
func TestPreparedBroadcast(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []ws.AcceptOption
		dial []ws.DialOption
	}{
		{"plain", nil, nil},
		{"deflate", []ws.AcceptOption{ws.WithCompression()}, []ws.DialOption{ws.WithCompression()}},
		{"deflate takeover", []ws.AcceptOption{ws.WithCompression(), ws.WithContextTakeover()},
			[]ws.DialOption{ws.WithCompression(), ws.WithContextTakeover()}},
		{"fragmented", []ws.AcceptOption{ws.WithCompression(), ws.WithFragmentSize(100)}, []ws.DialOption{ws.WithCompression()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const members, rounds = 4, 20
			joined := make(chan *ws.Conn, members)
			h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
				joined <- c
				<-c.Done()
			}, tc.opts...)
			srv := httptest.NewServer(h)
			defer srv.Close()
			defer h.Shutdown(context.Background())
			var clients, servers []*ws.Conn
			for range members {
				clients = append(clients, dial(t, wsURL(srv), tc.dial...))
				servers = append(servers, <-joined)
			}
			ctx := testCtx(t)
			want := func(i int) string { return fmt.Sprintf("round %d: %0300d", i, i) }
			for i := range rounds {
				var err error
				switch i % 3 {
				case 0:
					var pm *ws.PreparedMessage
					pm, err = ws.Prepare(ws.Text(want(i)))
					require.NoError(t, err)
					for _, s := range servers {
						require.NoError(t, s.SendPrepared(ctx, pm))
					}
				case 1:
					for _, s := range servers {
						require.NoError(t, s.Send(ctx, ws.Text(want(i))))
					}
				case 2:
					m := ws.Text(want(i))
					m.Uncompressed = true
					for _, s := range servers {
						require.NoError(t, s.Send(ctx, m))
					}
				}
			}
			for _, c := range clients {
				for i := range rounds {
					require.Equal(t, want(i), string(recv(t, c).Data))
				}
			}
		})
	}
}

func TestPrepareInvalid(t *testing.T) {
	_, err := ws.Prepare(ws.Message{})
	require.ErrorIs(t, err, ws.ErrInvalidMessageType)
}
