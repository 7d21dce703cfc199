package handshake_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws/handshake"
)

// After Upgrade the connection is read without net/http's connection
// reader: a read error there (here a read deadline, which the actor uses to
// wake a paused reader) would cancel the request's context, and with it the
// context a handler gives its connection (found by Autobahn 9.7: an echo
// server's Send failed with "context canceled" mid-stream). Bytes the client
// sent right behind its request are still delivered.
func TestUpgradeReadErrorKeepsRequestContext(t *testing.T) {
	type result struct {
		early  string
		ctxErr error
		err    error
	}
	done := make(chan result, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res result
		defer func() { done <- res }()
		acc, err := (&handshake.Server{}).Upgrade(w, r)
		if err != nil {
			res.err = err
			return
		}
		defer acc.Conn.Close()
		b := make([]byte, len("early"))
		if _, res.err = io.ReadFull(acc.Reader, b); res.err != nil {
			return
		}
		res.early = string(b)
		_ = acc.Conn.SetReadDeadline(time.Unix(1, 0))
		_, err = acc.Reader.ReadByte()
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			res.err = err
			return
		}
		res.ctxErr = r.Context().Err()
	}))
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: "+srv.Listener.Addr().String()+
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"+
		"Sec-WebSocket-Version: 13\r\n\r\nearly")
	require.NoError(t, err)
	res := <-done
	require.NoError(t, res.err)
	require.Equal(t, "early", res.early, "bytes sent behind the request")
	require.NoError(t, res.ctxErr, "a read error after the hijack must not cancel r.Context()")
}
