package deflate_test

import (
	"testing"

	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

var benchModes = []struct {
	name   string
	params deflate.Params
}{
	{name: "takeover", params: deflate.Params{}},
	{name: "no-takeover", params: deflate.Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
}

// BenchmarkEcho compresses a JSON-like message on one side and inflates it
// on the other, as an echo does per message, reusing buffers as
// frame.Writer and frame.Reader do. It reports the compressed size as a
// ratio of the original.
func BenchmarkEcho(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}} {
		for _, m := range benchModes {
			b.Run(size.name+"/"+m.name, func(b *testing.B) {
				send := newExt(b, m.params, frame.Server, deflate.Config{})
				recv := newExt(b, m.params, frame.Client, deflate.Config{})
				// 64 different messages in turn: more than the 32 KiB
				// window holds, so a message never finds its own earlier
				// copy there and takeover gains only what a real stream
				// of similar messages would.
				msgs := make([][]byte, 64)
				for i := range msgs {
					msgs[i] = jsonLike(size.n, i+1)
				}
				var comp, out []byte
				var compBytes int
				b.SetBytes(int64(size.n))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					msg := msgs[i%len(msgs)]
					var rsv uint8
					var err error
					comp, rsv, err = send.EncodeMessage(comp[:0], msg, frame.OpText)
					if err != nil || rsv == 0 {
						b.Fatal(err, rsv)
					}
					compBytes += len(comp)
					out, err = recv.DecodeMessage(out[:0], comp, rsv, 1<<20)
					if err != nil || len(out) != len(msg) {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(compBytes)/float64(b.N*size.n), "ratio")
			})
		}
	}
}

// BenchmarkIdleConn reports the heap one idle server-side connection holds
// after some compressed traffic.
func BenchmarkIdleConn(b *testing.B) {
	for _, m := range idleModes {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			var per float64
			for i := 0; i < b.N; i++ {
				exts, p := idleConns(b, m.params, m.conns)
				per = p
				for _, e := range exts {
					_ = e.Close()
				}
			}
			b.ReportMetric(per, "bytes/conn")
		})
	}
}
