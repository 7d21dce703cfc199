package session_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws"
	"github.com/wsactor/ws/session"
)

// registry runs sessions that only read, and finds them by id (waiting
// for the ones the test knows exist).
type registry struct {
	mu sync.Mutex
	m  map[string]*session.Session
}

func (r *registry) fn(ctx context.Context, s *session.Session) {
	r.mu.Lock()
	if r.m == nil {
		r.m = map[string]*session.Session{}
	}
	r.m[s.ID()] = s
	r.mu.Unlock()
	for range s.Incoming() {
	}
}

func (r *registry) get(t *testing.T, id []byte) *session.Session {
	t.Helper()
	key := base64.RawURLEncoding.EncodeToString(id)
	for { // the handler registers it on its own goroutine
		r.mu.Lock()
		s := r.m[key]
		r.mu.Unlock()
		if s != nil {
			return s
		}
		time.Sleep(time.Millisecond)
	}
}

// detached resets c and waits until the server has detached its session.
func (r *registry) detached(t *testing.T, c *ws.Conn, id []byte) *session.Session {
	t.Helper()
	_ = c.CloseNow()
	s := r.get(t, id)
	for s.Connected() {
		time.Sleep(time.Millisecond)
	}
	return s
}

func userKey(r *http.Request) (string, error) {
	u := r.Header.Get("X-User")
	if u == "" {
		return "", errors.New("no user")
	}
	return u, nil
}

// TestBadInput: each malformed, forged or misplaced input is refused with
// its close code, the session it targets ends or is left alone as
// documented, and nothing is left behind (the server's session count, and
// goleak).
func TestBadInput(t *testing.T) {
	forged := make([]byte, 16)
	_, _ = rand.Read(forged)
	cases := []struct {
		name string
		// run returns the close code the server ended the last connection
		// with; left is how many sessions should remain.
		run  func(t *testing.T, url string, reg *registry) ws.StatusCode
		want ws.StatusCode
		left int
	}{
		{"forged id", func(t *testing.T, url string, _ *registry) ws.StatusCode {
			_, code := exchange(t, rawDial(t, url, "alice"), helloFrame(forged, 1, 0))
			return code
		}, session.CodeUnknown, 0},
		{"another key's session", func(t *testing.T, url string, reg *registry) ws.StatusCode {
			c, w := newRaw(t, url, "alice")
			reg.detached(t, c, w.id)
			_, code := exchange(t, rawDial(t, url, "mallory"), helloFrame(w.id, w.epoch, 0))
			// The owner's session is untouched: alice resumes it.
			m, acode := exchange(t, rawDial(t, url, "alice"), helloFrame(w.id, w.epoch, 0))
			require.Zero(t, acode)
			assert.True(t, parseWelcome(t, m).resumed)
			return code
		}, session.CodeUnknown, 1},
		{"stale epoch", func(t *testing.T, url string, reg *registry) ws.StatusCode {
			c, w := newRaw(t, url, "alice")
			reg.detached(t, c, w.id)
			c2 := rawDial(t, url, "alice")
			m, code := exchange(t, c2, helloFrame(w.id, w.epoch, 0))
			require.Zero(t, code)
			w2 := parseWelcome(t, m)
			require.EqualValues(t, 2, w2.epoch)
			confirm(t, c2, 1) // the server knows the client has epoch 2
			reg.detached(t, c2, w.id)
			_, code = exchange(t, rawDial(t, url, "alice"), helloFrame(w.id, w.epoch, 0))
			return code
		}, session.CodeStale, 1},
		{"ack beyond what was sent", func(t *testing.T, url string, reg *registry) ws.StatusCode {
			c, w := newRaw(t, url, "alice")
			require.NoError(t, c.Send(context.Background(), ackFrame(5)))
			code := closedWith(t, c)
			s := reg.get(t, w.id)
			<-s.Done()
			assert.ErrorIs(t, s.Err(), session.ErrProtocol)
			// The session is gone: its resume is refused.
			_, rcode := exchange(t, rawDial(t, url, "alice"), helloFrame(w.id, w.epoch, 0))
			assert.Equal(t, session.CodeUnknown, rcode)
			return code
		}, session.CodeProtocol, 0},
		{"resume claiming more than was sent", func(t *testing.T, url string, reg *registry) ws.StatusCode {
			c, w := newRaw(t, url, "alice")
			reg.detached(t, c, w.id)
			_, code := exchange(t, rawDial(t, url, "alice"), helloFrame(w.id, w.epoch, 7))
			return code
		}, session.CodeProtocol, 1},
		{"gap in the sequence", func(t *testing.T, url string, _ *registry) ws.StatusCode {
			c, _ := newRaw(t, url, "alice")
			require.NoError(t, c.Send(context.Background(), dataFrame(2, "x")))
			return closedWith(t, c)
		}, session.CodeProtocol, 0},
		{"malformed frame", func(t *testing.T, url string, _ *registry) ws.StatusCode {
			c, _ := newRaw(t, url, "alice")
			require.NoError(t, c.Send(context.Background(), ws.Binary([]byte{0xff})))
			return closedWith(t, c)
		}, session.CodeProtocol, 0},
		{"second hello", func(t *testing.T, url string, _ *registry) ws.StatusCode {
			c, _ := newRaw(t, url, "alice")
			require.NoError(t, c.Send(context.Background(), helloFrame(nil, 0, 0)))
			return closedWith(t, c)
		}, session.CodeProtocol, 0},
		{"text instead of a hello", func(t *testing.T, url string, _ *registry) ws.StatusCode {
			_, code := exchange(t, rawDial(t, url, "alice"), ws.Text("hello"))
			return code
		}, session.CodeProtocol, 0},
		{"new session with a sequence", func(t *testing.T, url string, _ *registry) ws.StatusCode {
			_, code := exchange(t, rawDial(t, url, "alice"), helloFrame(nil, 3, 9))
			return code
		}, session.CodeProtocol, 0},
		{"no hello at all", func(t *testing.T, url string, _ *registry) ws.StatusCode {
			return closedWith(t, rawDial(t, url, "alice"))
		}, session.CodeProtocol, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := &registry{}
			srv := newSessionServer(t, reg.fn, session.WithKey(userKey),
				session.WithHandshakeTimeout(200*time.Millisecond))
			ts := listen(t, srv)
			assert.Equal(t, tc.want, tc.run(t, ts.url(), reg))
			for srv.Len() != tc.left { // sessions end on their own goroutines
				time.Sleep(time.Millisecond)
			}
		})
	}
}

// TestRefusedUpgrade: a request that does not offer the session protocol,
// or whose key function fails, is refused before the upgrade.
func TestRefusedUpgrade(t *testing.T) {
	srv := newSessionServer(t, (&registry{}).fn, session.WithKey(userKey))
	ts := listen(t, srv)
	for _, tc := range []struct {
		name   string
		opts   []ws.DialOption
		status int
	}{
		{"plain client", []ws.DialOption{ws.WithHeader(http.Header{"X-User": {"alice"}})}, http.StatusBadRequest},
		{"no key", []ws.DialOption{ws.WithSubprotocols(session.Protocol)}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ws.Dial(context.Background(), ts.url(), tc.opts...)
			var rej *ws.RejectError
			require.ErrorAs(t, err, &rej)
			assert.Equal(t, tc.status, rej.Status)
		})
	}
	assert.Zero(t, srv.Len())
}
