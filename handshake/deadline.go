package handshake

import (
	"context"
	"errors"
	"net"
	"os"
	"time"
)

// DefaultHandshakeTimeout bounds a whole handshake, on either side, when
// the HandshakeTimeout field is zero.
const DefaultHandshakeTimeout = 10 * time.Second

// deadline bounds a handshake: it sets the connection's deadline for the
// whole exchange and, while it runs, makes cancellation of ctx set a
// deadline in the past so that a blocked read or write returns at once:
// net.Conn's I/O does not take a context.
type deadline struct {
	conn net.Conn
	ctx  context.Context
	stop func() bool
}

// start sets the deadline; timeout < 0 means none.
func (d *deadline) start(ctx context.Context, conn net.Conn, timeout time.Duration) {
	d.conn, d.ctx = conn, ctx
	if timeout == 0 {
		timeout = DefaultHandshakeTimeout
	}
	if timeout > 0 {
		_ = conn.SetDeadline(time.Now().Add(timeout))
	}
	if ctx != nil && ctx.Done() != nil {
		d.stop = context.AfterFunc(ctx, func() {
			_ = conn.SetDeadline(time.Unix(1, 0))
		})
	}
}

// end clears the deadline after a successful handshake. It fails with
// ctx's error when ctx was cancelled meanwhile, in which case the caller
// closes the connection.
func (d *deadline) end() error {
	if d.conn == nil {
		return nil
	}
	if d.stop != nil && !d.stop() {
		return d.ctx.Err()
	}
	d.stop = nil
	// An error here means the peer is already gone (net.Pipe reports it
	// for a closed remote end); the frame layer will see it on first use.
	_ = d.conn.SetDeadline(time.Time{})
	return nil
}

// cancel releases the ctx watch after a failure.
func (d *deadline) cancel() {
	if d.stop != nil {
		d.stop()
		d.stop = nil
	}
}

// cause replaces an I/O error caused by ctx's cancellation with ctx's
// error, so that callers see context.Canceled rather than a timeout.
func (d *deadline) cause(err error) error {
	if d.ctx != nil && d.ctx.Err() != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return d.ctx.Err()
	}
	return err
}
