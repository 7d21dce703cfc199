// Package h2test is a test-only HTTP/2 client for WebSockets over HTTP/2
// (RFC 8441), built on golang.org/x/net/http2's Framer and hpack rather
// than on its Transport: on Go 1.27 that Transport hands requests to
// net/http's, which refuses the ":protocol" header (validateHeaders in
// net/http/transport.go), so only a frame-level client sends extended
// CONNECT on every Go version this module is tested with.
//
// net/http's HTTP/2 server accepts extended CONNECT only when the process
// starts with GODEBUG containing http2xconnect=1 (read once, from the
// environment, in net/http's init; //go:debug cannot set it). Tests call
// ReexecWithXConnect first: it runs the test in a child process with the
// setting when the current process lacks it.
//
// The client speaks just enough HTTP/2 for tests: one TLS connection,
// streams opened with Connect, flow control on both sides, PING and
// SETTINGS acknowledged. Its streams are net.Conns, so the frame layer and
// actor.New run over them as over TCP. It imports nothing of this module.
package h2test

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
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// XConnect is the GODEBUG setting that enables extended CONNECT in
// net/http's HTTP/2 server.
const XConnect = "http2xconnect=1"

const childEnv = "H2TEST_CHILD"

// ReexecWithXConnect reports whether the test may go on in this process:
// true when GODEBUG already has http2xconnect=1. Otherwise it runs t's
// top-level test again in a child process of the same test binary with the
// setting added, fails t if the child fails (its output is logged either
// way), and returns false: the caller returns at once.
func ReexecWithXConnect(t *testing.T) bool {
	t.Helper()
	if strings.Contains(os.Getenv("GODEBUG"), XConnect) {
		return true
	}
	if os.Getenv(childEnv) != "" {
		t.Fatalf("child process started without %s in GODEBUG", XConnect)
	}
	name, _, _ := strings.Cut(t.Name(), "/")
	args := []string{"-test.run=^" + name + "$", "-test.v", "-test.count=1"}
	if d, ok := t.Deadline(); ok {
		args = append(args, "-test.timeout="+time.Until(d).Round(time.Second).String())
	}
	cmd := exec.Command(os.Args[0], args...)
	godebug := XConnect
	if g := os.Getenv("GODEBUG"); g != "" {
		godebug = g + "," + XConnect
	}
	cmd.Env = append(os.Environ(), "GODEBUG="+godebug, childEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("child process with GODEBUG=%s:\n%s", godebug, out)
	if err != nil {
		t.Fatalf("child process: %v", err)
	}
	if !bytes.Contains(out, []byte("--- PASS: "+name)) {
		t.Fatalf("child process did not run %s", name)
	}
	return false
}

// Client is one HTTP/2 connection.
type Client struct {
	conn net.Conn
	fr   *http2.Framer

	wmu    sync.Mutex // serialises frame writes and the encoder
	henc   *hpack.Encoder
	hbuf   bytes.Buffer
	nextID uint32

	mu       sync.Mutex
	cond     *sync.Cond // signalled when a window grows or the connection ends
	settings map[http2.SettingID]uint32
	sendWin  int64 // connection-level send window
	streams  map[uint32]*Stream
	err      error // set once the read loop has ended
	settled  chan struct{}
	loopDone chan struct{}
}

// Dial connects to addr over TLS with ALPN h2 (the certificate is not
// verified: tests use httptest's), sends the preface and waits for the
// server's first SETTINGS.
func Dial(ctx context.Context, addr string) (*Client, error) {
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}}}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if p := nc.(*tls.Conn).ConnectionState().NegotiatedProtocol; p != "h2" {
		nc.Close()
		return nil, fmt.Errorf("h2test: ALPN chose %q", p)
	}
	c := &Client{
		conn:     nc,
		fr:       http2.NewFramer(nc, nc),
		nextID:   1,
		settings: map[http2.SettingID]uint32{},
		sendWin:  65535,
		streams:  map[uint32]*Stream{},
		settled:  make(chan struct{}),
		loopDone: make(chan struct{}),
	}
	c.cond = sync.NewCond(&c.mu)
	c.henc = hpack.NewEncoder(&c.hbuf)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.fr.MaxHeaderListSize = 1 << 20
	if _, err := io.WriteString(nc, http2.ClientPreface); err != nil {
		nc.Close()
		return nil, err
	}
	if err := c.fr.WriteSettings(); err != nil {
		nc.Close()
		return nil, err
	}
	go c.readLoop()
	select {
	case <-c.settled:
		return c, nil
	case <-c.loopDone:
		return nil, c.Err()
	case <-ctx.Done():
		c.Close()
		return nil, ctx.Err()
	}
}

// Settings returns the values of the server's first SETTINGS frame.
func (c *Client) Settings() map[http2.SettingID]uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[http2.SettingID]uint32, len(c.settings))
	for k, v := range c.settings {
		m[k] = v
	}
	return m
}

// Err returns why the connection ended, or nil while it is up.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the connection and waits for the read loop.
func (c *Client) Close() error {
	err := c.conn.Close()
	<-c.loopDone
	return err
}

// Stream is one request stream; after a 2xx to an extended CONNECT its
// DATA frames carry the WebSocket's bytes both ways.
type Stream struct {
	c  *Client
	id uint32
	// Status and Header are the response's, set before Connect returns.
	Status int
	Header http.Header

	respc chan struct{} // closed when the response headers or an error arrived

	// guarded by c.mu
	buf     bytes.Buffer
	eof     bool           // the server sent END_STREAM
	rst     error          // the stream was reset, or the connection ended
	closed  bool           // Close was called
	endSent bool           // our END_STREAM went out
	sendWin int64          // the stream's send window
	late    *http2.ErrCode // a RST_STREAM that came after END_STREAM
}

// Connect opens a stream with an extended CONNECT for path (RFC 8441 §4:
// :method CONNECT, :protocol websocket, :scheme https, :path, :authority)
// and the given header fields, which should include
// Sec-WebSocket-Version: 13. It waits for the response headers. A stream
// reset before them is an error.
func (c *Client) Connect(ctx context.Context, authority, path string, header http.Header) (*Stream, error) {
	return c.Request(ctx, []hpack.HeaderField{
		{Name: ":method", Value: "CONNECT"},
		{Name: ":protocol", Value: "websocket"},
		{Name: ":scheme", Value: "https"},
		{Name: ":path", Value: path},
		{Name: ":authority", Value: authority},
	}, header)
}

// Request opens a stream with the given pseudo-header fields (in order)
// and header fields, and waits for the response headers.
func (c *Client) Request(ctx context.Context, pseudo []hpack.HeaderField, header http.Header) (*Stream, error) {
	c.wmu.Lock()
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		c.wmu.Unlock()
		return nil, c.err
	}
	s := &Stream{c: c, id: c.nextID, respc: make(chan struct{}), sendWin: int64(c.initialWindowLocked())}
	c.nextID += 2
	c.streams[s.id] = s
	c.mu.Unlock()
	c.hbuf.Reset()
	for _, f := range pseudo {
		_ = c.henc.WriteField(f)
	}
	for k, vs := range header {
		for _, v := range vs {
			_ = c.henc.WriteField(hpack.HeaderField{Name: strings.ToLower(k), Value: v})
		}
	}
	err := c.fr.WriteHeaders(http2.HeadersFrameParam{
		StreamID:      s.id,
		BlockFragment: c.hbuf.Bytes(),
		EndHeaders:    true,
	})
	c.wmu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case <-s.respc:
	case <-ctx.Done():
		_ = s.Reset(http2.ErrCodeCancel)
		return nil, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.Status == 0 {
		return nil, s.rst
	}
	return s, nil
}

func (c *Client) initialWindowLocked() uint32 {
	if v, ok := c.settings[http2.SettingInitialWindowSize]; ok {
		return v
	}
	return 65535
}

// ID returns the stream's identifier.
func (s *Stream) ID() uint32 { return s.id }

// Read reads the DATA the server sent. It returns io.EOF after the
// server's END_STREAM, and a *StreamError after a reset.
func (s *Stream) Read(p []byte) (int, error) {
	c := s.c
	c.mu.Lock()
	for s.buf.Len() == 0 && !s.eof && s.rst == nil && !s.closed {
		c.cond.Wait()
	}
	switch {
	case s.closed:
		c.mu.Unlock()
		return 0, net.ErrClosed
	case s.buf.Len() > 0:
		n, _ := s.buf.Read(p)
		c.mu.Unlock()
		// The data was consumed: give the credit back at once.
		c.wmu.Lock()
		_ = c.fr.WriteWindowUpdate(0, uint32(n))
		_ = c.fr.WriteWindowUpdate(s.id, uint32(n))
		c.wmu.Unlock()
		return n, nil
	case s.rst != nil:
		err := s.rst
		c.mu.Unlock()
		return 0, err
	default:
		c.mu.Unlock()
		return 0, io.EOF
	}
}

// Write sends p in DATA frames within the flow-control windows.
func (s *Stream) Write(p []byte) (int, error) {
	c := s.c
	written := 0
	for len(p) > 0 {
		c.mu.Lock()
		for (c.sendWin <= 0 || s.sendWin <= 0) && s.rst == nil && !s.closed && !s.endSent {
			c.cond.Wait()
		}
		if s.rst != nil || s.closed || s.endSent {
			err := s.rst
			if err == nil {
				err = net.ErrClosed
			}
			c.mu.Unlock()
			return written, err
		}
		n := int64(len(p))
		n = min(n, c.sendWin, s.sendWin, 16384)
		c.sendWin -= n
		s.sendWin -= n
		c.mu.Unlock()
		c.wmu.Lock()
		err := c.fr.WriteData(s.id, false, p[:n])
		c.wmu.Unlock()
		if err != nil {
			return written, err
		}
		written += int(n)
		p = p[n:]
	}
	return written, nil
}

// CloseWrite half-closes the stream: an empty DATA frame with END_STREAM.
func (s *Stream) CloseWrite() error {
	c := s.c
	c.mu.Lock()
	if s.endSent {
		c.mu.Unlock()
		return nil
	}
	s.endSent = true
	c.cond.Broadcast()
	c.mu.Unlock()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.fr.WriteData(s.id, true, nil)
}

// Close half-closes the stream (CloseWrite) and ends its use here: Read
// and Write return net.ErrClosed.
func (s *Stream) Close() error {
	c := s.c
	c.mu.Lock()
	if s.closed {
		c.mu.Unlock()
		return net.ErrClosed
	}
	s.closed = true
	ended := s.rst != nil
	c.cond.Broadcast()
	c.mu.Unlock()
	if ended {
		return nil
	}
	return s.CloseWrite()
}

// Reset sends RST_STREAM with code.
func (s *Stream) Reset(code http2.ErrCode) error {
	c := s.c
	c.mu.Lock()
	if s.rst == nil {
		s.rst = &StreamError{Code: code, Local: true}
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.fr.WriteRSTStream(s.id, code)
}

// Ended waits until the server has ended the stream, by END_STREAM or
// RST_STREAM, or ctx is done, and returns the reset (nil after
// END_STREAM). Data not yet read stays readable.
func (s *Stream) Ended(ctx context.Context) error {
	c := s.c
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for !s.eof && s.rst == nil && ctx.Err() == nil {
		c.cond.Wait()
	}
	if s.rst != nil {
		return s.rst
	}
	if !s.eof {
		return ctx.Err()
	}
	return nil
}

// WaitBuffered waits until at least n bytes of DATA wait to be read, the
// stream ends, or ctx is done, and returns how many are buffered. The
// credit for buffered bytes is returned only as they are read, so a test
// can fill the server's send window by not reading.
func (s *Stream) WaitBuffered(ctx context.Context, n int) int {
	c := s.c
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for s.buf.Len() < n && !s.eof && s.rst == nil && ctx.Err() == nil {
		c.cond.Wait()
	}
	return s.buf.Len()
}

// ResetAfterEnd returns the code of a RST_STREAM the server sent after its
// END_STREAM, if one came.
func (s *Stream) ResetAfterEnd() (http2.ErrCode, bool) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if s.late == nil {
		return 0, false
	}
	return *s.late, true
}

// LocalAddr returns the connection's local address.
func (s *Stream) LocalAddr() net.Addr { return s.c.conn.LocalAddr() }

// RemoteAddr returns the connection's remote address.
func (s *Stream) RemoteAddr() net.Addr { return s.c.conn.RemoteAddr() }

// SetDeadline is not supported.
func (s *Stream) SetDeadline(time.Time) error { return os.ErrNoDeadline }

// SetReadDeadline is not supported.
func (s *Stream) SetReadDeadline(time.Time) error { return os.ErrNoDeadline }

// SetWriteDeadline is not supported.
func (s *Stream) SetWriteDeadline(time.Time) error { return os.ErrNoDeadline }

// StreamError is a RST_STREAM, received or sent, or the connection's end.
type StreamError struct {
	Code  http2.ErrCode
	Local bool  // we sent it
	Conn  error // set when the whole connection ended instead
}

func (e *StreamError) Error() string {
	if e.Conn != nil {
		return "h2test: connection ended: " + e.Conn.Error()
	}
	if e.Local {
		return "h2test: stream reset by us: " + e.Code.String()
	}
	return "h2test: stream reset by server: " + e.Code.String()
}

// readLoop reads frames until the connection ends.
func (c *Client) readLoop() {
	defer close(c.loopDone)
	first := true
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			c.end(err)
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if f.IsAck() {
				continue
			}
			c.mu.Lock()
			_ = f.ForeachSetting(func(s http2.Setting) error {
				if s.ID == http2.SettingInitialWindowSize {
					delta := int64(s.Val) - int64(c.initialWindowLocked())
					for _, st := range c.streams {
						st.sendWin += delta
					}
				}
				c.settings[s.ID] = s.Val
				return nil
			})
			c.cond.Broadcast()
			c.mu.Unlock()
			c.wmu.Lock()
			_ = c.fr.WriteSettingsAck()
			c.wmu.Unlock()
			if first {
				first = false
				close(c.settled)
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				c.wmu.Lock()
				_ = c.fr.WritePing(true, f.Data)
				c.wmu.Unlock()
			}
		case *http2.WindowUpdateFrame:
			c.mu.Lock()
			if f.StreamID == 0 {
				c.sendWin += int64(f.Increment)
			} else if s := c.streams[f.StreamID]; s != nil {
				s.sendWin += int64(f.Increment)
			}
			c.cond.Broadcast()
			c.mu.Unlock()
		case *http2.MetaHeadersFrame:
			c.mu.Lock()
			s := c.streams[f.StreamID]
			if s != nil && s.Status == 0 {
				s.Header = http.Header{}
				for _, hf := range f.RegularFields() {
					s.Header.Add(hf.Name, hf.Value)
				}
				s.Status, _ = strconv.Atoi(f.PseudoValue("status"))
				if s.Status >= 100 && s.Status < 200 {
					s.Status = 0 // informational: the final response follows
				} else {
					s.responded()
				}
			}
			if s != nil && f.StreamEnded() {
				s.eof = true
			}
			c.cond.Broadcast()
			c.mu.Unlock()
		case *http2.DataFrame:
			c.mu.Lock()
			if s := c.streams[f.StreamID]; s != nil {
				s.buf.Write(f.Data())
				if f.StreamEnded() {
					s.eof = true
				}
			}
			c.cond.Broadcast()
			c.mu.Unlock()
			// Padding is not data the reader consumes: return its credit now.
			if pad := int(f.Header().Length) - len(f.Data()); pad > 0 {
				c.wmu.Lock()
				_ = c.fr.WriteWindowUpdate(0, uint32(pad))
				c.wmu.Unlock()
			}
		case *http2.RSTStreamFrame:
			c.mu.Lock()
			if s := c.streams[f.StreamID]; s != nil {
				switch {
				case s.eof:
					// RFC 9113 §8.1: a server may reset a stream after a
					// complete response; the response stands.
					code := f.ErrCode
					s.late = &code
				case s.rst == nil:
					s.rst = &StreamError{Code: f.ErrCode}
				}
				s.responded()
			}
			c.cond.Broadcast()
			c.mu.Unlock()
		case *http2.GoAwayFrame:
			c.end(fmt.Errorf("GOAWAY %v", f.ErrCode))
			c.conn.Close()
			return
		}
	}
}

// end fails every stream with err and records it as the connection's end.
func (c *Client) end(err error) {
	if errors.Is(err, net.ErrClosed) {
		err = net.ErrClosed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
	for _, s := range c.streams {
		if s.rst == nil && !s.eof {
			s.rst = &StreamError{Conn: err}
		}
		s.responded()
	}
	c.cond.Broadcast()
}

// responded wakes Request: the response or the stream's end has come.
// Called with c.mu held.
func (s *Stream) responded() {
	select {
	case <-s.respc:
	default:
		close(s.respc)
	}
}
