package reconnect_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws"
	"github.com/wsactor/ws/reconnect"
)

// histogram counts delays in buckets of width from 0.
func histogram(delays []time.Duration, width time.Duration, buckets int) []int {
	h := make([]int, buckets)
	for _, d := range delays {
		i := int(d / width)
		if i >= buckets {
			i = buckets - 1
		}
		h[i]++
	}
	return h
}

// firstDelays runs n clients whose every dial is refused at once (a server
// that is down) and returns the first delay each one schedules. It uses
// WithDialFunc, so no socket is opened: only the clients' real code runs.
func firstDelays(t *testing.T, n int, b func(i int) backoff.BackOff) []time.Duration {
	t.Helper()
	refused := func(context.Context, string, ...ws.DialOption) (*ws.Conn, *http.Response, error) {
		return nil, nil, fmt.Errorf("dial: %w", syscall.ECONNREFUSED)
	}
	delays := make([]time.Duration, n)
	var wg sync.WaitGroup
	for i := range n {
		c, err := reconnect.New("ws://127.0.0.1:1/", reconnect.WithDialFunc(refused), reconnect.WithBackoff(b(i)))
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.Run(ctx)
		}()
		for ev := range c.Events() {
			if r, ok := ev.(reconnect.Retrying); ok {
				delays[i] = r.In
				cancel()
			}
		}
		cancel()
	}
	wg.Wait()
	return delays
}

// TestStampedeSpread: 1,000 clients lose their server at the same instant.
// With full jitter their first retries are uniform over [0, 1 s), so each
// 100 ms bucket expects 10 % of them. The test asserts no bucket holds more
// than 20 % nor less than 3 %. For a correct uniform jitter the chance that
// some bucket breaks this is, by the Chernoff bound P(X >= qn) <=
// exp(-n·D(q||p)) with D the binary relative entropy, at most
// 10·(exp(-1000·D(0.20||0.10)) + exp(-1000·D(0.03||0.10))) =
// 10·(e^-44.4 + e^-36.6) < 2e-15: the test cannot flake, and the seeded
// sources make it deterministic anyway. A backoff without jitter puts all
// 1,000 in one bucket and fails the same check, shown below.
func TestStampedeSpread(t *testing.T) {
	const n = 1000
	seeded := func(i int) *rand.Rand { return rand.New(rand.NewPCG(1, uint64(i))) }
	check := func(t *testing.T, name string, delays []time.Duration, lo, width time.Duration, buckets int, maxShare, minShare float64) bool {
		shifted := make([]time.Duration, len(delays))
		for i, d := range delays {
			shifted[i] = d - lo
		}
		h := histogram(shifted, width, buckets)
		peak, low := 0, n
		for _, c := range h {
			peak, low = max(peak, c), min(low, c)
		}
		t.Logf("%s: %d clients, first retry per %v from %v: %v (peak %.1f %%, expected %.1f %%)",
			name, n, width, lo, h, 100*float64(peak)/n, 100.0/float64(buckets))
		return float64(peak) <= maxShare*n && float64(low) >= minShare*n
	}

	full := firstDelays(t, n, func(i int) backoff.BackOff { return &reconnect.FullJitter{Rand: seeded(i)} })
	require.True(t, check(t, "full jitter", full, 0, 100*time.Millisecond, 10, 0.20, 0.03))

	// Decorrelated: uniform over [1 s, 3 s), 20 buckets of 5 % expected;
	// bound 12 %: 20·exp(-1000·D(0.12||0.05)) = 20·e^-37.7 < 1e-15.
	dec := firstDelays(t, n, func(i int) backoff.BackOff { return &reconnect.DecorrelatedJitter{Rand: seeded(i)} })
	require.True(t, check(t, "decorrelated jitter", dec, time.Second, 100*time.Millisecond, 20, 0.12, 0.01))

	// For comparison: backoff/v4's ExponentialBackOff (±50 % around 500 ms)
	// and a fixed delay, which the check rejects.
	exp := firstDelays(t, n, func(int) backoff.BackOff { return backoff.NewExponentialBackOff() })
	check(t, "backoff.ExponentialBackOff", exp, 0, 100*time.Millisecond, 10, 1, 0)
	fixed := firstDelays(t, n, func(int) backoff.BackOff { return backoff.NewConstantBackOff(500 * time.Millisecond) })
	require.False(t, check(t, "no jitter", fixed, 0, 100*time.Millisecond, 10, 0.20, 0.03))
}

// TestStampedeRealSockets: 200 clients connected to one server over
// loopback; the server is killed and started again. Every client reports
// Disconnected and then the delay of its first retry, which must spread
// over [0, 1 s): no 100 ms bucket above 25 % (expected 10 %; a false
// failure has probability at most 10·exp(-200·D(0.25||0.10)) = 10·e^-18.5
// < 1e-7, and the seeded sources make it deterministic). All 200 reconnect.
func TestStampedeRealSockets(t *testing.T) {
	const n = 200
	var (
		mu       sync.Mutex
		restart  time.Time
		arrivals []time.Duration
	)
	srv := newServer(t, nil)
	srv.refuse = func(http.ResponseWriter, *http.Request) bool {
		mu.Lock()
		if !restart.IsZero() {
			arrivals = append(arrivals, time.Since(restart))
		}
		mu.Unlock()
		return false
	}
	clients := make([]*reconnect.Client, n)
	recs := make([]*recorder, n)
	for i := range clients {
		c, err := reconnect.New(srv.url(), reconnect.WithResetAfter(0), reconnect.WithEventBuffer(256),
			reconnect.WithBackoff(&reconnect.FullJitter{Rand: rand.New(rand.NewPCG(2, uint64(i)))}))
		require.NoError(t, err)
		clients[i], recs[i] = c, &recorder{t: t, ch: c.Events()}
		start(t, context.Background(), c)
	}
	for _, r := range recs {
		r.until(is[reconnect.Connected])
	}
	srv.kill()
	mu.Lock()
	restart = time.Now()
	mu.Unlock()
	srv.start()
	delays := make([]time.Duration, n)
	for i, r := range recs {
		r.until(is[reconnect.Disconnected])
		delays[i] = r.until(is[reconnect.Retrying]).(reconnect.Retrying).In
	}
	for _, r := range recs {
		r.until(is[reconnect.Connected])
	}
	h := histogram(delays, 100*time.Millisecond, 10)
	peak := 0
	for _, c := range h {
		peak = max(peak, c)
	}
	mu.Lock()
	got := histogram(arrivals, 100*time.Millisecond, 12)
	mu.Unlock()
	t.Logf("200 real clients: scheduled first retry per 100 ms: %v (peak %d %%); handshakes arriving at the restarted server per 100 ms: %v",
		h, 100*peak/n, got)
	require.LessOrEqual(t, peak, n/4, strings.Repeat("#", peak))
	for _, c := range clients {
		require.NoError(t, c.Close(context.Background()))
	}
}
