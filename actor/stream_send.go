package actor

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/wsactor/ws/frame"
)

// DefaultStreamChunk is how many bytes SendStream reads from its source
// for each fragment when WithFragmentSize is not set: 32 KiB, large enough
// that a frame header and a write per fragment cost little, small enough
// that pongs and pings between fragments wait for little.
const DefaultStreamChunk = 32 << 10

// opStream marks a queued request that is not a message but a SendStream
// waiting for its turn to write (a reserved opcode: no user Message has it,
// since Send and Outgoing take only text and binary).
const opStream MessageType = 0x3

// fragmentEncoder is an extension that can compress a message piece by
// piece (frame/deflate's Extension is one).
type fragmentEncoder interface {
	EncodeFragment(dst, p []byte, first, last bool) ([]byte, uint8, error)
}

// streamSend is one SendStream call.
type streamSend struct {
	c     *Conn
	typ   MessageType
	chunk []byte // what was read from the source for the next fragment
	enc   []byte // the compressed piece, when compressing
	hdr   [frame.MaxHeaderSize]byte
	keys  [256]byte // a client's masking keys, drawn 64 at a time
	kpos  int
	vec   net.Buffers
	arr   [2][]byte

	// Under Conn.mu.
	started   bool  // the first fragment is being written
	finished  bool  // the last fragment is out, or the call gave up
	cancelled error // ctx ended after the message started
}

var streamPool sync.Pool // *streamSend with a DefaultStreamChunk buffer

// SendStream sends one data message of type typ (frame.OpText or
// frame.OpBinary) whose payload is read from r until io.EOF, without
// holding the whole message: each piece read goes out as a fragment (RFC
// 6455 §5.4) once WithFragmentSize bytes (DefaultStreamChunk if not set)
// have been read or r has ended, so memory stays at about two pieces
// whatever the message's length. It returns once the last fragment is
// written (nil), or with the error that ended the message. Text is sent
// as r yields it; that it is UTF-8 is the caller's promise, as with Send.
//
// With permessage-deflate each piece is compressed as it goes, one DEFLATE
// stream over the message (extensions that cannot compress in pieces send
// it uncompressed, which is always legal).
//
// Ordering is Send's: the message goes after the messages this goroutine
// put on Outgoing before the call and after the Sends already queued, and
// nothing follows it until its last fragment, so other Sends and Outgoing
// wait. Control frames do not wait: pongs, keepalive pings and Ping's
// pings go out between fragments, and also while SendStream waits for r,
// since it gives the write right up during each Read. So a slow source does
// not stall keepalive, and WithWriteTimeout bounds the write of each
// fragment, not the whole message.
//
// Before the first fragment is written (r has not produced its first
// piece yet, or the message waits for its turn) an error from r or the end
// of ctx ends only this call and the connection goes on. After it, the
// message cannot be taken back: if ctx ends, the connection ends at once
// (the write in progress is interrupted by closing the socket) and
// SendStream returns ctx's error as soon as r.Read returns, since an
// io.Reader cannot be interrupted; if r fails, the connection starts its
// close handshake with 1011 (internal error), the close frame going
// between fragments, and SendStream returns r's error. A Close during the
// message does not wait for its end either: its close frame goes after the
// current fragment and SendStream returns ErrClosed.
func (c *Conn) SendStream(ctx context.Context, typ MessageType, r io.Reader) error {
	if typ != frame.OpText && typ != frame.OpBinary {
		return ErrInvalidMessageType
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s := c.newStreamSend(typ)
	n, last, err := readPiece(r, s.chunk)
	if err == nil {
		err = c.beginStream(ctx, s)
	}
	if err != nil {
		s.free() // nothing is written
		return err
	}
	stop := context.AfterFunc(ctx, func() { c.streamCtxDone(s, ctx) })
	err = s.run(ctx, r, n, last)
	c.mu.Lock()
	s.finished = true
	cancelled := s.cancelled
	c.mu.Unlock()
	if stop() {
		s.free() // else the callback may still look at s: leave it to the GC
	}
	if cancelled != nil {
		return cancelled
	}
	return err
}

func (c *Conn) newStreamSend(typ MessageType) *streamSend {
	size := c.cfg.fragment
	if size <= 0 {
		size = DefaultStreamChunk
	}
	var s *streamSend
	if size == DefaultStreamChunk {
		s, _ = streamPool.Get().(*streamSend)
	}
	if s == nil {
		s = &streamSend{chunk: make([]byte, size), kpos: len(streamSend{}.keys)}
	}
	s.c, s.typ = c, typ
	s.started, s.finished, s.cancelled = false, false, nil
	return s
}

func (s *streamSend) free() {
	s.c = nil
	s.vec, s.arr = nil, [2][]byte{}
	if len(s.chunk) == DefaultStreamChunk && cap(s.enc) <= 2*DefaultStreamChunk {
		streamPool.Put(s)
	}
}

// readPiece fills p from r: last is true once r has ended (io.EOF), with
// the n bytes before the end in p.
func readPiece(r io.Reader, p []byte) (n int, last bool, err error) {
	n, err = io.ReadFull(r, p)
	switch err {
	case nil:
		return n, false, nil
	case io.EOF, io.ErrUnexpectedEOF:
		return n, true, nil
	}
	return n, false, err
}

// beginStream takes the write right for s's first fragment, in Send's
// order: at once when nothing is written or queued and Outgoing was never
// asked for, else behind the queue, where the writer goroutine hands the
// right over (handStream) after the Outgoing messages before it. The
// connection is then streaming.
func (c *Conn) beginStream(ctx context.Context, s *streamSend) error {
	c.mu.Lock()
	if c.st.ended || c.st.closing {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.st.streamIdle == nil {
		c.st.streamIdle = make(chan struct{}, 1)
	}
	if !c.st.writing && c.st.queue.len() == 0 && !c.outgoingUsed.Load() && !c.st.streaming {
		c.st.writing, c.st.streaming = true, true
		c.mu.Unlock()
		return nil
	}
	r := sendPool.Get().(*sendReq)
	r.msg, r.err = Message{Type: opStream}, nil
	r.state.Store(sendQueued)
	c.st.queue.push(r)
	c.queued.Add(1)
	kick := !c.st.writing
	c.mu.Unlock()
	if kick {
		c.kickWriter()
	}
	var gaveUp error
	select {
	case <-r.done:
	case <-ctx.Done():
		gaveUp = ctx.Err()
	case <-c.stop:
		gaveUp = ErrClosed
	}
	if gaveUp != nil {
		if r.state.CompareAndSwap(sendQueued, sendAbandoned) {
			return gaveUp // the writer skips it
		}
		<-r.done
	}
	if err := finishSend(r); err != nil {
		return err
	}
	c.mu.Lock()
	if gaveUp == nil {
		gaveUp = ctx.Err()
	}
	if gaveUp != nil {
		// The right came, but nothing is written yet: give it back.
		c.st.streaming = false
		c.releaseLocked()
		c.kickWriter()
		return gaveUp
	}
	c.mu.Unlock()
	return nil
}

// streamTurnTaken runs on the holder of the write right when a queued
// SendStream's turn comes (writeAfterOutgoing, after the Outgoing
// messages before it): the right goes to it once the batch is flushed, or
// it is refused if the connection is closing.
func (c *Conn) streamTurnTaken(r *sendReq) {
	c.mu.Lock()
	c.st.cur = nil
	closing := c.st.closing || c.st.ended
	c.mu.Unlock()
	if closing {
		r.err = ErrClosed
		r.done <- struct{}{} // capacity 1, sent once
		return
	}
	c.st.streamTurn = r
}

// handStream ends a batch that gave a SendStream its turn: unless err or
// the connection's end or close came first, the write right passes to it
// (true) and the connection is streaming.
func (c *Conn) handStream(r *sendReq, err error) bool {
	c.mu.Lock()
	ok := err == nil && !c.st.ended && !c.st.closing
	if ok {
		c.st.streaming = true
	}
	c.mu.Unlock()
	if !ok && err == nil {
		err = ErrClosed
	}
	r.err = err
	r.done <- struct{}{} // capacity 1, sent once
	return ok
}

// streamCtxDone runs when a SendStream's ctx ends: once its message has
// started, the connection ends, since the peer holds part of it.
func (c *Conn) streamCtxDone(s *streamSend, ctx context.Context) {
	c.mu.Lock()
	if !s.started || s.finished || s.cancelled != nil {
		c.mu.Unlock()
		return
	}
	s.cancelled = ctx.Err()
	c.mu.Unlock()
	c.shutdown(errSendCancelled)
}

// run writes the message: the first piece (n bytes, last if r ended) is
// read and the write right is held. Each piece is written holding the
// right, which is given up while r is read.
func (s *streamSend) run(ctx context.Context, r io.Reader, n int, last bool) error {
	c := s.c
	c.mu.Lock()
	if err := ctx.Err(); err != nil {
		// Nothing is written yet: the connection goes on.
		c.st.streaming = false
		c.releaseLocked()
		c.kickWriter()
		return err
	}
	s.started = true // from now on ctx's end ends the connection
	c.mu.Unlock()
	fe, _ := c.cfg.extension.(fragmentEncoder)
	compress := fe != nil
	var rsv uint8
	var total uint64
	for first := true; ; first = false {
		payload := s.chunk[:n]
		var err error
		if compress {
			var bits uint8
			s.enc, bits, err = fe.EncodeFragment(s.enc[:0], payload, first, last)
			switch {
			case err != nil:
			case first && bits == 0:
				compress = false // declined: the whole message goes as it is
			default:
				payload, rsv = s.enc, bits
			}
		}
		if err == nil {
			err = s.writePiece(payload, first, last, rsv)
		}
		total += uint64(n)
		if err != nil {
			return c.streamFailed(err)
		}
		if last {
			c.stats.messagesOut.Add(1)
			c.stats.bytesOut.Add(total)
			c.mu.Lock()
			c.st.streaming = false
			s.finished = true
			c.releaseLocked()
			c.kickWriter() // Outgoing was not read meanwhile
			return nil
		}
		c.release()
		if n, last, err = readPiece(r, s.chunk); err != nil {
			// The peer holds part of the message: close with 1011, the
			// close frame going between fragments.
			c.mu.Lock()
			c.startCloseLocked(frame.StatusInternalError, "")
			c.mu.Unlock()
			c.kickWriter()
			return err
		}
		if err := c.streamAcquire(); err != nil {
			return err
		}
	}
}

// streamFailed ends the connection after a failed write of a piece,
// holding the write right; the stream may hold part of a frame.
func (c *Conn) streamFailed(err error) error {
	c.mu.Lock()
	c.st.streaming = false
	c.mu.Unlock()
	err = fmt.Errorf("ws: write: %w", err)
	c.shutdown(err)
	c.release()
	return err
}

// streamAcquire takes the write right back for the next fragment,
// waiting for the holder that wrote control frames in the gap.
func (c *Conn) streamAcquire() error {
	c.mu.Lock()
	for {
		if c.st.ended || c.st.closing {
			c.mu.Unlock()
			return ErrClosed
		}
		if !c.st.writing {
			c.st.writing = true
			c.mu.Unlock()
			return nil
		}
		c.st.streamWait = true
		idle := c.st.streamIdle
		c.mu.Unlock()
		select {
		case <-idle:
			c.mu.Lock()
			if c.st.ended || c.st.closing {
				c.releaseLocked()
				return ErrClosed
			}
			c.mu.Unlock()
			return nil
		case <-c.stop:
			c.mu.Lock()
			if c.st.streamWait {
				c.st.streamWait = false
				c.mu.Unlock()
				return ErrClosed
			}
			c.mu.Unlock()
			<-idle // handed over meanwhile: give it back
			c.release()
			return ErrClosed
		}
	}
}

// writePiece writes one piece of the message as frames of at most the
// fragment size, holding the write right; the control frames waiting go
// before and after it.
func (s *streamSend) writePiece(p []byte, first, last bool, rsv uint8) error {
	c := s.c
	if err := c.armWriteDeadline(); err != nil {
		return err
	}
	if c.ctrlPending.Load() {
		if err := c.writeControlPending(); err != nil {
			return err
		}
	}
	if err := c.fw.Flush(); err != nil { // control frames go before the fragment
		return err
	}
	for {
		k := len(p)
		if f := c.cfg.fragment; f > 0 && k > f {
			k = f
		}
		h := frame.Header{Fin: last && k == len(p), Opcode: frame.OpContinuation}
		if first {
			h.Opcode, h.Rsv = s.typ, rsv
		}
		if err := s.writeFrame(h, p[:k]); err != nil {
			return err
		}
		c.writeProgress.Add(1)
		p, first = p[k:], false
		if len(p) == 0 {
			break
		}
		if err := c.betweenFragments(); err != nil {
			return err
		}
		if err := c.fw.Flush(); err != nil {
			return err
		}
	}
	if c.ctrlPending.Load() {
		if err := c.writeControlPending(); err != nil {
			return err
		}
	}
	return c.fw.Flush()
}

// writeFrame writes one frame straight to the socket, header and payload
// in one vectored write. A client's payload is masked in place: it is the
// stream's own buffer. The frame Writer cannot carry RSV1 on a frame of a
// message it did not encode itself, hence this.
func (s *streamSend) writeFrame(h frame.Header, p []byte) error {
	h.Length = int64(len(p))
	if s.c.role == frame.Client {
		if s.kpos+4 > len(s.keys) {
			if _, err := io.ReadFull(rand.Reader, s.keys[:]); err != nil {
				return err
			}
			s.kpos = 0
		}
		h.Masked = true
		copy(h.Mask[:], s.keys[s.kpos:])
		s.kpos += 4
		frame.Mask(h.Mask, 0, p)
	}
	s.arr = [2][]byte{frame.AppendHeader(s.hdr[:0], h), p}
	s.vec = s.arr[:]
	_, err := s.vec.WriteTo(s.c.conn)
	s.arr = [2][]byte{}
	return err
}

// writeStreamGap runs on the writer goroutine when it takes the write
// right while a streamed message waits for its source: only control
// frames may go between its fragments, and our close frame (RFC 6455
// §5.4, §5.5), which ends the message unfinished.
func (c *Conn) writeStreamGap() {
	err := c.armWriteDeadline()
	if err == nil && c.ctrlPending.Load() {
		err = c.writeControlPending()
	}
	c.mu.Lock()
	closing := c.st.closing && !c.st.closeWritten
	code, reason := c.st.sentCode, c.st.sentReason
	c.mu.Unlock()
	if err == nil && closing {
		err = c.fw.WriteClose(code, reason)
	}
	if err == nil {
		err = c.fw.Flush()
		c.writeProgress.Add(1)
	}
	if err != nil {
		c.shutdown(fmt.Errorf("ws: write: %w", err))
		c.release()
		return
	}
	var fin bool
	c.mu.Lock()
	if closing {
		c.st.closeWritten = true
		c.st.streaming = false // the message is over, unfinished
		fin = c.st.finished(c.role)
		c.refuseQueuedLocked()
	}
	c.mu.Unlock()
	if fin {
		c.shutdown(nil)
	}
	c.release()
}

// refuseQueuedLocked answers every queued Send with ErrClosed once a close
// frame went out between a streamed message's fragments, before them.
func (c *Conn) refuseQueuedLocked() {
	for {
		r := c.takeLocked()
		if r == nil {
			c.st.cur = nil
			return
		}
		if r.detached {
			r.msg, r.detached = Message{}, false
			sendPool.Put(r)
			c.stats.dropped.Add(1)
			continue
		}
		r.err = ErrClosed
		r.done <- struct{}{} // capacity 1, sent once
	}
}
