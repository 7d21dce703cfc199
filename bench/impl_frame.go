package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
	"github.com/wsactor/ws/handshake"
)

// oursFrameImpl is our lowest-level path: handshake.Server.Upgrade (or
// handshake.Client.Dial), then frame.Reader and frame.Writer directly on the
// upgraded connection, one message buffer reused for every read.
type oursFrameImpl struct{}

func (oursFrameImpl) Name() string  { return "wsactor-frame" }
func (oursFrameImpl) Deflate() bool { return true }

// oursNegotiators offers or accepts permessage-deflate without context
// takeover either way, the mode every peer is run in for figure 5.
func oursNegotiators(o options) []handshake.Negotiator {
	if !o.Deflate {
		return nil
	}
	return []handshake.Negotiator{&handshake.PerMessageDeflate{ServerNoContextTakeover: true, ClientNoContextTakeover: true}}
}

// oursExtension builds the codec's extension from what was negotiated.
func oursExtension(acc *handshake.Accepted, role frame.Role) (frame.Extension, error) {
	if acc.Deflate == nil {
		return nil, nil
	}
	return deflate.New(*acc.Deflate, role, deflate.Config{})
}

type frameConn struct {
	conn net.Conn
	r    *frame.Reader
	w    *frame.Writer
	buf  []byte
}

func newFrameConn(conn net.Conn, br *bufio.Reader, role frame.Role, o options, ext frame.Extension) *frameConn {
	return &frameConn{
		conn: conn,
		r:    frame.NewReader(br, role, frame.ReaderConfig{MaxMessageSize: int64(o.MaxMessage), Extension: ext}),
		w:    frame.NewWriter(conn, role, frame.WriterConfig{Extension: ext}),
		buf:  make([]byte, 0, 4096),
	}
}

// read returns the next data message, answering pings and ending on close.
func (c *frameConn) read() (frame.Opcode, []byte, error) {
	for {
		op, p, err := c.r.ReadMessage(c.buf)
		if err != nil {
			return 0, nil, err
		}
		switch op {
		case frame.OpText, frame.OpBinary:
			c.buf = p
			return op, p, nil
		case frame.OpClose:
			return 0, nil, io.EOF
		case frame.OpPing:
			if err := c.w.WriteControl(frame.OpPong, p); err != nil {
				return 0, nil, err
			}
			if err := c.w.Flush(); err != nil {
				return 0, nil, err
			}
		}
	}
}

func (c *frameConn) write(op frame.Opcode, p []byte) error {
	if err := c.w.WriteMessage(op, p); err != nil {
		return err
	}
	return c.w.Flush()
}

func (oursFrameImpl) Serve(ln net.Listener, o options, live *atomic.Int64) error {
	srv := &handshake.Server{Extensions: oursNegotiators(o)}
	return serveHTTP(ln, func(w http.ResponseWriter, r *http.Request) {
		acc, err := srv.Upgrade(w, r)
		if err != nil {
			return
		}
		defer acc.Conn.Close()
		ext, err := oursExtension(acc, frame.Server)
		if err != nil {
			return
		}
		c := newFrameConn(acc.Conn, acc.Reader, frame.Server, o, ext)
		live.Add(1)
		defer live.Add(-1)
		for {
			op, p, err := c.read()
			if err != nil {
				return
			}
			if err := c.write(op, p); err != nil {
				return
			}
		}
	})
}

func (oursFrameImpl) Dial(ctx context.Context, addr string, o options) (client, error) {
	cl := &handshake.Client{Extensions: oursNegotiators(o)}
	acc, err := cl.Dial(ctx, "ws://"+addr+"/")
	if err != nil {
		return nil, err
	}
	ext, err := oursExtension(acc, frame.Client)
	if err != nil {
		acc.Conn.Close()
		return nil, err
	}
	return newFrameConn(acc.Conn, acc.Reader, frame.Client, o, ext), nil
}

func (c *frameConn) RoundTrip(p []byte, text bool) ([]byte, error) {
	op := frame.OpBinary
	if text {
		op = frame.OpText
	}
	if err := c.write(op, p); err != nil {
		return nil, err
	}
	_, msg, err := c.read()
	return msg, err
}

func (c *frameConn) Idle() { idleReader(func() error { _, _, err := c.read(); return err }) }

func (c *frameConn) Close() error { return c.conn.Close() }
