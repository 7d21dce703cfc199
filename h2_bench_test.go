//go:build !js

package ws_test

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/internal/h2test"
)

// BenchmarkManyWebSockets compares 1,000 WebSockets multiplexed on one
// HTTP/2 connection (RFC 8441, Dial's default) with 1,000 WebSockets on their
// own TLS connection (wss over HTTP/1.1, WithHTTP1) and on their own plain TCP
// connection (ws), all to ws.Handler echo in this process. Each op is one
// 1 KiB round trip, run on all WebSockets at once. Reported besides ns/op:
// rt/s, the round trips per second of the whole set; KiB/ws, heap and
// stacks in use per WebSocket with both ends in this process
// (HeapInuse+StackInuse delta after GC, idle after one echo); open-ms/ws,
// the wall time to open all of them (concurrently, 50 at a time) divided by
// their number. The HTTP/2 case needs GODEBUG=http2xconnect=1:
//
//	GODEBUG=http2xconnect=1 go test -run '^$' -bench ManyWebSockets -benchtime 20000x .
func BenchmarkManyWebSockets(b *testing.B) {
	const n = 1000
	for _, tc := range []struct {
		name string
		tls  bool
		h2   bool
		opts []ws.DialOption
	}{
		{"h2-one-connection", true, true, nil},
		{"wss-http1-per-connection", true, false, []ws.DialOption{ws.WithHTTP1()}},
		{"ws-tcp-per-connection", false, false, nil},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if tc.h2 && !strings.Contains(os.Getenv("GODEBUG"), h2test.XConnect) {
				b.Skip("RFC 8441 needs the process started with GODEBUG=http2xconnect=1")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			wsSrv := ws.Handler(echo, ws.WithAnyOrigin())
			var srv *httptest.Server
			url := ""
			opts := tc.opts
			if tc.tls {
				srv = startH2(b, wsSrv)
				u, tcfg := wssURL(srv, "/")
				url, opts = u, append(opts, ws.WithTLSConfig(tcfg))
			} else {
				srv = httptest.NewServer(wsSrv)
				b.Cleanup(srv.Close)
				url = "ws" + strings.TrimPrefix(srv.URL, "http")
			}
			defer wsSrv.Shutdown(ctx)

			msg := ws.Binary(make([]byte, 1024))
			before := inUse()
			conns := make([]*ws.Conn, n)
			start := time.Now()
			var wg sync.WaitGroup
			sem := make(chan struct{}, 50)
			var failed atomic.Value
			for i := range conns {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					c, _, err := ws.Dial(ctx, url, opts...)
					if err != nil {
						failed.Store(err)
						return
					}
					conns[i] = c
				}()
			}
			wg.Wait()
			if err := failed.Load(); err != nil {
				b.Fatal(err)
			}
			open := time.Since(start)
			for _, c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := c.Send(ctx, msg); err != nil {
						failed.Store(err)
						return
					}
					if _, err := c.Receive(ctx); err != nil {
						failed.Store(err)
					}
				}()
			}
			wg.Wait()
			if err := failed.Load(); err != nil {
				b.Fatal(err)
			}
			held := float64(inUse()-before) / n / 1024

			var left atomic.Int64
			left.Store(int64(b.N))
			b.ResetTimer()
			t0 := time.Now()
			for _, c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for left.Add(-1) >= 0 {
						if err := c.Send(ctx, msg); err != nil {
							failed.Store(err)
							return
						}
						if _, err := c.Receive(ctx); err != nil {
							failed.Store(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(t0)
			b.StopTimer()
			if err := failed.Load(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rt/s")
			b.ReportMetric(held, "KiB/ws")
			b.ReportMetric(float64(open.Microseconds())/1000/n, "open-ms/ws")
			for _, c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_ = c.Close(ctx, ws.StatusNormalClosure, "")
				}()
			}
			wg.Wait()
		})
	}
}
