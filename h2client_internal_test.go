//go:build !js

package ws

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/wsactor/ws/handshake"
)

// TestH2Remembered: the pool's memory of servers without RFC 8441 forgets
// a server after h2ForgetAfter, holds at most h2Remembered of them
// (expired ones go first, then the oldest); noting a server again renews
// it.
func TestH2Remembered(t *testing.T) {
	key := func(i int) h2Key { return h2Key{addr: fmt.Sprintf("host%d:443", i)} }
	for _, tc := range []struct {
		name string
		run  func(p *h2Pool, clock *time.Time)
		want map[int]bool // key index → remembered at the end
	}{
		{"fresh", func(p *h2Pool, _ *time.Time) { p.rememberLocked(key(1)) }, map[int]bool{1: true, 2: false}},
		{"expired", func(p *h2Pool, clock *time.Time) {
			p.rememberLocked(key(1))
			*clock = clock.Add(h2ForgetAfter)
		}, map[int]bool{1: false}},
		{"renewed", func(p *h2Pool, clock *time.Time) {
			p.rememberLocked(key(1))
			*clock = clock.Add(h2ForgetAfter - time.Second)
			p.rememberLocked(key(1))
			*clock = clock.Add(2 * time.Second)
		}, map[int]bool{1: true}},
		{"full: the oldest goes", func(p *h2Pool, clock *time.Time) {
			for i := range h2Remembered + 1 {
				p.rememberLocked(key(i))
				*clock = clock.Add(time.Second)
			}
		}, map[int]bool{0: false, 1: true, h2Remembered: true}},
		{"full: the expired go first", func(p *h2Pool, clock *time.Time) {
			p.rememberLocked(key(0))
			p.rememberLocked(key(1))
			*clock = clock.Add(h2ForgetAfter)
			for i := 2; i < h2Remembered+2; i++ {
				p.rememberLocked(key(i))
			}
		}, map[int]bool{0: false, 1: false, 2: true, h2Remembered + 1: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := time.Unix(1e9, 0)
			p := newH2Pool(func() time.Time { return clock })
			tc.run(p, &clock)
			assert.LessOrEqual(t, len(p.http1), h2Remembered)
			for i, want := range tc.want {
				assert.Equal(t, want, p.rememberedLocked(key(i)), "key %d", i)
			}
		})
	}
}

// TestWithinTimeout: the HTTP/1.1 upgrade after an HTTP/2 attempt gets
// what is left of the handshake timeout, never a fresh one, and no limit
// stays no limit.
func TestWithinTimeout(t *testing.T) {
	for _, tc := range []struct {
		name     string
		timeout  time.Duration
		spent    time.Duration
		atMost   time.Duration
		atLeast  time.Duration
		noChange bool
	}{
		{"default", 0, 3 * time.Second, handshake.DefaultHandshakeTimeout - 3*time.Second, time.Nanosecond, false},
		{"set", 5 * time.Second, 2 * time.Second, 3 * time.Second, time.Nanosecond, false},
		{"spent", time.Second, 2 * time.Second, time.Nanosecond, time.Nanosecond, false},
		{"no limit", -1, time.Hour, -1, -1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hc := &handshake.Client{HandshakeTimeout: tc.timeout}
			got := withinTimeout(hc, time.Now().Add(-tc.spent))
			if tc.noChange {
				assert.Same(t, hc, got)
				return
			}
			assert.Equal(t, tc.timeout, hc.HandshakeTimeout, "hc itself is not modified")
			assert.LessOrEqual(t, got.HandshakeTimeout, tc.atMost)
			assert.GreaterOrEqual(t, got.HandshakeTimeout, tc.atLeast)
		})
	}
}
