//go:build js

package ws

import (
	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/handshake"
)

// The names below are those of the native build (ws.go), aliased to the
// same types of packages actor, frame and handshake, so that code written
// against them compiles, and matches errors, the same way under js.

// Message is one whole WebSocket message: its Type (TextMessage or
// BinaryMessage) and its Data. A received message's Data belongs to the
// receiver; a sent message's Data must not be modified until Send returns
// or, for Outgoing, at all.
type Message = actor.Message

// MessageType is the type of a data message, its opcode.
type MessageType = actor.MessageType

// The two types of data message (RFC 6455 §5.6).
const (
	TextMessage   MessageType = frame.OpText
	BinaryMessage MessageType = frame.OpBinary
)

// Text returns a text message holding s. Text must be UTF-8 (RFC 6455
// §5.6): under js the host converts the bytes to a JavaScript string, which
// turns each invalid sequence into U+FFFD instead of failing.
func Text(s string) Message { return Message{Type: TextMessage, Data: []byte(s)} }

// Binary returns a binary message holding b, which it does not copy: do not
// modify b until the message is sent.
func Binary(b []byte) Message { return Message{Type: BinaryMessage, Data: b} }

// CloseError is why a connection ended. Under js it is built from the
// host's close event: Code and Reason are the event's (the peer's close
// frame, or 1006 when none came), Remote says whether the peer's close
// frame came before we sent ours, and Err is nil when the event says
// wasClean — the close handshake completed — and ErrUnclean otherwise. When
// the connection ends on our side first (Close's ctx or grace period,
// CloseNow, a limit), Code and Reason are ours and Err says why. Find it
// with errors.As(conn.Err(), &ce).
type CloseError = actor.CloseError

// Stats are a connection's counters, from Conn.Stats. Under js RTT stays 0:
// the host does not let a page send pings.
type Stats = actor.Stats

// Errors a connection reports.
var (
	// ErrClosed is returned by Send and Receive once the connection has
	// ended or started its close handshake; Err says why.
	ErrClosed = actor.ErrClosed
	// ErrPongTimeout is never returned under js, where there is no
	// keepalive; it exists so that code matching it compiles.
	ErrPongTimeout = actor.ErrPongTimeout
)

// CloseStatus returns the close code a connection that ended with err
// ended with: a *CloseError's Code, StatusAbnormalClosure (1006) for any
// other error, 0 for nil.
func CloseStatus(err error) StatusCode { return actor.CloseStatus(err) }

// StatusCode is a close code (RFC 6455 §7.4).
type StatusCode = frame.StatusCode

// Close codes registered with IANA (RFC 6455 §7.4.1, §11.7). Under js,
// Close may send only StatusNormalClosure and the codes 3000–4999 (the
// WebSocket API throws on any other); all of them can be received.
const (
	StatusNormalClosure           = frame.StatusNormalClosure
	StatusGoingAway               = frame.StatusGoingAway
	StatusProtocolError           = frame.StatusProtocolError
	StatusUnsupportedData         = frame.StatusUnsupportedData
	StatusNoStatusRcvd            = frame.StatusNoStatusRcvd
	StatusAbnormalClosure         = frame.StatusAbnormalClosure
	StatusInvalidFramePayloadData = frame.StatusInvalidFramePayloadData
	StatusPolicyViolation         = frame.StatusPolicyViolation
	StatusMessageTooBig           = frame.StatusMessageTooBig
	StatusMandatoryExtension      = frame.StatusMandatoryExtension
	StatusInternalError           = frame.StatusInternalError
	StatusServiceRestart          = frame.StatusServiceRestart
	StatusTryAgainLater           = frame.StatusTryAgainLater
	StatusBadGateway              = frame.StatusBadGateway
	StatusTLSHandshake            = frame.StatusTLSHandshake
)

// RejectError is a refused handshake. Under js Dial never returns one: the
// host hides the server's answer from the page (a refusal looks like any
// other failed connection, a close event with 1006). The alias exists so
// that code matching it compiles.
type RejectError = handshake.RejectError

// RedirectError is a 3xx answer to Dial. Under js Dial never returns one:
// the host does not follow redirects of a WebSocket handshake and reports
// them as a failed connection.
type RedirectError = handshake.RedirectError
