package session_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws"
	"github.com/wsactor/ws/session"
)

// TestTakeover: a resume while the server still holds the session's old
// connection (half-open: the client is gone but no FIN came) takes the
// session over, and the old connection is closed with CodeSuperseded.
func TestTakeover(t *testing.T) {
	reg := &registry{}
	srv := newSessionServer(t, reg.fn, session.WithKey(userKey))
	ts := listen(t, srv)
	c1, w := newRaw(t, ts.url(), "alice")
	m, code := exchange(t, rawDial(t, ts.url(), "alice"), helloFrame(w.id, w.epoch, 0))
	require.Zero(t, code)
	assert.True(t, parseWelcome(t, m).resumed)
	assert.Equal(t, session.CodeSuperseded, closedWith(t, c1))
	assert.Equal(t, 1, srv.Len())
}

// TestEpoch: a resume must present the session's latest epoch, except
// that until the client proves it got a welcome (a frame on the new
// connection) the previous epoch still counts, so a welcome lost with its
// connection does not cost the session.
func TestEpoch(t *testing.T) {
	reg := &registry{}
	srv := newSessionServer(t, reg.fn, session.WithKey(userKey))
	ts := listen(t, srv)
	c1, w := newRaw(t, ts.url(), "alice") // epoch 1, confirmed by its ack
	reg.detached(t, c1, w.id)

	// Epoch 2 is issued, but its welcome is "lost": nothing is sent back.
	c2 := rawDial(t, ts.url(), "alice")
	m, code := exchange(t, c2, helloFrame(w.id, 1, 0))
	require.Zero(t, code)
	require.EqualValues(t, 2, parseWelcome(t, m).epoch)
	reg.detached(t, c2, w.id)

	// The client still has epoch 1: accepted, epoch 3 issued and confirmed.
	c3 := rawDial(t, ts.url(), "alice")
	m, code = exchange(t, c3, helloFrame(w.id, 1, 0))
	require.Zero(t, code)
	require.EqualValues(t, 3, parseWelcome(t, m).epoch)
	confirm(t, c3, 1)
	reg.detached(t, c3, w.id)

	for _, tc := range []struct {
		epoch uint64
		want  ws.StatusCode
	}{{1, session.CodeStale}, {2, session.CodeStale}, {4, session.CodeStale}, {3, 0}} {
		_, code := exchange(t, rawDial(t, ts.url(), "alice"), helloFrame(w.id, tc.epoch, 0))
		assert.Equal(t, tc.want, code, "epoch %d", tc.epoch)
	}
}
