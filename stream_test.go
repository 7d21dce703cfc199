//go:build !js

package ws_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
)

// streamEcho is a server that streams every message back as it reads it.
func streamEcho(ctx context.Context, c *ws.Conn) {
	for {
		typ, r, err := c.NextReader(ctx)
		if err != nil {
			return
		}
		if err := c.SendStream(ctx, typ, r); err != nil {
			return
		}
	}
}

func startStreamEcho(t *testing.T, opts ...ws.AcceptOption) string {
	t.Helper()
	h := ws.Handler(streamEcho, append([]ws.AcceptOption{ws.WithStreamedReceive()}, opts...)...)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		_ = h.Shutdown(context.Background())
		srv.Close()
	})
	return wsURL(srv)
}

// TestStreamEcho: messages sent with SendStream and read with NextReader
// through ws.Dial and ws.Handler, with and without compression and
// fragmenting, arrive intact.
func TestStreamEcho(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []ws.Option
	}{
		{"plain", nil},
		{"deflate", []ws.Option{ws.WithCompression()}},
		{"fragments", []ws.Option{ws.WithFragmentSize(1000)}},
		{"deflate fragments", []ws.Option{ws.WithCompression(), ws.WithFragmentSize(777)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var aopts []ws.AcceptOption
			dopts := []ws.DialOption{ws.WithStreamedReceive()}
			for _, o := range tc.opts {
				aopts, dopts = append(aopts, o), append(dopts, o)
			}
			c := dial(t, startStreamEcho(t, aopts...), dopts...)
			ctx := testCtx(t)
			for _, size := range []int{0, 1, 4 << 10, 300 << 10, 3 << 20} {
				msg := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
				errc := make(chan error, 1)
				go func() { errc <- c.SendStream(ctx, ws.TextMessage, bytes.NewReader(msg)) }()
				typ, r, err := c.NextReader(ctx)
				require.NoError(t, err)
				require.Equal(t, ws.TextMessage, typ)
				got, err := io.ReadAll(r)
				require.NoError(t, err)
				require.NoError(t, <-errc)
				require.Equal(t, sha256.Sum256(msg), sha256.Sum256(got), "size %d", size)
			}
			require.Empty(t, c.Incoming(), "Incoming gets no messages when streamed")
		})
	}
}

// TestStreamInvalidUTF8: a streamed text message whose UTF-8 breaks after
// the first fragment fails the connection with 1007 from inside Read.
func TestStreamInvalidUTF8(t *testing.T) {
	ctx := testCtx(t)
	bad := append(bytes.Repeat([]byte("a"), 5000), 0xff, 0xfe)
	h := ws.Handler(func(ctx context.Context, s *ws.Conn) {
		_ = s.SendStream(ctx, ws.TextMessage, bytes.NewReader(bad))
		<-s.Done()
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Shutdown(context.Background())
	c := dial(t, wsURL(srv), ws.WithStreamedReceive())
	_, r, err := c.NextReader(ctx)
	require.NoError(t, err)
	_, err = io.ReadAll(r)
	var ce *ws.CloseError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, ws.StatusInvalidFramePayloadData, ce.Code)
}

func TestStreamNeedsOption(t *testing.T) {
	_, url := startEcho(t)
	c := dial(t, url)
	_, _, err := c.NextReader(testCtx(t))
	require.ErrorContains(t, err, "WithStreamedReceive")
	// A reader that fails before the first fragment ends only the call.
	err = c.SendStream(testCtx(t), ws.BinaryMessage, errReader{})
	require.ErrorIs(t, err, errBrokenSource)
	require.NoError(t, c.Send(testCtx(t), ws.Text("still open")))
	require.Equal(t, "still open", string(recv(t, c).Data))
}

var errBrokenSource = errors.New("broken source")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBrokenSource }
