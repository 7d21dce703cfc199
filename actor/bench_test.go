package actor

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/wsactor/ws/frame"
)

var benchSizes = []int{16, 1 << 10, 64 << 10}

// BenchmarkEcho measures a full round trip over loopback TCP as the README
// writes one: the server ranges over Incoming and echoes each message with
// Send and a cancellable ctx, the client sends on Outgoing and receives.
// Allocations per op are the two received messages' own buffers.
func BenchmarkEcho(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			cl, sv := newPair(b, tcpMode, nil, nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				for m := range sv.Incoming() {
					if sv.Send(ctx, m) != nil {
						return
					}
				}
			}()
			msg := Binary(make([]byte, size))
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				cl.Outgoing() <- msg
				<-cl.Incoming()
			}
		})
	}
}

// BenchmarkSend measures sending alone: the peer only discards bytes, so
// allocations per op are the sender's.
func BenchmarkSend(b *testing.B) {
	for _, size := range benchSizes {
		for _, role := range []frame.Role{frame.Server, frame.Client} {
			b.Run(fmt.Sprintf("%s/%d", role, size), func(b *testing.B) {
				c, p := newRaw(b, tcpMode, role)
				go func() { _, _ = io.Copy(io.Discard, p.conn) }()
				msg := Binary(make([]byte, size))
				ctx := context.Background()
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if err := c.Send(ctx, msg); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkOutgoing is BenchmarkSend through the Outgoing channel, where
// the writer coalesces queued messages into one flush.
func BenchmarkOutgoing(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			c, p := newRaw(b, tcpMode, frame.Server)
			go func() { _, _ = io.Copy(io.Discard, p.conn) }()
			msg := Binary(make([]byte, size))
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				c.Outgoing() <- msg
			}
		})
	}
}

// BenchmarkReceive measures receiving alone: the peer writes pre-encoded
// frames, so allocations per op are the receiver's (the message buffer).
func BenchmarkReceive(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			benchReceive(b, size, false)
		})
	}
}

func benchReceive(b *testing.B, size int, recycle bool) {
	var opts []Option
	if recycle {
		opts = append(opts, WithRecycledBuffers(false))
	}
	c, p := newRaw(b, tcpMode, frame.Server, opts...)
	one := p.frameBytes(true, 0, frame.OpBinary, make([]byte, size), nil)
	batch := one
	for len(batch) < 64<<10 {
		batch = append(batch, one...)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		w := bufio.NewWriter(p.conn)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := w.Write(batch); err != nil {
				return
			}
			_ = w.Flush()
		}
	}()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m := <-c.Incoming()
		if recycle {
			m.Release()
		}
	}
}
