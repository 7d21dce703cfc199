//go:build !js

package ws_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/handshake"
)

// abServer runs a raw Autobahn-like server on 127.0.0.1: it completes the
// handshake on the raw connection with handshake.Server (Extensions as
// given) and hands the connection to fn, then closes it. It returns the
// ws:// URL. The bad-input client tests use it too (rawServer).
func abServer(t *testing.T, exts []handshake.Negotiator, fn func(conn net.Conn, br *bufio.Reader, acc *handshake.Accepted)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
		hs := &handshake.Server{Extensions: exts, InsecureSkipOriginCheck: true}
		acc, err := hs.Handshake(context.Background(), conn)
		if err != nil {
			return
		}
		_ = conn.SetDeadline(time.Now().Add(20 * time.Second)) // the handshake cleared it
		fn(acc.Conn, acc.Reader, acc)
	}()
	return "ws://" + ln.Addr().String() + "/"
}

// echoClient dials url and echoes every message back until the connection
// ends; it returns the connection.
func echoClient(t *testing.T, url string, opts ...ws.DialOption) *ws.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := ws.Dial(ctx, url, opts...)
	require.NoError(t, err)
	go func() {
		for m := range c.Incoming() {
			if c.Send(context.Background(), m) != nil {
				return
			}
		}
	}()
	return c
}

// TestAutobahnClient plays the Autobahn cases from a raw server against
// our echo client (Autobahn's fuzzingserver mode).
func TestAutobahnClient(t *testing.T) {
	for _, c := range abCases() {
		t.Run(c.id, func(t *testing.T) {
			t.Parallel()
			result := make(chan error, 1)
			url := abServer(t, nil, func(conn net.Conn, br *bufio.Reader, _ *handshake.Accepted) {
				err := errors.New("the raw server's checks failed")
				defer func() { result <- err }() // also after a require's Goexit
				p := &abPeer{t: t, conn: conn, br: br, masked: false}
				p.run(c)
				// The client waits for the server to close TCP (RFC 6455
				// §7.1.1): nothing more, and no EOF, before we close.
				_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
				_, err = br.ReadByte()
			})
			cc := echoClient(t, url)
			err := <-result
			var ne net.Error
			require.True(t, errors.As(err, &ne) && ne.Timeout(), "the client closed TCP first, or sent after its close: %v", err)
			select {
			case <-cc.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("client did not end after the server closed TCP")
			}
		})
	}
}

// TestAutobahnClientLargeMessages: 9.1.6 and 9.2.6, 16 MiB text and binary
// echoed by the client.
func TestAutobahnClientLargeMessages(t *testing.T) {
	for _, c := range []struct {
		id   string
		op   frame.Opcode
		size int
	}{
		{"9.1.6/16 MiB text", frame.OpText, 16 << 20},
		{"9.2.6/16 MiB binary", frame.OpBinary, 16 << 20},
		{"9.4.1/1 MiB binary in 64-byte fragments", frame.OpBinary, 1 << 20},
	} {
		t.Run(c.id, func(t *testing.T) {
			payload := bytes.Repeat([]byte("*"), c.size)
			got := make(chan []byte, 1)
			url := abServer(t, nil, func(conn net.Conn, br *bufio.Reader, _ *handshake.Accepted) {
				var m []byte
				defer func() { got <- m }() // also after a require's Goexit
				go func() {
					w := bufio.NewWriterSize(conn, 64<<10)
					if c.id[:3] == "9.4" {
						for i := 0; i < len(payload); i += 64 {
							op := frame.OpContinuation
							if i == 0 {
								op = c.op
							}
							_, _ = w.Write(rawFrame(i+64 >= len(payload), 0, op, false, payload[i:min(i+64, len(payload))]))
						}
					} else {
						_, _ = w.Write(rawFrame(true, 0, c.op, false, payload))
					}
					_ = w.Flush()
				}()
				p := &abPeer{t: t, conn: conn, br: br, masked: false}
				for {
					h, b, err := p.readFrame()
					if err != nil || h.Opcode == frame.OpClose {
						return
					}
					m = append(m, b...)
					if h.Fin {
						break
					}
				}
				p.write(closeFrame(1000, ""))
				_, _, _ = p.readFrame()
			})
			cc := echoClient(t, url)
			m := <-got
			require.True(t, bytes.Equal(payload, m), "echo differs (%d bytes)", len(m))
			<-cc.Done()
		})
	}
}

// TestAutobahnClientCompression: the fuzzingserver's 12.x/13.x answers to
// our client's offer (accept1..accept7: with or without
// server_no_context_takeover, client_max_window_bits=8 or 15 when we
// offered client_max_window_bits), and compressed echo under each.
func TestAutobahnClientCompression(t *testing.T) {
	data, err := os.ReadFile("docs/design.md")
	require.NoError(t, err)
	for _, tc := range []struct {
		id         string
		clientBits int // our WithClientMaxWindowBits; 0: not offered
		server     handshake.PerMessageDeflate
	}{
		{"12.x, 13.1/accept the offer", 0, handshake.PerMessageDeflate{}},
		{"13.2/server_no_context_takeover", 0, handshake.PerMessageDeflate{ServerNoContextTakeover: true}},
		{"13.3/client_max_window_bits=8", 15, handshake.PerMessageDeflate{ClientMaxWindowBits: 8}},
		{"13.4/client_max_window_bits=15", 15, handshake.PerMessageDeflate{ClientMaxWindowBits: 15}},
		{"13.5/both, 8", 15, handshake.PerMessageDeflate{ServerNoContextTakeover: true, ClientMaxWindowBits: 8}},
		{"13.6/both, 15", 15, handshake.PerMessageDeflate{ServerNoContextTakeover: true, ClientMaxWindowBits: 15}},
	} {
		t.Run(tc.id, func(t *testing.T) {
			srv := tc.server
			done := make(chan struct{})
			url := abServer(t, []handshake.Negotiator{&srv}, func(conn net.Conn, br *bufio.Reader, acc *handshake.Accepted) {
				defer close(done) // also after a require's Goexit
				if acc.Deflate == nil {
					t.Error("permessage-deflate not agreed")
					return
				}
				for i, n := range []int{16, 256, 4096, 65536, 131072} {
					op, m := compressionCase(data, i, n)
					for _, fragSize := range []int{0, 256} {
						writeCompressedAs(t, conn, op, m, fragSize, false)
						gotOp, got := readCompressedAs(t, br, true)
						if gotOp != op || !bytes.Equal(m, got) {
							t.Errorf("echo of %d bytes (fragment %d) differs", len(m), fragSize)
							return
						}
					}
				}
				p := &abPeer{t: t, conn: conn, br: br, masked: false}
				p.write(closeFrame(1000, ""))
				_, _, _ = p.readFrame()
			})
			opts := []ws.DialOption{ws.WithCompression()}
			if tc.clientBits != 0 {
				opts = append(opts, ws.WithClientMaxWindowBits(tc.clientBits))
			}
			cc := echoClient(t, url, opts...)
			<-done
			<-cc.Done()
		})
	}
}

// readCompressedAs reads one message, checking the mask bit is masked, and
// inflates it if its first frame has RSV1. It uses t.Errorf so that it may
// run off the test goroutine.
func readCompressedAs(t *testing.T, br *bufio.Reader, masked bool) (frame.Opcode, []byte) {
	op, p, _ := readCompressedRsv(t, br, masked)
	return op, p
}

// readCompressedRsv is readCompressedAs also reporting whether the message
// was compressed.
func readCompressedRsv(t *testing.T, br *bufio.Reader, masked bool) (frame.Opcode, []byte, bool) {
	var op frame.Opcode
	var rsv uint8
	var p []byte
	for {
		h, err := frame.ReadHeader(br)
		if err != nil {
			t.Errorf("read: %v", err)
			return 0, nil, false
		}
		b := make([]byte, h.Length)
		if _, err := io.ReadFull(br, b); err != nil {
			t.Errorf("read: %v", err)
			return 0, nil, false
		}
		if h.Masked != masked {
			t.Errorf("mask bit %v", h.Masked)
		}
		if h.Masked {
			frame.Mask(h.Mask, 0, b)
		}
		if h.Opcode == frame.OpClose {
			t.Errorf("closed: %q", b)
			return 0, nil, false
		}
		if h.Opcode != frame.OpContinuation {
			op, rsv = h.Opcode, h.Rsv
		}
		p = append(p, b...)
		if h.Fin {
			break
		}
	}
	if rsv&frame.Rsv1 == 0 {
		return op, p, false
	}
	return op, inflate(t, p), true
}
