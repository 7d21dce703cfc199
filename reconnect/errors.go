package reconnect

import "errors"

// Sentinel errors, tested with errors.Is.
var (
	// ErrClosed is returned by Run after Close, and by Send for a message
	// still queued when the client ended.
	ErrClosed = errors.New("reconnect: client closed")
	// ErrRunTwice is returned by a second call of Run.
	ErrRunTwice = errors.New("reconnect: Run called twice")
	// ErrDropped is returned by Send for a message the overflow policy
	// discarded (DropOldest, DropNewest), and carried by its Dropped event.
	ErrDropped = errors.New("reconnect: message dropped by the overflow policy")
	// ErrBufferFull is returned by Send under the Fail policy when the
	// outgoing buffer is full; the message was not queued.
	ErrBufferFull = errors.New("reconnect: outgoing buffer full")
	// ErrMaybeLost wraps the connection's error for a message that was
	// being written when its connection ended: it may or may not have
	// reached the peer, and it is not sent again (at-most-once).
	ErrMaybeLost = errors.New("reconnect: connection ended while the message was being sent; it may be lost")
)
