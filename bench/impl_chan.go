//go:build wsactorchan

package main

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/wsactor/ws"
)

// oursChanImpl is our library as a user writes it: ws.Accept / ws.Dial, a
// range over Incoming, and Send or Outgoing.
type oursChanImpl struct{}

func init() { impls = append(impls, oursChanImpl{}) }

func (oursChanImpl) Name() string  { return "wsactor-chan" }
func (oursChanImpl) Deflate() bool { return true }

func chanOptions(o options) []ws.Option {
	opts := []ws.Option{ws.WithMaxMessageSize(int64(o.MaxMessage))}
	if o.Deflate {
		opts = append(opts, ws.WithCompression())
	}
	return opts
}

func (oursChanImpl) Serve(ln net.Listener, o options, live *atomic.Int64) error {
	var aopts []ws.AcceptOption
	for _, op := range chanOptions(o) {
		aopts = append(aopts, op)
	}
	aopts = append(aopts, ws.WithAnyOrigin())
	return serveHTTP(ln, func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, aopts...)
		if err != nil {
			return
		}
		defer c.CloseNow()
		live.Add(1)
		defer live.Add(-1)
		// The echo a user writes: every message received goes back out;
		// the received Data is ours, so it is handed on without a copy.
		for m := range c.Incoming() {
			select {
			case c.Outgoing() <- m:
			case <-c.Done():
				return
			}
		}
	})
}

type chanClient struct {
	c *ws.Conn
}

func (oursChanImpl) Dial(ctx context.Context, addr string, o options) (client, error) {
	var dopts []ws.DialOption
	for _, op := range chanOptions(o) {
		dopts = append(dopts, op)
	}
	c, _, err := ws.Dial(ctx, "ws://"+addr+"/", dopts...)
	if err != nil {
		return nil, err
	}
	return &chanClient{c: c}, nil
}

func (k *chanClient) RoundTrip(p []byte, text bool) ([]byte, error) {
	typ := ws.BinaryMessage
	if text {
		typ = ws.TextMessage
	}
	// Send returns once the message is written, so p may be reused after it.
	if err := k.c.Send(context.Background(), ws.Message{Type: typ, Data: p}); err != nil {
		return nil, err
	}
	m, ok := <-k.c.Incoming()
	if !ok {
		return nil, k.c.Err()
	}
	return m.Data, nil
}

func (k *chanClient) Idle() {} // the actor's reader already waits for data

func (k *chanClient) Close() error { return k.c.CloseNow() }
