//go:build !js

package ws

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"reflect"
	"sync"
	"time"

	"github.com/wsactor/ws/handshake"
)

// The client side of RFC 8441 is a minimal HTTP/2 client of its own, on
// x/net's Framer and hpack: net/http's Transport refuses the :protocol
// pseudo-header (validateHeaders, Go 1.26 and 1.27), and so does x/net's on
// Go 1.27, where it wraps net/http's. It speaks what a WebSocket needs:
// SETTINGS, HEADERS (+CONTINUATION), DATA, WINDOW_UPDATE, RST_STREAM,
// GOAWAY and PING, on one TLS connection per server, shared by every
// WebSocket Dial opens to it over HTTP/2.

const (
	// h2StreamWindow is the receive window of each stream: how much a
	// WebSocket whose reader is paused holds before the server must wait.
	// It is the per-WebSocket memory bound of backpressure, as a socket's
	// receive buffer is on TCP.
	h2StreamWindow = 256 << 10
	// h2ConnWindow is the connection's receive window. Credit for it is
	// returned as DATA arrives, not as it is read, so one paused WebSocket
	// never stalls the others: the stream windows bound the buffering.
	h2ConnWindow = 16 << 20
	// h2MaxFrame is the largest DATA frame sent; every peer accepts it
	// (SETTINGS_MAX_FRAME_SIZE is at least 16384, RFC 9113 §6.5.2).
	h2MaxFrame = 16384

	// h2ForgetAfter is how long Dial remembers that a server did not take
	// RFC 8441 (it picked http/1.1, or h2 without the setting) and offers
	// it only http/1.1. Long enough that a redial loop pays the extra
	// connection of an h2 server without the setting once, not per dial;
	// short enough that a server restarted with the setting is used
	// within minutes.
	h2ForgetAfter = 10 * time.Minute
	// h2Remembered bounds those memories: the oldest goes first.
	h2Remembered = 256
)

// errNoExtendedConnect means the server speaks HTTP/2 without RFC 8441.
var errNoExtendedConnect = errors.New("ws: server does not enable extended CONNECT")

// http1Chosen is newH2Conn's answer when the server picked http/1.1 in
// TLS: the connection, for the HTTP/1.1 upgrade.
type http1Chosen struct{ conn net.Conn }

func (e *http1Chosen) Error() string { return "ws: server chose http/1.1" }

// h2Key identifies the connections a Dial may share: the same server,
// reached with the same TLS settings and the same dial and proxy functions
// (by code address: a Dial with other hooks, such as reconnect's option
// probe, never reuses a connection that other hooks opened).
type h2Key struct {
	addr          string
	tls           *tls.Config
	netDial, prox uintptr
}

func newH2Key(addr string, tc *tls.Config, netDial, proxy any) h2Key {
	return h2Key{addr: addr, tls: tc, netDial: funcAddr(netDial), prox: funcAddr(proxy)}
}

// funcAddr is the code address of a func value, 0 for nil.
func funcAddr(f any) uintptr {
	v := reflect.ValueOf(f)
	if !v.IsValid() || v.IsNil() {
		return 0
	}
	return v.Pointer()
}

// h2Pool holds the live HTTP/2 connections of the process, per server,
// and the servers that recently did not take RFC 8441.
type h2Pool struct {
	mu      sync.Mutex
	conns   map[h2Key][]*h2Conn
	dialing map[h2Key]*h2Dialing
	http1   map[h2Key]time.Time // when the server was found without RFC 8441
	now     func() time.Time
}

// h2Dialing is a connection being set up; Dials for the same server wait
// for it instead of opening their own.
type h2Dialing struct {
	done chan struct{}
	ok   bool // the server took RFC 8441 and the connection is pooled
}

var h2Connections = newH2Pool(time.Now)

func newH2Pool(now func() time.Time) *h2Pool {
	return &h2Pool{conns: map[h2Key][]*h2Conn{}, dialing: map[h2Key]*h2Dialing{}, http1: map[h2Key]time.Time{}, now: now}
}

// dialHTTP2 opens a WebSocket over HTTP/2 to a wss or https url, on a
// pooled connection if one has room. It returns (nil, nil) when the server
// does not offer HTTP/2 with RFC 8441 (now, or recently: see
// h2ForgetAfter), or when an HTTP/1.1 answer is needed (a redirect to
// follow): the caller dials over HTTP/1.1 then.
func dialHTTP2(ctx context.Context, hc *handshake.Client, url string, key h2Key) (*handshake.Accepted, error) {
	start := time.Now()
	req, err := hc.NewConnectRequest(url)
	if err != nil {
		return nil, err
	}
	for {
		c, wait, err := h2Connections.get(ctx, hc, url, key)
		var h1 *http1Chosen
		if errors.As(err, &h1) {
			acc, err := withinTimeout(hc, start).Handshake(ctx, h1.conn, url)
			var re *handshake.RedirectError
			if errors.As(err, &re) && hc.MaxRedirects > 0 {
				return nil, nil
			}
			return acc, err
		}
		if err != nil {
			return nil, err
		}
		if wait != nil {
			select {
			case <-wait.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if !wait.ok {
				return nil, nil
			}
			continue
		}
		if c == nil {
			return nil, nil
		}
		acc, err := c.open(ctx, hc, url, req)
		var re *handshake.RedirectError
		if errors.As(err, &re) && hc.MaxRedirects > 0 {
			return nil, nil
		}
		return acc, err
	}
}

// withinTimeout returns hc with its HandshakeTimeout cut to what is left
// of it since start: an HTTP/1.1 upgrade after an HTTP/2 attempt (on its
// connection, or on a new one) is the same attempt, bounded by one
// handshake timeout as a plain HTTP/1.1 Dial is.
func withinTimeout(hc *handshake.Client, start time.Time) *handshake.Client {
	timeout := hc.HandshakeTimeout
	if timeout < 0 {
		return hc
	}
	if timeout == 0 {
		timeout = handshake.DefaultHandshakeTimeout
	}
	c := *hc
	c.HandshakeTimeout = max(timeout-time.Since(start), time.Nanosecond) // past it, the first I/O times out
	return &c
}

// get returns a pooled connection with a stream reserved on it, or the
// dial in progress to wait for, or, after dialling one itself, the new
// connection (nil when the server does not take RFC 8441, or was recently
// found not to).
func (p *h2Pool) get(ctx context.Context, hc *handshake.Client, url string, key h2Key) (*h2Conn, *h2Dialing, error) {
	p.mu.Lock()
	for _, c := range p.conns[key] {
		if c.reserve() {
			p.mu.Unlock()
			return c, nil, nil
		}
	}
	if p.rememberedLocked(key) {
		p.mu.Unlock()
		return nil, nil, nil
	}
	if d := p.dialing[key]; d != nil {
		p.mu.Unlock()
		return nil, d, nil
	}
	d := &h2Dialing{done: make(chan struct{})}
	p.dialing[key] = d
	p.mu.Unlock()

	c, err := newH2Conn(ctx, hc, url, key)
	var h1 *http1Chosen
	p.mu.Lock()
	delete(p.dialing, key)
	switch {
	case c != nil:
		d.ok = true
		c.reserve()
		p.conns[key] = append(p.conns[key], c)
	case errors.Is(err, errNoExtendedConnect), errors.As(err, &h1):
		p.rememberLocked(key)
	}
	p.mu.Unlock()
	close(d.done)
	if errors.Is(err, errNoExtendedConnect) {
		err = nil
	}
	return c, nil, err
}

// rememberLocked notes that key's server does not take RFC 8441, making
// room first: expired notes go, then, if none had, the oldest.
func (p *h2Pool) rememberLocked(key h2Key) {
	now := p.now()
	if _, ok := p.http1[key]; !ok && len(p.http1) >= h2Remembered {
		var oldest h2Key
		var at time.Time
		for k, t := range p.http1 {
			if now.Sub(t) >= h2ForgetAfter {
				delete(p.http1, k)
			} else if at.IsZero() || t.Before(at) {
				oldest, at = k, t
			}
		}
		if len(p.http1) >= h2Remembered {
			delete(p.http1, oldest)
		}
	}
	p.http1[key] = now
}

// rememberedLocked reports a note of rememberLocked younger than
// h2ForgetAfter, dropping an older one.
func (p *h2Pool) rememberedLocked(key h2Key) bool {
	t, ok := p.http1[key]
	if ok && p.now().Sub(t) >= h2ForgetAfter {
		delete(p.http1, key)
		return false
	}
	return ok
}

// remove takes c out of the pool: it takes no new streams.
func (p *h2Pool) remove(c *h2Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cs := p.conns[c.key]
	for i, x := range cs {
		if x == c {
			cs = append(cs[:i], cs[i+1:]...)
			break
		}
	}
	if len(cs) == 0 {
		delete(p.conns, c.key)
	} else {
		p.conns[c.key] = cs
	}
}
