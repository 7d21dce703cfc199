package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/lxzan/gws"
)

// gwsImpl drives lxzan/gws through its event handler: OnMessage echoes with
// WriteMessage and returns the message's pooled buffer with Close.
type gwsImpl struct{}

func (gwsImpl) Name() string  { return "gws" }
func (gwsImpl) Deflate() bool { return true }

func gwsDeflate(o options) gws.PermessageDeflate {
	return gws.PermessageDeflate{Enabled: o.Deflate, ServerContextTakeover: false, ClientContextTakeover: false}
}

type gwsEcho struct {
	gws.BuiltinEventHandler
	live *atomic.Int64
}

func (e *gwsEcho) OnOpen(*gws.Conn)         { e.live.Add(1) }
func (e *gwsEcho) OnClose(*gws.Conn, error) { e.live.Add(-1) }
func (e *gwsEcho) OnMessage(s *gws.Conn, m *gws.Message) {
	_ = s.WriteMessage(m.Opcode, m.Bytes())
	m.Close()
}

func (gwsImpl) Serve(ln net.Listener, o options, live *atomic.Int64) error {
	up := gws.NewUpgrader(&gwsEcho{live: live}, &gws.ServerOption{
		PermessageDeflate:  gwsDeflate(o),
		ReadMaxPayloadSize: o.MaxMessage,
	})
	return serveHTTP(ln, func(w http.ResponseWriter, r *http.Request) {
		s, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		s.ReadLoop()
	})
}

// gwsClient hands each message from the read loop to RoundTrip over a
// channel, the way a request/response client on gws is written.
type gwsClient struct {
	gws.BuiltinEventHandler
	c    *gws.Conn
	ch   chan *gws.Message
	done chan struct{}
	last *gws.Message
}

func (g *gwsClient) OnClose(*gws.Conn, error)              { close(g.done) }
func (g *gwsClient) OnMessage(_ *gws.Conn, m *gws.Message) { g.ch <- m }

func (gwsImpl) Dial(ctx context.Context, addr string, o options) (client, error) {
	g := &gwsClient{ch: make(chan *gws.Message, 1), done: make(chan struct{})}
	c, _, err := gws.NewClient(g, &gws.ClientOption{
		Addr:               "ws://" + addr + "/",
		PermessageDeflate:  gwsDeflate(o),
		ReadMaxPayloadSize: o.MaxMessage,
	})
	if err != nil {
		return nil, err
	}
	g.c = c
	go c.ReadLoop()
	return g, nil
}

var errClosed = errors.New("connection closed")

func (g *gwsClient) RoundTrip(p []byte, text bool) ([]byte, error) {
	if g.last != nil {
		g.last.Close()
		g.last = nil
	}
	op := gws.OpcodeBinary
	if text {
		op = gws.OpcodeText
	}
	if err := g.c.WriteMessage(op, p); err != nil {
		return nil, err
	}
	select {
	case m := <-g.ch:
		g.last = m
		return m.Bytes(), nil
	case <-g.done:
		return nil, errClosed
	}
}

func (g *gwsClient) Idle() {} // ReadLoop already waits for data

func (g *gwsClient) Close() error { return g.c.NetConn().Close() }
