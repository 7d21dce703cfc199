package main

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/coder/websocket"
)

// coderImpl drives coder/websocket through Reader into a reused buffer and
// Write (Read would allocate a new slice per message).
type coderImpl struct{}

func (coderImpl) Name() string  { return "coder" }
func (coderImpl) Deflate() bool { return true }

func coderMode(o options) websocket.CompressionMode {
	if o.Deflate {
		return websocket.CompressionNoContextTakeover
	}
	return websocket.CompressionDisabled
}

func (coderImpl) Serve(ln net.Listener, o options, live *atomic.Int64) error {
	return serveHTTP(ln, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			InsecureSkipVerify: true,
			CompressionMode:    coderMode(o),
		})
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(int64(o.MaxMessage))
		live.Add(1)
		defer live.Add(-1)
		ctx := context.Background()
		buf := make([]byte, 0, 4096)
		for {
			typ, rd, err := c.Reader(ctx)
			if err != nil {
				return
			}
			if buf, err = readAll(buf, rd); err != nil {
				return
			}
			if err := c.Write(ctx, typ, buf); err != nil {
				return
			}
		}
	})
}

type coderClient struct {
	c   *websocket.Conn
	buf []byte
}

func (coderImpl) Dial(ctx context.Context, addr string, o options) (client, error) {
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/", &websocket.DialOptions{CompressionMode: coderMode(o)})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(int64(o.MaxMessage))
	return &coderClient{c: c, buf: make([]byte, 0, 4096)}, nil
}

func (k *coderClient) RoundTrip(p []byte, text bool) ([]byte, error) {
	typ := websocket.MessageBinary
	if text {
		typ = websocket.MessageText
	}
	ctx := context.Background()
	if err := k.c.Write(ctx, typ, p); err != nil {
		return nil, err
	}
	_, rd, err := k.c.Reader(ctx)
	if err != nil {
		return nil, err
	}
	k.buf, err = readAll(k.buf, rd)
	return k.buf, err
}

func (k *coderClient) Idle() {
	idleReader(func() error { _, _, err := k.c.Reader(context.Background()); return err })
}

func (k *coderClient) Close() error { return k.c.CloseNow() }
