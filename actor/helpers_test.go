package actor

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

// mode is the transport a connection test runs over.
type mode string

const (
	pipeMode mode = "pipe" // net.Pipe: synchronous, unbuffered
	tcpMode  mode = "tcp"  // loopback TCP: kernel buffers, real resets
	// deflateMode is loopback TCP with permessage-deflate on both sides,
	// compressing every message.
	deflateMode mode = "deflate"
)

// run runs f once per transport, as net/http's tests run h1 and h2.
func run(t *testing.T, f func(t *testing.T, m mode)) {
	t.Helper()
	for _, m := range []mode{pipeMode, tcpMode, deflateMode} {
		t.Run(string(m), func(t *testing.T) { f(t, m) })
	}
}

// sockets returns the two ends of a connection: a for the client, b for
// the server.
func sockets(t testing.TB, m mode) (a, b net.Conn) {
	t.Helper()
	if m == pipeMode {
		a, b = net.Pipe()
	} else {
		a, b = tcpPair(t)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func newDeflate(t testing.TB, role frame.Role) *deflate.Extension {
	t.Helper()
	e, err := deflate.New(deflate.Params{}, role, deflate.Config{Threshold: -1})
	require.NoError(t, err)
	return e
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	r := <-ch
	require.NoError(t, r.err)
	return a, r.c
}

// newPair returns a client and a server Conn talking to each other. The
// cleanup closes both and waits for their goroutines.
func newPair(t testing.TB, m mode, clientOpts, serverOpts []Option) (cl, sv *Conn) {
	t.Helper()
	a, b := sockets(t, m)
	if m == deflateMode {
		clientOpts = append(clientOpts[:len(clientOpts):len(clientOpts)], WithExtension(newDeflate(t, frame.Client)))
		serverOpts = append(serverOpts[:len(serverOpts):len(serverOpts)], WithExtension(newDeflate(t, frame.Server)))
	}
	cl = mustNew(t, a, frame.Client, clientOpts...)
	sv = mustNew(t, b, frame.Server, serverOpts...)
	return cl, sv
}

func mustNew(t testing.TB, nc net.Conn, role frame.Role, opts ...Option) *Conn {
	t.Helper()
	c, err := New(nc, nil, role, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Close(ctx, frame.StatusNormalClosure, "")
		<-c.Done()
	})
	return c
}

// waitDone waits for c to end and returns Err.
func waitDone(t testing.TB, c *Conn) error {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("connection did not end")
	}
	return c.Err()
}

// waitErr waits for a call's result on ch.
func waitErr(t testing.TB, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not return")
	}
	return nil
}

func recv(t testing.TB, c *Conn) Message {
	t.Helper()
	select {
	case m, ok := <-c.Incoming():
		require.True(t, ok, "Incoming closed: %v", c.Err())
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message")
	}
	return Message{}
}

func requireCloseError(t testing.TB, err error, code frame.StatusCode, remote, complete bool) *CloseError {
	t.Helper()
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, code, ce.Code, "close code (err %v)", err)
	require.Equal(t, remote, ce.Remote, "remote (err %v)", err)
	require.Equal(t, complete, ce.Err == nil, "handshake complete (err %v)", err)
	return ce
}

// rawPeer is a hand-written peer for bad input: it writes whatever bytes a
// test gives it and reads frames with its own frame.Reader.
type rawPeer struct {
	t    testing.TB
	conn net.Conn
	role frame.Role // the raw peer's role
	fr   *frame.Reader
	key  [4]byte
}

// newRaw starts an actor Conn in role over m and returns it with a raw peer
// at the other end.
func newRaw(t testing.TB, m mode, role frame.Role, opts ...Option) (*Conn, *rawPeer) {
	t.Helper()
	a, b := sockets(t, m)
	actorSide, rawSide := a, b
	rawRole := frame.Server
	if role == frame.Server {
		actorSide, rawSide = b, a
		rawRole = frame.Client
	}
	c := mustNew(t, actorSide, role, opts...)
	t.Cleanup(func() { rawSide.Close() }) // runs first: the actor need not wait out its grace period
	p := &rawPeer{t: t, conn: rawSide, role: rawRole, key: [4]byte{1, 2, 3, 4}}
	p.fr = frame.NewReader(bufio.NewReader(rawSide), rawRole, frame.ReaderConfig{})
	return c, p
}

// frameBytes encodes a frame as the raw peer would send it: masked when it
// is a client, unless masked says otherwise (nil: by role).
func (p *rawPeer) frameBytes(fin bool, rsv uint8, op frame.Opcode, payload []byte, masked *bool) []byte {
	h := frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(payload))}
	h.Masked = p.role == frame.Client
	if masked != nil {
		h.Masked = *masked
	}
	b := frame.AppendHeader(nil, h)
	if h.Masked {
		h.Mask = p.key
		b = frame.AppendHeader(nil, h)
		start := len(b)
		b = append(b, payload...)
		frame.Mask(h.Mask, 0, b[start:])
	} else {
		b = append(b, payload...)
	}
	return b
}

func (p *rawPeer) write(b []byte) {
	p.t.Helper()
	_, err := p.conn.Write(b)
	require.NoError(p.t, err)
}

func (p *rawPeer) send(fin bool, op frame.Opcode, payload []byte) {
	p.t.Helper()
	p.write(p.frameBytes(fin, 0, op, payload, nil))
}

func (p *rawPeer) sendClose(code frame.StatusCode, reason string) {
	p.t.Helper()
	b, err := frame.AppendClosePayload(nil, code, reason)
	require.NoError(p.t, err)
	p.send(true, frame.OpClose, b)
}

// next reads the next frame or message the actor sent.
func (p *rawPeer) next() (frame.Opcode, []byte, error) {
	_ = p.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	op, b, err := p.fr.ReadMessage(nil)
	return op, append([]byte(nil), b...), err
}

// expectClose reads until a close frame and returns its code and reason,
// skipping data and pongs.
func (p *rawPeer) expectClose() (frame.StatusCode, string) {
	p.t.Helper()
	for {
		op, b, err := p.next()
		require.NoError(p.t, err, "reading for a close frame")
		if op == frame.OpClose {
			code, reason, err := frame.ParseClosePayload(b)
			require.NoError(p.t, err)
			return code, string(reason)
		}
	}
}

// expectEOF reads until the actor closes the socket.
func (p *rawPeer) expectEOF() {
	p.t.Helper()
	for {
		if _, _, err := p.next(); err != nil {
			var ne net.Error
			require.False(p.t, errors.As(err, &ne) && ne.Timeout(), "socket not closed: %v", err)
			return
		}
	}
}

func pingID(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func boolp(b bool) *bool { return &b }
