package deflate_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

// Documented heap per idle connection (docs/benchmarks.md, "frame/deflate"), as
// bounds with margin: what one side's Extension holds after some traffic.
const (
	// No takeover either way: the Extension alone.
	idleNoTakeover = 1 << 10
	// Peer keeps its context, ours resets (a server answering
	// server_no_context_takeover): the 32 KiB window of past output.
	idleWindowOnly = 32<<10 + 2<<10
	// Takeover both ways: plus one BestSpeed flate.Writer (about 0.8 MiB
	// with klauspost/compress; compress/flate's was 1.2 MiB).
	idleTakeover = 900 << 10
)

var idleModes = []struct {
	name   string
	params deflate.Params
	conns  int
	bound  int
}{
	{name: "7.1.1/no takeover", params: deflate.Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, conns: 1000, bound: idleNoTakeover},
	{name: "7.1.1.1/server_no_context_takeover", params: deflate.Params{ServerNoContextTakeover: true}, conns: 1000, bound: idleWindowOnly},
	// Fewer connections: 1000 would take 0.8 GiB on a shared machine.
	{name: "7.1.1/takeover both ways", conns: 32, bound: idleTakeover},
}

// idleConns returns n server-side Extensions that have each sent and
// received a few compressed messages, and the heap they hold per connection.
func idleConns(t testing.TB, p deflate.Params, n int) ([]*deflate.Extension, float64) {
	t.Helper()
	peer := newExt(t, p, frame.Client, deflate.Config{})
	var in [][]byte
	for i := range 3 {
		c, rsv, err := peer.EncodeMessage(nil, jsonLike(2048, i), frame.OpText)
		require.NoError(t, err)
		require.Equal(t, frame.Rsv1, rsv)
		in = append(in, c)
	}
	heap := func() uint64 {
		// Two cycles empty the flate pools (sync.Pool keeps a victim cache
		// for one cycle): what is left is what connections hold.
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	exts := make([]*deflate.Extension, n)
	before := heap()
	var buf []byte
	for i := range exts {
		e, err := deflate.New(p, frame.Server, deflate.Config{})
		require.NoError(t, err)
		for j, c := range in {
			buf, err = e.DecodeMessage(buf[:0], c, frame.Rsv1, 1<<20)
			require.NoError(t, err)
			_, _, err = e.EncodeMessage(nil, jsonLike(2048, j), frame.OpText)
			require.NoError(t, err)
		}
		exts[i] = e
	}
	after := heap()
	per := (float64(after) - float64(before)) / float64(n)
	return exts, per
}

func TestIdleMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates about 100 MB to measure idle connections; skipped in -short")
	}
	if raceEnabled {
		t.Skip("the race detector changes heap figures; this test runs without -race")
	}
	for _, m := range idleModes {
		t.Run(m.name, func(t *testing.T) {
			exts, per := idleConns(t, m.params, m.conns)
			t.Logf("%d connections: %.0f heap bytes each (bound %d)", m.conns, per, m.bound)
			require.Less(t, per, float64(m.bound))
			for _, e := range exts {
				require.NoError(t, e.Close())
			}
			runtime.KeepAlive(exts)
		})
	}
}
