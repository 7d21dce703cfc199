//go:build !js

package ws

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"golang.org/x/net/http2"
)

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
