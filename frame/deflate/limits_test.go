package deflate_test

import (
	"bufio"
	"bytes"
	"errors"
	"github.com/klauspost/compress/flate"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

// bomb returns a permessage-deflate payload (tail stripped) that inflates to
// n MiB of zeros: DEFLATE's best ratio is about 1:1032, so 1 GiB takes about
// 1 MiB. It compresses 2 MiB once and repeats the second MiB's blocks, which
// decode to zeros after any history of zeros.
func bomb(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	require.NoError(t, err)
	zeros := make([]byte, 1<<20)
	_, _ = fw.Write(zeros)
	require.NoError(t, fw.Flush())
	first := append([]byte(nil), buf.Bytes()...)
	buf.Reset()
	_, _ = fw.Write(zeros)
	require.NoError(t, fw.Flush())
	next := buf.Bytes()
	out := append(make([]byte, 0, len(first)+(n-1)*len(next)), first...)
	for range n - 1 {
		out = append(out, next...)
	}
	return out[:len(out)-4]
}

// RFC 7692 §8.1 / RFC 6455 §10.4: a message that inflates to 1 GiB is
// stopped at the limit with 1009, having allocated a bounded amount.
func TestDecompressionBomb(t *testing.T) {
	payload := bomb(t, 1024)
	t.Logf("1 GiB of zeros as a %d-byte message", len(payload))
	const limit = 16 << 20
	measure := func(t *testing.T, f func() error) uint64 {
		t.Helper()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		err := f()
		runtime.ReadMemStats(&after)
		var pe *frame.ProtocolError
		require.True(t, errors.As(err, &pe), "%v", err)
		require.Equal(t, frame.StatusMessageTooBig, pe.Code)
		require.ErrorIs(t, err, frame.ErrMessageTooLarge)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("allocated %d bytes for a %d-byte limit (%.2fx)", alloc, limit, float64(alloc)/limit)
		return alloc
	}
	t.Run("10.4/DecodeMessage stops at the limit", func(t *testing.T) {
		e := newExt(t, deflate.Params{}, frame.Client, deflate.Config{})
		alloc := measure(t, func() error {
			out, err := e.DecodeMessage(nil, payload, frame.Rsv1, limit)
			require.LessOrEqual(t, len(out), limit)
			return err
		})
		require.Less(t, alloc, uint64(4*limit+1<<20))
	})
	t.Run("10.4/through a frame.Reader", func(t *testing.T) {
		e := newExt(t, deflate.Params{}, frame.Client, deflate.Config{})
		wire := frame.AppendHeader(nil, frame.Header{Fin: true, Rsv: frame.Rsv1, Opcode: frame.OpBinary, Length: int64(len(payload))})
		wire = append(wire, payload...)
		alloc := measure(t, func() error {
			r := frame.NewReader(bufio.NewReader(bytes.NewReader(wire)), frame.Client, frame.ReaderConfig{MaxMessageSize: limit, Extension: e})
			_, _, err := r.ReadMessage(nil)
			return err
		})
		// The Reader also holds the compressed payload (about 1 MiB).
		require.Less(t, alloc, uint64(4*limit+4<<20))
	})
}
