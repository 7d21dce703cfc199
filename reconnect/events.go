package reconnect

import (
	"net/http"
	"strconv"
	"time"

	"github.com/wsactor/ws"
)

// Event is a change of the client's state, delivered on Events. It is one
// of Connecting, Connected, Disconnected, Retrying, GaveUp and Dropped;
// read it with a type switch.
type Event interface{ event() }

// Connecting: attempt number Attempt is starting (dial, handshake,
// OnConnect). Attempts are counted from 1 since the last connection that
// lived long enough to reset the backoff (WithResetAfter).
type Connecting struct{ Attempt int }

// Connected: the handshake and OnConnect succeeded; Response is the
// server's 101 response (nil if a WithDialFunc function returned none). Queued
// messages are flushed next.
type Connected struct {
	Attempt  int
	Response *http.Response
}

// Disconnected: the connection ended with Err (its ws.Conn.Err) after
// Uptime. Not sent when the client itself closes the connection (Close or
// Run's ctx).
type Disconnected struct {
	Err    error
	Uptime time.Duration
}

// Retrying: attempt number Attempt starts In from now, because of Err (the
// failed attempt's or the connection's error).
type Retrying struct {
	Attempt int
	In      time.Duration
	Err     error
}

// GaveUp: the client stopped for good with Err, which Run returns. It is
// the last event.
type GaveUp struct{ Err error }

// Dropped: Message will not be delivered (Err wraps ErrDropped) or may not
// have been (Err wraps ErrMaybeLost).
type Dropped struct {
	Message ws.Message
	Err     error
}

func (Connecting) event()   {}
func (Connected) event()    {}
func (Disconnected) event() {}
func (Retrying) event()     {}
func (GaveUp) event()       {}
func (Dropped) event()      {}

// State is where the client is in its life (see Client.State).
type State int32

// The states. A client starts StateIdle, cycles through StateConnecting,
// StateConnected and StateWaiting, and ends StateClosed.
const (
	StateIdle       State = iota // Run not called yet
	StateConnecting              // dialing, handshaking or running OnConnect
	StateConnected               // a connection is up
	StateWaiting                 // waiting out a backoff delay
	StateClosed                  // Run has returned, or Close was called before Run
)

var stateNames = [...]string{"idle", "connecting", "connected", "waiting", "closed"}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}
