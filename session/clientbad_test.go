package session_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws"
	"github.com/wsactor/ws/session"
)

// TestClientBadInput: a server that breaks the protocol — acknowledges
// what was never sent, skips a seq, sends garbage, or welcomes with a
// claim beyond what was sent — is answered with CodeProtocol, and the
// client's application is told the session is lost (ErrProtocol) instead
// of receiving a stream with a hole in it.
func TestClientBadInput(t *testing.T) {
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	for _, tc := range []struct {
		name    string
		welcome ws.Message
		then    ws.Message // sent after the welcome, if any
	}{
		{"ack beyond what was sent", welcomeFrame(id, 1, 0, false), ackFrame(5)},
		{"gap in the sequence", welcomeFrame(id, 1, 0, false), dataFrame(2, "x")},
		{"malformed frame", welcomeFrame(id, 1, 0, false), ws.Binary([]byte{0x7f})},
		{"hello from the server", welcomeFrame(id, 1, 0, false), helloFrame(nil, 0, 0)},
		{"welcome claiming more than was sent", welcomeFrame(id, 1, 3, false), ws.Message{}},
		{"a resume of a new session", welcomeFrame(id, 1, 0, true), ws.Message{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			codes := make(chan ws.StatusCode, 10)
			evil := ws.Handler(func(ctx context.Context, c *ws.Conn) {
				if _, err := c.Receive(ctx); err != nil { // the hello
					return
				}
				_ = c.Send(ctx, tc.welcome)
				if tc.then.Type != 0 {
					_ = c.Send(ctx, tc.then)
				}
				for {
					if _, err := c.Receive(ctx); err != nil {
						break
					}
				}
				<-c.Done()
				codes <- ws.CloseStatus(c.Err())
			}, ws.WithSubprotocols(session.Protocol))
			t.Cleanup(func() { _ = evil.Shutdown(context.Background()) })
			ts := listen(t, evil)
			lost := make(chan *session.LostError, 10)
			newClient(t, ts.url(), []session.Option{session.OnLost(func(l *session.LostError) { lost <- l })})
			select {
			case code := <-codes:
				assert.Equal(t, session.CodeProtocol, code)
			case <-time.After(time.Minute):
				t.Fatal("the client did not close")
			}
			select {
			case l := <-lost:
				assert.ErrorIs(t, l, session.ErrProtocol)
				require.Equal(t, session.CodeProtocol, l.Code)
			case <-time.After(time.Minute):
				t.Fatal("no OnLost")
			}
		})
	}
}
