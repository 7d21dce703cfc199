package actor

import (
	"errors"
	"strconv"

	"github.com/wsactor/ws/frame"
)

// The errors this package returns. Struct errors (*CloseError) carry the
// close code; the sentinels below are matched with errors.Is. Errors a
// connection reports start with "ws: ", the name users of package ws (the
// front door over this engine) know them by; package ws re-exports them.
var (
	// ErrClosed is returned by Send, Ping and Receive once the connection
	// has ended; Err says why it ended.
	ErrClosed = errors.New("ws: connection closed")

	// ErrPongTimeout ends a connection whose peer did not answer a
	// keepalive ping within the pong timeout (see WithKeepalive). It is a
	// net.Error-style timeout: it has a Timeout method that reports true.
	ErrPongTimeout error = timeoutError("ws: no pong within the keepalive timeout")

	// ErrCloseTimeout is the cause in a *CloseError when we sent a close
	// frame and the peer did not answer it within the close grace period.
	ErrCloseTimeout error = timeoutError("ws: peer did not answer the close frame within the grace period")

	// ErrInvalidMessageType is returned by Send for a Message whose Type is
	// not frame.OpText or frame.OpBinary, such as the zero Message; such a
	// Message sent on Outgoing is dropped (Stats.OutgoingDropped).
	ErrInvalidMessageType = errors.New("ws: message type must be text or binary")

	// ErrInvalidRole is returned by New for a role other than frame.Client
	// or frame.Server.
	ErrInvalidRole = errors.New("actor: role must be frame.Client or frame.Server")
)

// timeoutError is a sentinel that also satisfies net.Error's Timeout.
type timeoutError string

func (e timeoutError) Error() string { return string(e) }

// Timeout reports true: the error is a timeout.
func (e timeoutError) Timeout() bool { return true }

// Temporary reports false; it exists for net.Error.
func (e timeoutError) Temporary() bool { return false }

// CloseError reports a connection that ended with a close frame (RFC 6455
// §7.1.5, §7.1.6), in either direction:
//
//   - The peer's close frame was received (whoever started): Code and Reason
//     are the peer's (StatusNoStatusRcvd when its frame had no body), Remote
//     says whether the peer started the handshake, and Err is nil.
//   - We failed the connection because the peer broke the protocol: Code is
//     the code we sent (1002, 1007, 1009), Reason our text, and Err the
//     *frame.ProtocolError, so errors.As finds both types.
//   - We sent a close frame (Close, WithLifetime) and no close frame came
//     back: Code and Reason are ours and Err says why the handshake did not
//     complete (ErrCloseTimeout, the Close ctx's error, or an I/O error).
//
// Err == nil therefore means the close handshake completed.
type CloseError struct {
	Code   frame.StatusCode
	Reason string
	Remote bool  // the peer started the close handshake
	Err    error // why the handshake is incomplete, or the protocol error; nil if it completed
}

func (e *CloseError) Error() string {
	s := "ws: closed with " + strconv.Itoa(int(e.Code)) + " (" + e.Code.String() + ")"
	if e.Reason != "" {
		s += " " + strconv.Quote(e.Reason)
	}
	if e.Remote {
		s += " by peer"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause, if any.
func (e *CloseError) Unwrap() error { return e.Err }

// CloseStatus returns the close code of the connection that ended with err:
// the Code of a *CloseError in err's chain, StatusAbnormalClosure (1006) for
// any other non-nil error (no close frame was exchanged, RFC 6455 §7.1.5),
// and 0 for nil.
func CloseStatus(err error) frame.StatusCode {
	if err == nil {
		return 0
	}
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return frame.StatusAbnormalClosure
}
