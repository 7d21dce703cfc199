package session

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"sync"

	"github.com/cenkalti/backoff/v4"
	"github.com/wsactor/ws"
	"github.com/wsactor/ws/reconnect"
)

// Client is the client side of the session protocol, a reconnect.Layer:
//
//	sc, err := session.NewClient(session.OnLost(resync))
//	c, err := reconnect.New(url, reconnect.WithLayer(sc))
//
// With it the reconnect client's Incoming and Outgoing carry each message
// exactly once, in order, across reconnects, for as long as the session
// lives: on every connection the client presents its session, and it and
// the server replay what the other missed. When the server cannot resume
// it (it restarted, the session expired or overflowed) the OnLost hook is
// told what was lost and a new session starts. A Client serves one
// reconnect.Client.
type Client struct {
	cfg config

	mu      sync.Mutex
	cur     *clientSession
	pending *LostError // a loss seen on a connection, reported by the next Attach
	stats   ClientStats
}

// ClientStats are a Client's counters since NewClient.
type ClientStats struct {
	Sessions   int64 // sessions started (welcomes of a new session)
	Resumed    int64 // connections that resumed the session
	Lost       int64 // sessions lost (each reported to OnLost)
	Replayed   int64 // messages written again after a resume
	Duplicates int64 // messages received twice (a replay overlapping what had arrived) and dropped
}

// clientSession is the client's state of one session.
type clientSession struct {
	id    []byte
	epoch uint64
	st    stream
	space chan struct{} // closed and replaced when room frees or the session is lost
	lost  bool
}

// NewClient returns a session layer for a reconnect.Client. The error is
// an invalid option.
func NewClient(opts ...Option) (*Client, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return &Client{cfg: cfg}, nil
}

// ID returns the current session's id, "" before the first welcome.
func (c *Client) ID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil || len(c.cur.id) == 0 {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(c.cur.id)
}

// Stats returns the client's counters.
func (c *Client) Stats() ClientStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// DialOptions offers Protocol (reconnect.Layer).
func (c *Client) DialOptions() []ws.DialOption {
	return []ws.DialOption{ws.WithSubprotocols(Protocol)}
}

func (c *Client) newSession() *clientSession {
	return &clientSession{st: newStream(c.cfg.replayN, c.cfg.replayB), space: make(chan struct{})}
}

// loseLocked marks s lost with the close that said so and returns the
// error for the application; the next Attach starts a new session.
func (c *Client) loseLocked(s *clientSession, code ws.StatusCode, reason string, err error) *LostError {
	le := &LostError{ID: base64.RawURLEncoding.EncodeToString(s.id), Code: code, Reason: reason, Err: err}
	for _, e := range s.st.buf {
		le.Unacked = append(le.Unacked, e.msg)
	}
	s.lost = true
	s.st.buf, s.st.bytes = nil, 0
	close(s.space)
	s.space = make(chan struct{})
	if c.cur == s {
		c.cur = nil
	}
	c.stats.Lost++
	return le
}

func (c *Client) report(le *LostError) {
	if c.cfg.onLost != nil {
		c.cfg.onLost(le)
	}
}

// Attach runs the session handshake on conn: hello with the session
// (none at first), then the server's welcome or refusal, then the replay
// of what the server has not received (reconnect.Layer).
func (c *Client) Attach(ctx context.Context, conn *ws.Conn) (reconnect.Link, error) {
	if conn.Subprotocol() != Protocol {
		_ = conn.Close(ctx, ws.StatusProtocolError, "session protocol not negotiated")
		return nil, backoff.Permanent(ErrNotNegotiated)
	}
	c.mu.Lock()
	if le := c.pending; le != nil {
		c.pending = nil
		c.mu.Unlock()
		c.report(le)
		c.mu.Lock()
	}
	if c.cur == nil {
		c.cur = c.newSession()
	}
	s := c.cur
	hello := encodeHandshake(kindHello, s.id, s.epoch, s.st.takeAck(), c.cfg.replayN, c.cfg.replayB, false)
	c.mu.Unlock()

	hctx, cancel := context.WithTimeout(ctx, c.cfg.handshake)
	defer cancel()
	if err := conn.Send(hctx, hello); err != nil {
		_ = conn.CloseNow()
		return nil, err
	}
	m, err := conn.Receive(hctx)
	if err != nil {
		if errors.Is(err, ws.ErrClosed) {
			<-conn.Done()
			var ce *ws.CloseError
			if errors.As(conn.Err(), &ce) && ce.Remote {
				if lerr := codeErr(ce.Code); lerr != nil {
					c.mu.Lock()
					le := c.loseLocked(s, ce.Code, ce.Reason, lerr)
					c.mu.Unlock()
					c.report(le)
					return nil, le
				}
			}
			return nil, conn.Err()
		}
		// No close frame to go by: leave without one, so the server keeps
		// the session for the next attempt (a close 1000 would end it).
		_ = conn.CloseNow()
		return nil, err
	}
	f, err := decode(m)
	c.mu.Lock()
	switch {
	case err != nil || f.kind != kindWelcome:
		err = fmt.Errorf("%w: expected a welcome", ErrProtocol)
	case len(s.id) != 0 && (!f.resumed || !bytes.Equal(f.id, s.id)):
		err = fmt.Errorf("%w: welcome for another session", ErrProtocol)
	case len(s.id) == 0 && f.resumed:
		err = fmt.Errorf("%w: welcome resumes a session never asked for", ErrProtocol)
	case f.last < s.st.acked || f.last >= s.st.next:
		err = fmt.Errorf("%w: welcome acknowledges a message never sent", ErrProtocol)
	}
	if err != nil {
		le := c.loseLocked(s, CodeProtocol, err.Error(), ErrProtocol)
		c.mu.Unlock()
		_ = conn.Close(ctx, CodeProtocol, "bad welcome")
		c.report(le)
		return nil, le
	}
	if len(s.id) == 0 {
		s.id = f.id
		c.stats.Sessions++
	} else {
		c.stats.Resumed++
	}
	s.epoch = f.epoch
	s.st.setPeer(f.maxN, f.maxB)
	if freed, _ := s.st.ack(f.last); freed {
		close(s.space)
		s.space = make(chan struct{})
	}
	replay := append([]entry(nil), s.st.after(f.last, len(s.st.buf))...)
	c.stats.Replayed += int64(len(replay))
	ack := s.st.takeAck()
	c.mu.Unlock()

	// The ack confirms the epoch to the server; then the replay, in order.
	if err := conn.Send(ctx, encodeAck(ack)); err != nil {
		_ = conn.CloseNow()
		return nil, err
	}
	var buf []byte
	for _, e := range replay {
		buf = appendData(buf[:0], e.seq, 0, false, e.msg)
		if err := conn.Send(ctx, ws.Binary(buf)); err != nil {
			_ = conn.CloseNow()
			return nil, err
		}
	}
	l := &link{c: c, s: s, conn: conn, wake: make(chan struct{}, 1)}
	go l.acker()
	return l, nil
}

// link is one connection of a client session (reconnect.Link).
type link struct {
	c    *Client
	s    *clientSession
	conn *ws.Conn
	wake chan struct{} // capacity 1: something was received
	buf  []byte        // Send's frame, reused: Sends are sequential
}

// Send puts msg in the replay buffer and writes it. It waits while the
// buffer is full, for the server's acknowledgements; it hands msg back to
// the reconnect client (reconnect.ErrNotSent) when the connection ends
// first or the session is lost, so msg goes out on the next connection.
// A write error is not an error: msg is buffered and is replayed when the
// session resumes.
func (l *link) Send(ctx context.Context, msg ws.Message) error {
	size := len(msg.Data)
	if size > l.c.cfg.replayB {
		return ErrTooLarge
	}
	c, s := l.c, l.s
	c.mu.Lock()
	for !s.st.fits(size) || s.lost || c.cur != s {
		if s.lost || c.cur != s {
			c.mu.Unlock()
			return reconnect.ErrNotSent
		}
		sp := s.space
		c.mu.Unlock()
		select {
		case <-sp:
		case <-l.conn.Done():
			return reconnect.ErrNotSent
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", reconnect.ErrNotSent, ctx.Err())
		}
		c.mu.Lock()
	}
	seq := s.st.push(msg)
	hasAck := s.st.ackDue()
	var ack uint64
	if hasAck {
		ack = s.st.takeAck()
	}
	c.mu.Unlock()
	l.buf = appendData(l.buf[:0], seq, ack, hasAck, msg)
	_ = l.conn.Send(ctx, ws.Binary(l.buf))
	return nil
}

// Receive returns the next message of the session from this connection,
// dropping duplicates of a replay and taking in acknowledgements.
func (l *link) Receive(ctx context.Context) (ws.Message, error) {
	c, s := l.c, l.s
	for {
		m, err := l.conn.Receive(ctx)
		if err != nil {
			if errors.Is(err, ws.ErrClosed) {
				l.ended()
			}
			return ws.Message{}, err
		}
		f, err := decode(m)
		if err == nil && f.kind != kindData && f.kind != kindAck {
			err = fmt.Errorf("%w: unexpected handshake frame", ErrProtocol)
		}
		if err == nil && f.text && !utf8.Valid(f.payload) {
			err = fmt.Errorf("%w: text message not UTF-8", ErrProtocol)
		}
		var deliver bool
		c.mu.Lock()
		current := c.cur == s && !s.lost
		if err == nil && current && (f.kind == kindAck || f.hasAck) {
			var freed bool
			if freed, err = s.st.ack(f.ack); freed {
				close(s.space)
				s.space = make(chan struct{})
			}
		}
		if err == nil && f.kind == kindData {
			// Also for a session lost meanwhile: what its connection still
			// brings was received before the loss and is delivered, in
			// order and without the duplicates of a replay, before the new
			// session's messages.
			deliver, err = s.st.recv(f.seq, len(f.payload))
			if err == nil && !deliver {
				c.stats.Duplicates++
			}
		}
		if err != nil && current {
			c.pending = c.loseLocked(s, CodeProtocol, err.Error(), ErrProtocol)
		}
		c.mu.Unlock()
		if err != nil {
			_ = l.conn.Close(context.Background(), CodeProtocol, "protocol violation")
			return ws.Message{}, err
		}
		if !deliver {
			continue
		}
		select {
		case l.wake <- struct{}{}:
		default:
		}
		t := ws.BinaryMessage
		if f.text {
			t = ws.TextMessage
		}
		return ws.Message{Type: t, Data: f.payload}, nil
	}
}

// Flush waits until the server has acknowledged every message Send took,
// the connection ends, or ctx does (reconnect.Link): the reconnect client
// calls it before closing, so its last messages are not left unread.
func (l *link) Flush(ctx context.Context) error {
	c, s := l.c, l.s
	for {
		c.mu.Lock()
		empty, sp := len(s.st.buf) == 0 || s.lost, s.space
		c.mu.Unlock()
		if empty {
			return nil
		}
		select {
		case <-sp:
		case <-l.conn.Done():
			return ws.ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ended looks at why the connection ended: a close from the server that
// ends the session makes it lost, reported by the next Attach.
func (l *link) ended() {
	<-l.conn.Done()
	var ce *ws.CloseError
	if !errors.As(l.conn.Err(), &ce) || !ce.Remote {
		return
	}
	lerr := codeErr(ce.Code)
	if lerr == nil {
		return
	}
	c := l.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == l.s && !l.s.lost && c.pending == nil {
		c.pending = c.loseLocked(l.s, ce.Code, ce.Reason, lerr)
	}
}

// acker sends the cumulative ack when something received has waited the
// ack delay without a data frame to carry it, or at once when the
// server's replay buffer is half full of it.
func (l *link) acker() {
	c, s := l.c, l.s
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	armed := false
	for {
		now := false
		select {
		case <-l.conn.Done():
			return
		case <-l.wake:
		case <-t.C:
			armed, now = false, true
		}
		c.mu.Lock()
		if c.cur != s || s.lost {
			c.mu.Unlock()
			return
		}
		due := s.st.ackDue()
		var ack uint64
		send := due && (now || s.st.ackUrgent())
		if send {
			ack = s.st.takeAck()
		}
		c.mu.Unlock()
		switch {
		case send:
			_ = l.conn.Send(l.conn.Context(), encodeAck(ack))
		case due && !armed:
			t.Reset(c.cfg.ackDelay)
			armed = true
		}
	}
}
