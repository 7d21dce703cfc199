//go:build !js

package ws_test

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/wsactor/ws"
)

// BenchmarkMessage16MiB sends a 16 MiB message to a server that discards
// it and answers with one byte, either whole (Send, Incoming) or streamed
// (SendStream, NextReader), over loopback TCP.
func BenchmarkMessage16MiB(b *testing.B) {
	const size = 16 << 20
	payload := bytes.Repeat([]byte{'x'}, size)
	for _, tc := range []struct {
		name     string
		streamed bool
	}{{"whole", false}, {"streamed", true}} {
		b.Run(tc.name, func(b *testing.B) {
			opts := []ws.Option{ws.WithMaxMessageSize(size)}
			if tc.streamed {
				opts = append(opts, ws.WithStreamedReceive())
			}
			var aopts []ws.AcceptOption
			var dopts []ws.DialOption
			for _, o := range opts {
				aopts, dopts = append(aopts, o), append(dopts, o)
			}
			h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
				ack := ws.Binary([]byte{1})
				for {
					if tc.streamed {
						_, r, err := c.NextReader(ctx)
						if err != nil {
							return
						}
						if _, err := io.Copy(io.Discard, r); err != nil {
							return
						}
					} else if _, err := c.Receive(ctx); err != nil {
						return
					}
					if err := c.Send(ctx, ack); err != nil {
						return
					}
				}
			}, aopts...)
			srv := httptest.NewServer(h)
			defer srv.Close()
			defer h.Shutdown(context.Background())
			ctx := context.Background()
			c, _, err := ws.Dial(ctx, "ws"+srv.URL[len("http"):], dopts...)
			if err != nil {
				b.Fatal(err)
			}
			defer c.CloseNow()
			b.SetBytes(size)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if tc.streamed {
					if err := c.SendStream(ctx, ws.BinaryMessage, bytes.NewReader(payload)); err != nil {
						b.Fatal(err)
					}
					_, r, err := c.NextReader(ctx)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, r)
				} else {
					if err := c.Send(ctx, ws.Binary(payload)); err != nil {
						b.Fatal(err)
					}
					if _, err := c.Receive(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
