package session

import (
	"errors"
	"fmt"

	"github.com/wsactor/ws"
)

// Close codes of the session protocol, from the private range (RFC 6455
// §7.4.2). A server refuses a resume, or ends a session, with one of them;
// the reason text says more.
const (
	// CodeEnded: the session is over — its handler returned, or the
	// server is shutting down. The client starts a new one.
	CodeEnded ws.StatusCode = 4001
	// CodeSuperseded: a newer connection of the same session took over.
	CodeSuperseded ws.StatusCode = 4002
	// CodeProtocol: a malformed frame, a gap in the sequence, an ack of a
	// message never sent, or a handshake out of place.
	CodeProtocol ws.StatusCode = 4400
	// CodeUnknown: no such session for this peer — never issued, expired,
	// evicted, lost by a server restart, or issued to another key (the
	// same code on purpose, so an id cannot be probed).
	CodeUnknown ws.StatusCode = 4404
	// CodeStale: the epoch presented is not the session's current one:
	// another connection resumed the session since.
	CodeStale ws.StatusCode = 4409
	// CodeOverflow: the server's replay buffer overflowed while the
	// client was away, and the session was ended (OverflowEnd).
	CodeOverflow ws.StatusCode = 4410
)

// Errors, matched with errors.Is.
var (
	// ErrUnknown: the server does not know the session (CodeUnknown).
	ErrUnknown = errors.New("session: unknown or expired session")
	// ErrStale: the session was resumed by another connection (CodeStale).
	ErrStale = errors.New("session: stale epoch")
	// ErrOverflow: the replay buffer overflowed and the session ended
	// (CodeOverflow); also returned by Session.Send for the message that
	// did not fit.
	ErrOverflow = errors.New("session: replay buffer overflow")
	// ErrEnded: the session ended (CodeEnded): its handler returned, the
	// client closed it, or the server shut down.
	ErrEnded = errors.New("session: ended")
	// ErrExpired: a detached session was not resumed in time, or was
	// evicted to keep the detached sessions within their limits.
	ErrExpired = errors.New("session: expired")
	// ErrProtocol: the peer broke the session protocol (CodeProtocol).
	ErrProtocol = errors.New("session: protocol violation")
	// ErrTooLarge: a message larger than the replay buffer's byte limit;
	// it can never be sent.
	ErrTooLarge = errors.New("session: message larger than the replay buffer")
	// ErrNotNegotiated: the server did not select Protocol.
	ErrNotNegotiated = errors.New("session: the server did not select the " + Protocol + " subprotocol")

	errAckBeyond = fmt.Errorf("%w: ack of a message never sent", ErrProtocol)
	errGap       = fmt.Errorf("%w: gap in the sequence", ErrProtocol)
)

// codeErr maps a session close code to its error, nil for other codes.
func codeErr(code ws.StatusCode) error {
	switch code {
	case CodeEnded:
		return ErrEnded
	case CodeProtocol:
		return ErrProtocol
	case CodeUnknown:
		return ErrUnknown
	case CodeStale:
		return ErrStale
	case CodeOverflow:
		return ErrOverflow
	}
	return nil
}

// LostError tells the client's application that its session is gone and
// what was not delivered: the server will not replay what it had sent, and
// Unacked, the messages the server had not acknowledged, were discarded.
// The application resynchronises (see OnLost); the client starts a new
// session. errors.Is matches Err (ErrUnknown, ErrStale, ErrOverflow,
// ErrEnded, ErrProtocol).
type LostError struct {
	ID      string        // the lost session's id
	Code    ws.StatusCode // the close code that said so
	Reason  string        // its reason text
	Err     error
	Unacked []ws.Message // sent, not acknowledged, discarded
}

func (e *LostError) Error() string {
	return fmt.Sprintf("session %s lost: %v (close %d %q, %d unacknowledged messages discarded)",
		e.ID, e.Err, e.Code, e.Reason, len(e.Unacked))
}

func (e *LostError) Unwrap() error { return e.Err }
