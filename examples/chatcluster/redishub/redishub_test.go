package redishub_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wsactor/ws/examples/chatcluster/internal/redistest"
	"github.com/wsactor/ws/examples/chatcluster/redishub"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestHubBeforeRedis: a node may start before its Redis. Until Redis is
// there the hub says it is down and refuses lines with ErrUnavailable;
// once Redis is up it subscribes by itself. Close stops every goroutine.
func TestHubBeforeRedis(t *testing.T) {
	rs := redistest.Start(t)
	rs.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, MaxRetries: 1})
	defer rdb.Close()
	hub := redishub.New(rdb, redishub.Options{Node: "n1"})
	require.Equal(t, "n1", hub.Node())
	require.False(t, hub.Up())
	require.ErrorIs(t, hub.Publish(ctx, "lobby", "x: hi"), redishub.ErrUnavailable)

	rs.Restart()
	for !hub.Up() {
		select {
		case <-ctx.Done():
			t.Fatal("the hub never subscribed")
		case <-time.After(20 * time.Millisecond):
		}
	}
	require.NoError(t, hub.Publish(ctx, "lobby", "x: hi"))
	names, err := hub.Members(ctx, "lobby")
	require.NoError(t, err)
	require.Empty(t, names)
	require.NoError(t, hub.Close(ctx))
	require.NoError(t, hub.Close(ctx), "Close twice")
}
