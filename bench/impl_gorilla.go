package main

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/gorilla/websocket"
)

// gorillaImpl drives gorilla/websocket through NextReader into a reused
// buffer and WriteMessage; buffer sizes are left at zero so the server
// reuses net/http's buffers, as its docs recommend.
type gorillaImpl struct{}

func (gorillaImpl) Name() string  { return "gorilla" }
func (gorillaImpl) Deflate() bool { return true }

func (gorillaImpl) Serve(ln net.Listener, o options, live *atomic.Int64) error {
	up := websocket.Upgrader{
		EnableCompression: o.Deflate,
		CheckOrigin:       func(*http.Request) bool { return true },
	}
	return serveHTTP(ln, func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.SetReadLimit(int64(o.MaxMessage))
		live.Add(1)
		defer live.Add(-1)
		buf := make([]byte, 0, 4096)
		for {
			mt, rd, err := c.NextReader()
			if err != nil {
				return
			}
			if buf, err = readAll(buf, rd); err != nil {
				return
			}
			if err := c.WriteMessage(mt, buf); err != nil {
				return
			}
		}
	})
}

type gorillaClient struct {
	c   *websocket.Conn
	buf []byte
}

func (gorillaImpl) Dial(ctx context.Context, addr string, o options) (client, error) {
	d := websocket.Dialer{EnableCompression: o.Deflate}
	c, _, err := d.DialContext(ctx, "ws://"+addr+"/", nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(int64(o.MaxMessage))
	return &gorillaClient{c: c, buf: make([]byte, 0, 4096)}, nil
}

func (g *gorillaClient) RoundTrip(p []byte, text bool) ([]byte, error) {
	mt := websocket.BinaryMessage
	if text {
		mt = websocket.TextMessage
	}
	if err := g.c.WriteMessage(mt, p); err != nil {
		return nil, err
	}
	_, rd, err := g.c.NextReader()
	if err != nil {
		return nil, err
	}
	g.buf, err = readAll(g.buf, rd)
	return g.buf, err
}

func (g *gorillaClient) Idle() {
	idleReader(func() error { _, _, err := g.c.NextReader(); return err })
}

func (g *gorillaClient) Close() error { return g.c.Close() }
