package session_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws"
	"github.com/wsactor/ws/reconnect"
	"github.com/wsactor/ws/session"
)

// benchPair is a reconnect client and its server on loopback, with or
// without sessions. The server echoes (echo) or counts what it receives.
func benchPair(b *testing.B, withSession, echo bool, count *atomic.Int64) (*reconnect.Client, *testServer) {
	b.Helper()
	handle := func(ctx context.Context, in <-chan ws.Message, send func(context.Context, ws.Message) error) {
		for m := range in {
			count.Add(1)
			if echo && send(ctx, m) != nil {
				return
			}
		}
	}
	var h http.Handler
	var shutdown func(context.Context) error
	if withSession {
		srv, err := session.NewServer(func(ctx context.Context, s *session.Session) { handle(ctx, s.Incoming(), s.Send) })
		require.NoError(b, err)
		h, shutdown = srv, srv.Shutdown
	} else {
		srv := ws.Handler(func(ctx context.Context, c *ws.Conn) { handle(ctx, c.Incoming(), c.Send) })
		h, shutdown = srv, srv.Shutdown
	}
	ts := listen(b, h)
	opts := []reconnect.Option{fastRetry(), reconnect.WithOutgoingBuffer(1024)}
	if withSession {
		sc, err := session.NewClient()
		require.NoError(b, err)
		opts = append(opts, reconnect.WithLayer(sc))
	}
	c, err := reconnect.New(ts.url(), opts...)
	require.NoError(b, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(context.Background()) }()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Close(ctx)
		<-done
		_ = shutdown(ctx)
		ts.crash()
	})
	require.NoError(b, c.Send(context.Background(), ws.Binary(make([]byte, 1)))) // connected
	for count.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	if echo {
		<-c.Incoming()
	}
	return c, ts
}

var modes = []struct {
	name    string
	session bool
}{{"plain", false}, {"session", true}}

// BenchmarkThroughput: one client sends 64-byte messages as fast as the
// server takes them; wire-B/msg is what crossed the server's socket per
// message, both ways (frames, acks), so its difference between the modes
// is the sessions' overhead.
func BenchmarkThroughput(b *testing.B) {
	for _, mode := range modes {
		b.Run(mode.name, func(b *testing.B) {
			var count atomic.Int64
			c, ts := benchPair(b, mode.session, false, &count)
			payload := make([]byte, 64)
			base, bytes0 := count.Load(), ts.bytes.Load()
			b.ResetTimer()
			for range b.N {
				c.Outgoing() <- ws.Binary(payload)
			}
			for count.Load() < base+int64(b.N) {
				time.Sleep(100 * time.Microsecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(ts.bytes.Load()-bytes0)/float64(b.N), "wire-B/msg")
		})
	}
}

// BenchmarkLatency: the round trip of one 64-byte message echoed by the
// server, one at a time.
func BenchmarkLatency(b *testing.B) {
	for _, mode := range modes {
		b.Run(mode.name, func(b *testing.B) {
			var count atomic.Int64
			c, ts := benchPair(b, mode.session, true, &count)
			payload := make([]byte, 64)
			bytes0 := ts.bytes.Load()
			b.ResetTimer()
			for range b.N {
				c.Outgoing() <- ws.Binary(payload)
				<-c.Incoming()
			}
			b.StopTimer()
			b.ReportMetric(float64(ts.bytes.Load()-bytes0)/float64(b.N), "wire-B/rt")
		})
	}
}
