//go:build !js

package ws_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/handshake"
)

// badFrame is one case of bad input from a peer: the
// frames a misbehaving peer sends (written as the peer's role would, unless
// the case is about masking) and the close code our side must answer with.
type badFrame struct {
	name  string
	wire  func(masked bool) []byte // what the peer sends; masked is the peer role's rule
	code  ws.StatusCode
	limit int64 // WithMaxMessageSize, if set
}

func badFrames() []badFrame {
	f := rawFrame
	text := func(m bool, p string) []byte { return f(true, 0, frame.OpText, m, []byte(p)) }
	closeWith := func(code uint16, reason string) func(bool) []byte {
		return func(m bool) []byte {
			p := binary.BigEndian.AppendUint16(nil, code)
			return f(true, 0, frame.OpClose, m, append(p, reason...))
		}
	}
	cases := []badFrame{
		{name: "5.2/reserved bit RSV1 without extension", code: ws.StatusProtocolError,
			wire: func(m bool) []byte { return f(true, frame.Rsv1, frame.OpText, m, []byte("x")) }},
		{name: "5.2/reserved bit RSV3", code: ws.StatusProtocolError,
			wire: func(m bool) []byte { return f(true, frame.Rsv3, frame.OpBinary, m, []byte("x")) }},
		{name: "5.2/reserved data opcode 0x3", code: ws.StatusProtocolError,
			wire: func(m bool) []byte { return f(true, 0, 0x3, m, []byte("x")) }},
		{name: "5.2/reserved control opcode 0xB", code: ws.StatusProtocolError,
			wire: func(m bool) []byte { return f(true, 0, 0xB, m, nil) }},
		{name: "5.5/fragmented control frame", code: ws.StatusProtocolError,
			wire: func(m bool) []byte { return f(false, 0, frame.OpPing, m, []byte("p")) }},
		{name: "5.5/control frame over 125 bytes", code: ws.StatusProtocolError,
			wire: func(m bool) []byte { return f(true, 0, frame.OpPing, m, make([]byte, 126)) }},
		{name: "5.4/continuation without start", code: ws.StatusProtocolError,
			wire: func(m bool) []byte { return f(true, 0, frame.OpContinuation, m, []byte("x")) }},
		{name: "5.4/new data frame inside a fragmented message", code: ws.StatusProtocolError,
			wire: func(m bool) []byte {
				return append(f(false, 0, frame.OpText, m, []byte("a")), f(true, 0, frame.OpText, m, []byte("b"))...)
			}},
		{name: "8.1/invalid UTF-8 in text", code: ws.StatusInvalidFramePayloadData,
			wire: func(m bool) []byte { return text(m, "bad \xff utf-8") }},
		{name: "8.1/invalid UTF-8 in the first fragment, rest never sent", code: ws.StatusInvalidFramePayloadData,
			wire: func(m bool) []byte { return f(false, 0, frame.OpText, m, []byte("\xc0\xaf")) }},
		{name: "8.1/text ending inside a code point", code: ws.StatusInvalidFramePayloadData,
			wire: func(m bool) []byte { return text(m, "caf\xc3") }},
		{name: "5.5.1/invalid UTF-8 in close reason", code: ws.StatusInvalidFramePayloadData,
			wire: closeWith(1000, "\xff")},
		{name: "5.5.1/close payload of 1 byte", code: ws.StatusProtocolError,
			wire: func(m bool) []byte { return f(true, 0, frame.OpClose, m, []byte{3}) }},
		{name: "10.4/message over the limit", code: ws.StatusMessageTooBig, limit: 1024,
			wire: func(m bool) []byte { return f(true, 0, frame.OpBinary, m, make([]byte, 1025)) }},
		{name: "10.4/fragmented message over the limit", code: ws.StatusMessageTooBig, limit: 1024,
			wire: func(m bool) []byte {
				return append(f(false, 0, frame.OpBinary, m, make([]byte, 1000)), f(true, 0, frame.OpContinuation, m, make([]byte, 100))...)
			}},
	}
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000} {
		cases = append(cases, badFrame{
			name: "7.4/invalid close code " + strconv.Itoa(int(code)), code: ws.StatusProtocolError,
			wire: closeWith(code, ""),
		})
	}
	return cases
}

// rawFrame encodes one frame as a misbehaving peer would; nothing is
// checked.
func rawFrame(fin bool, rsv uint8, op frame.Opcode, masked bool, payload []byte) []byte {
	h := frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: masked, Length: int64(len(payload))}
	if masked {
		h.Mask = [4]byte{0x37, 0xfa, 0x21, 0x3d}
	}
	b := frame.AppendHeader(nil, h)
	start := len(b)
	b = append(b, payload...)
	if masked {
		frame.Mask(h.Mask, 0, b[start:])
	}
	return b
}

// readClose reads frames from br until a close frame and returns its code;
// data frames and pings before it are skipped.
func readClose(t *testing.T, br *bufio.Reader, wantMasked bool) ws.StatusCode {
	t.Helper()
	for {
		h, err := frame.ReadHeader(br)
		require.NoError(t, err, "reading the close frame")
		require.Equal(t, wantMasked, h.Masked, "mask bit of a frame from our side")
		p := make([]byte, h.Length)
		_, err = io.ReadFull(br, p)
		require.NoError(t, err)
		if h.Masked {
			frame.Mask(h.Mask, 0, p)
		}
		if h.Opcode != frame.OpClose {
			continue
		}
		code, _, err := frame.ParseClosePayload(p)
		require.NoError(t, err, "our close frame must be valid")
		return code
	}
}

// requireClosedBy waits for c to end and checks that Err is a *CloseError
// with code that our side sent.
func requireClosedBy(t *testing.T, c *ws.Conn, code ws.StatusCode) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("connection did not end")
	}
	var ce *ws.CloseError
	require.ErrorAs(t, c.Err(), &ce, "Err() = %v", c.Err())
	require.Equal(t, code, ce.Code, "Err() = %v", c.Err())
	require.False(t, ce.Remote, "our side failed the connection, Err() = %v", c.Err())
}

// upgradeRaw performs a client handshake by hand on a fresh TCP
// connection to addr and returns it with a reader past the 101.
func upgradeRaw(t *testing.T, addr string, extra string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, br, _ := upgradeRawResp(t, addr, extra)
	return conn, br
}

// TestBadInputServer: a raw client sends each bad input to a ws.Handler;
// the server must send the table's close code and report it in Err.
func TestBadInputServer(t *testing.T) {
	for _, tc := range append(badFrames(), badFrame{
		name: "5.1/unmasked client frame", code: ws.StatusProtocolError,
		wire: func(bool) []byte { return rawFrame(true, 0, frame.OpText, false, []byte("hi")) },
	}) {
		t.Run(tc.name, func(t *testing.T) {
			conns := make(chan *ws.Conn, 1)
			opts := []ws.AcceptOption{}
			if tc.limit > 0 {
				opts = append(opts, ws.WithMaxMessageSize(tc.limit))
			}
			h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
				conns <- c
				for range c.Incoming() {
				}
			}, opts...)
			srv := httptest.NewServer(h)
			defer srv.Close()
			defer h.Shutdown(context.Background())

			conn, br := upgradeRaw(t, srv.Listener.Addr().String(), "")
			c := <-conns
			_, err := conn.Write(tc.wire(true))
			require.NoError(t, err)
			require.Equal(t, tc.code, readClose(t, br, false))
			// Answer the close, as a well-behaved client would.
			_, _ = conn.Write(rawFrame(true, 0, frame.OpClose, true, binary.BigEndian.AppendUint16(nil, uint16(tc.code))))
			requireClosedBy(t, c, tc.code)
			_, err = io.Copy(io.Discard, br)
			if err != nil {
				// Closing with our close reply unread makes a reset.
				require.ErrorIs(t, err, syscall.ECONNRESET, "the server closes the socket after failing the connection")
			}
		})
	}
}

// rawServer accepts one TCP connection on 127.0.0.1, completes its upgrade
// and hands the connection to fn: abServer without extensions.
func rawServer(t *testing.T, fn func(conn net.Conn, br *bufio.Reader)) string {
	t.Helper()
	return abServer(t, nil, func(conn net.Conn, br *bufio.Reader, _ *handshake.Accepted) { fn(conn, br) })
}

// TestBadInputClient: a raw server sends each bad input to a client from
// ws.Dial; the client must send the table's close code and report it.
func TestBadInputClient(t *testing.T) {
	for _, tc := range append(badFrames(), badFrame{
		name: "5.1/masked server frame", code: ws.StatusProtocolError,
		wire: func(bool) []byte { return rawFrame(true, 0, frame.OpText, true, []byte("hi")) },
	}) {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan ws.StatusCode, 1)
			url := rawServer(t, func(conn net.Conn, br *bufio.Reader) {
				if _, err := conn.Write(tc.wire(false)); err != nil {
					return
				}
				h, err := frame.ReadHeader(br)
				for err == nil && h.Opcode != frame.OpClose {
					_, _ = br.Discard(int(h.Length))
					h, err = frame.ReadHeader(br)
				}
				if err != nil || !h.Masked {
					close(got)
					return
				}
				p := make([]byte, h.Length)
				if _, err := io.ReadFull(br, p); err != nil {
					close(got)
					return
				}
				frame.Mask(h.Mask, 0, p)
				code, _, _ := frame.ParseClosePayload(p)
				got <- code
				_, _ = conn.Write(rawFrame(true, 0, frame.OpClose, false, p[:2]))
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			opts := []ws.DialOption{}
			if tc.limit > 0 {
				opts = append(opts, ws.WithMaxMessageSize(tc.limit))
			}
			c, _, err := ws.Dial(ctx, url, opts...)
			require.NoError(t, err)
			code, ok := <-got
			require.True(t, ok, "the client sent no valid masked close frame")
			require.Equal(t, tc.code, code)
			requireClosedBy(t, c, tc.code)
		})
	}
}

// TestBadHandshake: requests that are not valid upgrades get the table's
// HTTP status and the socket is closed; the handler never runs.
func TestBadHandshake(t *testing.T) {
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) { t.Error("handler called for a bad handshake") })
	srv := httptest.NewUnstartedServer(h)
	srv.Config.MaxHeaderBytes = 4 << 10
	srv.Config.ReadHeaderTimeout = time.Second
	srv.Start()
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	good := map[string]string{
		"Host": addr, "Upgrade": "websocket", "Connection": "Upgrade",
		"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		method string
		header map[string]string
		status int
	}{
		{"4.2.1/method POST", "POST", good, http.StatusBadRequest},
		{"4.2.1/missing Upgrade", "GET", with("Upgrade", ""), http.StatusBadRequest},
		{"4.2.1/Upgrade not websocket", "GET", with("Upgrade", "h2c"), http.StatusBadRequest},
		{"4.2.1/missing Connection upgrade", "GET", with("Connection", "keep-alive"), http.StatusBadRequest},
		{"4.2.1/missing key", "GET", with("Sec-WebSocket-Key", ""), http.StatusBadRequest},
		{"4.2.1/key of 15 bytes", "GET", with("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAA"), http.StatusBadRequest},
		{"4.4/version 8", "GET", with("Sec-WebSocket-Version", "8"), http.StatusUpgradeRequired},
		{"10.2/foreign origin", "GET", with("Origin", "https://evil.example"), http.StatusForbidden},
		{"oversized handshake", "GET", with("X-Pad", strings.Repeat("a", 8<<10)), http.StatusRequestHeaderFieldsTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer conn.Close()
			require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
			var b strings.Builder
			b.WriteString(tc.method + " / HTTP/1.1\r\n")
			for k, v := range tc.header {
				b.WriteString(k + ": " + v + "\r\n")
			}
			b.WriteString("\r\n")
			_, err = io.WriteString(conn, b.String())
			require.NoError(t, err)
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			require.Equal(t, tc.status, resp.StatusCode)
			if tc.status == http.StatusUpgradeRequired {
				require.Equal(t, "13", resp.Header.Get("Sec-WebSocket-Version"))
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_, err = br.ReadByte()
			require.ErrorIs(t, err, io.EOF, "socket closed after the refusal")
		})
	}

	t.Run("slow handshake", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer conn.Close()
		require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
		_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n") // and never the rest
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, conn)
		require.NoError(t, err, "the server closes a stalled handshake (ReadHeaderTimeout)")
	})
}

// TestPeerVanishes: a peer that stops answering pings is detected by the
// keepalive; the connection ends with an error and leaves no goroutine.
func TestPeerVanishes(t *testing.T) {
	release := make(chan struct{})
	url := rawServer(t, func(conn net.Conn, br *bufio.Reader) {
		<-release // read nothing, answer nothing
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := ws.Dial(ctx, url, ws.WithKeepalive(50*time.Millisecond, 100*time.Millisecond))
	require.NoError(t, err)
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("a silent peer was not detected")
	}
	require.ErrorIs(t, c.Err(), ws.ErrPongTimeout)
	require.Equal(t, ws.StatusAbnormalClosure, ws.CloseStatus(c.Err()))
	var ne net.Error
	require.ErrorAs(t, c.Err(), &ne)
	require.True(t, ne.Timeout())
}
