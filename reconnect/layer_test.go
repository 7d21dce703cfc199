package reconnect_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws"
	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/reconnect"
)

// prefixLayer frames each message as "L:" + data. On its first connection
// it refuses the message "two" (ErrNotSent) and drops the connection, so
// the client must offer "two" again, first, on the next one.
type prefixLayer struct {
	attaches atomic.Int32
	flushes  atomic.Int32
}

func (l *prefixLayer) DialOptions() []ws.DialOption {
	return []ws.DialOption{ws.WithSubprotocols("prefix")}
}

func (l *prefixLayer) Attach(ctx context.Context, conn *ws.Conn) (reconnect.Link, error) {
	return &prefixLink{l: l, conn: conn, first: l.attaches.Add(1) == 1}, nil
}

type prefixLink struct {
	l     *prefixLayer
	conn  *ws.Conn
	first bool
}

func (p *prefixLink) Send(ctx context.Context, m ws.Message) error {
	if p.first && string(m.Data) == "two" {
		_ = p.conn.CloseNow()
		return reconnect.ErrNotSent
	}
	return p.conn.Send(ctx, ws.Text("L:"+string(m.Data)))
}

func (p *prefixLink) Receive(ctx context.Context) (ws.Message, error) {
	m, err := p.conn.Receive(ctx)
	if err != nil {
		return m, err
	}
	return ws.Text(strings.TrimPrefix(string(m.Data), "L:")), nil
}

func (p *prefixLink) Flush(context.Context) error {
	p.l.flushes.Add(1)
	return nil
}

// TestLayer: with WithLayer the wire carries the layer's framing, Incoming
// and Send the application's messages; a message the layer hands back
// with ErrNotSent is written first on the next connection (its Send
// returns nil then, nothing is reported lost); Close flushes the link.
func TestLayer(t *testing.T) {
	var (
		mu  sync.Mutex
		got []string
	)
	srv := newServer(t, func(ctx context.Context, conn *actor.Conn, _ *http.Request) {
		for m := range conn.Incoming() {
			mu.Lock()
			got = append(got, string(m.Data))
			mu.Unlock()
			if conn.Send(ctx, m) != nil {
				return
			}
		}
	})
	l := &prefixLayer{}
	c, err := reconnect.New(srv.url(), reconnect.WithLayer(l),
		reconnect.WithBackoff(&reconnect.FullJitter{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	for i, m := range []string{"one", "two", "three"} {
		require.NoError(t, c.Send(context.Background(), ws.Text(m)))
		if i == 0 { // its echo, before the layer drops the connection
			assert.Equal(t, "one", string((<-c.Incoming()).Data))
		}
	}
	for _, want := range []string{"two", "three"} {
		assert.Equal(t, want, string((<-c.Incoming()).Data))
	}
	require.NoError(t, c.Close(context.Background()))
	require.ErrorIs(t, <-done, reconnect.ErrClosed)
	mu.Lock()
	assert.Equal(t, []string{"L:one", "L:two", "L:three"}, got)
	mu.Unlock()
	assert.EqualValues(t, 2, l.attaches.Load())
	assert.EqualValues(t, 1, l.flushes.Load())
	assert.Zero(t, c.Stats().Dropped)
}
