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
//
// With split (the opt-in row raw-tcp-split) a message goes out as two writes,
// its first 4 KiB and the rest, which is what a 4 KiB bufio.Writer does
// with a large message (gobwas's row): on Linux loopback that pattern alone
// changes 1 MiB round trips by a factor of 2 to 3 (docs/benchmarks.md).
type rawImpl struct{ split bool }

func (r rawImpl) Name() string {
	if r.split {
		return "raw-tcp-split"
	}
	return "raw-tcp"
}
func (rawImpl) Deflate() bool { return false }

type rawConn struct {
	conn  net.Conn
	br    *bufio.Reader
	max   int
	split bool
	buf   []byte // [4-byte prefix | payload]
	out   []byte
	hdr   [4]byte
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

// write sends b, in two writes when split (see rawImpl).
func (c *rawConn) write(b []byte) error {
	if c.split && len(b) > 4096 {
		if _, err := c.conn.Write(b[:4096]); err != nil {
			return err
		}
		b = b[4096:]
	}
	_, err := c.conn.Write(b)
	return err
}

func (im rawImpl) Serve(ln net.Listener, o options, live *atomic.Int64) error {
	return serveHTTP(ln, func(w http.ResponseWriter, r *http.Request) {
		conn, br, err := hijackUpgrade(w, r)
		if err != nil {
			return
		}
		defer conn.Close()
		c := &rawConn{conn: conn, br: br, max: o.MaxMessage, split: im.split, buf: make([]byte, 4096)}
		live.Add(1)
		defer live.Add(-1)
		for {
			p, err := c.read()
			if err != nil {
				return
			}
			binary.BigEndian.PutUint32(c.buf[:4], uint32(len(p)))
			if err := c.write(c.buf[:4+len(p)]); err != nil {
				return
			}
		}
	})
}

func (im rawImpl) Dial(ctx context.Context, addr string, o options) (client, error) {
	conn, br, err := dialUpgrade(ctx, addr)
	if err != nil {
		return nil, err
	}
	return &rawConn{conn: conn, br: br, max: o.MaxMessage, split: im.split, buf: make([]byte, 4096)}, nil
}

func (c *rawConn) RoundTrip(p []byte, _ bool) ([]byte, error) {
	c.out = binary.BigEndian.AppendUint32(c.out[:0], uint32(len(p)))
	c.out = append(c.out, p...)
	if err := c.write(c.out); err != nil {
		return nil, err
	}
	return c.read()
}

func (c *rawConn) Idle() { idleReader(func() error { _, err := c.read(); return err }) }

func (c *rawConn) Close() error { return c.conn.Close() }
