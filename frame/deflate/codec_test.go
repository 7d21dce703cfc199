package deflate_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

// modes are the parameter combinations a connection can negotiate that
// change what the codec keeps.
var modes = []struct {
	name   string
	params deflate.Params
	cfg    deflate.Config
}{
	{name: "7.1.1/takeover both ways"},
	{name: "7.1.1.1/server_no_context_takeover", params: deflate.Params{ServerNoContextTakeover: true}},
	{name: "7.1.1/no takeover either way", params: deflate.Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
	{name: "7.1.1/takeover allowed, compressor reset by config", cfg: deflate.Config{ResetCompressor: true}},
	{name: "7.1.2.1/server_max_window_bits=10", params: deflate.Params{ServerMaxWindowBits: 10}},
	{name: "7.1.2.2/client_max_window_bits=8", params: deflate.Params{ClientMaxWindowBits: 8}},
	{name: "7.1.2/level 9, no threshold", cfg: deflate.Config{Level: 9, Threshold: -1}},
	{name: "7.1.2/HuffmanOnly", cfg: deflate.Config{Level: -2}},
}

// messages is a conversation: sizes around the threshold and the window,
// repeats (which takeover shortens), incompressible data and an empty one.
func messages() [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 70<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	return [][]byte{
		jsonLike(1024, 1), jsonLike(1024, 1), nil, []byte("hi"),
		jsonLike(127, 2), jsonLike(128, 2), jsonLike(256, 3), jsonLike(257, 3),
		jsonLike(64<<10, 4), random, jsonLike(1024, 1), jsonLike(100<<10, 5),
		bytes.Repeat([]byte{'a'}, 40<<10), jsonLike(2000, 6),
	}
}

func TestRoundTrip(t *testing.T) {
	for _, m := range modes {
		for _, frag := range []int{0, 1000} {
			t.Run(m.name, func(t *testing.T) {
				pr := newPair(t, m.params, m.cfg, frame.WriterConfig{FragmentSize: frag}, 0)
				for i, msg := range messages() {
					pr.buf.Reset()
					wire, got := pr.roundTrip(t, frame.OpBinary, msg)
					require.Equal(t, len(msg), len(got), "message %d", i)
					require.True(t, bytes.Equal(msg, got), "message %d", i)
					// RSV1 only ever on the first frame (RFC 7692 §6.1).
					for j, h := range headers(t, wire) {
						if j > 0 {
							require.Zero(t, h.Rsv, "message %d frame %d", i, j)
						}
					}
				}
			})
		}
	}
}

// 7.1.2: Go's compressor cannot be held to a window under 32 KiB, so with a
// smaller one only messages that fit in it are compressed, each on its own.
func TestWindowBitsBelow15(t *testing.T) {
	for _, tt := range []struct {
		name   string
		params deflate.Params
		role   frame.Role
		fits   int
	}{
		{name: "7.1.2.2/client_max_window_bits=10 binds our client", params: deflate.Params{ClientMaxWindowBits: 10}, role: frame.Client, fits: 1024},
		{name: "7.1.2.1/server_max_window_bits=9 binds our server", params: deflate.Params{ServerMaxWindowBits: 9}, role: frame.Server, fits: 512},
		{name: "7.1.2.1/server_max_window_bits=8 binds our server", params: deflate.Params{ServerMaxWindowBits: 8}, role: frame.Server, fits: 256},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newExt(t, tt.params, tt.role, deflate.Config{})
			msg := jsonLike(tt.fits, 1)
			a, rsv, err := e.EncodeMessage(nil, msg, frame.OpText)
			require.NoError(t, err)
			require.Equal(t, frame.Rsv1, rsv)
			b, rsv, err := e.EncodeMessage(nil, msg, frame.OpText)
			require.NoError(t, err)
			require.Equal(t, frame.Rsv1, rsv)
			require.Equal(t, a, b, "each message compressed alone, no takeover")
			_, rsv, err = e.EncodeMessage(nil, jsonLike(tt.fits+1, 1), frame.OpText)
			require.NoError(t, err)
			require.Zero(t, rsv, "longer than the window: sent uncompressed")
		})
	}
	t.Run("7.1.2/the other side's window does not bind us", func(t *testing.T) {
		e := newExt(t, deflate.Params{ServerMaxWindowBits: 8}, frame.Client, deflate.Config{})
		_, rsv, err := e.EncodeMessage(nil, jsonLike(4096, 1), frame.OpText)
		require.NoError(t, err)
		require.Equal(t, frame.Rsv1, rsv)
	})
}

func TestThreshold(t *testing.T) {
	for _, tt := range []struct {
		name      string
		threshold int
		size      int
		rsv       uint8
	}{
		{name: "default/127 bytes uncompressed", size: 127},
		{name: "default/128 bytes compressed", size: 128, rsv: frame.Rsv1},
		{name: "negative/1 byte compressed", threshold: -1, size: 100, rsv: frame.Rsv1},
		{name: "4096/4095 bytes uncompressed", threshold: 4096, size: 4095},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newExt(t, deflate.Params{}, frame.Server, deflate.Config{Threshold: tt.threshold})
			_, rsv, err := e.EncodeMessage(nil, jsonLike(tt.size, 1), frame.OpText)
			require.NoError(t, err)
			require.Equal(t, tt.rsv, rsv)
		})
	}
}

func TestDecodeLimit(t *testing.T) {
	enc := newExt(t, deflate.Params{}, frame.Server, deflate.Config{Threshold: -1})
	msg := jsonLike(10000, 1)
	comp, rsv, err := enc.EncodeMessage(nil, msg, frame.OpText)
	require.NoError(t, err)
	require.Equal(t, frame.Rsv1, rsv)
	for _, tt := range []struct {
		name  string
		limit int64
		dst   []byte
		ok    bool
	}{
		{name: "10.4/exactly at the limit", limit: 10000, ok: true},
		{name: "10.4/one byte over", limit: 9999},
		{name: "10.4/far over", limit: 100},
		{name: "10.4/counted after what dst holds", limit: 10000, dst: []byte("prefix"), ok: true},
		{name: "10.4/spare capacity in dst is not used past the limit", limit: 5000, dst: make([]byte, 0, 1<<20)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dec := newExt(t, deflate.Params{}, frame.Client, deflate.Config{})
			out, err := dec.DecodeMessage(tt.dst, comp, frame.Rsv1, tt.limit)
			require.LessOrEqual(t, int64(len(out)-len(tt.dst)), tt.limit)
			require.LessOrEqual(t, int64(cap(out)), max(int64(cap(tt.dst)), int64(len(tt.dst))+tt.limit+tt.limit/8+8192), "capacity asked for stays within the limit")
			if tt.ok {
				require.NoError(t, err)
				require.Equal(t, msg, out[len(tt.dst):])
				return
			}
			var pe *frame.ProtocolError
			require.True(t, errors.As(err, &pe))
			require.Equal(t, frame.StatusMessageTooBig, pe.Code)
			require.ErrorIs(t, err, frame.ErrMessageTooLarge)
		})
	}
}

func TestCorrupt(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	dec := newExt(t, deflate.Params{ServerNoContextTakeover: true}, frame.Client, deflate.Config{})
	corrupt := 0
	for range 200 {
		p := make([]byte, 1+rng.IntN(64))
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		out, err := dec.DecodeMessage(nil, p, frame.Rsv1, 4096)
		require.LessOrEqual(t, len(out), 4096)
		if err == nil {
			continue
		}
		var pe *frame.ProtocolError
		require.True(t, errors.As(err, &pe), "%v", err)
		if errors.Is(err, deflate.ErrCorrupt) {
			require.Equal(t, frame.StatusInvalidFramePayloadData, pe.Code)
			corrupt++
		} else {
			require.ErrorIs(t, err, frame.ErrMessageTooLarge)
		}
	}
	require.Positive(t, corrupt)
}

func TestNew(t *testing.T) {
	for _, tt := range []struct {
		name   string
		params deflate.Params
		role   frame.Role
		cfg    deflate.Config
		err    error
	}{
		{name: "7.1.2/window bits 7", params: deflate.Params{ClientMaxWindowBits: 7}, role: frame.Client, err: deflate.ErrInvalidParams},
		{name: "7.1.2/window bits 16", params: deflate.Params{ServerMaxWindowBits: 16}, role: frame.Client, err: deflate.ErrInvalidParams},
		{name: "role zero", role: 0, err: frame.ErrInvalidRole},
		{name: "level 10", role: frame.Server, cfg: deflate.Config{Level: 10}, err: deflate.ErrInvalidLevel},
		{name: "level -3", role: frame.Server, cfg: deflate.Config{Level: -3}, err: deflate.ErrInvalidLevel},
		{name: "level -1 is flate's default", role: frame.Server, cfg: deflate.Config{Level: -1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := deflate.New(tt.params, tt.role, tt.cfg)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				require.Nil(t, e)
				return
			}
			require.NoError(t, err)
			require.NoError(t, e.Close())
		})
	}
}

func TestClose(t *testing.T) {
	e := newExt(t, deflate.Params{}, frame.Server, deflate.Config{Threshold: -1})
	comp, _, err := e.EncodeMessage(nil, []byte("Hello Hello Hello"), frame.OpText)
	require.NoError(t, err)
	require.NoError(t, e.Close())
	require.NoError(t, e.Close(), "idempotent")
	_, _, err = e.EncodeMessage(nil, []byte("Hello Hello Hello"), frame.OpText)
	require.ErrorIs(t, err, deflate.ErrClosed)
	_, err = e.DecodeMessage(nil, comp, frame.Rsv1, 1<<20)
	require.ErrorIs(t, err, deflate.ErrClosed)
}

// The reader and the writer goroutines of one connection use the same
// Extension at once (run with -race).
func TestConcurrentEncodeDecode(t *testing.T) {
	for _, m := range modes[:2] {
		t.Run(m.name, func(t *testing.T) {
			a := newExt(t, m.params, frame.Server, m.cfg)
			b := newExt(t, m.params, frame.Client, m.cfg)
			msgs := messages()
			// Precompute what b receives, compressed by a fresh server.
			src := newExt(t, m.params, frame.Server, m.cfg)
			var in [][]byte
			for _, msg := range msgs {
				c, rsv, err := src.EncodeMessage(nil, msg, frame.OpBinary)
				require.NoError(t, err)
				if rsv == 0 {
					c = nil
				}
				in = append(in, c)
			}
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, msg := range msgs {
					_, _, err := a.EncodeMessage(nil, msg, frame.OpBinary)
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
			for i, c := range in {
				if c == nil {
					continue
				}
				out, err := b.DecodeMessage(nil, c, frame.Rsv1, 1<<30)
				require.NoError(t, err)
				require.Equal(t, msgs[i], out)
			}
			wg.Wait()
		})
	}
}
