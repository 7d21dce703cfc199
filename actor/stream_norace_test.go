//go:build !race

package actor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws/internal/wstest"

	"github.com/wsactor/ws/frame"
)

// TestStreamGiBMemory sends a 1 GiB message from our client to our server
// over loopback TCP with SendStream, generated on the fly, and reads it
// with NextReader, checking it by CRC-32C, while the process's heap is
// sampled: it must stay under 64 MiB, since neither side holds the
// message. It runs without -race (the detector changes heap figures); make
// test-mem selects it with the other memory-bound tests.
func TestStreamGiBMemory(t *testing.T) {
	const size = 1 << 30
	for _, tc := range []struct {
		m     mode
		block int
	}{
		{tcpMode, 64<<10 + 3},
		// A pattern repeating within the DEFLATE window: every fragment
		// compresses, about 1000:1, and inflates in the reader's buffer.
		{deflateMode, 4093},
	} {
		t.Run(string(tc.m), func(t *testing.T) {
			wantN, wantSum := patternSum(t, size, tc.block, 7)
			streamGiB(t, tc.m, size, tc.block, wantN, wantSum)
		})
	}
}

func streamGiB(t *testing.T, m mode, size int64, block int, wantN int64, wantSum uint32) {
	const limit = 64 << 20
	cl, sv := newPair(t, m, nil, []Option{WithStreamedReceive(), WithMaxMessageSize(size)})
	stopSampling := wstest.HeapPeak()
	errc := make(chan error, 1)
	go func() { errc <- cl.SendStream(context.Background(), frame.OpBinary, newPattern(size, block, 7)) }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	typ, r, err := sv.NextReader(ctx)
	require.NoError(t, err)
	require.Equal(t, frame.OpBinary, typ)
	n, sum, err := readSum(r)
	require.NoError(t, err)
	require.NoError(t, <-errc)
	top := stopSampling()
	require.Equal(t, wantN, n)
	require.Equal(t, wantSum, sum)
	t.Logf("%s: 1 GiB streamed; peak HeapInuse %.1f MiB", m, float64(top)/(1<<20))
	require.Less(t, top, uint64(limit), "peak HeapInuse")
}
