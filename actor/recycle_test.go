package actor

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// 6.2: with recycled buffers every message still arrives whole and intact
// while earlier ones are released and their buffers reused.
func TestRecycledBuffers(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		cl, sv := newPair(t, m, nil, []Option{WithRecycledBuffers(true)})
		go func() {
			for i := range 200 {
				if err := cl.Send(context.Background(), Binary(bytes.Repeat([]byte{byte(i)}, 1+i*37))); err != nil {
					return
				}
			}
		}()
		for i := range 200 {
			got := recv(t, sv)
			require.Equal(t, bytes.Repeat([]byte{byte(i)}, 1+i*37), got.Data, "message %d", i)
			got.Release()
		}
	})
}

// Checked mode makes misuse visible: Data used after Release reads poison,
// and a second Release panics.
func TestRecycledBuffersMisuse(t *testing.T) {
	cl, sv := newPair(t, tcpMode, nil, []Option{WithRecycledBuffers(true)})
	require.NoError(t, cl.Send(context.Background(), Text("hello")))
	got := recv(t, sv)
	kept := got.Data
	got.Release()
	require.Equal(t, bytes.Repeat([]byte{poisonByte}, 5), kept, "use after Release must see poison")
	require.PanicsWithValue(t, "ws: Message released twice", got.Release)
}

// Release of a Message not received from a recycling connection is a no-op.
func TestReleaseWithoutRecycling(t *testing.T) {
	cl, sv := newPair(t, tcpMode, nil, nil)
	require.NoError(t, cl.Send(context.Background(), Text("hello")))
	got := recv(t, sv)
	got.Release()
	require.Equal(t, "hello", string(got.Data))
	Text("mine").Release()
}

// BenchmarkReceiveRecycled is BenchmarkReceive with WithRecycledBuffers and
// a Release per message: receiving allocates nothing.
func BenchmarkReceiveRecycled(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			benchReceive(b, size, true)
		})
	}
}
