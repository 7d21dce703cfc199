package actor

import (
	"context"

	"github.com/wsactor/ws/frame"
)

// Close runs the close handshake (RFC 6455 §7.1.2): it queues a close frame
// with code and reason after the messages already queued, waits for the
// peer's close frame, and closes the socket. It returns nil if the handshake
// completed, whoever started it. On a connection failing because the peer
// broke the protocol, the close frame carries that error's code instead,
// and goes at once.
//
// ctx bounds the wait: when it ends first, the socket is closed at once,
// Close waits for the goroutines to stop and returns ctx's error. The close
// grace period bounds it too, whatever ctx says. Close may be called from any
// number of goroutines any number of times; only the first close frame is
// sent, and every call returns once the connection has ended (nil if the
// handshake completed, else Err). An invalid code (not ValidOnWire, except
// StatusNoStatusRcvd which sends an empty close frame) or a reason over 123
// bytes or not UTF-8 is refused with frame's error, and nothing is sent.
func (c *Conn) Close(ctx context.Context, code frame.StatusCode, reason string) error {
	var arr [frame.MaxControlPayload]byte
	if _, err := frame.AppendClosePayload(arr[:0], code, reason); err != nil {
		return err
	}
	c.mu.Lock()
	c.startCloseLocked(code, reason)
	c.mu.Unlock()
	c.kickWriter()
	select {
	case <-c.done:
		return c.closeResult()
	case <-ctx.Done():
		return c.abortWith(ctx.Err())
	}
}

// CloseNow closes the socket without a close handshake and waits for the
// connection's end; it returns Err. A connection that already ended is
// left as it was.
func (c *Conn) CloseNow() error {
	c.shutdown(ErrClosed)
	<-c.done
	return c.err
}

// abortWith closes the connection now and waits for its end.
func (c *Conn) abortWith(err error) error {
	c.shutdown(err)
	<-c.done
	if c.closeResult() == nil {
		return nil
	}
	return err
}

// closeResult is Close's answer once the connection has ended.
func (c *Conn) closeResult() error {
	if ce, ok := c.err.(*CloseError); ok && ce.Err == nil {
		return nil
	}
	return c.err
}
