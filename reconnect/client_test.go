package reconnect_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws"
	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/reconnect"
)

// TestRestartSamePort kills the server, queues messages while it is down,
// starts it again on the same port, and checks that the client reconnects,
// runs OnConnect first, flushes the queue in order, and keeps one Incoming
// open throughout.
func TestRestartSamePort(t *testing.T) {
	var (
		mu   sync.Mutex
		got  []string // what the server received, across connections
		recv = make(chan string, 100)
	)
	srv := newServer(t, func(ctx context.Context, conn *actor.Conn, _ *http.Request) {
		for m := range conn.Incoming() {
			mu.Lock()
			got = append(got, string(m.Data))
			mu.Unlock()
			recv <- string(m.Data)
			if conn.Send(ctx, m) != nil {
				return
			}
		}
	})
	var connects int
	c, err := reconnect.New(srv.url(), fastBackoff(), reconnect.WithEventBuffer(1024),
		reconnect.OnConnect(func(ctx context.Context, conn *ws.Conn) error {
			connects++
			return conn.Send(ctx, ws.Text(fmt.Sprintf("hello %d", connects)))
		}))
	require.NoError(t, err)
	ctx := context.Background()
	wait := start(t, ctx, c)
	ev := &recorder{t: t, ch: c.Events()}

	var echoes []string
	incomingDone := make(chan struct{})
	echoed := make(chan string, 100)
	go func() {
		defer close(incomingDone)
		for m := range c.Incoming() {
			echoes = append(echoes, string(m.Data))
			echoed <- string(m.Data)
		}
	}()

	ev.until(is[reconnect.Connected])
	require.Equal(t, "hello 1", <-recv)
	require.Equal(t, "hello 1", <-echoed)

	srv.kill()
	ev.until(is[reconnect.Disconnected])
	ev.until(is[reconnect.Retrying]) // refused now: the server is down
	for i := range 10 {
		c.Outgoing() <- ws.Text(fmt.Sprintf("m%d", i))
	}
	require.NotEqual(t, reconnect.StateConnected, c.State())
	srv.start()
	ev.until(is[reconnect.Connected])
	for _, want := range []string{"hello 2", "m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"} {
		require.Equal(t, want, <-recv)
		require.Equal(t, want, <-echoed)
	}
	select {
	case <-incomingDone:
		t.Fatal("Incoming closed between connections")
	default:
	}

	require.NoError(t, c.Close(ctx))
	require.ErrorIs(t, wait(), reconnect.ErrClosed)
	<-incomingDone
	evs := ev.rest()
	require.Equal(t, reconnect.StateClosed, c.State())

	// Connecting, Connected, Disconnected, then (Retrying, Connecting)+ and
	// Connected: the documented timeline.
	k := kinds(evs)
	require.Equal(t, []string{"Connecting", "Connected", "Disconnected", "Retrying", "Connecting"}, k[:5], describe(evs))
	require.Equal(t, "Connected", k[len(k)-1], describe(evs))
	for _, s := range k[3 : len(k)-1] {
		require.Contains(t, []string{"Retrying", "Connecting"}, s)
	}
	st := c.Stats()
	require.EqualValues(t, 2, st.Connects)
	require.EqualValues(t, 10, st.Sent)
	require.EqualValues(t, 12, st.Received)
	mu.Lock()
	require.Len(t, got, 12)
	mu.Unlock()
}
