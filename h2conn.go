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
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wsactor/ws/handshake"
)

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
