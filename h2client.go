//go:build !js

package ws

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

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

// h2Conn is one client HTTP/2 connection.
type h2Conn struct {
	key  h2Key
	conn net.Conn
	fr   *http2.Framer

	wmu  sync.Mutex // serialises frame writes, the encoder and stream creation
	henc *hpack.Encoder
	hbuf bytes.Buffer

	mu         sync.Mutex
	nextID     uint32
	streams    map[uint32]*h2Stream
	reserved   int // streams promised to Dials, not yet opened
	maxStreams uint32
	peerWindow uint32 // the server's SETTINGS_INITIAL_WINDOW_SIZE
	sendWin    int64  // connection-level send window
	unacked    int    // received bytes whose connection-level credit is not yet returned
	extConnect bool
	goAway     bool  // GOAWAY received, or the connection is ending: no new streams
	err        error // why the connection ended; set once
	settled    chan struct{}
	loopDone   chan struct{}
}

// newH2Conn dials url's server offering h2 and http/1.1, and sets up an
// HTTP/2 connection if the server picked h2 and advertises
// SETTINGS_ENABLE_CONNECT_PROTOCOL; otherwise it returns
// errNoExtendedConnect and closes what it opened.
func newH2Conn(ctx context.Context, hc *handshake.Client, url string, key h2Key) (*h2Conn, error) {
	nc, err := hc.DialTransport(ctx, url, "h2", "http/1.1")
	if err != nil {
		return nil, err
	}
	tc, ok := nc.(*tls.Conn)
	if !ok || tc.ConnectionState().NegotiatedProtocol != "h2" {
		return nil, &http1Chosen{nc}
	}
	c := &h2Conn{
		key:        key,
		conn:       nc,
		fr:         http2.NewFramer(nc, nc),
		nextID:     1,
		streams:    map[uint32]*h2Stream{},
		maxStreams: 100, // until the server's SETTINGS say otherwise (RFC 9113 §6.5.2 advises at least 100)
		peerWindow: 65535,
		sendWin:    65535,
		settled:    make(chan struct{}),
		loopDone:   make(chan struct{}),
	}
	c.henc = hpack.NewEncoder(&c.hbuf)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.fr.MaxHeaderListSize = 1 << 20
	timeout := hc.HandshakeTimeout
	if timeout == 0 {
		timeout = handshake.DefaultHandshakeTimeout
	}
	if timeout > 0 {
		_ = nc.SetDeadline(time.Now().Add(timeout))
	}
	err = c.writePreface()
	if err == nil {
		go c.readLoop()
		select {
		case <-c.settled:
		case <-c.loopDone:
			err = c.Err()
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err == nil {
		_ = nc.SetDeadline(time.Time{})
		c.mu.Lock()
		if !c.extConnect {
			err = errNoExtendedConnect
		}
		c.mu.Unlock()
		if err != nil {
			// A clean end for the server: no stream was opened.
			c.wmu.Lock()
			_ = c.fr.WriteGoAway(0, http2.ErrCodeNo, nil)
			c.wmu.Unlock()
		}
	}
	if err != nil {
		c.fail(err)
		return nil, err
	}
	return c, nil
}

func (c *h2Conn) writePreface() error {
	if _, err := io.WriteString(c.conn, http2.ClientPreface); err != nil {
		return err
	}
	if err := c.fr.WriteSettings(
		http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: 1 << 20},
	); err != nil {
		return err
	}
	return c.fr.WriteWindowUpdate(0, h2ConnWindow-65535)
}

// Err returns why the connection ended, or nil.
func (c *h2Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// reserve promises a stream to a Dial if the connection can take one.
func (c *h2Conn) reserve() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.goAway || c.err != nil || uint32(len(c.streams)+c.reserved) >= c.maxStreams || c.nextID > 1<<31-1 {
		return false
	}
	c.reserved++
	return true
}

// open sends the extended CONNECT on a reserved stream and waits for the
// answer.
func (c *h2Conn) open(ctx context.Context, hc *handshake.Client, url string, req *handshake.ConnectRequest) (*handshake.Accepted, error) {
	s := &h2Stream{c: c, respc: make(chan struct{})}
	s.cond.L = &c.mu
	c.wmu.Lock()
	c.mu.Lock()
	c.reserved--
	if c.err != nil || c.goAway {
		err := c.err
		c.mu.Unlock()
		c.wmu.Unlock()
		if err == nil {
			err = errors.New("ws: HTTP/2 connection going away")
		}
		c.idle()
		return nil, fmt.Errorf("%w: %w", handshake.ErrConnectionLost, err)
	}
	s.id = c.nextID
	c.nextID += 2
	s.sendWin = int64(c.peerWindow)
	c.streams[s.id] = s
	c.mu.Unlock()
	err := c.writeHeaders(s.id, req)
	c.wmu.Unlock()
	if err != nil {
		c.fail(err)
		return nil, fmt.Errorf("ws: dial: %w: %w", handshake.ErrConnectionLost, err)
	}

	timeout := hc.HandshakeTimeout
	if timeout == 0 {
		timeout = handshake.DefaultHandshakeTimeout
	}
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-s.respc:
	case <-ctx.Done():
		s.reset(http2.ErrCodeCancel)
		return nil, ctx.Err()
	case <-expired:
		s.reset(http2.ErrCodeCancel)
		return nil, fmt.Errorf("ws: dial: handshake: %w", os.ErrDeadlineExceeded)
	}
	c.mu.Lock()
	status, header, rerr := s.status, s.header, s.rerr
	var body []byte
	if status >= 300 || status < 200 {
		body = bytes.Clone(s.buf.Bytes()[:min(s.buf.Len(), handshake.MaxRejectBody)])
	}
	c.mu.Unlock()
	if status == 0 {
		s.reset(http2.ErrCodeCancel)
		return nil, fmt.Errorf("ws: dial: %w", rerr)
	}
	acc, err := hc.VerifyConnect(url, &http.Response{
		Status: strconv.Itoa(status) + " " + http.StatusText(status), StatusCode: status,
		Proto: "HTTP/2.0", ProtoMajor: 2, Header: header, Body: http.NoBody,
	}, body)
	if err != nil {
		s.reset(http2.ErrCodeCancel)
		return nil, err
	}
	acc.Conn = s
	return acc, nil
}

// writeHeaders sends the extended CONNECT's HEADERS (and CONTINUATION)
// frames. Called with c.wmu held.
func (c *h2Conn) writeHeaders(id uint32, req *handshake.ConnectRequest) error {
	c.hbuf.Reset()
	for _, f := range [...]hpack.HeaderField{
		{Name: ":method", Value: "CONNECT"},
		{Name: ":protocol", Value: "websocket"},
		{Name: ":scheme", Value: req.Scheme},
		{Name: ":path", Value: req.Path},
		{Name: ":authority", Value: req.Authority},
	} {
		_ = c.henc.WriteField(f)
	}
	for k, vs := range req.Header {
		name := strings.ToLower(k)
		for _, v := range vs {
			_ = c.henc.WriteField(hpack.HeaderField{Name: name, Value: v, Sensitive: name == "cookie" || name == "authorization"})
		}
	}
	block := c.hbuf.Bytes()
	first := block[:min(len(block), h2MaxFrame)]
	block = block[len(first):]
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{
		StreamID: id, BlockFragment: first, EndHeaders: len(block) == 0,
	}); err != nil {
		return err
	}
	for len(block) > 0 {
		frag := block[:min(len(block), h2MaxFrame)]
		block = block[len(frag):]
		if err := c.fr.WriteContinuation(id, len(block) == 0, frag); err != nil {
			return err
		}
	}
	return nil
}

// write sends one frame under wmu; a failure ends the connection.
func (c *h2Conn) write(f func() error) error {
	c.wmu.Lock()
	err := f()
	c.wmu.Unlock()
	if err != nil {
		c.fail(err)
		return fmt.Errorf("%w: %w", handshake.ErrConnectionLost, err)
	}
	return nil
}

// fail ends the connection: every stream fails with ErrConnectionLost.
func (c *h2Conn) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.goAway = true
	for _, s := range c.streams {
		s.failLocked(fmt.Errorf("%w: %v", handshake.ErrConnectionLost, err))
	}
	c.mu.Unlock()
	h2Connections.remove(c)
	c.conn.Close()
}

// idle closes the connection once it carries no stream and none is
// promised, after a GOAWAY or when its last WebSocket ended.
func (c *h2Conn) idle() {
	c.mu.Lock()
	done := len(c.streams) == 0 && c.reserved == 0 && c.err == nil
	if done {
		c.goAway = true
		c.err = net.ErrClosed
	}
	c.mu.Unlock()
	if done {
		h2Connections.remove(c)
		c.wmu.Lock()
		_ = c.fr.WriteGoAway(0, http2.ErrCodeNo, nil) // the server opened no stream: push is off
		c.wmu.Unlock()
		c.conn.Close()
	}
}

// readLoop reads frames until the connection ends.
func (c *h2Conn) readLoop() {
	defer close(c.loopDone)
	first := true
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			var se http2.StreamError
			if errors.As(err, &se) {
				c.mu.Lock()
				if s := c.streams[se.StreamID]; s != nil {
					s.failLocked(fmt.Errorf("ws: HTTP/2 stream: %w", se))
				}
				c.mu.Unlock()
				_ = c.write(func() error { return c.fr.WriteRSTStream(se.StreamID, se.Code) })
				continue
			}
			c.fail(err)
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if f.IsAck() {
				continue
			}
			c.settings(f)
			if c.write(func() error { return c.fr.WriteSettingsAck() }) != nil {
				return
			}
			if first {
				first = false
				close(c.settled)
			}
		case *http2.PingFrame:
			if !f.IsAck() && c.write(func() error { return c.fr.WritePing(true, f.Data) }) != nil {
				return
			}
		case *http2.WindowUpdateFrame:
			c.mu.Lock()
			if f.StreamID == 0 {
				blocked := c.sendWin <= 0
				c.sendWin += int64(f.Increment)
				if blocked {
					for _, s := range c.streams {
						s.cond.Broadcast()
					}
				}
			} else if s := c.streams[f.StreamID]; s != nil {
				s.sendWin += int64(f.Increment)
				s.cond.Broadcast()
			}
			c.mu.Unlock()
		case *http2.MetaHeadersFrame:
			c.headers(f)
		case *http2.DataFrame:
			if !c.data(f) {
				return
			}
		case *http2.RSTStreamFrame:
			c.mu.Lock()
			if s := c.streams[f.StreamID]; s != nil {
				s.peerReset = true
				err := fmt.Errorf("%w: server sent RST_STREAM %v", handshake.ErrStreamReset, f.ErrCode)
				if s.eof && f.ErrCode == http2.ErrCodeNo {
					// RFC 9113 §8.1: after a complete response the server
					// may reset with NO_ERROR to stop our sending (net/http
					// does when its handler returns first). What it sent
					// stands: reading ends in io.EOF, writing fails.
					s.werr = err
					s.cond.Broadcast()
				} else {
					s.failLocked(err)
				}
				s.ended()
			}
			c.mu.Unlock()
			c.idle()
		case *http2.GoAwayFrame:
			c.goAwayFrom(f)
		}
	}
}

// settings applies the server's SETTINGS.
func (c *h2Conn) settings(f *http2.SettingsFrame) {
	table, hasTable := uint32(0), false
	c.mu.Lock()
	_ = f.ForeachSetting(func(s http2.Setting) error {
		switch s.ID {
		case http2.SettingInitialWindowSize:
			delta := int64(s.Val) - int64(c.peerWindow)
			c.peerWindow = s.Val
			for _, st := range c.streams {
				st.sendWin += delta
				st.cond.Broadcast()
			}
		case http2.SettingMaxConcurrentStreams:
			c.maxStreams = s.Val
		case http2.SettingEnableConnectProtocol:
			c.extConnect = s.Val == 1
		case http2.SettingHeaderTableSize:
			table, hasTable = s.Val, true
		}
		return nil
	})
	c.mu.Unlock()
	if hasTable {
		// Lock order is wmu before mu, so the encoder is set after.
		c.wmu.Lock()
		c.henc.SetMaxDynamicTableSizeLimit(table)
		c.wmu.Unlock()
	}
}

// headers handles a response's HEADERS (or trailers).
func (c *h2Conn) headers(f *http2.MetaHeadersFrame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.streams[f.StreamID]
	if s == nil {
		return
	}
	if s.status == 0 {
		st, _ := strconv.Atoi(f.PseudoValue("status"))
		if st >= 100 && st < 200 {
			return // informational: the final response follows
		}
		h := http.Header{}
		for _, hf := range f.RegularFields() {
			h.Add(hf.Name, hf.Value)
		}
		s.status, s.header = st, h
		// A refusal's body is awaited (up to MaxRejectBody) for the
		// RejectError; a 2xx is the WebSocket's start.
		s.refused = st < 200 || st >= 300
		if !s.refused {
			s.respond()
		}
	}
	if f.StreamEnded() {
		s.eof = true
		s.cond.Broadcast()
		s.respond()
		s.ended()
	}
}

// data buffers a DATA frame for its stream and returns the connection's
// credit for it at once; false means the connection failed.
func (c *h2Conn) data(f *http2.DataFrame) bool {
	n := int(f.Header().Length)
	c.mu.Lock()
	if s := c.streams[f.StreamID]; s != nil && !s.closed {
		if int64(s.buf.Len()+len(f.Data())) > h2StreamWindow+h2MaxFrame {
			c.mu.Unlock()
			c.fail(errors.New("server overran the stream's flow-control window"))
			return false
		}
		s.buf.Write(f.Data())
		// Padding is not data the reader consumes: its stream credit
		// goes back now.
		s.unacked += n - len(f.Data())
		if f.StreamEnded() {
			s.eof = true
			s.ended()
		}
		if s.refused && (s.eof || s.buf.Len() >= handshake.MaxRejectBody) {
			s.respond()
		}
		s.cond.Broadcast()
	}
	c.unacked += n
	inc := 0
	if c.unacked >= h2ConnWindow/4 {
		inc, c.unacked = c.unacked, 0
	}
	c.mu.Unlock()
	if inc > 0 {
		return c.write(func() error { return c.fr.WriteWindowUpdate(0, uint32(inc)) }) == nil
	}
	return true
}

// goAwayFrom handles the server's GOAWAY: streams above its last stream
// ID were not processed and fail; the others go on, and the connection
// closes when they have ended.
func (c *h2Conn) goAwayFrom(f *http2.GoAwayFrame) {
	c.mu.Lock()
	c.goAway = true
	for id, s := range c.streams {
		if id > f.LastStreamID {
			s.failLocked(fmt.Errorf("%w: GOAWAY %v before the stream was processed", handshake.ErrConnectionLost, f.ErrCode))
			s.ended()
		}
	}
	c.mu.Unlock()
	h2Connections.remove(c)
	c.idle()
}

// h2Stream is a WebSocket's stream: a net.Conn for the frame layer.
type h2Stream struct {
	c     *h2Conn
	id    uint32
	cond  sync.Cond // on c.mu: data, window, end or deadline
	respc chan struct{}

	// guarded by c.mu
	status    int
	header    http.Header
	refused   bool
	buf       bytes.Buffer
	unacked   int   // bytes read whose stream credit is not yet returned
	sendWin   int64 // the stream's send window
	eof       bool  // the server's END_STREAM came
	rerr      error // reset, or the connection's end
	werr      error // a NO_ERROR reset after the server's END_STREAM: only writing ends
	endSent   bool  // our END_STREAM went out
	closed    bool
	removed   bool
	peerReset bool // the server sent RST_STREAM
	responded bool // respc is closed
	rdl, wdl  time.Time
	rtimer    *time.Timer
	wtimer    *time.Timer
}

// failLocked records err as the stream's end, unless it has one.
func (s *h2Stream) failLocked(err error) {
	if s.rerr == nil {
		s.rerr = err
	}
	s.cond.Broadcast()
	s.respond()
}

// respond wakes open: the answer, or the stream's end, has come. Called
// with c.mu held.
func (s *h2Stream) respond() {
	if !s.responded {
		s.responded = true
		close(s.respc)
	}
}

// ended removes the stream from its connection once neither side can
// send on it any more. Called with c.mu held.
func (s *h2Stream) ended() {
	if s.removed || !((s.eof && s.endSent) || s.rerr != nil || s.peerReset || (s.closed && s.eof)) {
		return
	}
	s.removed = true
	delete(s.c.streams, s.id)
}

// Read reads the server's DATA; the server's END_STREAM is io.EOF.
func (s *h2Stream) Read(p []byte) (int, error) {
	c := s.c
	c.mu.Lock()
	for s.buf.Len() == 0 && !s.eof && s.rerr == nil && !s.closed {
		if !s.rdl.IsZero() && !time.Now().Before(s.rdl) {
			c.mu.Unlock()
			return 0, os.ErrDeadlineExceeded
		}
		s.cond.Wait()
	}
	switch {
	case s.closed:
		c.mu.Unlock()
		return 0, net.ErrClosed
	case s.buf.Len() > 0:
		n, _ := s.buf.Read(p)
		if s.buf.Len() == 0 {
			if s.buf.Cap() > 64<<10 {
				s.buf = bytes.Buffer{} // an idle WebSocket keeps no large buffer
			} else {
				s.buf.Reset()
			}
		}
		s.unacked += n
		inc := 0
		if s.unacked >= h2StreamWindow/4 && !s.eof && s.rerr == nil {
			inc, s.unacked = s.unacked, 0
		}
		c.mu.Unlock()
		if inc > 0 {
			_ = c.write(func() error { return c.fr.WriteWindowUpdate(s.id, uint32(inc)) })
		}
		return n, nil
	case s.rerr != nil:
		err := s.rerr
		c.mu.Unlock()
		return 0, err
	default:
		c.mu.Unlock()
		return 0, io.EOF
	}
}

// Write sends p in DATA frames within the flow-control windows.
func (s *h2Stream) Write(p []byte) (int, error) {
	c := s.c
	written := 0
	for len(p) > 0 {
		c.mu.Lock()
		for (c.sendWin <= 0 || s.sendWin <= 0) && s.rerr == nil && s.werr == nil && !s.closed && !s.endSent {
			if !s.wdl.IsZero() && !time.Now().Before(s.wdl) {
				c.mu.Unlock()
				return written, os.ErrDeadlineExceeded
			}
			s.cond.Wait()
		}
		switch {
		case s.rerr != nil || s.werr != nil:
			err := s.rerr
			if err == nil {
				err = s.werr
			}
			c.mu.Unlock()
			return written, err
		case s.closed || s.endSent:
			c.mu.Unlock()
			return written, net.ErrClosed
		case !s.wdl.IsZero() && !time.Now().Before(s.wdl):
			c.mu.Unlock()
			return written, os.ErrDeadlineExceeded
		}
		n := min(int64(len(p)), c.sendWin, s.sendWin, h2MaxFrame)
		c.sendWin -= n
		s.sendWin -= n
		c.mu.Unlock()
		if err := c.write(func() error { return c.fr.WriteData(s.id, false, p[:n]) }); err != nil {
			return written, err
		}
		written += int(n)
		p = p[n:]
	}
	return written, nil
}

// Close ends the stream on our side: END_STREAM, like a TCP FIN, when
// the server has finished sending (a WebSocket client closes after the
// server, RFC 6455 §7.1.1); otherwise also RST_STREAM CANCEL, as closing a
// socket with data still coming resets it.
func (s *h2Stream) Close() error {
	c := s.c
	c.mu.Lock()
	if s.closed {
		c.mu.Unlock()
		return net.ErrClosed
	}
	s.closed = true
	s.cond.Broadcast()
	s.stopTimersLocked()
	live := s.rerr == nil && !s.peerReset
	sendEnd := !s.endSent && live
	s.endSent = true
	reset := !s.eof && live
	if reset {
		s.rerr = net.ErrClosed
	}
	s.buf = bytes.Buffer{}
	s.ended()
	c.mu.Unlock()
	if sendEnd {
		_ = c.write(func() error { return c.fr.WriteData(s.id, true, nil) })
	}
	if reset {
		_ = c.write(func() error { return c.fr.WriteRSTStream(s.id, http2.ErrCodeCancel) })
	}
	c.idle()
	return nil
}

// reset abandons the stream with RST_STREAM code.
func (s *h2Stream) reset(code http2.ErrCode) {
	c := s.c
	c.mu.Lock()
	// Not on a stream already closed both ways (RFC 9113 §5.1).
	send := !s.peerReset && !(s.eof && s.endSent) && c.err == nil
	s.closed = true
	s.endSent = true
	s.stopTimersLocked()
	s.failLocked(net.ErrClosed)
	s.ended()
	c.mu.Unlock()
	if send {
		_ = c.write(func() error { return c.fr.WriteRSTStream(s.id, code) })
	}
	c.idle()
}

func (s *h2Stream) stopTimersLocked() {
	if s.rtimer != nil {
		s.rtimer.Stop()
	}
	if s.wtimer != nil {
		s.wtimer.Stop()
	}
}

// LocalAddr returns the connection's local address.
func (s *h2Stream) LocalAddr() net.Addr { return s.c.conn.LocalAddr() }

// RemoteAddr returns the connection's remote address.
func (s *h2Stream) RemoteAddr() net.Addr { return s.c.conn.RemoteAddr() }

// SetDeadline sets both deadlines.
func (s *h2Stream) SetDeadline(t time.Time) error {
	_ = s.SetReadDeadline(t)
	return s.SetWriteDeadline(t)
}

// SetReadDeadline makes a blocked or later Read return
// os.ErrDeadlineExceeded once t has passed; unlike net/http's server side,
// clearing it lets reading go on, as on a socket.
func (s *h2Stream) SetReadDeadline(t time.Time) error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.rdl = t
	s.rtimer = s.armLocked(s.rtimer, t)
	return nil
}

// SetWriteDeadline makes a Write waiting for flow-control credit return
// os.ErrDeadlineExceeded once t has passed.
func (s *h2Stream) SetWriteDeadline(t time.Time) error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.wdl = t
	s.wtimer = s.armLocked(s.wtimer, t)
	return nil
}

// armLocked wakes the stream's waiters at t.
func (s *h2Stream) armLocked(tm *time.Timer, t time.Time) *time.Timer {
	if tm != nil {
		tm.Stop()
	}
	if t.IsZero() {
		return tm
	}
	d := time.Until(t)
	if d <= 0 {
		s.cond.Broadcast()
		return tm
	}
	if tm == nil {
		return time.AfterFunc(d, func() {
			s.c.mu.Lock()
			s.cond.Broadcast()
			s.c.mu.Unlock()
		})
	}
	tm.Reset(d)
	return tm
}
