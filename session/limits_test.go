package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws"
	"github.com/wsactor/ws/reconnect"
	"github.com/wsactor/ws/session"
)

// TestDetachedLimits: a detached session is kept for the detached timeout
// and no longer; past the count limit the one detached the longest ago is
// evicted. Either way the handler sees ErrExpired and the client's resume
// gets CodeUnknown, while a session within the limits resumes.
func TestDetachedLimits(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		reg := &registry{}
		srv := newSessionServer(t, reg.fn, session.WithKey(userKey), session.WithDetachedTimeout(20*time.Millisecond))
		ts := listen(t, srv)
		c, w := newRaw(t, ts.url(), "alice")
		s := reg.detached(t, c, w.id)
		<-s.Done()
		assert.ErrorIs(t, s.Err(), session.ErrExpired)
		_, code := exchange(t, rawDial(t, ts.url(), "alice"), helloFrame(w.id, w.epoch, 0))
		assert.Equal(t, session.CodeUnknown, code)
		assert.Zero(t, srv.Len())
	})
	t.Run("count", func(t *testing.T) {
		reg := &registry{}
		srv := newSessionServer(t, reg.fn, session.WithKey(userKey), session.WithMaxDetached(1, 1<<20))
		ts := listen(t, srv)
		c1, w1 := newRaw(t, ts.url(), "alice")
		c2, w2 := newRaw(t, ts.url(), "alice")
		s1 := reg.detached(t, c1, w1.id)
		reg.detached(t, c2, w2.id)
		<-s1.Done()
		assert.ErrorIs(t, s1.Err(), session.ErrExpired)
		_, code := exchange(t, rawDial(t, ts.url(), "alice"), helloFrame(w1.id, w1.epoch, 0))
		assert.Equal(t, session.CodeUnknown, code)
		m, code := exchange(t, rawDial(t, ts.url(), "alice"), helloFrame(w2.id, w2.epoch, 0))
		require.Zero(t, code)
		assert.True(t, parseWelcome(t, m).resumed)
	})
	t.Run("bytes", func(t *testing.T) {
		ready := make(chan *session.Session, 1)
		srv := newSessionServer(t, func(ctx context.Context, s *session.Session) {
			ready <- s
			<-ctx.Done()
		}, session.WithMaxDetached(10, 100), session.WithOverflow(session.OverflowBlock))
		ts := listen(t, srv)
		c, _ := newRaw(t, ts.url(), "")
		s := <-ready
		_ = c.CloseNow()
		for s.Connected() {
			time.Sleep(time.Millisecond)
		}
		require.NoError(t, s.Send(context.Background(), ws.Binary(make([]byte, 60))))
		err := s.Send(context.Background(), ws.Binary(make([]byte, 60))) // 120 > 100: evicted
		<-s.Done()
		assert.ErrorIs(t, s.Err(), session.ErrExpired)
		assert.True(t, err == nil || errors.Is(err, session.ErrExpired), "%v", err)
		assert.Zero(t, srv.Len())
	})
}

// TestClientClose: closing the reconnect client ends its session on the
// server (no detached session left waiting), after the messages it had
// queued were delivered.
func TestClientClose(t *testing.T) {
	rec := &recorder{}
	ended := make(chan error, 1)
	srv := newSessionServer(t, func(ctx context.Context, s *session.Session) {
		for m := range s.Incoming() {
			rec.add(string(m.Data))
		}
		<-s.Done()
		ended <- s.Err()
	})
	ts := listen(t, srv)
	sc, err := session.NewClient()
	require.NoError(t, err)
	c, err := reconnect.New(ts.url(), reconnect.WithLayer(sc), fastRetry())
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	require.NoError(t, c.Send(context.Background(), ws.Text("c1"))) // connected
	for _, m := range seq("c", 2, 20) {
		c.Outgoing() <- ws.Text(m)
	}
	require.NoError(t, c.Close(context.Background()))
	assert.ErrorIs(t, <-done, reconnect.ErrClosed)
	assert.ErrorIs(t, <-ended, session.ErrEnded)
	assert.Equal(t, seq("c", 1, 20), rec.until(t, 20))
	for srv.Len() != 0 {
		time.Sleep(time.Millisecond)
	}
}

// TestNotNegotiated: against a server that does not speak the session
// protocol the client gives up at once with ErrNotNegotiated instead of
// retrying for ever.
func TestNotNegotiated(t *testing.T) {
	plain := ws.Handler(func(ctx context.Context, c *ws.Conn) { <-ctx.Done() })
	ts := listen(t, plain)
	t.Cleanup(func() { _ = plain.Shutdown(context.Background()) })
	sc, err := session.NewClient()
	require.NoError(t, err)
	c, err := reconnect.New(ts.url(), reconnect.WithLayer(sc), fastRetry())
	require.NoError(t, err)
	err = c.Run(context.Background())
	assert.ErrorIs(t, err, session.ErrNotNegotiated)
	assert.EqualValues(t, 1, c.Stats().Attempts)
}

// TestOptions: invalid options are errors of NewServer and NewClient.
func TestOptions(t *testing.T) {
	fn := func(context.Context, *session.Session) {}
	for _, tc := range []struct {
		name string
		opt  session.Option
	}{
		{"replay limit", session.WithReplayLimit(0, 10)},
		{"ack delay", session.WithAckDelay(0)},
		{"handshake", session.WithHandshakeTimeout(-1)},
		{"detached timeout", session.WithDetachedTimeout(0)},
		{"max detached", session.WithMaxDetached(-1, 0)},
		{"overflow", session.WithOverflow(7)},
		{"flush", session.WithFlushTimeout(0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := session.NewServer(fn, tc.opt)
			assert.Error(t, err)
			_, err = session.NewClient(tc.opt)
			assert.Error(t, err)
		})
	}
	_, err := session.NewServer(nil)
	assert.Error(t, err)
}
