package redishub_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/examples/chat/chatroom"
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

// TestHubResume: a client that joins with ?since= gets the stream's lines
// after it; one whose ID the stream does not hold, or that missed more
// than Replay lines, is told chatroom.MissedLine first and gets the
// latest lines.
func TestHubResume(t *testing.T) {
	rs := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	hub := redishub.New(rdb, redishub.Options{Node: "n1", Replay: 3, Quiet: true})
	defer hub.Close(ctx)
	h := chatroom.Handler(hub)
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Shutdown(context.Background())
	for !hub.Up() {
		select {
		case <-ctx.Done():
			t.Fatal("the hub never subscribed")
		case <-time.After(20 * time.Millisecond):
		}
	}
	for _, tc := range []struct {
		name  string
		since func(ids []string) string // of the room's five lines
		want  []string
	}{
		{"kept", func(ids []string) string { return ids[2] }, []string{"x: 3", "x: 4"}},
		{"latest", func(ids []string) string { return ids[4] }, nil},
		{"not kept", func([]string) string { return "1-0" }, []string{chatroom.MissedLine, "x: 2", "x: 3", "x: 4"}},
		{"more than Replay", func(ids []string) string { return ids[0] }, []string{chatroom.MissedLine, "x: 2", "x: 3", "x: 4"}},
		{"Replay exactly", func(ids []string) string { return ids[1] }, []string{"x: 2", "x: 3", "x: 4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			room := strings.ReplaceAll(tc.name, " ", "-")
			for i := range 5 {
				require.NoError(t, hub.Publish(ctx, room, fmt.Sprintf("x: %d", i)))
			}
			xs, err := rdb.XRange(ctx, "chat:room:"+room+":log", "-", "+").Result()
			require.NoError(t, err)
			require.Len(t, xs, 5)
			ids := make([]string, len(xs))
			for i, x := range xs {
				ids[i] = x.ID
			}
			c, _, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"?room="+room+"&name=y&since="+tc.since(ids))
			require.NoError(t, err)
			defer c.CloseNow()
			// Join writes the presence after it read the replay: once y
			// is listed, a marker published ends what was replayed.
			for {
				names, err := hub.Members(ctx, room)
				require.NoError(t, err)
				if len(names) == 1 {
					break
				}
				select {
				case <-ctx.Done():
					t.Fatal("y never joined")
				case <-time.After(5 * time.Millisecond):
				}
			}
			require.NoError(t, hub.Publish(ctx, room, "x: end "+tc.name))
			var got []string
			for msg := range c.Incoming() {
				_, text := chatroom.SplitID(string(msg.Data))
				if _, list := chatroom.ParseMembers(text); list {
					continue
				}
				if text == "x: end "+tc.name {
					break
				}
				got = append(got, text)
			}
			require.Equal(t, tc.want, got)
		})
	}
}
