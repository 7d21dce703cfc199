package actor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/wsactor/ws/frame"
)

// WithStreamedReceive makes the connection hand each received data message
// out as an io.Reader, through NextReader, instead of whole through
// Incoming: a message is read from the socket as the reader is read, so
// it never needs to fit in memory (default off).
//
// The limits stay: WithMaxMessageSize and WithMaxFrameSize bound the bytes
// of a message (after decompression) and of a frame, text is checked for
// UTF-8 as it is read, and a violation fails the connection as usual
// (1009, 1007, 1002), the reader's Read returning the *CloseError.
// Decompression (permessage-deflate) happens inside Read, into the caller's
// buffer; the extension must be able to decode in pieces (frame/deflate's
// can), else New fails.
//
// Backpressure is the socket: the connection reads no further than the
// reader has been read. While a message is half read, the control frames
// behind its data are read only as the reader is read (pings inside the
// message are answered then), so an application that leaves a message
// unread for longer than the keepalive timeout lets keepalive end the
// connection, and the peer's close frame waits until the message is read
// or the close grace period runs out. Between messages, until NextReader
// is called, the socket is not read either.
//
// Incoming receives no messages in this mode; it is closed, as usual, when
// the connection ends or the peer breaks the protocol, so a range over it
// still waits for the end. Receive returns ErrClosed then.
func WithStreamedReceive() Option { return func(c *config) { c.streamRecv = true } }

// streamDecoder is an extension that can decode a message in pieces
// (frame/deflate's Extension is one).
type streamDecoder interface {
	DecodeStream(src io.Reader) (io.ReadCloser, error)
}

// errStreamExtension is returned by New for WithStreamedReceive with an
// extension that cannot decode in pieces.
var errStreamExtension = errors.New("actor: WithStreamedReceive needs an extension that decodes in pieces (DecodeStream)")

// ErrReaderClosed is returned by the Read of a message reader after its
// Close, or after NextReader moved on to the next message.
var ErrReaderClosed = errors.New("ws: message reader closed")

// errNotStreamed is returned by NextReader without WithStreamedReceive.
var errNotStreamed = errors.New("ws: NextReader needs WithStreamedReceive")

// Protocol errors found by the streamed reader, as frame.Reader reports
// them.
var (
	errUnexpectedCont  = &frame.ProtocolError{Code: frame.StatusProtocolError, Err: frame.ErrUnexpectedContinuation}
	errExpectedCont    = &frame.ProtocolError{Code: frame.StatusProtocolError, Err: frame.ErrExpectedContinuation}
	errFrameTooLarge   = &frame.ProtocolError{Code: frame.StatusMessageTooBig, Err: frame.ErrFrameTooLarge}
	errMessageTooLarge = &frame.ProtocolError{Code: frame.StatusMessageTooBig, Err: frame.ErrMessageTooLarge}
	errInvalidUTF8     = &frame.ProtocolError{Code: frame.StatusInvalidFramePayloadData, Err: frame.ErrInvalidUTF8}
)

// recvState is the streamed receive's part of the state, under Conn.mu.
type recvState struct {
	hub  chan *msgReader // reader goroutine -> NextReader; made on first use
	last *msgReader      // the reader NextReader returned last
}

func (c *Conn) recvHub() chan *msgReader {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.recv.hub == nil {
		c.st.recv.hub = make(chan *msgReader)
	}
	return c.st.recv.hub
}

// NextReader returns the next received data message's type and a reader
// of its payload, waiting for it until ctx ends (ctx's error; the
// connection goes on) or no more messages can come (ErrClosed; Err says
// why). It needs WithStreamedReceive.
//
// The reader yields the payload as it arrives and returns io.EOF at the
// message's end; read it from one goroutine at a time. Close it, or call
// NextReader again, to skip the rest: the connection then reads the rest
// of the message itself (decompressing it, so that the compression context
// stays right) and discards it. The next message is not read from the
// socket before this one has been read to its end or closed.
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.ReadCloser, error) {
	if !c.cfg.streamRecv {
		return 0, nil, errNotStreamed
	}
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	hub := c.recvHub()
	c.mu.Lock()
	prev := c.st.recv.last
	c.st.recv.last = nil
	c.mu.Unlock()
	if prev != nil {
		_ = prev.Close()
	}
	select {
	case m := <-hub:
		c.mu.Lock()
		c.st.recv.last = m
		c.mu.Unlock()
		return m.typ, m, nil
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	case <-c.readDone:
		return 0, nil, ErrClosed
	}
}

// How a streamed message ended.
const (
	endNone     = iota
	endComplete // read to its end
	endClose    // the peer's close frame came inside it
	endProtocol // the peer broke the protocol; readFailed ran
	endIO       // the stream failed
)

// msgReader is one streamed message, read on the goroutine that calls
// Read (the application's, or the reader goroutine's to drain it). The
// reader goroutine waits meanwhile: the socket, its buffer and the frame
// state are the msgReader's until done is closed.
type msgReader struct {
	c    *Conn
	typ  MessageType
	text bool

	closed atomic.Bool   // Close or NextReader: the application is done
	done   chan struct{} // closed once, when closed is set or the message ends

	mu sync.Mutex // serialises Read, Close and the drain
	// The frame in progress.
	remaining int64
	fin       bool
	masked    bool
	mask      [4]byte
	pos       int
	wire      int64 // payload bytes received, as sent (compressed if so)
	out       int64 // bytes delivered

	inflate io.ReadCloser // the extension's decoder; nil for a plain message
	src     *compSrc
	utf8    frame.UTF8Validator
	end     int
	err     error // what Read returns once end is set
	ioErr   error // endIO's cause
	signal  sync.Once
	ctrl    [frame.MaxControlPayload]byte
}

// readStreams is the reader goroutine with WithStreamedReceive: it reads
// control frames between messages, hands each message out through
// NextReader, and waits until it has been read or closed.
func (c *Conn) readStreams() {
	var ctrl [frame.MaxControlPayload]byte
	dec, _ := c.cfg.extension.(streamDecoder)
	var extRsv uint8
	if dec != nil {
		extRsv = c.cfg.extension.Rsv()
	}
	for {
		h, err := frame.ReadHeader(c.br)
		if err != nil {
			c.readEnded(err)
			return
		}
		allowed := uint8(0)
		if !h.Opcode.IsControl() && h.Opcode != frame.OpContinuation {
			allowed = extRsv
		}
		if err := h.Check(c.role, allowed); err != nil {
			c.failBetweenMessages(err)
			return
		}
		if h.Opcode.IsControl() {
			closed, err := c.streamControl(h, &ctrl)
			if err != nil {
				c.failBetweenMessages(err)
				return
			}
			if closed {
				c.readEnded(discard(c.br))
				return
			}
			continue
		}
		switch {
		case h.Opcode == frame.OpContinuation:
			err = errUnexpectedCont
		case h.Length > c.cfg.maxFrameSize():
			err = errFrameTooLarge
		case h.Length > c.cfg.maxMessage:
			err = errMessageTooLarge
		}
		if err != nil {
			c.failBetweenMessages(err)
			return
		}
		m := &msgReader{
			c: c, typ: h.Opcode, text: h.Opcode == frame.OpText,
			done:      make(chan struct{}),
			remaining: h.Length, fin: h.Fin, masked: h.Masked, mask: h.Mask,
			wire: h.Length,
		}
		if h.Rsv&extRsv != 0 {
			m.src = &compSrc{m: m}
			if m.inflate, err = dec.DecodeStream(m.src); err != nil {
				c.readEnded(err) // the extension was closed: the connection is ending
				return
			}
		}
		c.stats.messagesIn.Add(1)
		select {
		case c.recvHub() <- m:
		case <-c.stop:
			return
		}
		select {
		case <-m.done:
		case <-c.stop:
			return
		}
		if !c.afterStream(m) {
			return
		}
	}
}

// afterStream drains m if the application closed it early and reports
// whether the reader goroutine reads on.
func (c *Conn) afterStream(m *msgReader) bool {
	m.mu.Lock()
	if m.end == endNone {
		buf := make([]byte, 32<<10)
		for m.end == endNone {
			_, _ = m.read(buf)
		}
	}
	end, ioErr := m.end, m.ioErr
	if m.inflate != nil {
		_ = m.inflate.Close()
	}
	m.mu.Unlock()
	switch end {
	case endComplete:
		return true
	case endIO:
		c.readEnded(ioErr)
	default: // endClose, endProtocol: nothing more is processed (RFC 6455 §5.5.1, §7.1.7)
		c.readEnded(discard(c.br))
	}
	return false
}

// failBetweenMessages fails the connection for the peer's protocol error found
// between messages, or ends it for a read error.
func (c *Conn) failBetweenMessages(err error) {
	var pe *frame.ProtocolError
	if errors.As(err, &pe) {
		c.readFailed(pe)
		err = discard(c.br)
	}
	c.readEnded(err)
}

func (cfg *config) maxFrameSize() int64 {
	if cfg.maxFrame > 0 {
		return cfg.maxFrame
	}
	return cfg.maxMessage
}

// streamControl reads and handles a control frame whose header is h, on
// whichever goroutine reads the socket; closed reports the peer's close
// frame (handled: our answer is queued).
func (c *Conn) streamControl(h frame.Header, buf *[frame.MaxControlPayload]byte) (closed bool, err error) {
	p := buf[:h.Length]
	if _, err := io.ReadFull(c.br, p); err != nil {
		return false, unexpected(err)
	}
	if h.Masked {
		frame.Mask(h.Mask, 0, p)
	}
	switch h.Opcode {
	case frame.OpPing:
		if c.cfg.onPing != nil {
			c.cfg.onPing(p)
		}
		c.onPing(p)
	case frame.OpPong:
		if c.cfg.onPong != nil {
			c.cfg.onPong(p)
		}
		c.mu.Lock()
		c.st.pinger.onPong(p, &c.stats)
		c.mu.Unlock()
	case frame.OpClose:
		if _, _, err := frame.ParseClosePayload(p); err != nil {
			return false, err
		}
		c.onClose(p)
		return true, nil
	}
	return false, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Read reads the message's payload; it returns io.EOF at its end.
func (m *msgReader) Read(p []byte) (int, error) {
	if m.closed.Load() {
		return 0, ErrReaderClosed
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Load() {
		return 0, ErrReaderClosed
	}
	return m.read(p)
}

// Close ends the application's use of the reader; the rest of the message
// is read and discarded by the connection. It returns nil.
func (m *msgReader) Close() error {
	if m.closed.CompareAndSwap(false, true) {
		m.signal.Do(func() { close(m.done) })
	}
	return nil
}

// read reads the message with mu held.
func (m *msgReader) read(p []byte) (int, error) {
	if m.end != endNone {
		return 0, m.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var err error
	if m.inflate != nil {
		n, err = m.inflate.Read(p)
	} else {
		n, err = m.payload(p)
	}
	if m.end != endNone {
		return 0, m.err // failed in payload
	}
	if err != nil && err != io.EOF {
		var pe *frame.ProtocolError
		if errors.As(err, &pe) {
			return 0, m.failProtocol(pe)
		}
		return 0, m.failIO(err)
	}
	if n > 0 {
		if m.out+int64(n) > m.c.cfg.maxMessage {
			return 0, m.failProtocol(errMessageTooLarge)
		}
		if m.text && !m.utf8.Write(p[:n]) {
			return 0, m.failProtocol(errInvalidUTF8)
		}
		m.out += int64(n)
		m.c.stats.bytesIn.Add(uint64(n))
	}
	if err == io.EOF {
		if m.text && !m.utf8.Done() {
			return 0, m.failProtocol(errInvalidUTF8)
		}
		m.finish(endComplete, io.EOF)
		return n, io.EOF
	}
	return n, nil
}

// payload reads the message's payload as it is on the wire (compressed if
// so), frame after frame, handling the control frames between them; it
// returns io.EOF after the last frame's payload.
func (m *msgReader) payload(p []byte) (int, error) {
	c := m.c
	for m.remaining == 0 {
		if m.fin {
			return 0, io.EOF
		}
		h, err := frame.ReadHeader(c.br)
		if err != nil {
			return 0, m.failIO(unexpected(err))
		}
		if err := h.Check(c.role, 0); err != nil {
			return 0, m.failErr(err)
		}
		if h.Opcode.IsControl() {
			closed, err := c.streamControl(h, &m.ctrl)
			if err != nil {
				return 0, m.failErr(err)
			}
			if closed {
				m.finish(endClose, ErrClosed)
				return 0, m.err
			}
			continue
		}
		switch {
		case h.Opcode != frame.OpContinuation:
			err = errExpectedCont
		case h.Length > c.cfg.maxFrameSize():
			err = errFrameTooLarge
		case m.wire+h.Length > c.cfg.maxMessage:
			err = errMessageTooLarge
		}
		if err != nil {
			return 0, m.failErr(err)
		}
		m.remaining, m.fin, m.masked, m.mask, m.pos = h.Length, h.Fin, h.Masked, h.Mask, 0
		m.wire += h.Length
	}
	k := int(min(int64(len(p)), m.remaining))
	n, err := c.br.Read(p[:k])
	if n > 0 {
		if m.masked {
			m.pos = frame.Mask(m.mask, m.pos, p[:n])
		}
		m.remaining -= int64(n)
		return n, nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return 0, m.failIO(unexpected(err))
}

func (m *msgReader) failErr(err error) error {
	var pe *frame.ProtocolError
	if errors.As(err, &pe) {
		return m.failProtocol(pe)
	}
	return m.failIO(err)
}

// failProtocol fails the connection for the peer's violation: Read returns
// the connection's *CloseError from now on.
func (m *msgReader) failProtocol(pe *frame.ProtocolError) error {
	m.c.readFailed(pe)
	err := m.c.Err()
	if err == nil {
		err = pe // the connection had ended already
	}
	m.finish(endProtocol, err)
	return err
}

func (m *msgReader) failIO(err error) error {
	m.ioErr = err
	m.finish(endIO, fmt.Errorf("ws: read: %w", err))
	return m.err
}

// finish records how the message ended and lets the reader goroutine go on.
func (m *msgReader) finish(end int, err error) {
	m.end, m.err = end, err
	m.signal.Do(func() { close(m.done) })
}

// compSrc feeds the extension's decoder the message's compressed payload:
// it is an io.ByteReader, so the decoder reads no further than it needs.
type compSrc struct {
	m    *msgReader
	buf  [4 << 10]byte
	r, w int
}

func (s *compSrc) ReadByte() (byte, error) {
	if s.r == s.w {
		n, err := s.m.payload(s.buf[:])
		if n == 0 {
			return 0, err
		}
		s.r, s.w = 0, n
	}
	b := s.buf[s.r]
	s.r++
	return b, nil
}

func (s *compSrc) Read(p []byte) (int, error) {
	if s.r < s.w {
		n := copy(p, s.buf[s.r:s.w])
		s.r += n
		return n, nil
	}
	return s.m.payload(p)
}
