//go:build !js

package ws_test

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/frame"
)

// TestShutdownDuringSend: Shutdown begins while the handler is in the
// middle of writing a large message with its ctx (the README's pattern).
// The message must still arrive whole and be followed by the 1001 close
// frame: cancelling the Send mid-message would cut the stream, and the
// client would see its connection reset instead of "going away".
func TestShutdownDuringSend(t *testing.T) {
	const size = 32 << 20
	sending := make(chan struct{})
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		close(sending)
		_ = c.Send(ctx, ws.Binary(make([]byte, size)))
		<-c.Done()
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	conn, br := upgradeRaw(t, srv.Listener.Addr().String(), "")
	defer conn.Close()
	<-sending

	// Read the first MiB, then stop: the rest of the message waits in the
	// server's Send, which is now in the middle of the message.
	hd, err := frame.ReadHeader(br)
	require.NoError(t, err)
	require.Equal(t, frame.OpBinary, hd.Opcode)
	require.EqualValues(t, size, hd.Length)
	_, err = io.CopyN(io.Discard, br, 1<<20)
	require.NoError(t, err)

	done := make(chan error, 1)
	go func() { done <- h.Shutdown(testCtx(t)) }()
	n, err := io.CopyN(io.Discard, br, size-1<<20)
	require.NoError(t, err, "the message was cut after %d bytes", 1<<20+n)
	require.Equal(t, ws.StatusGoingAway, readClose(t, br, false))
	_, err = conn.Write(rawFrame(true, 0, frame.OpClose, true, []byte{0x03, 0xe9}))
	require.NoError(t, err)
	require.NoError(t, <-done)
}
