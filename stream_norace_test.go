//go:build !race && !js

package ws_test

import (
	"context"
	"hash/crc32"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws/internal/wstest"

	"github.com/wsactor/ws"
)

// pattern yields n bytes of a sequence that does not repeat within a
// DEFLATE window, without holding them.
type pattern struct {
	left int64
	x    uint32
}

func (p *pattern) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.left)]
	for i := range b {
		p.x = p.x*1664525 + 1013904223
		b[i] = byte(p.x >> 24)
	}
	p.left -= int64(len(b))
	return len(b), nil
}

// TestStreamGiBThroughHandler sends a 1 GiB message from ws.Dial's client
// to a ws.Handler that streams it back as it reads it; the client checks
// the echo by CRC-32C while the process heap (both ends) is sampled. It
// must stay under 64 MiB: no one holds the message. Without -race (the
// detector changes heap figures): make test-mem runs it.
func TestStreamGiBThroughHandler(t *testing.T) {
	const size, limit = 1 << 30, 64 << 20
	url := startStreamEcho(t, ws.WithMaxMessageSize(size))
	c := dial(t, url, ws.WithStreamedReceive(), ws.WithMaxMessageSize(size))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	want := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	_, err := io.Copy(want, &pattern{left: size, x: 7})
	require.NoError(t, err)

	stopSampling := wstest.HeapPeak()
	errc := make(chan error, 1)
	go func() { errc <- c.SendStream(ctx, ws.BinaryMessage, &pattern{left: size, x: 7}) }()
	typ, r, err := c.NextReader(ctx)
	require.NoError(t, err)
	require.Equal(t, ws.BinaryMessage, typ)
	got := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	n, err := io.Copy(got, r)
	require.NoError(t, err)
	require.NoError(t, <-errc)
	top := stopSampling()
	require.Equal(t, int64(size), n)
	require.Equal(t, want.Sum32(), got.Sum32())
	t.Logf("1 GiB echoed through ws.Handler; peak HeapInuse %.1f MiB", float64(top)/(1<<20))
	require.Less(t, top, uint64(limit), "peak HeapInuse")
}
