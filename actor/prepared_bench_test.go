package actor

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

// broadcastConns starts n server Conns over loopback TCP whose peers only
// read and discard, so that a benchmark measures the writes and not a
// peer's backpressure. With compress they negotiated permessage-deflate
// at the defaults, without server context takeover: with it each
// connection would hold its own compressor (0.8 MiB) between messages.
func broadcastConns(b *testing.B, n int, compress bool) []*Conn {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, n)
	go func() {
		for range n {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	conns := make([]*Conn, 0, n)
	var peers []net.Conn
	b.Cleanup(func() {
		for _, p := range peers {
			p.Close() // the Conns then end at once, without a close handshake
		}
		for _, c := range conns {
			_ = c.CloseNow()
			<-c.Done()
		}
	})
	for range n {
		p, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		peers = append(peers, p)
		go func() { _, _ = io.Copy(io.Discard, p) }()
		nc, ok := <-accepted
		if !ok {
			b.Fatal("accept failed")
		}
		var opts []Option
		if compress {
			ext, err := deflate.New(deflate.Params{ServerNoContextTakeover: true}, frame.Server, deflate.Config{})
			if err != nil {
				b.Fatal(err)
			}
			opts = append(opts, WithExtension(ext))
		}
		c, err := New(nc, nil, frame.Server, opts...)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
	}
	return conns
}

// BenchmarkBroadcast1000 sends one message to 1,000 server connections:
// with Send to each, which frames (and compresses) it 1,000 times, and
// with Prepare once per broadcast and SendPrepared to each, which frames
// and compresses it once. One op is one whole broadcast. The message is
// JSON-like text that DEFLATE shrinks; 16 bytes is under deflate's
// threshold, so it goes uncompressed either way.
func BenchmarkBroadcast1000(b *testing.B) {
	const n = 1000
	for _, compress := range []bool{false, true} {
		conns := broadcastConns(b, n, compress)
		name := "plain"
		if compress {
			name = "deflate"
		}
		for _, size := range benchSizes {
			msg := Text(string(chat(1, size)))
			ctx := context.Background()
			b.Run(fmt.Sprintf("%s/%d/Send", name, size), func(b *testing.B) {
				b.ReportAllocs()
				for range b.N {
					for _, c := range conns {
						if err := c.Send(ctx, msg); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
			b.Run(fmt.Sprintf("%s/%d/SendPrepared", name, size), func(b *testing.B) {
				b.ReportAllocs()
				for range b.N {
					pm, err := Prepare(msg)
					if err != nil {
						b.Fatal(err)
					}
					for _, c := range conns {
						if err := c.SendPrepared(ctx, pm); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}
