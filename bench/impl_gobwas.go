package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/gobwas/ws"
)

// gobwasImpl drives gobwas/ws at its low level: ReadHeaderBuffer and
// WriteHeaderBuffer with reused header buffers, payloads read into a reused
// buffer and unmasked with Cipher, over bufio buffers.
type gobwasImpl struct{}

func (gobwasImpl) Name() string  { return "gobwas" }
func (gobwasImpl) Deflate() bool { return false }

var errTooLarge = errors.New("message too large")

// gobwasConn is one side of a connection on gobwas's frame API.
type gobwasConn struct {
	conn   net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	client bool
	max    int
	hbuf   [ws.MaxHeaderSize]byte
	buf    []byte // reused message buffer
	out    []byte // client: masked copy of the payload
	ctrl   [125]byte
}

// readMessage returns the next data message, answering pings and ending
// on close.
func (g *gobwasConn) readMessage() (ws.OpCode, []byte, error) {
	g.buf = g.buf[:0]
	var op ws.OpCode
	for {
		h, err := ws.ReadHeaderBuffer(g.br, g.hbuf[:])
		if err != nil {
			return 0, nil, err
		}
		if h.OpCode.IsControl() {
			if h.Length > int64(len(g.ctrl)) {
				return 0, nil, ws.ErrProtocolControlPayloadOverflow
			}
			p := g.ctrl[:h.Length]
			if _, err := io.ReadFull(g.br, p); err != nil {
				return 0, nil, err
			}
			if h.Masked {
				ws.Cipher(p, h.Mask, 0)
			}
			switch h.OpCode {
			case ws.OpClose:
				return 0, nil, io.EOF
			case ws.OpPing:
				if err := g.writeFrame(ws.OpPong, p); err != nil {
					return 0, nil, err
				}
			}
			continue
		}
		if h.OpCode != ws.OpContinuation {
			op = h.OpCode
		}
		n := len(g.buf)
		if int64(n)+h.Length > int64(g.max) {
			return 0, nil, errTooLarge
		}
		if need := n + int(h.Length); need > cap(g.buf) {
			g.buf = append(g.buf[:cap(g.buf)], make([]byte, need-cap(g.buf))...)
		}
		g.buf = g.buf[:n+int(h.Length)]
		if _, err := io.ReadFull(g.br, g.buf[n:]); err != nil {
			return 0, nil, err
		}
		if h.Masked {
			ws.Cipher(g.buf[n:], h.Mask, 0)
		}
		if h.Fin {
			return op, g.buf, nil
		}
	}
}

func (g *gobwasConn) writeFrame(op ws.OpCode, p []byte) error {
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(p))}
	if g.client {
		h.Masked = true
		h.Mask = ws.NewMask()
		g.out = append(g.out[:0], p...)
		ws.Cipher(g.out, h.Mask, 0)
		p = g.out
	}
	if err := ws.WriteHeaderBuffer(g.bw, h, g.hbuf[:]); err != nil {
		return err
	}
	if _, err := g.bw.Write(p); err != nil {
		return err
	}
	return g.bw.Flush()
}

func (gobwasImpl) Serve(ln net.Listener, o options, live *atomic.Int64) error {
	return serveHTTP(ln, func(w http.ResponseWriter, r *http.Request) {
		conn, rw, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		defer conn.Close()
		g := &gobwasConn{conn: conn, br: rw.Reader, bw: rw.Writer, max: o.MaxMessage, buf: make([]byte, 0, 4096)}
		live.Add(1)
		defer live.Add(-1)
		for {
			op, msg, err := g.readMessage()
			if err != nil {
				return
			}
			if err := g.writeFrame(op, msg); err != nil {
				return
			}
		}
	})
}

func (gobwasImpl) Dial(ctx context.Context, addr string, o options) (client, error) {
	conn, br, _, err := ws.Dialer{}.Dial(ctx, "ws://"+addr+"/")
	if err != nil {
		return nil, err
	}
	if br == nil {
		br = bufio.NewReaderSize(conn, 4096)
	}
	return &gobwasConn{conn: conn, br: br, bw: bufio.NewWriterSize(conn, 4096), client: true,
		max: o.MaxMessage, buf: make([]byte, 0, 4096)}, nil
}

func (g *gobwasConn) RoundTrip(p []byte, text bool) ([]byte, error) {
	op := ws.OpBinary
	if text {
		op = ws.OpText
	}
	if err := g.writeFrame(op, p); err != nil {
		return nil, err
	}
	_, msg, err := g.readMessage()
	return msg, err
}

func (g *gobwasConn) Idle() {
	idleReader(func() error { _, _, err := g.readMessage(); return err })
}

func (g *gobwasConn) Close() error { return g.conn.Close() }
