package deflate_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

// chatLine is a message that repeats much of the previous ones, so that a
// compressor with context takeover refers back across messages. It is
// over 128 bytes: klauspost/compress's fast levels forget their history
// at a flush of less.
func chatLine(i int) []byte {
	return fmt.Appendf(nil, `{"seq":%d,"room":"general","user":"user-%d","text":"the quick brown fox jumps over the lazy dog %d","tags":["news","sport","weather"],"reply_to":%d}`, i, i%7, i*31, i-1)
}

// RFC 7692 §7.1.1: a shared message comes from a fresh compressor, so any
// peer inflates it; on a connection with context takeover the peer's
// window then holds it and ours does not, and SharedSent makes our next
// message start afresh. Without SharedSent the next message would refer
// to the wrong bytes: the "trap" case shows the test can tell.
func TestSharedTakeover(t *testing.T) {
	for _, tc := range []struct {
		name   string
		p      deflate.Params
		notify bool
		wantOK bool
	}{
		{"takeover", deflate.Params{}, true, true},
		{"no takeover", deflate.Params{ServerNoContextTakeover: true}, true, true},
		{"trap: takeover without SharedSent", deflate.Params{}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := deflate.Config{Threshold: -1}
			send := newExt(t, tc.p, frame.Server, cfg)
			other := newExt(t, tc.p, frame.Server, cfg) // encodes the shared message
			recv := newExt(t, tc.p, frame.Client, cfg)
			var sharedMsg []byte
			for i := 100; i < 110; i++ {
				sharedMsg = append(sharedMsg, chatLine(i)...)
			}
			shared, rsv, err := other.EncodeShared(nil, sharedMsg, frame.OpText)
			require.NoError(t, err)
			require.Equal(t, frame.Rsv1, rsv)
			ok := true
			for i := 0; i < 6 && ok; i++ {
				want, wire, bits := chatLine(i), shared, rsv
				if i == 2 || i == 4 {
					want = sharedMsg
					if tc.notify {
						send.SharedSent(rsv)
					}
				} else {
					wire, bits, err = send.EncodeMessage(nil, want, frame.OpText)
					require.NoError(t, err)
					if bits == 0 {
						wire = want // declined: sent as it is
					}
				}
				got := wire
				if bits != 0 {
					got, err = recv.DecodeMessage(nil, wire, bits, 0)
				}
				ok = err == nil && bytes.Equal(want, got)
			}
			require.Equal(t, tc.wantOK, ok)
		})
	}
}

// SharedKey declines what EncodeMessage would send uncompressed: under the
// threshold, or longer than a window below 15 bits allows.
func TestSharedKey(t *testing.T) {
	e := newExt(t, deflate.Params{ServerMaxWindowBits: 9}, frame.Server, deflate.Config{Level: 3})
	for _, tc := range []struct {
		n  int
		ok bool
	}{{0, false}, {127, false}, {128, true}, {512, true}, {513, false}} {
		key, ok := e.SharedKey(tc.n)
		require.Equal(t, tc.ok, ok, "n=%d", tc.n)
		require.Equal(t, 3, key)
	}
	out, rsv, err := e.EncodeShared(nil, bytes.Repeat([]byte{0}, 512), frame.OpBinary)
	require.NoError(t, err)
	require.Equal(t, frame.Rsv1, rsv)
	require.Less(t, len(out), 512)
	// Incompressible: declined.
	out, rsv, err = e.EncodeShared([]byte("keep"), []byte{0x8f, 0x13}, frame.OpBinary)
	require.NoError(t, err)
	require.Zero(t, rsv)
	require.Equal(t, []byte("keep"), out)
}
