package main

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/handshake"
)

// oursChanImpl is our library as a user writes it: the upgrade, then an
// actor.Conn — a range over Incoming, and Outgoing or Send. It goes through
// handshake + actor.New, which is all the root package's Accept and Dial
// do, so that the row depends only on committed layers.
type oursChanImpl struct{}

func (oursChanImpl) Name() string  { return "wsactor-chan" }
func (oursChanImpl) Deflate() bool { return true }

func chanOptions(acc *handshake.Accepted, role frame.Role, o options) ([]actor.Option, error) {
	opts := []actor.Option{actor.WithMaxMessageSize(int64(o.MaxMessage))}
	ext, err := oursExtension(acc, role)
	if err != nil {
		return nil, err
	}
	if ext != nil {
		opts = append(opts, actor.WithExtension(ext))
	}
	return opts, nil
}

func (oursChanImpl) Serve(ln net.Listener, o options, live *atomic.Int64) error {
	srv := &handshake.Server{Extensions: oursNegotiators(o)}
	return serveHTTP(ln, func(w http.ResponseWriter, r *http.Request) {
		acc, err := srv.Upgrade(w, r)
		if err != nil {
			return
		}
		opts, err := chanOptions(acc, frame.Server, o)
		if err != nil {
			acc.Conn.Close()
			return
		}
		c, err := actor.New(acc.Conn, acc.Reader, frame.Server, opts...)
		if err != nil {
			acc.Conn.Close()
			return
		}
		live.Add(1)
		defer live.Add(-1)
		// The README's echo server: every message received goes back out
		// with Send and the handler's ctx; a received message's Data is
		// ours, so it is handed on as it is.
		ctx := r.Context()
		for m := range c.Incoming() {
			if err := c.Send(ctx, m); err != nil {
				return
			}
		}
	})
}

type chanClient struct {
	c *actor.Conn
}

func (oursChanImpl) Dial(ctx context.Context, addr string, o options) (client, error) {
	cl := &handshake.Client{Extensions: oursNegotiators(o)}
	acc, err := cl.Dial(ctx, "ws://"+addr+"/")
	if err != nil {
		return nil, err
	}
	opts, err := chanOptions(acc, frame.Client, o)
	if err != nil {
		acc.Conn.Close()
		return nil, err
	}
	c, err := actor.New(acc.Conn, acc.Reader, frame.Client, opts...)
	if err != nil {
		acc.Conn.Close()
		return nil, err
	}
	return &chanClient{c: c}, nil
}

func (k *chanClient) RoundTrip(p []byte, text bool) ([]byte, error) {
	typ := frame.OpBinary
	if text {
		typ = frame.OpText
	}
	// The README's client: a send on Outgoing, then a receive. p is
	// stamped again only after its echo came back, when the connection no
	// longer reads it.
	k.c.Outgoing() <- actor.Message{Type: typ, Data: p}
	m, ok := <-k.c.Incoming()
	if !ok {
		return nil, k.c.Err()
	}
	return m.Data, nil
}

func (k *chanClient) Idle() {} // the actor's reader already waits for data

func (k *chanClient) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return k.c.Close(ctx, frame.StatusNormalClosure, "")
}
