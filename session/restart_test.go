package session_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws"
	"github.com/wsactor/ws/session"
)

// recorder collects what one side received, and signals when it has n.
type recorder struct {
	mu   sync.Mutex
	got  []string
	wait map[int]chan struct{}
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, s)
	if ch, ok := r.wait[len(r.got)]; ok {
		close(ch)
		delete(r.wait, len(r.got))
	}
}

// until waits until n messages were received (failing after a minute).
func (r *recorder) until(t *testing.T, n int) []string {
	t.Helper()
	r.mu.Lock()
	if len(r.got) < n {
		if r.wait == nil {
			r.wait = map[int]chan struct{}{}
		}
		ch, ok := r.wait[n]
		if !ok {
			ch = make(chan struct{})
			r.wait[n] = ch
		}
		r.mu.Unlock()
		select {
		case <-ch:
		case <-time.After(time.Minute):
			t.Fatalf("gave up waiting for message %d", n)
		}
		r.mu.Lock()
	}
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// streamer is a session handler that sends prefix1..prefixN and records
// what it receives.
func streamer(prefix string, n int, rec *recorder) func(context.Context, *session.Session) {
	return func(ctx context.Context, s *session.Session) {
		go func() {
			for i := 1; i <= n; i++ {
				if s.Send(ctx, ws.Text(prefix+strconv.Itoa(i))) != nil {
					return
				}
			}
		}()
		for m := range s.Incoming() {
			rec.add(string(m.Data))
		}
	}
}

func seq(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, prefix+strconv.Itoa(i))
	}
	return out
}

// TestServerRestart: the server process goes away with its sessions — a
// crash, or a Shutdown — and a new one, with an empty session store,
// comes up on the same address. The client is told its session is gone
// (OnLost with ErrUnknown after a crash, ErrEnded after a Shutdown, which
// said so), the resync hook runs once, a new session starts, and nothing
// is delivered twice on either side.
func TestServerRestart(t *testing.T) {
	for _, tc := range []struct {
		name     string
		shutdown bool
		want     error
	}{
		{"crash", false, session.ErrUnknown},
		{"shutdown", true, session.ErrEnded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			atA, atB, atC := &recorder{}, &recorder{}, &recorder{}
			srvA, err := session.NewServer(streamer("a", 5, atA))
			require.NoError(t, err)
			ts := listen(t, srvA)

			lost := make(chan *session.LostError, 10)
			c, sc := newClient(t, ts.url(), []session.Option{session.OnLost(func(l *session.LostError) { lost <- l })})
			go func() {
				for m := range c.Incoming() {
					atC.add(string(m.Data))
				}
			}()
			for _, m := range seq("c", 1, 3) {
				require.NoError(t, c.Send(context.Background(), ws.Text(m)))
			}
			assert.Equal(t, seq("c", 1, 3), atA.until(t, 3))
			assert.Equal(t, seq("a", 1, 5), atC.until(t, 5))
			first := sc.ID()
			require.NotEmpty(t, first)

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if tc.shutdown {
				require.NoError(t, srvA.Shutdown(ctx))
			}
			ts.crash()
			srvB := newSessionServer(t, streamer("b", 3, atB))
			ts.restart(srvB)
			if !tc.shutdown {
				require.NoError(t, srvA.Shutdown(ctx)) // the old process's goroutines
			}

			select {
			case l := <-lost:
				assert.ErrorIs(t, l, tc.want)
				assert.Equal(t, first, l.ID)
				var le *session.LostError
				assert.True(t, errors.As(l, &le))
			case <-time.After(time.Minute):
				t.Fatal("no OnLost")
			}
			for _, m := range seq("c", 4, 6) {
				require.NoError(t, c.Send(context.Background(), ws.Text(m)))
			}
			assert.Equal(t, seq("c", 4, 6), atB.until(t, 3))
			assert.Equal(t, append(seq("a", 1, 5), seq("b", 1, 3)...), atC.until(t, 8))
			assert.NotEqual(t, first, sc.ID())
			assert.EqualValues(t, 1, sc.Stats().Lost)
			assert.Empty(t, lost, "the hook ran once")
		})
	}
}

// TestOverflow: the server's session sends more than its replay buffer
// holds while the client is away (the server is unreachable). OverflowEnd
// ends the session — Send returns ErrOverflow, the handler's ctx ends —
// and the client's resume is refused with CodeOverflow, reported by
// OnLost. OverflowBlock holds the sender until the client is back, then
// everything arrives, once, in order.
func TestOverflow(t *testing.T) {
	const limit, total = 4, 10
	for _, tc := range []struct {
		name   string
		policy session.Overflow
	}{
		{"end", session.OverflowEnd},
		{"block", session.OverflowBlock},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				ready   = make(chan *session.Session, 1)
				goAhead = make(chan struct{})
				sendErr = make(chan error, 1)
				atC     = &recorder{}
			)
			srv := newSessionServer(t, func(ctx context.Context, s *session.Session) {
				<-s.Incoming() // the client's hello message
				ready <- s
				<-goAhead
				for i := 1; i <= total; i++ {
					if err := s.Send(ctx, ws.Text("m"+strconv.Itoa(i))); err != nil {
						sendErr <- err
						return
					}
				}
				sendErr <- nil
				<-ctx.Done()
			}, session.WithReplayLimit(limit, 1<<20), session.WithOverflow(tc.policy))
			ts := listen(t, srv)
			lost := make(chan *session.LostError, 10)
			c, _ := newClient(t, ts.url(), []session.Option{session.OnLost(func(l *session.LostError) { lost <- l })})
			go func() {
				for m := range c.Incoming() {
					atC.add(string(m.Data))
				}
			}()
			require.NoError(t, c.Send(context.Background(), ws.Text("hi")))
			s := <-ready

			ts.crash() // a long outage: the client cannot come back yet
			for s.Connected() {
				time.Sleep(time.Millisecond)
			}
			close(goAhead)
			if tc.policy == session.OverflowEnd {
				err := <-sendErr
				assert.ErrorIs(t, err, session.ErrOverflow)
				<-s.Done()
				assert.ErrorIs(t, s.Err(), session.ErrOverflow)
				ts.restart(srv)
				l := <-lost
				assert.ErrorIs(t, l, session.ErrOverflow)
				assert.Equal(t, session.CodeOverflow, l.Code)
				assert.Empty(t, atC.until(t, 0), "nothing of the overflowed session arrives")
				return
			}
			select {
			case err := <-sendErr:
				t.Fatalf("Send returned %v while the client was away", err)
			case <-time.After(50 * time.Millisecond): // Send is blocked: that is the policy
			}
			ts.restart(srv)
			require.NoError(t, <-sendErr)
			assert.Equal(t, seq("m", 1, total), atC.until(t, total))
			assert.Empty(t, lost)
		})
	}
}
