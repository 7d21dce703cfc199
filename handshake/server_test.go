package handshake_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wsactor/ws/handshake"
)

const request = "GET /chat HTTP/1.1\r\n" +
	"Host: 127.0.0.1\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Sec-WebSocket-Protocol: chat\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
	"Sec-WebSocket-Version: 13\r\n\r\n"

type result struct {
	acc *handshake.Accepted
	req *handshake.Request
	err error
}

// serveOne listens on loopback, runs fn on the first connection and
// reports its result. The listener and connection are closed by cleanup.
func serveOne(t *testing.T, fn func(net.Conn) result) (addr string, done <-chan result) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ch := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			ch <- result{err: err}
			return
		}
		ch <- fn(c)
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), ch
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestServerRawAccept(t *testing.T) {
	srv := &handshake.Server{Subprotocols: []string{"chat"}, Extensions: []handshake.Negotiator{&handshake.PerMessageDeflate{ClientMaxWindowBits: 12}}}
	addr, done := serveOne(t, func(c net.Conn) result {
		acc, err := srv.Handshake(context.Background(), c)
		return result{acc: acc, err: err}
	})
	c := dial(t, addr)
	// The client's first frame arrives in the same segment as its request.
	_, err := io.WriteString(c, request+"FRAME")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	require.Equal(t, 101, resp.StatusCode)
	require.Equal(t, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", resp.Header.Get("Sec-WebSocket-Accept"))
	require.Equal(t, "chat", resp.Header.Get("Sec-WebSocket-Protocol"))
	require.Equal(t, "permessage-deflate; client_max_window_bits=12", resp.Header.Get("Sec-WebSocket-Extensions"))

	r := <-done
	require.NoError(t, r.err)
	defer r.acc.Conn.Close()
	require.Equal(t, "chat", r.acc.Protocol)
	require.Equal(t, 12, r.acc.Deflate.ClientMaxWindowBits)
	require.Equal(t, "/chat", r.acc.Request.Path())
	b := make([]byte, 5)
	_, err = io.ReadFull(r.acc.Reader, b)
	require.NoError(t, err)
	require.Equal(t, "FRAME", string(b))
}

func TestServerRawReject(t *testing.T) {
	srv := &handshake.Server{}
	addr, done := serveOne(t, func(c net.Conn) result {
		req, err := srv.ReadRequest(context.Background(), c)
		if err != nil {
			return result{err: err}
		}
		if req.Header("Authorization") == "" {
			return result{req: req, err: req.Reject(handshake.Reject{Status: 401, Header: http.Header{"Www-Authenticate": {"Bearer"}}, Body: []byte("token needed")})}
		}
		_, err = req.Accept(handshake.Accept{})
		return result{req: req, err: err}
	})
	_, err := (&handshake.Client{}).Dial(context.Background(), "ws://"+addr+"/")
	var rej *handshake.RejectError
	require.ErrorAs(t, err, &rej)
	require.Equal(t, 401, rej.Status)
	require.Equal(t, "Bearer", rej.Header.Get("WWW-Authenticate"))
	require.Equal(t, "token needed", string(rej.Body))
	require.Contains(t, err.Error(), "401")
	r := <-done
	require.NoError(t, r.err)
	require.ErrorIs(t, r.req.Reject(handshake.Reject{}), handshake.ErrHandshakeDone)
}

func TestServerRawBadRequests(t *testing.T) {
	tests := []struct {
		name   string
		req    string
		status int
		err    error
	}{
		{"4.4/version 8 gets 426", strings.Replace(request, "Version: 13", "Version: 8", 1), 426, handshake.ErrVersion},
		{"4.2.1/bad key gets 400", strings.Replace(request, "dGhlIHNhbXBsZSBub25jZQ==", "short", 1), 400, handshake.ErrKey},
		{"4.2.1/POST gets 400", strings.Replace(request, "GET", "POST", 1), 400, handshake.ErrMethod},
		{"4.2.1/garbage gets 400", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400, handshake.ErrMalformedRequest},
		{"4.2.1/oversized head gets 431", "GET / HTTP/1.1\r\nX-A: " + strings.Repeat("a", 10000) + "\r\n\r\n", 431, handshake.ErrHeaderTooLarge},
		{"10.2/cross origin gets 403", strings.Replace(request, "Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 13\r\nOrigin: http://evil.example", 1), 403, handshake.ErrOrigin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &handshake.Server{HandshakeTimeout: 5 * time.Second}
			addr, done := serveOne(t, func(c net.Conn) result {
				acc, err := srv.Handshake(context.Background(), c)
				return result{acc: acc, err: err}
			})
			c := dial(t, addr)
			_, err := io.WriteString(c, tt.req)
			require.NoError(t, err)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			require.NoError(t, err)
			require.Equal(t, tt.status, resp.StatusCode)
			if tt.status == 426 {
				require.Equal(t, "13", resp.Header.Get("Sec-WebSocket-Version"))
			}
			body, _ := io.ReadAll(resp.Body) // ends: the server closed
			require.NotEmpty(t, body)
			r := <-done
			var rej *handshake.RejectError
			require.ErrorAs(t, r.err, &rej)
			require.Equal(t, tt.status, rej.Status)
			require.ErrorIs(t, r.err, tt.err)
		})
	}
}

// TestServerSlowSender: a client sending one byte at a time cannot hold
// the handshake past its deadline, and nothing is left running.
func TestServerSlowSender(t *testing.T) {
	addr, done := serveOne(t, func(c net.Conn) result {
		_, err := (&handshake.Server{HandshakeTimeout: 200 * time.Millisecond}).ReadRequest(context.Background(), c)
		return result{err: err}
	})
	c := dial(t, addr)
	tick := time.NewTicker(20 * time.Millisecond)
	var err2 error
	var sent int
	for i := 0; i < len(request); i++ {
		select {
		case r := <-done:
			err2 = r.err
		case <-tick.C:
			_, _ = c.Write([]byte{request[i]})
			sent++
			continue
		}
		break
	}
	tick.Stop()
	require.Less(t, sent, len(request), "the whole request went through")
	require.ErrorIs(t, err2, os.ErrDeadlineExceeded)
	// The server closed the connection: the client reads EOF.
	_, err := c.Read(make([]byte, 1))
	require.Error(t, err)
	goleak.VerifyNone(t)
}

func TestServerOversizedNoLeak(t *testing.T) {
	addr, done := serveOne(t, func(c net.Conn) result {
		_, err := (&handshake.Server{HandshakeTimeout: 200 * time.Millisecond, MaxHeaderBytes: 1024}).ReadRequest(context.Background(), c)
		return result{err: err}
	})
	c := dial(t, addr)
	_, err := io.WriteString(c, "GET / HTTP/1.1\r\nX-Big: "+strings.Repeat("b", 2000)+"\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	require.Equal(t, 431, resp.StatusCode)
	resp.Body.Close()
	var rej *handshake.RejectError
	require.ErrorAs(t, (<-done).err, &rej)
	require.Equal(t, 431, rej.Status)
	goleak.VerifyNone(t)
}

func TestServerContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addr, done := serveOne(t, func(c net.Conn) result {
		_, err := (&handshake.Server{HandshakeTimeout: -1}).ReadRequest(ctx, c)
		return result{err: err}
	})
	c := dial(t, addr)
	_, err := io.WriteString(c, "GET / HTTP/1.1\r\n") // and then nothing
	require.NoError(t, err)
	cancel()
	r := <-done
	require.ErrorIs(t, r.err, context.Canceled)
}

func TestClientContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	read := make(chan struct{})
	addr, done := serveOne(t, func(c net.Conn) result {
		defer c.Close()
		_, err := http.ReadRequest(bufio.NewReader(c)) // then never answers
		close(read)
		_, _ = io.Copy(io.Discard, c)
		return result{err: err}
	})
	errc := make(chan error, 1)
	go func() {
		_, err := (&handshake.Client{HandshakeTimeout: -1}).Dial(ctx, "ws://"+addr+"/")
		errc <- err
	}()
	<-read
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	require.NoError(t, (<-done).err)
}

func TestClientTimeout(t *testing.T) {
	addr, done := serveOne(t, func(c net.Conn) result {
		_, _ = io.Copy(io.Discard, c)
		c.Close()
		return result{}
	})
	_, err := (&handshake.Client{HandshakeTimeout: 100 * time.Millisecond}).Dial(context.Background(), "ws://"+addr+"/")
	require.True(t, errors.Is(err, os.ErrDeadlineExceeded), "%v", err)
	<-done
}
