//go:build !js

package ws_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/nettest"

	"github.com/wsactor/ws"
)

// wsPair is both ends of one WebSocket over 127.0.0.1: the client from
// ws.Dial, the server's from ws.Handler behind an httptest server.
type wsPair struct {
	client, server *ws.Conn
	// serverRead counts the bytes the server's socket has read.
	serverRead *readMeter
	stop       func() // ends both connections and the servers
}

type pairConfig struct {
	accept []ws.AcceptOption
	dial   []ws.DialOption
}

// newPair opens a wsPair. Its stop closes both ends at once (so that
// neither waits on a peer that is not reading) and shuts the servers down.
func newPair(cfg pairConfig) (*wsPair, error) {
	conns := make(chan *ws.Conn, 1)
	h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		conns <- c
		<-c.Done()
	}, cfg.accept...)
	srv := httptest.NewUnstartedServer(h)
	cl := &readMeter{Listener: srv.Listener}
	srv.Listener = cl
	srv.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, _, err := ws.Dial(ctx, wsURL(srv), cfg.dial...)
	if err != nil {
		srv.Close()
		return nil, err
	}
	var server *ws.Conn
	select {
	case server = <-conns:
	case <-ctx.Done():
		_ = client.CloseNow()
		srv.Close()
		return nil, ctx.Err()
	}
	p := &wsPair{client: client, server: server, serverRead: cl}
	p.stop = func() {
		var wg sync.WaitGroup
		for _, c := range []*ws.Conn{client, server} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer ccancel()
				_ = c.Close(cctx, ws.StatusNormalClosure, "")
				<-c.Done()
			}()
		}
		wg.Wait()
		_ = h.Shutdown(context.Background())
		srv.Close()
	}
	return p, nil
}

func openPair(t *testing.T, cfg pairConfig) *wsPair {
	t.Helper()
	p, err := newPair(cfg)
	require.NoError(t, err)
	t.Cleanup(p.stop)
	return p
}

// readMeter counts the bytes read from the connections it accepts,
// and lets a test wait until they pass a mark.
type readMeter struct {
	net.Listener
	mu   sync.Mutex
	cond *sync.Cond
	n    int64
}

func (l *readMeter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &meteredConn{Conn: c, l: l}, nil
}

func (l *readMeter) add(n int) {
	l.mu.Lock()
	l.n += int64(n)
	if l.cond != nil {
		l.cond.Broadcast()
	}
	l.mu.Unlock()
}

func (l *readMeter) read() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// waitPast blocks until more than mark bytes have been read.
func (l *readMeter) waitPast(mark int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cond == nil {
		l.cond = sync.NewCond(&l.mu)
	}
	for l.n <= mark {
		l.cond.Wait()
	}
}

type meteredConn struct {
	net.Conn
	l *readMeter
}

func (c *meteredConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.add(n)
	return n, err
}

// TestNetConnNettest runs x/net's conformance suite for net.Conn over a
// real WebSocket: basic I/O, ping-pong, racy reads and writes against
// deadlines, past, present and future deadlines (the connection must stay
// usable after each), Close interrupting pending calls, and concurrent
// method calls.
func TestNetConnNettest(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  pairConfig
	}{
		{"plain", pairConfig{}},
		{"compressed", pairConfig{accept: []ws.AcceptOption{ws.WithCompression()}, dial: []ws.DialOption{ws.WithCompression()}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
				p, err := newPair(tc.cfg)
				if err != nil {
					return nil, nil, nil, err
				}
				c1 = ws.NetConn(context.Background(), p.client, ws.BinaryMessage)
				c2 = ws.NetConn(context.Background(), p.server, ws.BinaryMessage)
				stop = func() {
					var wg sync.WaitGroup
					wg.Add(2)
					go func() { defer wg.Done(); _ = c1.Close() }()
					go func() { defer wg.Done(); _ = c2.Close() }()
					wg.Wait()
					p.stop()
				}
				return c1, c2, stop, nil
			})
		})
	}
}

// TestNetConnReadAcrossMessages: a message is read across as many Reads as
// it takes, and one Read never returns bytes of two messages.
func TestNetConnReadAcrossMessages(t *testing.T) {
	for _, tc := range []struct {
		name string
		msgs []string
		buf  int
		want []string // what each Read returns
	}{
		{"buffer smaller than messages", []string{"hello", "world"}, 3, []string{"hel", "lo", "wor", "ld"}},
		{"buffer bigger than messages", []string{"hello", "world"}, 64, []string{"hello", "world"}},
		{"exact fit", []string{"abc", "de"}, 3, []string{"abc", "de"}},
		{"one byte at a time", []string{"ab"}, 1, []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := openPair(t, pairConfig{})
			nc := ws.NetConn(context.Background(), p.client, ws.BinaryMessage)
			ctx := testCtx(t)
			for _, m := range tc.msgs {
				require.NoError(t, p.server.Send(ctx, ws.Binary([]byte(m))))
			}
			buf := make([]byte, tc.buf)
			for _, want := range tc.want {
				n, err := nc.Read(buf)
				require.NoError(t, err)
				require.Equal(t, want, string(buf[:n]))
			}
		})
	}
}

// TestNetConnEmpty: an empty Write sends nothing, an empty Read returns at
// once, and empty messages from the peer are skipped rather than returned
// as a Read of 0 bytes with no error.
func TestNetConnEmpty(t *testing.T) {
	p := openPair(t, pairConfig{})
	nc := ws.NetConn(context.Background(), p.client, ws.BinaryMessage)
	ctx := testCtx(t)

	n, err := nc.Write(nil)
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = nc.Write([]byte("x"))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	m := recv(t, p.server)
	require.Equal(t, "x", string(m.Data), "the empty Write sent no message")

	n, err = nc.Read(nil)
	require.NoError(t, err)
	require.Zero(t, n)

	require.NoError(t, p.server.Send(ctx, ws.Binary(nil)))
	require.NoError(t, p.server.Send(ctx, ws.Binary([]byte{})))
	require.NoError(t, p.server.Send(ctx, ws.Binary([]byte("y"))))
	buf := make([]byte, 8)
	n, err = nc.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "y", string(buf[:n]))
}

// TestNetConnWrongType: a message of the other type fails the Read, closes
// the connection with 1003 and fails every later Read too.
func TestNetConnWrongType(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stream ws.MessageType
		send   ws.Message
	}{
		{"text on a binary stream", ws.BinaryMessage, ws.Text("oops")},
		{"binary on a text stream", ws.TextMessage, ws.Binary([]byte("oops"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := openPair(t, pairConfig{})
			nc := ws.NetConn(context.Background(), p.client, tc.stream)
			require.NoError(t, p.server.Send(testCtx(t), tc.send))
			_, err := nc.Read(make([]byte, 16))
			require.Error(t, err)
			require.ErrorContains(t, err, "message on a")
			require.Equal(t, ws.StatusUnsupportedData, ws.CloseStatus(err))
			<-p.server.Done()
			require.Equal(t, ws.StatusUnsupportedData, ws.CloseStatus(p.server.Err()), "the peer got 1003")
			_, err2 := nc.Read(make([]byte, 16))
			require.Equal(t, err, err2)
		})
	}
}

// TestNetConnEnd: how Read reports the connection's end. A normal close
// (1000, 1001, no code) is io.EOF once the messages before it are read;
// anything else is an error that matches c's Err and
// io.ErrUnexpectedEOF but not io.EOF.
func TestNetConnEnd(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(c *ws.Conn) error
		eof  bool
		code ws.StatusCode // CloseStatus of the Read error when not EOF
	}{
		{"normal closure", closeWith(ws.StatusNormalClosure), true, 0},
		{"normal closure from this side, not by NetConn", nil, true, 0},
		{"going away", closeWith(ws.StatusGoingAway), true, 0},
		{"no status", closeWith(ws.StatusNoStatusRcvd), true, 0},
		{"application code", closeWith(4000), false, 4000},
		{"policy violation", closeWith(ws.StatusPolicyViolation), false, ws.StatusPolicyViolation},
		{"socket closed without a close frame", func(c *ws.Conn) error { _ = c.CloseNow(); return nil }, false, ws.StatusAbnormalClosure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := openPair(t, pairConfig{})
			nc := ws.NetConn(context.Background(), p.client, ws.BinaryMessage)
			ctx := testCtx(t)
			require.NoError(t, p.server.Send(ctx, ws.Binary([]byte("before"))))
			// The close handshake waits for nobody: the client's connection
			// answers it while "before" is still unread.
			var err error
			if tc.end == nil {
				err = closeWith(ws.StatusNormalClosure)(p.client)
			} else {
				err = tc.end(p.server)
			}
			if tc.eof {
				require.NoError(t, err)
			}
			got, err := io.ReadAll(nc)
			require.Equal(t, "before", string(got), "what was sent before the close is read first")
			if tc.eof {
				require.NoError(t, err, "ReadAll saw io.EOF")
				_, err = nc.Read(make([]byte, 1))
				require.Equal(t, io.EOF, err, "io.EOF stays")
				return
			}
			require.Error(t, err)
			require.NotErrorIs(t, err, io.EOF)
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			require.Equal(t, tc.code, ws.CloseStatus(err))
			var ne net.Error
			require.ErrorAs(t, err, &ne)
			require.False(t, ne.Timeout())
			if tc.code != ws.StatusAbnormalClosure {
				var ce *ws.CloseError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, tc.code, ce.Code)
			}
		})
	}
}

func closeWith(code ws.StatusCode) func(c *ws.Conn) error {
	return func(c *ws.Conn) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return c.Close(ctx, code, "")
	}
}

// requireTimeout checks that err is a deadline's: a net.Error whose Timeout
// is true and that matches os.ErrDeadlineExceeded.
func requireTimeout(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	require.True(t, ne.Timeout(), "%v", err)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
}

// TestNetConnReadDeadline: a deadline set in the past while a Read waits
// ends that Read with a timeout; the connection goes on and no message is
// lost, and a Read started while the deadline is past fails at once even
// with data waiting.
func TestNetConnReadDeadline(t *testing.T) {
	p := openPair(t, pairConfig{})
	nc := ws.NetConn(context.Background(), p.client, ws.BinaryMessage)
	ctx := testCtx(t)

	errc := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		close(started)
		_, err := nc.Read(make([]byte, 16))
		errc <- err
	}()
	<-started
	require.NoError(t, nc.SetReadDeadline(time.Unix(1, 0)))
	requireTimeout(t, <-errc)

	require.NoError(t, p.server.Send(ctx, ws.Binary([]byte("kept"))))
	_, err := nc.Read(make([]byte, 16))
	requireTimeout(t, err) // still past: the data waits

	require.NoError(t, nc.SetReadDeadline(time.Time{}))
	buf := make([]byte, 16)
	n, err := nc.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "kept", string(buf[:n]))

	// A deadline that passes while nothing comes, then a later one.
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
	_, err = nc.Read(buf)
	requireTimeout(t, err)
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(time.Hour)))
	require.NoError(t, p.server.Send(ctx, ws.Binary([]byte("later"))))
	n, err = nc.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "later", string(buf[:n]))
	require.Nil(t, p.client.Err(), "the connection is still open")
}

// stalledWrite is a NetConn Write blocked in the middle of its message
// because the peer reads nothing.
type stalledWrite struct {
	p        *wsPair
	nc       net.Conn
	big      []byte
	done     chan writeResult
	received [][]byte // what the server will receive before big
}

type writeResult struct {
	n   int
	err error
}

// startStalledWrite writes two small messages on a NetConn over the
// client, then a message too big for loopback's socket buffers, and
// returns once that one is on the wire (handed over to the connection) and
// blocked: the server's Incoming holds one message and its reader holds
// the other, so it reads no further until the test receives. ctx is the
// NetConn's.
func startStalledWrite(t *testing.T, ctx context.Context) *stalledWrite {
	t.Helper()
	p := openPair(t, pairConfig{
		accept: []ws.AcceptOption{ws.WithIncomingBuffer(1), ws.WithMaxMessageSize(64 << 20), ws.WithKeepalive(0, 0)},
		dial:   []ws.DialOption{ws.WithKeepalive(0, 0)},
	})
	s := &stalledWrite{
		p:        p,
		nc:       ws.NetConn(ctx, p.client, ws.BinaryMessage),
		big:      bytes.Repeat([]byte{0xAB}, 24<<20),
		done:     make(chan writeResult, 1),
		received: [][]byte{[]byte("first"), []byte("second")},
	}
	for _, m := range s.received {
		n, err := s.nc.Write(m)
		require.NoError(t, err)
		require.Equal(t, len(m), n)
	}
	// Once both are read, the server's reader stops.
	for p.server.Stats().MessagesIn < 2 {
		time.Sleep(time.Millisecond)
	}
	mark := p.serverRead.read()
	go func() {
		n, err := s.nc.Write(s.big)
		s.done <- writeResult{n, err}
	}()
	p.serverRead.waitPast(mark) // big's first bytes came: it was handed over
	return s
}

// receiveAll receives what the server got before big, big, and then want.
func (s *stalledWrite) receiveAll(t *testing.T, want ...[]byte) {
	t.Helper()
	for _, w := range append(append(s.received, s.big), want...) {
		m := recv(t, s.p.server)
		require.True(t, bytes.Equal(w, m.Data), "got %d bytes, want %d", len(m.Data), len(w))
	}
}

// TestNetConnWriteDeadline: what a Write deadline does at each stage of a
// Write. Passed before the Write, or while it waits for an earlier message
// to be written, it returns 0 and sends nothing; passed while its message
// is being written (the peer reads nothing), it returns len(p), the message
// still arrives whole and in order, and the connection goes on.
func TestNetConnWriteDeadline(t *testing.T) {
	s := startStalledWrite(t, context.Background())
	nc := s.nc

	queuedDone := make(chan writeResult, 1)
	go func() {
		n, err := nc.Write([]byte("queued")) // waits for big, or starts after the deadline
		queuedDone <- writeResult{n, err}
	}()
	require.NoError(t, nc.SetWriteDeadline(time.Unix(1, 0)))
	r := <-s.done
	requireTimeout(t, r.err)
	require.Equal(t, len(s.big), r.n, "big was handed over: it will be written whole")
	r = <-queuedDone
	requireTimeout(t, r.err)
	require.Zero(t, r.n, "queued never got its turn")
	n, err := nc.Write([]byte("never")) // the deadline is still past
	require.Zero(t, n)
	requireTimeout(t, err)

	require.NoError(t, nc.SetWriteDeadline(time.Time{}))
	after := make(chan error, 1)
	go func() { _, err := nc.Write([]byte("after")); after <- err }()
	s.receiveAll(t, []byte("after"))
	require.NoError(t, <-after)
	require.Nil(t, s.p.client.Err(), "the connection is still open")
}

// TestNetConnPendingWriteAtClose: Close, or the end of NetConn's ctx,
// returns a Write blocked mid-message at once; its message is still
// written whole before the close frame, and Close returns nil once the
// peer has read up to it.
func TestNetConnPendingWriteAtClose(t *testing.T) {
	for _, tc := range []struct {
		name  string
		close func(nc net.Conn, cancel context.CancelFunc) error
		match error
	}{
		{"Close", func(nc net.Conn, _ context.CancelFunc) error { return nc.Close() }, net.ErrClosed},
		{"ctx", func(_ net.Conn, cancel context.CancelFunc) error { cancel(); return nil }, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s := startStalledWrite(t, ctx)
			closed := make(chan error, 1)
			go func() { closed <- tc.close(s.nc, cancel) }()
			r := <-s.done
			require.ErrorIs(t, r.err, net.ErrClosed)
			require.ErrorIs(t, r.err, tc.match)
			require.Equal(t, len(s.big), r.n, "big was handed over")

			s.receiveAll(t)
			_, ok := <-s.p.server.Incoming()
			require.False(t, ok, "the close frame came right after big")
			require.NoError(t, <-closed)
			<-s.p.client.Done()
			require.Equal(t, ws.StatusNormalClosure, ws.CloseStatus(s.p.client.Err()))
		})
	}
}

// TestNetConnMessageLimits: a text stream carries UTF-8 Writes, and the
// peer fails the connection for a Write that is not UTF-8 (1007) or over
// its message size limit (1009); the Read then reports that code.
func TestNetConnMessageLimits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		typ   ws.MessageType
		write []byte
		code  ws.StatusCode // 0: echoed
	}{
		{"text", ws.TextMessage, []byte("héllo, 世界"), 0},
		{"text not UTF-8", ws.TextMessage, []byte{'a', 0xff, 'b'}, ws.StatusInvalidFramePayloadData},
		{"binary at the limit", ws.BinaryMessage, bytes.Repeat([]byte{1}, 1024), 0},
		{"binary over the limit", ws.BinaryMessage, bytes.Repeat([]byte{1}, 1025), ws.StatusMessageTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := openPair(t, pairConfig{accept: []ws.AcceptOption{ws.WithMaxMessageSize(1024)}})
			nc := ws.NetConn(context.Background(), p.client, tc.typ)
			server := ws.NetConn(context.Background(), p.server, tc.typ)
			go func() { _, _ = io.Copy(server, server) }()
			_, err := nc.Write(tc.write)
			require.NoError(t, err)
			got := make([]byte, len(tc.write))
			_, err = io.ReadFull(nc, got)
			if tc.code == 0 {
				require.NoError(t, err)
				require.Equal(t, tc.write, got)
				return
			}
			require.Error(t, err)
			require.Equal(t, tc.code, ws.CloseStatus(err))
		})
	}
}

// TestNetConnClose: Close closes the WebSocket with 1000 and returns nil
// once the handshake completed; pending calls return at once, and later
// calls fail with net.ErrClosed. The peer's Read sees io.EOF.
func TestNetConnClose(t *testing.T) {
	p := openPair(t, pairConfig{})
	nc := ws.NetConn(context.Background(), p.client, ws.BinaryMessage)
	peer := ws.NetConn(context.Background(), p.server, ws.BinaryMessage)

	pending := make(chan error, 1)
	go func() { _, err := nc.Read(make([]byte, 8)); pending <- err }()
	require.NoError(t, nc.Close())
	require.ErrorIs(t, <-pending, net.ErrClosed)

	<-p.client.Done()
	var ce *ws.CloseError
	require.ErrorAs(t, p.client.Err(), &ce)
	require.Equal(t, ws.StatusNormalClosure, ce.Code)
	_, err := peer.Read(make([]byte, 8))
	require.Equal(t, io.EOF, err)

	for name, call := range map[string]func() error{
		"Read":             func() error { _, err := nc.Read(make([]byte, 8)); return err },
		"Write":            func() error { _, err := nc.Write([]byte("x")); return err },
		"Close":            nc.Close,
		"SetDeadline":      func() error { return nc.SetDeadline(time.Now()) },
		"SetReadDeadline":  func() error { return nc.SetReadDeadline(time.Now()) },
		"SetWriteDeadline": func() error { return nc.SetWriteDeadline(time.Now()) },
	} {
		err := call()
		require.ErrorIs(t, err, net.ErrClosed, name)
		var oe *net.OpError
		require.ErrorAs(t, err, &oe, name)
	}
	require.Equal(t, p.client.LocalAddr(), nc.LocalAddr(), "addresses outlive Close")
	require.Equal(t, p.client.RemoteAddr(), nc.RemoteAddr())
}

// TestNetConnContext: the end of NetConn's ctx closes it as Close does,
// and its errors then match ctx's error as well as net.ErrClosed.
func TestNetConnContext(t *testing.T) {
	p := openPair(t, pairConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	nc := ws.NetConn(ctx, p.client, ws.BinaryMessage)
	peer := ws.NetConn(context.Background(), p.server, ws.BinaryMessage)

	pending := make(chan error, 1)
	go func() { _, err := nc.Read(make([]byte, 8)); pending <- err }()
	cancel()
	err := <-pending
	require.ErrorIs(t, err, net.ErrClosed)
	require.ErrorIs(t, err, context.Canceled)

	<-p.client.Done()
	require.Equal(t, ws.StatusNormalClosure, ws.CloseStatus(p.client.Err()))
	_, err = peer.Read(make([]byte, 8))
	require.Equal(t, io.EOF, err)
	_, err = nc.Write([]byte("x"))
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, nc.Close(), net.ErrClosed)
}

// TestNetConnHandlerCtx: a NetConn on a Handler's ctx, which is cancelled
// because the connection ended, still reads that end as io.EOF.
func TestNetConnHandlerCtx(t *testing.T) {
	for i := range 20 {
		read := make(chan error, 1)
		h := ws.Handler(func(ctx context.Context, c *ws.Conn) {
			nc := ws.NetConn(ctx, c, ws.BinaryMessage)
			<-ctx.Done() // the client closed: c ended, then ctx
			got, err := io.ReadAll(nc)
			if string(got) != "bye" {
				err = fmt.Errorf("read %q", got)
			}
			read <- err
		})
		srv := httptest.NewServer(h)
		c := dial(t, wsURL(srv))
		nc := ws.NetConn(context.Background(), c, ws.BinaryMessage)
		_, err := nc.Write([]byte("bye"))
		require.NoError(t, err)
		require.NoError(t, nc.Close())
		require.NoError(t, <-read, "run %d: ReadAll ended with io.EOF", i)
		require.NoError(t, h.Shutdown(context.Background()))
		srv.Close()
	}
}

// TestNetConnAddrsAndType: the addresses are the socket's, and a type
// other than text or binary is refused.
func TestNetConnAddrsAndType(t *testing.T) {
	p := openPair(t, pairConfig{})
	nc := ws.NetConn(context.Background(), p.client, ws.BinaryMessage)
	require.Equal(t, p.client.LocalAddr(), nc.LocalAddr())
	require.Equal(t, p.client.RemoteAddr(), nc.RemoteAddr())
	require.Equal(t, p.server.LocalAddr().String(), nc.RemoteAddr().String())
	for _, typ := range []ws.MessageType{0, 8, 9} {
		require.Panics(t, func() { ws.NetConn(context.Background(), p.client, typ) }, "type %d", typ)
	}
}

// TestNetConnIOCopy: io.Copy runs both ways at once, as a tunnel or a
// multiplexer (yamux and the like) uses a net.Conn: the server copies
// its NetConn back into itself, the client streams 8 MiB through and
// reads it back, and the server's io.Copy ends without error when the
// client closes.
func TestNetConnIOCopy(t *testing.T) {
	p := openPair(t, pairConfig{})
	client := ws.NetConn(context.Background(), p.client, ws.BinaryMessage)
	server := ws.NetConn(context.Background(), p.server, ws.BinaryMessage)

	type copied struct {
		n   int64
		err error
	}
	echoed := make(chan copied, 1)
	go func() {
		n, err := io.Copy(server, server)
		echoed <- copied{n, err}
	}()

	want := make([]byte, 8<<20)
	_, _ = rand.Read(want)
	sent := make(chan copied, 1)
	go func() {
		// Hide bytes.Reader's WriteTo: io.Copy then writes 32 KiB at a time.
		n, err := io.Copy(client, struct{ io.Reader }{bytes.NewReader(want)})
		sent <- copied{n, err}
	}()
	got := make([]byte, len(want))
	_, err := io.ReadFull(client, got)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "echoed stream differs")
	s := <-sent
	require.NoError(t, s.err)
	require.Equal(t, int64(len(want)), s.n)

	require.NoError(t, client.Close())
	e := <-echoed
	require.NoError(t, e.err, "io.Copy sees io.EOF at the client's close")
	require.Equal(t, int64(len(want)), e.n)
}

// TestNetConnConcurrentWrites: each Write is one message, so records
// written by many goroutines at once arrive whole, never interleaved, and
// each goroutine's in its order.
func TestNetConnConcurrentWrites(t *testing.T) {
	p := openPair(t, pairConfig{})
	client := ws.NetConn(context.Background(), p.client, ws.BinaryMessage)
	server := ws.NetConn(context.Background(), p.server, ws.BinaryMessage)

	const writers, records = 8, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(w), 0))
			for i := range records {
				pad := strings.Repeat("x", 1+rng.IntN(2000))
				_, err := fmt.Fprintf(client, "%d %d %s\n", w, i, pad)
				assert.NoError(t, err)
			}
		}()
	}
	next := make([]int, writers)
	br := bufio.NewReader(server)
	for range writers * records {
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		var w, i int
		var pad string
		_, err = fmt.Sscanf(line, "%d %d %s\n", &w, &i, &pad)
		require.NoError(t, err, "record %q", line)
		require.Equal(t, next[w], i, "writer %d out of order", w)
		next[w]++
	}
	wg.Wait()
}

// TestNetConnTLS: a TLS 1.3 handshake and an echo of several records run
// through a pair of NetConns, and the TLS close (close_notify, then the
// NetConn's Close) ends the server's read with io.EOF.
func TestNetConnTLS(t *testing.T) {
	p := openPair(t, pairConfig{})
	cert, pool := selfSigned(t)
	server := tls.Server(ws.NetConn(context.Background(), p.server, ws.BinaryMessage), &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS13,
	})
	client := tls.Client(ws.NetConn(context.Background(), p.client, ws.BinaryMessage), &tls.Config{
		RootCAs:    pool,
		ServerName: "tunnel.test",
		MinVersion: tls.VersionTLS13,
	})

	served := make(chan error, 1)
	go func() {
		_, err := io.Copy(server, server) // echo until the client's close_notify
		// Its own close_notify may find the WebSocket closed already.
		_ = server.Close()
		served <- err
	}()
	require.NoError(t, client.HandshakeContext(testCtx(t)))
	require.Equal(t, uint16(tls.VersionTLS13), client.ConnectionState().Version)

	for _, size := range []int{1, 100, 16 << 10, 100 << 10} { // up to several TLS records
		want := make([]byte, size)
		_, _ = rand.Read(want)
		_, err := client.Write(want)
		require.NoError(t, err)
		got := make([]byte, size)
		_, err = io.ReadFull(client, got)
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), "size %d", size)
	}
	require.NoError(t, client.Close())
	require.NoError(t, <-served)
}

// selfSigned returns a certificate for tunnel.test and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tunnel.test"},
		DNSNames:     []string{"tunnel.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// BenchmarkNetConn streams 32 KiB Writes (io.Copy's size) from client to
// server over 127.0.0.1 and reads them on the other end.
func BenchmarkNetConn(b *testing.B) {
	p, err := newPair(pairConfig{})
	require.NoError(b, err)
	defer p.stop()
	client := ws.NetConn(context.Background(), p.client, ws.BinaryMessage)
	server := ws.NetConn(context.Background(), p.server, ws.BinaryMessage)
	chunk := make([]byte, 32<<10)
	var read atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		want := int64(b.N) * int64(len(chunk))
		for read.Load() < want {
			n, err := server.Read(buf)
			if err != nil {
				return
			}
			read.Add(int64(n))
		}
	}()
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := client.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	<-done
}
