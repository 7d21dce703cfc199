package actor_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/handshake"
	"github.com/wsactor/ws/internal/h2test"
)

// TestOverHTTP2Stream runs actor.New unchanged on both ends of an RFC 8441
// WebSocket: handshake.StreamConn on the server, h2test's stream on the
// client. Neither supports read deadlines, so both readers run without
// read-ahead wake-ups. It needs GODEBUG=http2xconnect=1 and re-runs itself
// in a child process with it.
func TestOverHTTP2Stream(t *testing.T) {
	if !h2test.ReexecWithXConnect(t) {
		return
	}
	tests := []struct {
		name string
		opts []actor.Option // server side
	}{
		{"defaults", nil},
		{"write timeout and a one-message Incoming", []actor.Option{
			actor.WithWriteTimeout(time.Minute), actor.WithIncomingBuffer(1),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			srvErr := make(chan error, 1)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				acc, err := (&handshake.Server{Subprotocols: []string{"echo"}}).UpgradeConnect(w, r)
				if err != nil {
					srvErr <- err
					return
				}
				opts := append([]actor.Option{actor.WithSubprotocol(acc.Protocol)}, tt.opts...)
				c, err := actor.New(acc.Conn, acc.Reader, frame.Server, opts...)
				if err != nil {
					acc.Conn.Close()
					srvErr <- err
					return
				}
				// The stream lives as long as this handler: wait for the
				// connection's end, then for the StreamConn to be closed.
				defer func() { <-acc.Conn.(*handshake.StreamConn).Done() }()
				// Hold the first message until the client has sent them all,
				// so that the reader pauses behind a full Incoming.
				first, err := c.Receive(ctx)
				if err != nil {
					srvErr <- err
					return
				}
				if err := c.Send(ctx, first); err != nil {
					srvErr <- err
					return
				}
				for m := range c.Incoming() {
					if err := c.Send(ctx, m); err != nil {
						break
					}
				}
				<-c.Done()
				srvErr <- c.Err()
			}))
			srv.EnableHTTP2 = true
			srv.StartTLS()
			defer srv.Close()
			hc, err := h2test.Dial(ctx, srv.Listener.Addr().String())
			require.NoError(t, err)
			defer hc.Close()
			st, err := hc.Connect(ctx, srv.Listener.Addr().String(), "/", http.Header{
				"Sec-Websocket-Version":  {"13"},
				"Sec-Websocket-Protocol": {"echo"},
			})
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, st.Status)
			require.Equal(t, "echo", st.Header.Get("Sec-WebSocket-Protocol"))

			c, err := actor.New(st, nil, frame.Client)
			require.NoError(t, err)
			const n = 50
			for i := range n {
				require.NoError(t, c.Send(ctx, actor.Text(fmt.Sprint("message ", i))))
			}
			for i := range n {
				m, err := c.Receive(ctx)
				require.NoError(t, err)
				assert.Equal(t, fmt.Sprint("message ", i), string(m.Data))
			}
			_, err = c.Ping(ctx)
			require.NoError(t, err)
			require.NoError(t, c.Close(ctx, frame.StatusNormalClosure, "bye"))
			<-c.Done()
			var ce *actor.CloseError
			require.ErrorAs(t, c.Err(), &ce)
			assert.Equal(t, frame.StatusNormalClosure, ce.Code)
			assert.NoError(t, ce.Err, "the close handshake completed")

			err = <-srvErr
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, frame.StatusNormalClosure, ce.Code)
			assert.True(t, ce.Remote)
			assert.NoError(t, ce.Err)
		})
	}
}
