package ws

import (
	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/handshake"
)

// The names below are shared by the native and the js (GOOS=js) builds:
// aliases of the same types of packages actor, frame and handshake, so
// that code written against them compiles, and matches errors, the same
// way in both.

// Message is one whole WebSocket data message, as received from Incoming
// or given to Send and Outgoing:
//
//	type Message struct {
//		Type         MessageType // TextMessage or BinaryMessage
//		Uncompressed bool        // send it without permessage-deflate
//		Data         []byte      // the payload, reassembled and decompressed
//	}
//
// Uncompressed matters only on a connection that negotiated compression
// (WithCompression): it sends this message as it is, for data that is
// already compressed or is secret next to attacker-chosen data. It is
// false on received messages.
//
// A received message's Data belongs to the receiver. A sent message's Data
// must not be modified until it is written (see Send and Outgoing). Under
// WithRecycledBuffers, m.Release() gives a received Data back to its
// connection so the next message reuses it; without it, Release does
// nothing.
//
// Message is the engine's own type (package actor), not a copy of it, so
// that Incoming hands out the connection's channel itself: a distinct type
// would need a goroutine per connection to convert each message. Under js
// (GOOS=js) Uncompressed has no effect: the host compresses as it likes.
type Message = actor.Message

// MessageType is the type of a data message, its opcode.
type MessageType = actor.MessageType

// The two types of data message (RFC 6455 §5.6).
const (
	TextMessage   MessageType = frame.OpText
	BinaryMessage MessageType = frame.OpBinary
)

// Text returns a text message holding s. Text must be UTF-8 (RFC 6455
// §5.6); the peer fails the connection with 1007 otherwise. Under js the
// host converts the bytes to a JavaScript string, which turns each invalid
// sequence into U+FFFD instead.
func Text(s string) Message { return Message{Type: TextMessage, Data: []byte(s)} }

// Binary returns a binary message holding b, which it does not copy: do not
// modify b after sending the message.
func Binary(b []byte) Message { return Message{Type: BinaryMessage, Data: b} }

// CloseError is why a connection ended with a close frame, found with
// errors.As(c.Err(), &ce):
//
//	type CloseError struct {
//		Code   StatusCode // the peer's code when its close frame came, else ours
//		Reason string
//		Remote bool  // the peer started the close handshake
//		Err    error // why the handshake did not complete; nil when it did
//	}
//
// When we failed the connection because the peer broke the protocol, Code
// is the code we sent (1002, 1007, 1009) and Err the *frame.ProtocolError
// (errors.As finds both). When we sent a close frame and none came back,
// Err is ErrCloseTimeout, the Close ctx's error or an I/O error. Under js
// it is built from the host's close event: Err is nil when the event says
// wasClean, and an error saying the close was unclean otherwise.
type CloseError = actor.CloseError

// Stats is a snapshot of a connection's counters, from Conn.Stats:
// MessagesIn, MessagesOut, BytesIn and BytesOut count data messages and
// their payloads as the application sees them (before compression, without
// frame headers); RTT is the round trip of the last ping answered;
// IncomingQueued and OutgoingQueued are the messages waiting in Incoming
// and in Outgoing plus Send; OutgoingDropped counts messages taken from
// Outgoing and never written (an invalid Type, or sent after the close
// frame or the end). Under js RTT stays 0: a page cannot send pings.
type Stats = actor.Stats

// The errors a connection reports, matched with errors.Is. Their text
// starts with "ws: ", whichever layer returned them.
var (
	// ErrClosed is returned by Send, Ping and Receive once the connection
	// has ended or is ending; Err says why.
	ErrClosed = actor.ErrClosed
	// ErrPongTimeout ends a connection whose peer did not answer a
	// keepalive ping in time (see WithKeepalive). It reports Timeout() ==
	// true, like a net.Error. Under js, where the host keeps the connection
	// alive, it is never returned.
	ErrPongTimeout = actor.ErrPongTimeout
	// ErrCloseTimeout is the Err of a *CloseError when we sent a close
	// frame and the peer did not answer within the close grace period.
	ErrCloseTimeout = actor.ErrCloseTimeout
	// ErrInvalidMessageType is returned by Send for a Message whose Type is
	// neither TextMessage nor BinaryMessage, such as the zero Message.
	ErrInvalidMessageType = actor.ErrInvalidMessageType
)

// CloseStatus returns the close code a connection that ended with err
// ended with: a *CloseError's Code, StatusAbnormalClosure (1006) for any
// other error, 0 for nil.
func CloseStatus(err error) StatusCode { return actor.CloseStatus(err) }

// StatusCode is a close code (RFC 6455 §7.4).
type StatusCode = frame.StatusCode

// Close codes registered with IANA (RFC 6455 §7.4.1, §11.7). 1005, 1006 and
// 1015 are never sent; they report the absence of a code, an abnormal end
// and a TLS failure. Under js, Close may send only StatusNormalClosure and
// the codes 3000–4999 (the WebSocket API throws on any other); all of them
// can be received.
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

// RejectError is a refused handshake: on the client, the server's non-101
// answer (Status, Header, the start of Body); on the server, the status
// Accept sent for a bad request (400, 403, 426). Under js Dial never
// returns one: the host hides the server's answer from the page, and a
// refusal looks like any other failed connection (a close event with 1006).
type RejectError = handshake.RejectError

// RedirectError is a 3xx answer to Dial when redirects are not followed
// (see WithRedirects). Under js Dial never returns one: the host does not
// follow redirects of a WebSocket handshake and reports them as a failed
// connection.
type RedirectError = handshake.RedirectError
