package actor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wsactor/ws/frame"
)

// readLoop is the reader goroutine. It reads frames and handles each on
// the spot: a data message goes straight into Incoming when it has room
// (the one hand-off a received message costs); a ping queues its pong for
// whoever writes next; a pong answers pings; a close frame or a protocol
// error starts the close handshake. It never writes and never waits for a
// writer, so two peers that both stream cannot hold each other up.
//
// When Incoming is full (or holds WithIncomingBytes), the message is held
// back for the writer goroutine to deliver and the reader reads no further
// data frame until it has been (see awaitCredit). It returns when the
// stream ends or the socket is closed.
func (c *Conn) readLoop() {
	defer close(c.readDone)
	if c.cfg.streamRecv {
		c.readStreams()
		return
	}
	fr := frame.NewReader(c.br, c.role, frame.ReaderConfig{
		MaxMessageSize: c.cfg.maxMessage,
		MaxFrameSize:   c.cfg.maxFrame,
		Extension:      c.cfg.extension,
	})
	// A paused reader reads ahead and must be woken by a past read deadline
	// when its credit comes; without deadlines it only waits for credit.
	canWake := c.conn.SetReadDeadline(time.Time{}) == nil
	held := false // the writer goroutine holds a message of ours for Incoming
	for {
		if held {
			b, err := c.br.Peek(1)
			if err != nil {
				c.readEnded(err)
				return
			}
			if !frame.Opcode(b[0] & 0x0F).IsControl() {
				if !c.awaitCredit(canWake) {
					return
				}
				held = false
			}
		}
		var dst []byte
		if c.free != nil {
			dst = c.free.get()
		}
		op, p, err := fr.ReadMessage(dst)
		if err != nil {
			var pe *frame.ProtocolError
			if errors.As(err, &pe) {
				c.readFailed(pe)
				// RFC 6455 §7.1.7: process nothing more from this peer, but
				// keep draining so our close frame is not lost to a reset.
				err = discard(c.br)
			}
			c.readEnded(err)
			return
		}
		switch op {
		case frame.OpText, frame.OpBinary:
			c.stats.messagesIn.Add(1)
			c.stats.bytesIn.Add(uint64(len(p)))
			m := Message{Type: op, Data: p, pool: c.free}
			if c.budget.fits(len(c.incoming), len(p)) {
				select {
				case c.incoming <- m:
					c.budget.push(len(p))
					continue
				default:
				}
			}
			held = c.hold(m)
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
			c.onClose(p)
			// RFC 6455 §5.5.1: nothing follows a close frame; whatever the
			// peer still sends is discarded until it closes the socket.
			c.readEnded(discard(c.br))
			return
		}
	}
}

// discard reads the rest of the stream; it returns io.EOF at its end.
func discard(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	if err == nil {
		err = io.EOF
	}
	return err
}

// readEnded ends the connection with the stream's end or read error. Had
// the close handshake completed or the connection failed, shutdown's
// result says so instead.
func (c *Conn) readEnded(err error) {
	c.shutdown(fmt.Errorf("ws: read: %w", err))
}

// hold hands m to the writer goroutine to deliver when Incoming has room.
// A closing connection does not wait for its user: it drops m (false) so
// that the reader reads on to the peer's close frame.
func (c *Conn) hold(m Message) bool {
	c.mu.Lock()
	if c.st.closing || c.st.ended {
		c.mu.Unlock()
		return false
	}
	c.st.held, c.st.holding = m, true
	c.mu.Unlock()
	c.kickWriter()
	return true
}

// onPing queues the pong for p (RFC 6455 §5.5.2) for whoever writes next.
func (c *Conn) onPing(p []byte) {
	c.mu.Lock()
	if c.st.closing || c.st.ended {
		c.mu.Unlock()
		return // nothing follows our close frame
	}
	c.st.pongs.push(p)
	c.ctrlPending.Store(true)
	kick := !c.st.writing
	c.mu.Unlock()
	if kick {
		c.kickWriter()
	}
}

// onClose handles the peer's close frame: its payload was validated by
// frame.Reader. RFC 6455 §5.5.1: answer with a close frame echoing the
// code, unless ours went first.
func (c *Conn) onClose(p []byte) {
	code, reason, _ := frame.ParseClosePayload(p)
	c.mu.Lock()
	c.st.recvClose, c.st.recvCode, c.st.recvReason = true, code, string(reason)
	if !c.st.closing {
		c.st.remote = true
		c.startCloseLocked(code, "")
	}
	fin := c.st.finished(c.role)
	c.mu.Unlock()
	if fin {
		c.shutdown(nil)
		return
	}
	c.kickWriter()
}

// readFailed fails the connection for the peer's protocol error (RFC 6455
// §7.1.7). The close frame with the error's code does not go at once: the
// messages received before the violation are the user's, and so are the
// replies to them. Incoming is closed behind them, and the close frame goes
// when the user calls Close (typically once its range over Incoming has
// ended) or after WithFailLinger, whichever comes first; writes already
// queued or in progress go before it.
func (c *Conn) readFailed(pe *frame.ProtocolError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.ended {
		return
	}
	c.st.failErr = pe
	if c.st.closing {
		return
	}
	c.st.sentCode, c.st.sentReason = pe.Code, closeReason(pe)
	c.st.linger = time.AfterFunc(c.cfg.failLinger, func() { c.closeWith(0) })
	c.st.pongs.n, c.st.ping = 0, 0
	if !c.st.holding && !c.st.incomingClosed {
		c.st.incomingClosed = true
		close(c.incoming)
	}
}

// closeReason is the reason text we send when failing the connection: the
// protocol error's sentinel text, cut to fit a close frame.
func closeReason(pe *frame.ProtocolError) string {
	if pe.Err == nil {
		return ""
	}
	r := pe.Err.Error()
	if len(r) > frame.MaxCloseReason {
		r = r[:frame.MaxCloseReason]
	}
	return r
}

// awaitCredit waits, while the writer goroutine holds our message and the
// next frame is a data frame, until the message is delivered (true) or the
// connection ends (false). With canWake it keeps reading the socket into
// the read buffer's free space, so that a peer that resets or closes the
// connection ends it with that I/O error even if the user never reads
// Incoming, and so that keepalive sees the peer's bytes arrive (see
// onKeepalive). When the buffer is full it waits on the credit alone: the
// bytes in it are bounded, and TCP flow control holds the rest back.
//
// If the socket fails during a read-ahead while the connection is closing,
// the held message is dropped and the reader reads on through what is
// buffered, to the peer's close frame if it is there.
func (c *Conn) awaitCredit(canWake bool) bool {
	for {
		select {
		case <-c.credit:
			return true
		case <-c.stop:
			return false
		default:
		}
		n := c.br.Buffered() + 1
		if !canWake || n > c.br.Size() {
			select {
			case <-c.credit:
				return true
			case <-c.stop:
				return false
			}
		}
		c.wakeMu.Lock()
		c.peeking = true
		c.wakeMu.Unlock()
		select { // credit given before peeking was set: no wake will come
		case <-c.credit:
			c.endPeek()
			return true
		default:
		}
		_, err := c.br.Peek(n)
		woken, derr := c.endPeek()
		switch {
		case woken && errors.Is(err, os.ErrDeadlineExceeded):
			// our wake-up; the credit is waiting
		case err == nil && derr == nil:
			c.aheadReads.Add(1)
		default:
			if err == nil {
				err = derr
			}
			c.mu.Lock()
			closing := c.st.closing
			if closing && c.st.holding {
				c.st.held, c.st.holding = Message{}, false
			}
			c.mu.Unlock()
			if !closing {
				c.shutdown(fmt.Errorf("ws: read: %w", err))
				return false
			}
			canWake = false
			select {
			case <-c.credit:
			default:
			}
			return true
		}
	}
}

// endPeek ends a read-ahead: after it no wake-up deadline is set. If one
// was, endPeek clears it and reports woken.
func (c *Conn) endPeek() (woken bool, err error) {
	c.wakeMu.Lock()
	c.peeking = false
	woken, c.woken = c.woken, false
	c.wakeMu.Unlock()
	if woken {
		err = c.conn.SetReadDeadline(time.Time{})
	}
	return woken, err
}

// giveCredit lets a reader paused behind a held message read on; it
// interrupts the reader's read-ahead, if it is in one.
func (c *Conn) giveCredit() {
	select {
	case c.credit <- struct{}{}:
	default:
	}
	c.wakeMu.Lock()
	if c.peeking && !c.woken {
		c.woken = true
		_ = c.conn.SetReadDeadline(time.Unix(1, 0)) // checked to work when the reader started
	}
	c.wakeMu.Unlock()
}
