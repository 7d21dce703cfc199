package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/wsactor/ws/frame"
)

// oursFrameImpl is our lowest-level path: frame.Reader and frame.Writer
// directly on the hijacked connection after the upgrade, one message buffer
// reused for every read.
type oursFrameImpl struct{}

func (oursFrameImpl) Name() string  { return "wsactor-frame" }
func (oursFrameImpl) Deflate() bool { return false }

type frameConn struct {
	conn net.Conn
	r    *frame.Reader
	w    *frame.Writer
	buf  []byte
}

func newFrameConn(conn net.Conn, br *bufio.Reader, role frame.Role, o options) *frameConn {
	return &frameConn{
		conn: conn,
		r:    frame.NewReader(br, role, frame.ReaderConfig{MaxMessageSize: int64(o.MaxMessage)}),
		w:    frame.NewWriter(conn, role, frame.WriterConfig{}),
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
	return serveHTTP(ln, func(w http.ResponseWriter, r *http.Request) {
		conn, br, err := hijackUpgrade(w, r)
		if err != nil {
			return
		}
		defer conn.Close()
		c := newFrameConn(conn, br, frame.Server, o)
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
	conn, br, err := dialUpgrade(ctx, addr)
	if err != nil {
		return nil, err
	}
	return newFrameConn(conn, br, frame.Client, o), nil
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
