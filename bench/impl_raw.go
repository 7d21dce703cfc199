package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"sync/atomic"
)

// rawImpl is the ceiling: the same HTTP upgrade, then a 4-byte big-endian
// length prefix and the payload on the raw hijacked socket — no masking,
// no frame parsing. Echoes are written in place: one read buffer with room
// for the prefix, one write per message.
type rawImpl struct{}

func (rawImpl) Name() string  { return "raw-tcp" }
func (rawImpl) Deflate() bool { return false }

type rawConn struct {
	conn net.Conn
	br   *bufio.Reader
	max  int
	buf  []byte // [4-byte prefix | payload]
	out  []byte
	hdr  [4]byte
}

// read reads one message into buf[4:] and returns the payload.
func (c *rawConn) read() ([]byte, error) {
	if _, err := io.ReadFull(c.br, c.hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(c.hdr[:]))
	if n > c.max {
		return nil, errTooLarge
	}
	if 4+n > cap(c.buf) {
		c.buf = make([]byte, 4+n)
	}
	c.buf = c.buf[:4+n]
	if _, err := io.ReadFull(c.br, c.buf[4:]); err != nil {
		return nil, err
	}
	return c.buf[4:], nil
}

func (rawImpl) Serve(ln net.Listener, o options, live *atomic.Int64) error {
	return serveHTTP(ln, func(w http.ResponseWriter, r *http.Request) {
		conn, br, err := hijackUpgrade(w, r)
		if err != nil {
			return
		}
		defer conn.Close()
		c := &rawConn{conn: conn, br: br, max: o.MaxMessage, buf: make([]byte, 4096)}
		live.Add(1)
		defer live.Add(-1)
		for {
			p, err := c.read()
			if err != nil {
				return
			}
			binary.BigEndian.PutUint32(c.buf[:4], uint32(len(p)))
			if _, err := conn.Write(c.buf[:4+len(p)]); err != nil {
				return
			}
		}
	})
}

func (rawImpl) Dial(ctx context.Context, addr string, o options) (client, error) {
	conn, br, err := dialUpgrade(ctx, addr)
	if err != nil {
		return nil, err
	}
	return &rawConn{conn: conn, br: br, max: o.MaxMessage, buf: make([]byte, 4096)}, nil
}

func (c *rawConn) RoundTrip(p []byte, _ bool) ([]byte, error) {
	c.out = binary.BigEndian.AppendUint32(c.out[:0], uint32(len(p)))
	c.out = append(c.out, p...)
	if _, err := c.conn.Write(c.out); err != nil {
		return nil, err
	}
	return c.read()
}

func (c *rawConn) Idle() { idleReader(func() error { _, err := c.read(); return err }) }

func (c *rawConn) Close() error { return c.conn.Close() }
