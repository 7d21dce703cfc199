package reconnect

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Default backoff parameters (FullJitter and DecorrelatedJitter zero values).
const (
	// DefaultInitialInterval caps the first delay: FullJitter's first delay
	// is uniform in [0, 1 s).
	DefaultInitialInterval = time.Second
	// DefaultMaxInterval caps every delay.
	DefaultMaxInterval = 30 * time.Second
	// DefaultMultiplier is FullJitter's growth of the cap per attempt.
	DefaultMultiplier = 2.0
)

// FullJitter is a backoff.BackOff whose n-th delay (n from 0) is drawn
// uniformly from [0, min(Max, Initial·Multiplier^n)): "full jitter" from
// the AWS architecture note "Exponential Backoff and Jitter". Unlike
// backoff.ExponentialBackOff's RandomizationFactor (±50 % around the
// interval), full jitter spreads a crowd of clients that failed at the
// same instant over the whole window, so a restarted server sees a flat
// arrival rate rather than waves.
//
// The zero value uses DefaultInitialInterval, DefaultMaxInterval and
// DefaultMultiplier and the math/rand/v2 global source. It never returns
// backoff.Stop: limits are the Client's (WithMaxAttempts,
// WithMaxElapsedTime) or a wrapper's (backoff.WithMaxRetries). A FullJitter
// is not safe for concurrent use; give each Client its own.
type FullJitter struct {
	Initial    time.Duration // cap of the first delay; zero means DefaultInitialInterval
	Max        time.Duration // cap of every delay; zero means DefaultMaxInterval
	Multiplier float64       // growth of the cap per attempt, >= 1; zero means DefaultMultiplier
	// Rand, if not nil, is the source of randomness (tests seed it); nil
	// means the math/rand/v2 global source.
	Rand *rand.Rand

	n int // delays handed out since Reset
}

// NextBackOff returns the next delay. It implements backoff.BackOff.
func (b *FullJitter) NextBackOff() time.Duration {
	initial, max := orDuration(b.Initial, DefaultInitialInterval), orDuration(b.Max, DefaultMaxInterval)
	mult := b.Multiplier
	if mult < 1 {
		mult = DefaultMultiplier
	}
	limit := float64(initial) * math.Pow(mult, float64(b.n))
	if limit > float64(max) || math.IsInf(limit, 0) || math.IsNaN(limit) {
		limit = float64(max)
	} else {
		b.n++ // stop counting once capped, so the exponent cannot overflow
	}
	return time.Duration(float64Of(b.Rand) * limit)
}

// Reset starts again from the first delay. It implements backoff.BackOff.
func (b *FullJitter) Reset() { b.n = 0 }

// DecorrelatedJitter is a backoff.BackOff whose delay is drawn uniformly
// from [Base, 3·previous), capped at Max, starting from previous = Base
// ("decorrelated jitter", same AWS note). Each client's sequence wanders
// on its own, which keeps a crowd decorrelated even after many attempts;
// its delays never fall below Base, so it suits servers that need a
// minimum breathing time.
//
// The zero value uses DefaultInitialInterval as Base and
// DefaultMaxInterval as Max, and the math/rand/v2 global source. It never
// returns backoff.Stop and is not safe for concurrent use.
type DecorrelatedJitter struct {
	Base time.Duration // smallest delay; zero means DefaultInitialInterval
	Max  time.Duration // cap of every delay; zero means DefaultMaxInterval
	// Rand, if not nil, is the source of randomness; nil means the
	// math/rand/v2 global source.
	Rand *rand.Rand

	prev time.Duration // previous delay; zero after Reset
}

// NextBackOff returns the next delay. It implements backoff.BackOff.
func (b *DecorrelatedJitter) NextBackOff() time.Duration {
	base, max := orDuration(b.Base, DefaultInitialInterval), orDuration(b.Max, DefaultMaxInterval)
	if base > max {
		base = max
	}
	prev := b.prev
	if prev < base {
		prev = base
	}
	hi := 3 * float64(prev)
	d := time.Duration(float64(base) + float64Of(b.Rand)*(hi-float64(base)))
	if d > max || d < 0 {
		d = max
	}
	b.prev = d
	return d
}

// Reset starts again from Base. It implements backoff.BackOff.
func (b *DecorrelatedJitter) Reset() { b.prev = 0 }

var (
	_ backoff.BackOff = (*FullJitter)(nil)
	_ backoff.BackOff = (*DecorrelatedJitter)(nil)
)

func orDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func float64Of(r *rand.Rand) float64 {
	if r != nil {
		return r.Float64()
	}
	return rand.Float64()
}
