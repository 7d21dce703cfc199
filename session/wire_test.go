package session_test

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws"
	"github.com/wsactor/ws/session"
)

// Frames built by hand from docs/session.md, for the tests that play a
// client the library would never be.

func helloFrame(id []byte, epoch, last uint64) ws.Message {
	b := []byte{0x03}
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	for _, v := range []uint64{epoch, last, 1024, 1 << 20} {
		b = binary.AppendUvarint(b, v)
	}
	return ws.Binary(b)
}

func ackFrame(a uint64) ws.Message { return ws.Binary(binary.AppendUvarint([]byte{0x02}, a)) }

func dataFrame(seq uint64, payload string) ws.Message {
	b := binary.AppendUvarint([]byte{0x11}, seq)
	return ws.Binary(append(b, payload...))
}

type welcome struct {
	id          []byte
	epoch, last uint64
	resumed     bool
}

func parseWelcome(t *testing.T, m ws.Message) welcome {
	t.Helper()
	require.Equal(t, ws.BinaryMessage, m.Type)
	b := m.Data
	require.Equal(t, byte(0x04), b[0]&0x0f, "a welcome")
	w := welcome{resumed: b[0]&0x10 != 0}
	b = b[1:]
	next := func() uint64 {
		v, n := binary.Uvarint(b)
		require.Positive(t, n)
		b = b[n:]
		return v
	}
	n := next()
	require.EqualValues(t, 16, n, "128-bit id")
	w.id, b = b[:n], b[n:]
	w.epoch, w.last = next(), next()
	next()
	next()
	require.Empty(t, b)
	return w
}

// rawDial opens a connection that offers the session protocol, with an
// optional X-User header.
func rawDial(t *testing.T, url, user string) *ws.Conn {
	t.Helper()
	opts := []ws.DialOption{ws.WithSubprotocols(session.Protocol)}
	if user != "" {
		opts = append(opts, ws.WithHeader(map[string][]string{"X-User": {user}}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := ws.Dial(ctx, url, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// exchange sends m and returns the next message, or the close code the
// connection ended with (0 with a message).
func exchange(t *testing.T, c *ws.Conn, m ws.Message) (ws.Message, ws.StatusCode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.Send(ctx, m))
	return next(t, c)
}

func next(t *testing.T, c *ws.Conn) (ws.Message, ws.StatusCode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.Receive(ctx)
	if err == nil {
		return r, 0
	}
	require.True(t, errors.Is(err, ws.ErrClosed), "%v", err)
	<-c.Done()
	return ws.Message{}, ws.CloseStatus(c.Err())
}

// closedWith waits for c to end and returns its close code.
func closedWith(t *testing.T, c *ws.Conn) ws.StatusCode {
	t.Helper()
	for {
		if _, code := next(t, c); code != 0 {
			return code
		}
	}
}

// newRaw opens a connection and starts a new session on it; the ack
// confirms the epoch.
func newRaw(t *testing.T, url, user string) (*ws.Conn, welcome) {
	t.Helper()
	c := rawDial(t, url, user)
	m, code := exchange(t, c, helloFrame(nil, 0, 0))
	require.Zero(t, code)
	w := parseWelcome(t, m)
	require.False(t, w.resumed)
	require.EqualValues(t, 1, w.epoch)
	require.NoError(t, c.Send(context.Background(), ackFrame(0)))
	return c, w
}

// confirm sends data message seq and waits for the server's ack of it:
// the server has then read every frame before it, among them what
// confirms the connection's epoch.
func confirm(t *testing.T, c *ws.Conn, seq uint64) {
	t.Helper()
	m, code := exchange(t, c, dataFrame(seq, "x"))
	require.Zero(t, code)
	require.Equal(t, ackFrame(seq).Data, m.Data)
}

func welcomeFrame(id []byte, epoch, last uint64, resumed bool) ws.Message {
	k := byte(0x04)
	if resumed {
		k |= 0x10
	}
	b := []byte{k}
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	for _, v := range []uint64{epoch, last, 1024, 1 << 20} {
		b = binary.AppendUvarint(b, v)
	}
	return ws.Binary(b)
}
