package actor

import (
	"context"
	"fmt"
	"time"

	"github.com/wsactor/ws/frame"
)

// supervisor is the connection's owner loop (compare http2's serverConn.serve).
// Every field is state owned by the supervisor goroutine alone; the reader
// and writer only talk to it over channels.
type supervisor struct {
	c *Conn

	// Backpressure: a message the reader could not put in a full Incoming.
	held    Message
	holding bool

	// Close handshake (RFC 6455 §7.1).
	closing      bool // a close frame of ours is queued or written
	closeHanded  bool // it went to the writer: send no more control frames
	pendingClose bool
	closeWritten bool
	sentCode     frame.StatusCode
	sentReason   string
	recvClose    bool
	recvCode     frame.StatusCode
	recvReason   string
	remote       bool  // the peer's close came first
	failErr      error // the peer's protocol error that made us close
	grace        *time.Timer

	// Control frames waiting for the writer.
	pong    ctrlFrame
	hasPong bool // the reader waits (pongAck) until the writer has it
	ping    uint64

	pinger pinger
}

// supervise is the supervisor goroutine. It ends, returning the
// connection's final error, when the close handshake is over, the stream
// has ended, the writer has failed, the grace period or keepalive timed
// out, or a Close's ctx ended (abort). On its way out it closes the socket,
// which interrupts the reader and the writer.
func (c *Conn) supervise(ctx context.Context) error {
	s := &supervisor{c: c}
	defer c.conn.Close()
	s.pinger.init(c.cfg.pingInterval, c.cfg.pongTimeout)
	defer s.pinger.stop()
	defer func() {
		if s.grace != nil {
			s.grace.Stop()
		}
	}()
	var lifetime <-chan struct{}
	if c.cfg.lifetime != nil {
		lifetime = c.cfg.lifetime.Done()
	}
	for {
		var (
			incoming chan<- Message
			ctrlOut  chan<- ctrlFrame
			next     ctrlFrame
			graceC   <-chan time.Time
		)
		if s.holding {
			incoming = c.incoming
		}
		if s.nextControl(&next) {
			ctrlOut = c.ctrl
		}
		if s.grace != nil {
			graceC = s.grace.C
		}
		select {
		case ev := <-c.readEv:
			if end, err := s.onRead(&ev); end {
				return err
			}
		case ev := <-c.writeEv:
			if ev.err != nil {
				return s.result(ev.err)
			}
			s.closeWritten = true
		case incoming <- s.held:
			s.held, s.holding = Message{}, false
			s.giveCredit()
		case ctrlOut <- next:
			s.handed(&next)
		case r := <-c.pings:
			s.onPingRequest(r)
		case r := <-c.closes:
			s.startClose(r.code, r.reason)
		case <-lifetime:
			lifetime = nil
			s.startClose(frame.StatusGoingAway, "")
		case <-c.abort:
			return s.result(c.abortErr)
		case <-graceC:
			return s.result(ErrCloseTimeout)
		case <-s.pinger.timerC():
			if err := s.onKeepalive(); err != nil {
				return s.result(err)
			}
		case <-ctx.Done(): // only after our own return; kept for symmetry
			return s.result(ctx.Err())
		}
		if s.finished() {
			return s.result(nil)
		}
	}
}

// onRead handles a reader event; end reports that the connection is over.
func (s *supervisor) onRead(ev *readEvent) (bool, error) {
	switch ev.kind {
	case readMessage:
		if s.closing {
			s.giveCredit() // closing: a reader that cannot deliver must not wait
			break
		}
		s.held, s.holding = ev.msg, true
	case readPing:
		if s.closing {
			s.ackPong() // nothing follows our close frame
			break
		}
		s.pong.op = frame.OpPong
		s.pong.n = copy(s.pong.payload[:], ev.ctrl[:ev.n])
		s.hasPong = true
	case readPong:
		s.onPong(ev.ctrl[:ev.n])
	case readClose:
		code, reason, _ := frame.ParseClosePayload(ev.ctrl[:ev.n]) // validated by frame.Reader
		s.recvClose, s.recvCode, s.recvReason = true, code, string(reason)
		if !s.closing {
			s.remote = true
			// RFC 6455 §5.5.1: echo the status code received.
			s.startClose(code, "")
		}
	case readFail:
		s.failErr = ev.err
		if !s.closing {
			code := frame.StatusProtocolError
			if pe, ok := ev.err.(*frame.ProtocolError); ok {
				code = pe.Code
			}
			s.startClose(code, closeReason(ev.err))
		}
	case readAheadEnd:
		// A dead socket while the user does not read (a paused reader reads
		// ahead to notice it). A closing connection has stopped waiting for
		// the user: the reader reads on to the peer's close frame, if any.
		if !s.closing {
			return true, s.result(fmt.Errorf("actor: read: %w", ev.err))
		}
	case readEnd:
		return true, s.result(fmt.Errorf("actor: read: %w", ev.err))
	}
	return false, nil
}

// startClose queues our close frame (once) and starts the grace period.
func (s *supervisor) startClose(code frame.StatusCode, reason string) {
	if s.closing {
		return
	}
	s.closing, s.pendingClose = true, true
	s.sentCode, s.sentReason = code, reason
	s.grace = time.NewTimer(s.c.cfg.closeGrace)
	s.pinger.stop()
	if s.hasPong {
		// Our close frame goes first and nothing follows it.
		s.hasPong = false
		s.ackPong()
	}
	if s.holding {
		// The reader waits for room in Incoming; a closing connection does
		// not wait for a user who is not reading.
		s.held, s.holding = Message{}, false
		s.giveCredit()
	}
}

// finished reports whether the close handshake is over from our side: our
// close frame is written and the peer's close frame has arrived (or the peer
// broke the protocol). A server then closes the socket at once; a client
// waits for the server to close it (RFC 6455 §7.1.1), until the stream ends
// or the grace period runs out.
func (s *supervisor) finished() bool {
	return s.closeWritten && (s.recvClose || s.failErr != nil) && s.c.role == frame.Server
}

// result is the connection's final error; cause is what ended it.
func (s *supervisor) result(cause error) error {
	switch {
	case s.failErr != nil:
		return &CloseError{Code: s.sentCode, Reason: s.sentReason, Err: s.failErr}
	case s.recvClose:
		return &CloseError{Code: s.recvCode, Reason: s.recvReason, Remote: s.remote}
	case s.closing:
		return &CloseError{Code: s.sentCode, Reason: s.sentReason, Err: cause}
	}
	return cause
}

// nextControl picks the control frame to offer the writer: our close frame
// first, then a pong, then a ping. Nothing follows the close frame.
func (s *supervisor) nextControl(f *ctrlFrame) bool {
	switch {
	case s.closeHanded:
		return false
	case s.pendingClose:
		f.op, f.code, f.reason = frame.OpClose, s.sentCode, s.sentReason
	case s.hasPong:
		*f = s.pong
	case s.ping != 0:
		f.op = frame.OpPing
		f.n = putPingID(f.payload[:], s.ping)
	default:
		return false
	}
	return true
}

// handed records that the writer took f.
func (s *supervisor) handed(f *ctrlFrame) {
	switch f.op {
	case frame.OpClose:
		s.pendingClose, s.closeHanded = false, true
	case frame.OpPong:
		s.hasPong = false
		s.ackPong()
	case frame.OpPing:
		s.pinger.handed(s.ping, time.Now())
		s.ping = 0
	}
}

// ackPong lets the reader, which waits after each ping, read on.
func (s *supervisor) ackPong() {
	select {
	case s.c.pongAck <- struct{}{}:
	default:
	}
}

func (s *supervisor) giveCredit() {
	select {
	case s.c.credit <- struct{}{}:
	default:
	}
	s.c.wakeReader()
}

// closeReason is the reason text we send when failing the connection: the
// protocol error's sentinel text, cut to fit a close frame.
func closeReason(err error) string {
	pe, ok := err.(*frame.ProtocolError)
	if !ok || pe.Err == nil {
		return ""
	}
	r := pe.Err.Error()
	if len(r) > frame.MaxCloseReason {
		r = r[:frame.MaxCloseReason]
	}
	return r
}
