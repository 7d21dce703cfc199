package reconnect_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws"
	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/handshake"
	"github.com/wsactor/ws/reconnect"
)

// refuseWith makes srv answer every handshake with status and header.
func refuseWith(srv *server, status int, header http.Header) {
	srv.refuse = func(w http.ResponseWriter, _ *http.Request) bool {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		return true
	}
}

func TestHTTPClassification(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		retry  bool
	}{
		{"RFC 9110 15.5.2/401 stops", http.StatusUnauthorized, false},
		{"RFC 9110 15.5.4/403 stops", http.StatusForbidden, false},
		{"RFC 9110 15.5.5/404 stops", http.StatusNotFound, false},
		{"RFC 9110 15.5.9/408 retries", http.StatusRequestTimeout, true},
		{"RFC 6585 4/429 retries", http.StatusTooManyRequests, true},
		{"RFC 9110 15.6.1/500 retries", http.StatusInternalServerError, true},
		{"RFC 9110 15.6.3/502 retries", http.StatusBadGateway, true},
		{"RFC 9110 15.6.4/503 retries", http.StatusServiceUnavailable, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, nil)
			refuseWith(srv, tc.status, nil)
			c, err := reconnect.New(srv.url(), fastBackoff(), reconnect.WithEventBuffer(1024))
			require.NoError(t, err)
			wait := start(t, context.Background(), c)
			ev := &recorder{t: t, ch: c.Events()}
			if tc.retry {
				r := ev.until(is[reconnect.Retrying]).(reconnect.Retrying)
				require.Equal(t, 2, r.Attempt)
				ev.until(func(e reconnect.Event) bool { c, ok := e.(reconnect.Connecting); return ok && c.Attempt == 3 })
				require.NoError(t, c.Close(context.Background()))
				require.ErrorIs(t, wait(), reconnect.ErrClosed)
				return
			}
			g := ev.until(is[reconnect.GaveUp]).(reconnect.GaveUp)
			err = wait()
			require.Equal(t, g.Err, err)
			var rej *handshake.RejectError
			require.ErrorAs(t, err, &rej)
			require.Equal(t, tc.status, rej.Status)
			require.Equal(t, []string{"Connecting", "GaveUp"}, kinds(ev.rest()))
		})
	}
}

func TestRetryAfter(t *testing.T) {
	jitter := 5 * time.Millisecond // fastBackoff's first cap
	for _, tc := range []struct {
		name     string
		status   int
		value    string
		opts     []reconnect.Option
		min, max time.Duration
	}{
		{"RFC 9110 10.2.3/503 delay-seconds", 503, "1", nil, time.Second, time.Second + jitter},
		{"RFC 9110 10.2.3/429 HTTP-date", 429, time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat), nil, time.Second, 3*time.Second + jitter},
		{"RFC 9110 10.2.3/capped by WithMaxRetryAfter", 503, "3600", []reconnect.Option{reconnect.WithMaxRetryAfter(2 * time.Second)}, 2 * time.Second, 2*time.Second + jitter},
		{"RFC 9110 10.2.3/malformed is ignored", 503, "soon", nil, 0, jitter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, nil)
			refuseWith(srv, tc.status, http.Header{"Retry-After": {tc.value}})
			c, err := reconnect.New(srv.url(), append([]reconnect.Option{fastBackoff()}, tc.opts...)...)
			require.NoError(t, err)
			wait := start(t, context.Background(), c)
			ev := &recorder{t: t, ch: c.Events()}
			r := ev.until(is[reconnect.Retrying]).(reconnect.Retrying)
			require.GreaterOrEqual(t, r.In, tc.min)
			require.Less(t, r.In, tc.max)
			var rej *handshake.RejectError
			require.ErrorAs(t, r.Err, &rej)
			require.Equal(t, tc.status, rej.Status)
			require.NoError(t, c.Close(context.Background())) // does not wait out the delay
			require.ErrorIs(t, wait(), reconnect.ErrClosed)
		})
	}
}

func TestCloseCodeClassification(t *testing.T) {
	for _, tc := range []struct {
		name  string
		code  frame.StatusCode
		retry bool
	}{
		{"RFC 6455 7.4.1/1000 normal closure by the server retries", frame.StatusNormalClosure, true},
		{"RFC 6455 7.4.1/1001 going away retries", frame.StatusGoingAway, true},
		{"RFC 6455 7.4.1/1008 policy violation stops", frame.StatusPolicyViolation, false},
		{"RFC 6455 7.4.1/1011 internal error retries", frame.StatusInternalError, true},
		{"IANA/1012 service restart retries", frame.StatusServiceRestart, true},
		{"IANA/1013 try again later retries", frame.StatusTryAgainLater, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(ctx context.Context, conn *actor.Conn, _ *http.Request) {
				_ = conn.Close(ctx, tc.code, "test")
			})
			c, err := reconnect.New(srv.url(), fastBackoff(), reconnect.WithEventBuffer(1024))
			require.NoError(t, err)
			wait := start(t, context.Background(), c)
			ev := &recorder{t: t, ch: c.Events()}
			d := ev.until(is[reconnect.Disconnected]).(reconnect.Disconnected)
			var ce *actor.CloseError
			require.ErrorAs(t, d.Err, &ce)
			require.Equal(t, tc.code, ce.Code)
			if tc.retry {
				ev.until(is[reconnect.Connected])
				require.NoError(t, c.Close(context.Background()))
				require.ErrorIs(t, wait(), reconnect.ErrClosed)
				return
			}
			ev.until(is[reconnect.GaveUp])
			require.ErrorAs(t, wait(), &ce)
			require.Equal(t, frame.StatusPolicyViolation, ce.Code)
		})
	}
}

// TestGiveUp covers every way of giving up; Run returns the cause.
func TestGiveUp(t *testing.T) {
	down := newServer(t, nil)
	down.kill() // nothing listens: connection refused
	for _, tc := range []struct {
		name     string
		opts     []reconnect.Option
		attempts int // exactly; negative: at most -attempts
	}{
		{"max attempts", []reconnect.Option{fastBackoff(), reconnect.WithMaxAttempts(3)}, 3},
		{"backoff.WithMaxRetries returns Stop", []reconnect.Option{reconnect.WithBackoff(
			backoff.WithMaxRetries(&reconnect.FullJitter{Initial: time.Millisecond, Max: 5 * time.Millisecond}, 2))}, 3},
		// The outage limit counts the delay it would wait next: a first
		// delay beyond it gives up after one attempt, however fast the
		// machine.
		{"max elapsed time, first delay beyond it", []reconnect.Option{reconnect.WithBackoff(backoff.NewConstantBackOff(100 * time.Millisecond)),
			reconnect.WithMaxElapsedTime(50 * time.Millisecond)}, 1},
		// With delays shorter than the limit it gives up only because the
		// outage's time adds up: at most 3 attempts (at 0, 20 and 40 ms),
		// fewer when refused dials are slow (a loaded machine, -race).
		{"max elapsed time, accumulated", []reconnect.Option{reconnect.WithBackoff(backoff.NewConstantBackOff(20 * time.Millisecond)),
			reconnect.WithMaxElapsedTime(50 * time.Millisecond)}, -3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := reconnect.New(down.url(), append(tc.opts, reconnect.WithEventBuffer(1024))...)
			require.NoError(t, err)
			wait := start(t, context.Background(), c)
			err = wait()
			require.ErrorIs(t, err, syscall.ECONNREFUSED)
			evs := (&recorder{t: t, ch: c.Events()}).rest()
			require.Equal(t, reconnect.GaveUp{Err: err}, evs[len(evs)-1])
			n := 0
			for _, e := range evs {
				if is[reconnect.Connecting](e) {
					n++
				}
			}
			require.EqualValues(t, n, c.Stats().Attempts)
			if tc.attempts < 0 { // at most -attempts, and the outage limit was the cause
				require.LessOrEqual(t, n, -tc.attempts, describe(evs))
				require.ErrorContains(t, err, "gave up after 50ms")
				return
			}
			require.Equal(t, tc.attempts, n, describe(evs))
		})
	}
}

// TestNoResetOnShortConnections: a server that accepts and closes at once
// must not reset the backoff, so attempts keep counting up (and the
// delays keep growing); a connection that lived WithResetAfter resets them.
func TestNoResetOnShortConnections(t *testing.T) {
	srv := newServer(t, func(ctx context.Context, conn *actor.Conn, _ *http.Request) {
		_ = conn.Close(ctx, frame.StatusInternalError, "crash")
	})
	t.Run("short connections accumulate attempts", func(t *testing.T) {
		c, err := reconnect.New(srv.url(), fastBackoff(), reconnect.WithMaxAttempts(4),
			reconnect.WithResetAfter(time.Hour), reconnect.WithEventBuffer(1024))
		require.NoError(t, err)
		err = start(t, context.Background(), c)()
		var ce *actor.CloseError
		require.ErrorAs(t, err, &ce)
		var connected []int
		for _, e := range (&recorder{t: t, ch: c.Events()}).rest() {
			if cd, ok := e.(reconnect.Connected); ok {
				connected = append(connected, cd.Attempt)
			}
		}
		require.Equal(t, []int{1, 2, 3, 4}, connected)
	})
	t.Run("long enough connections reset", func(t *testing.T) {
		c, err := reconnect.New(srv.url(), fastBackoff(), reconnect.WithResetAfter(0), reconnect.WithEventBuffer(1024))
		require.NoError(t, err)
		wait := start(t, context.Background(), c)
		ev := &recorder{t: t, ch: c.Events()}
		for range 3 {
			cd := ev.until(is[reconnect.Connected]).(reconnect.Connected)
			require.Equal(t, 1, cd.Attempt)
		}
		require.NoError(t, c.Close(context.Background()))
		require.ErrorIs(t, wait(), reconnect.ErrClosed)
	})
}

func TestOnConnectAndHeader(t *testing.T) {
	var (
		mu    sync.Mutex
		auths []string
	)
	srv := newServer(t, nil)
	srv.refuse = func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		return false
	}
	token := 0
	calls := 0
	c, err := reconnect.New(srv.url(), fastBackoff(), reconnect.WithEventBuffer(1024),
		reconnect.WithHeader(func(context.Context) (http.Header, error) {
			token++
			return http.Header{"Authorization": {"Bearer " + strconv.Itoa(token)}}, nil
		}),
		reconnect.OnConnect(func(ctx context.Context, conn *ws.Conn) error {
			calls++
			switch calls {
			case 1:
				return errTest // a failed attempt, retried
			case 2:
				return nil
			default:
				return backoff.Permanent(errTest) // gives up
			}
		}))
	require.NoError(t, err)
	wait := start(t, context.Background(), c)
	ev := &recorder{t: t, ch: c.Events()}
	r := ev.until(is[reconnect.Retrying]).(reconnect.Retrying)
	require.ErrorIs(t, r.Err, errTest)
	cd := ev.until(is[reconnect.Connected]).(reconnect.Connected)
	require.Equal(t, 2, cd.Attempt)
	srv.kill()
	srv.start()
	ev.until(is[reconnect.GaveUp])
	err = wait()
	require.ErrorIs(t, err, errTest)
	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, len(auths), 3)
	require.Equal(t, []string{"Bearer 1", "Bearer 2"}, auths[:2])
	require.Equal(t, "Bearer "+strconv.Itoa(token), auths[len(auths)-1]) // a fresh token per dial
}

// TestRunEnds: cancelling Run's ctx returns promptly in every state, with
// no goroutine left (goleak checks at the end of the package).
func TestRunEnds(t *testing.T) {
	t.Run("connected", func(t *testing.T) {
		srv := newServer(t, nil)
		c, err := reconnect.New(srv.url())
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		wait := start(t, ctx, c)
		ev := &recorder{t: t, ch: c.Events()}
		ev.until(is[reconnect.Connected])
		cancel()
		require.ErrorIs(t, wait(), context.Canceled)
		_, open := <-c.Incoming()
		require.False(t, open)
	})
	t.Run("waiting", func(t *testing.T) {
		down := newServer(t, nil)
		down.kill()
		c, err := reconnect.New(down.url(), reconnect.WithBackoff(&reconnect.FullJitter{Initial: time.Hour, Max: time.Hour}))
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		wait := start(t, ctx, c)
		ev := &recorder{t: t, ch: c.Events()}
		ev.until(is[reconnect.Retrying])
		cancel()
		require.ErrorIs(t, wait(), context.Canceled)
	})
	t.Run("dialling a server that never answers", func(t *testing.T) {
		p := newProxy(t, newServer(t, nil).addr)
		c, err := reconnect.New(p.url())
		require.NoError(t, err)
		p.mu.Lock()
		ctx, cancel := context.WithCancel(context.Background())
		wait := start(t, ctx, c)
		ev := &recorder{t: t, ch: c.Events()}
		ev.until(is[reconnect.Connecting])
		cancel()
		p.mu.Unlock()
		require.ErrorIs(t, wait(), context.Canceled)
	})
	t.Run("close before run", func(t *testing.T) {
		c, err := reconnect.New("ws://127.0.0.1:1/")
		require.NoError(t, err)
		require.NoError(t, c.Close(context.Background()))
		require.ErrorIs(t, c.Run(context.Background()), reconnect.ErrClosed)
		require.ErrorIs(t, c.Send(context.Background(), ws.Text("x")), reconnect.ErrClosed)
		<-c.Done()
	})
	t.Run("run twice", func(t *testing.T) {
		c, err := reconnect.New("ws://127.0.0.1:1/", reconnect.WithBackoff(&reconnect.FullJitter{Initial: time.Hour}))
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		wait := start(t, ctx, c)
		ev := &recorder{t: t, ch: c.Events()}
		ev.until(is[reconnect.Retrying])
		require.ErrorIs(t, c.Run(ctx), reconnect.ErrRunTwice)
		cancel()
		require.True(t, errors.Is(wait(), context.Canceled))
	})
}
