//go:build js

package ws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall/js"
	"time"

	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
)

// Errors of the js build.
var (
	// ErrPingUnsupported is returned by Ping under js: the WebSocket API
	// has no way to send a ping (RFC 6455 §5.5.2); the host answers the
	// peer's pings itself.
	ErrPingUnsupported = errors.New("ws: the host WebSocket cannot send pings")
	// ErrUnclean is the Err of the *CloseError of a connection whose close
	// event says wasClean false: no close frame was exchanged (code 1006),
	// or the handshake did not complete.
	ErrUnclean = errors.New("ws: the host WebSocket did not close cleanly")
	// ErrReceiveBacklog is the Err of the *CloseError (code 1008) of a
	// connection whose reader fell behind by more than the max message
	// size in bytes (see WithIncomingBuffer).
	ErrReceiveBacklog = errors.New("ws: received messages waiting behind a full Incoming exceed the max message size")
	// errMessageTooBig is the Err of the *CloseError (code 1009) of a
	// connection that received a message over WithMaxMessageSize.
	errMessageTooBig = errors.New("ws: received message exceeds the max message size")
	// errWriteTimeout ends a connection whose host buffer did not drain
	// within the write timeout.
	errWriteTimeout = fmt.Errorf("ws: write: the host's unsent bytes did not drain within the write timeout: %w", os.ErrDeadlineExceeded)
)

// Conn is an open WebSocket connection run by the host's WebSocket object
// (the browser's, or Node's global WebSocket): range over Incoming to
// receive, send on Outgoing or with Send, end it with Close, and read Err
// after Done. All its methods are safe for concurrent use. It has the
// methods of the native Conn, with these differences:
//
//   - Send returns once the host has taken the message (WebSocket.send),
//     which the writer does only while the host's unsent bytes
//     (bufferedAmount) are below the send mark (WithWriteBufferSize); the
//     host writes it to the socket later.
//   - Incoming cannot push back on the peer: see WithIncomingBuffer.
//   - Ping returns ErrPingUnsupported.
//   - Close sends only 1000 or 3000–4999; when its ctx or the grace period
//     ends first, the connection ends on our side and the host finishes the
//     handshake unseen. CloseNow cannot skip the close handshake: it asks
//     the host to close and ends the connection on our side at once.
//
// Do not call its blocking methods (Send, Receive, Close) from a js.FuncOf
// callback: the host's event loop, which delivers the connection's events,
// waits for the callback to return. Start a goroutine instead.
type Conn struct {
	ws       js.Value
	url      string
	cfg      *dialConfigJS
	protocol string

	incoming chan Message
	outgoing chan Message
	sends    chan *sendJS
	opened   chan struct{} // closed by the open event
	closeReq chan struct{} // closed by the first close: the writer sends the close frame after what was queued
	done     chan struct{} // closed when the connection has ended

	ctx    context.Context
	cancel context.CancelFunc

	mu           sync.Mutex
	closing      bool // a close was asked for; Send refuses from now on
	closeCode    StatusCode
	closeReason  string
	closeSent    bool // the host was asked to close: a close event is ours, not the peer's
	ended        bool
	err          error
	backlog      []Message // received messages waiting behind a full Incoming
	backlogBytes int64
	pumping      bool // a goroutine moves backlog into Incoming; it closes Incoming at the end
	funcs        []js.Func
	stopLife     func() bool

	messagesIn, bytesIn   atomic.Uint64
	messagesOut, bytesOut atomic.Uint64
	dropped               atomic.Uint64
	queued                atomic.Int64
}

// sendJS is one Send waiting for the writer. state decides, once, whether
// the writer takes it or the Send gave up first; a taken one is always
// answered on done.
type sendJS struct {
	ctx   context.Context
	msg   Message
	state atomic.Int32
	done  chan error // capacity 1
}

const (
	sendQueuedJS int32 = iota
	sendTakenJS
	sendAbandonedJS
)

var uint8Array = js.Global().Get("Uint8Array")

// newConnJS creates the host WebSocket for url and installs its handlers.
// The constructor throws (a SyntaxError) on a URL it refuses.
func newConnJS(ctor js.Value, url string, cfg *dialConfigJS) (c *Conn, err error) {
	c = &Conn{
		url:      url,
		cfg:      cfg,
		incoming: make(chan Message, cfg.incomingBuffer),
		outgoing: make(chan Message, cfg.outgoingBuffer),
		sends:    make(chan *sendJS),
		opened:   make(chan struct{}),
		closeReq: make(chan struct{}),
		done:     make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ws: the host WebSocket refused %q: %v", url, r)
		}
	}()
	protocols := make([]any, len(cfg.subprotocols))
	for i, p := range cfg.subprotocols {
		protocols[i] = p
	}
	c.ws = ctor.New(url, protocols)
	c.ws.Set("binaryType", "arraybuffer")
	c.handle("onopen", func(js.Value) { close(c.opened) })
	c.handle("onmessage", c.onMessage)
	c.handle("onclose", c.onClose)
	c.handle("onerror", c.onError)
	return c, nil
}

// onError ends a connection that never opened. The WebSocket API follows
// every error event with a close event, which ends an open connection; but
// Node 20's WebSocket (undici) fires no close event after a refused
// handshake, so before the open event the error itself ends the connection,
// with the close event's code for a failed connection, 1006. Browsers give
// the event no detail; Node's has a message, which goes into Err.
func (c *Conn) onError(ev js.Value) {
	select {
	case <-c.opened:
		return
	default:
	}
	var err error = ErrUnclean
	if ev.Type() == js.TypeObject {
		if msg := ev.Get("message"); msg.Type() == js.TypeString && msg.String() != "" {
			err = fmt.Errorf("%w: %s", ErrUnclean, msg.String())
		}
	}
	c.end(&CloseError{Code: StatusAbnormalClosure, Err: err})
}

// handle sets the host's event handler name to fn.
func (c *Conn) handle(name string, fn func(ev js.Value)) {
	f := js.FuncOf(func(_ js.Value, args []js.Value) any {
		var ev js.Value
		if len(args) > 0 {
			ev = args[0]
		}
		fn(ev)
		return nil
	})
	c.funcs = append(c.funcs, f)
	c.ws.Set(name, f)
}

// start runs the writer and the lifetime once the connection is open.
func (c *Conn) start() {
	c.protocol = c.ws.Get("protocol").String()
	go c.writeLoop()
	if life := c.cfg.lifetime; life != nil {
		stop := context.AfterFunc(life, func() {
			ctx, cancel := context.WithTimeout(context.Background(), c.cfg.closeGrace)
			defer cancel()
			_ = c.closeWith(ctx, StatusNormalClosure, "going away")
		})
		c.mu.Lock()
		if c.ended {
			stop()
		} else {
			c.stopLife = stop
		}
		c.mu.Unlock()
	}
}

// onMessage runs on the host's event loop: it must not block.
func (c *Conn) onMessage(ev js.Value) {
	data := ev.Get("data")
	var m Message
	if data.Type() == js.TypeString {
		m = Text(data.String())
	} else {
		u8 := uint8Array.New(data)
		m = Message{Type: BinaryMessage, Data: make([]byte, u8.Get("length").Int())}
		js.CopyBytesToGo(m.Data, u8)
	}
	c.messagesIn.Add(1)
	c.bytesIn.Add(uint64(len(m.Data)))
	if int64(len(m.Data)) > c.cfg.maxMessageSize {
		c.fail(StatusMessageTooBig, "message too big", errMessageTooBig)
		return
	}
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	if len(c.backlog) == 0 {
		select {
		case c.incoming <- m:
			c.mu.Unlock()
			return
		default:
		}
	}
	if c.backlogBytes+int64(len(m.Data)) > c.cfg.maxMessageSize && len(c.backlog) > 0 {
		c.mu.Unlock()
		c.fail(StatusPolicyViolation, "receiver too slow", ErrReceiveBacklog)
		return
	}
	c.backlog = append(c.backlog, m)
	c.backlogBytes += int64(len(m.Data))
	if !c.pumping {
		c.pumping = true
		go c.pump()
	}
	c.mu.Unlock()
}

// pump moves the backlog into Incoming in order, off the event loop. While
// it runs it owns closing Incoming.
func (c *Conn) pump() {
	for {
		c.mu.Lock()
		if c.ended {
			c.pumping = false
			close(c.incoming)
			c.mu.Unlock()
			return
		}
		if len(c.backlog) == 0 {
			c.pumping = false
			c.mu.Unlock()
			return
		}
		m := c.backlog[0]
		c.mu.Unlock()
		select {
		case c.incoming <- m:
			c.mu.Lock()
			if !c.ended {
				c.backlog[0] = Message{}
				c.backlog = c.backlog[1:]
				c.backlogBytes -= int64(len(m.Data))
			}
			c.mu.Unlock()
		case <-c.done:
		}
	}
}

// onClose turns the host's close event into the connection's end.
func (c *Conn) onClose(ev js.Value) {
	ce := &CloseError{
		Code:   StatusCode(ev.Get("code").Int()),
		Reason: ev.Get("reason").String(),
	}
	if !ev.Get("wasClean").Bool() {
		ce.Err = ErrUnclean
	}
	// 1006 says no close frame came: the peer did not start a handshake.
	c.mu.Lock()
	ce.Remote = !c.closeSent && ce.Code != StatusAbnormalClosure
	c.mu.Unlock()
	c.end(ce)
}

// fail ends the connection on our side for a limit the peer broke: the
// close frame goes without a code, since the WebSocket API may send only
// 1000 and 3000-4999, and Err holds code.
func (c *Conn) fail(code StatusCode, reason string, cause error) {
	c.hostClose(StatusNoStatusRcvd, "")
	c.end(&CloseError{Code: code, Reason: reason, Err: cause})
}

// hostClose asks the host to close, once.
func (c *Conn) hostClose(code StatusCode, reason string) {
	c.mu.Lock()
	if c.closeSent || c.ended {
		c.mu.Unlock()
		return
	}
	c.closeSent = true
	c.mu.Unlock()
	defer func() { _ = recover() }() // the host throws only on arguments validated by Close
	if code == StatusNoStatusRcvd {
		c.ws.Call("close")
	} else {
		c.ws.Call("close", int(code), reason)
	}
}

// end ends the connection with err, once: Err is set, Done is closed, then
// Incoming (by the pump if it runs), and the host's handlers are removed.
func (c *Conn) end(err error) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	c.err = err
	c.backlog, c.backlogBytes = nil, 0
	close(c.done)
	if !c.pumping {
		close(c.incoming)
	}
	stop := c.stopLife
	funcs := c.funcs
	c.funcs = nil
	c.mu.Unlock()
	c.cancel()
	if stop != nil {
		stop()
	}
	for _, name := range []string{"onopen", "onmessage", "onclose", "onerror"} {
		c.ws.Set(name, js.Null())
	}
	for _, f := range funcs {
		f.Release()
	}
}

// writeLoop hands messages to the host in order: what Outgoing brings,
// Sends (after what Outgoing held when they came), then the close frame.
func (c *Conn) writeLoop() {
	for {
		select {
		case m := <-c.outgoing:
			_ = c.write(context.Background(), m, true)
		case r := <-c.sends:
			c.drainOutgoing()
			c.runSend(r)
		case <-c.closeReq:
			c.drainOutgoing()
			c.mu.Lock()
			code, reason := c.closeCode, c.closeReason
			c.mu.Unlock()
			c.hostClose(code, reason)
			c.afterClose()
			return
		case <-c.done:
			return
		}
	}
}

// afterClose refuses what comes after the close frame until the end.
func (c *Conn) afterClose() {
	for {
		select {
		case <-c.outgoing:
			c.dropped.Add(1)
		case r := <-c.sends:
			if r.state.CompareAndSwap(sendQueuedJS, sendTakenJS) {
				r.done <- ErrClosed
			}
		case <-c.done:
			return
		}
	}
}

func (c *Conn) drainOutgoing() {
	for {
		select {
		case m := <-c.outgoing:
			_ = c.write(context.Background(), m, true)
		default:
			return
		}
	}
}

func (c *Conn) runSend(r *sendJS) {
	if !r.state.CompareAndSwap(sendQueuedJS, sendTakenJS) {
		return // its Send gave up
	}
	r.done <- c.write(r.ctx, r.msg, false)
}

// write waits for room in the host's send buffer, then hands m to it. A
// message from Outgoing that is not sent counts as dropped; a Send's
// caller gets the error instead.
func (c *Conn) write(ctx context.Context, m Message, fromOutgoing bool) error {
	if m.Type != TextMessage && m.Type != BinaryMessage {
		c.dropped.Add(1)
		return actor.ErrInvalidMessageType
	}
	if err := c.waitBuffered(ctx); err != nil {
		if fromOutgoing {
			c.dropped.Add(1)
		}
		return err
	}
	select {
	case <-c.done:
		c.dropped.Add(1)
		return ErrClosed
	default:
	}
	if err := c.hostSend(m); err != nil {
		c.dropped.Add(1)
		return err
	}
	c.messagesOut.Add(1)
	c.bytesOut.Add(uint64(len(m.Data)))
	return nil
}

func (c *Conn) hostSend(m Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ws: write: the host WebSocket refused the message: %v", r)
		}
	}()
	if m.Type == TextMessage {
		c.ws.Call("send", string(m.Data))
		return nil
	}
	u8 := uint8Array.New(len(m.Data))
	js.CopyBytesToJS(u8, m.Data)
	c.ws.Call("send", u8)
	return nil
}

// Polling bounds of waitBuffered: the host reports no event when its send
// buffer drains, so the writer looks again after 1 ms, doubling up to 16 ms.
const (
	pollMin = time.Millisecond
	pollMax = 16 * time.Millisecond
)

// waitBuffered returns once the host holds at most the send mark unsent.
func (c *Conn) waitBuffered(ctx context.Context) error {
	limit := float64(c.cfg.sendBuffer)
	if c.ws.Get("bufferedAmount").Float() <= limit {
		return nil
	}
	var expired <-chan time.Time
	if d := c.cfg.writeTimeout; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		expired = t.C
	}
	poll := time.NewTimer(pollMin)
	defer poll.Stop()
	for d := pollMin; ; {
		select {
		case <-poll.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return ErrClosed
		case <-expired:
			c.hostClose(StatusNoStatusRcvd, "")
			c.end(errWriteTimeout)
			return errWriteTimeout
		}
		if c.ws.Get("bufferedAmount").Float() <= limit {
			return nil
		}
		d = min(2*d, pollMax)
		poll.Reset(d)
	}
}

// Incoming returns the channel of received data messages. It is closed
// right after Done; messages still waiting behind a full Incoming then are
// dropped. Each Message's Data is the receiver's to keep.
func (c *Conn) Incoming() <-chan Message { return c.incoming }

// Outgoing returns the channel of messages to send, handed to the host in
// order. It is never closed. A Message whose Type is not text or binary is
// not sent and counted in Stats().OutgoingDropped; so is every message sent
// after the close frame, and what Outgoing still held when the connection
// ended. From then on Outgoing returns a fresh channel with room for one
// message that nothing reads, so c.Outgoing() <- m never blocks on a
// connection that is over.
func (c *Conn) Outgoing() chan<- Message {
	select {
	case <-c.done:
		for {
			select {
			case <-c.outgoing:
				c.dropped.Add(1)
			default:
				return make(chan Message, 1)
			}
		}
	default:
		return c.outgoing
	}
}

// Send hands m to the host after the messages queued before it and returns
// nil once the host has taken it (see Conn for what that means under js),
// ErrClosed once the connection has ended or started its close handshake,
// or ctx's error if ctx ended before m was handed over (m is then not
// sent; the connection goes on). Messages one goroutine put on Outgoing
// before calling Send go out before Send's message. A Message whose Type is
// not text or binary is refused with actor.ErrInvalidMessageType.
func (c *Conn) Send(ctx context.Context, m Message) error {
	if m.Type != TextMessage && m.Type != BinaryMessage {
		return actor.ErrInvalidMessageType
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	refused := c.ended || c.closing
	c.mu.Unlock()
	if refused {
		return ErrClosed
	}
	r := &sendJS{ctx: ctx, msg: m, done: make(chan error, 1)}
	c.queued.Add(1)
	defer c.queued.Add(-1)
	select {
	case c.sends <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return ErrClosed
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(sendQueuedJS, sendAbandonedJS) {
			return ctx.Err()
		}
		return <-r.done
	}
}

// Receive returns the next received message, waiting for it until ctx ends
// (ctx's error) or no more messages can come (ErrClosed; Err says why).
func (c *Conn) Receive(ctx context.Context) (Message, error) {
	select {
	case m, ok := <-c.incoming:
		if !ok {
			return Message{}, ErrClosed
		}
		return m, nil
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

// Ping returns ErrPingUnsupported under js: the WebSocket API cannot send
// a ping. The host still answers the peer's pings.
func (c *Conn) Ping(ctx context.Context) (time.Duration, error) {
	return 0, ErrPingUnsupported
}

// Close runs the close handshake: the close frame with code and reason
// goes after the messages already queued, then Close waits for the host's
// close event and returns nil if the handshake completed (wasClean),
// whoever started it, else Err. ctx and the close grace period bound the
// wait: when either ends first, the connection ends on our side (Err a
// *CloseError with our code and ctx's error or actor.ErrCloseTimeout) and
// the host finishes the handshake unseen; Close then returns ctx's error
// or Err.
//
// The WebSocket API sends only StatusNormalClosure and 3000–4999;
// StatusNoStatusRcvd sends a close frame without a code. Any other code,
// or a reason over 123 bytes or not UTF-8, is refused with an error and
// nothing is sent. Close may be called any number of times from any
// goroutine; only the first close frame is sent.
func (c *Conn) Close(ctx context.Context, code StatusCode, reason string) error {
	var arr [frame.MaxControlPayload]byte
	if _, err := frame.AppendClosePayload(arr[:0], code, reason); err != nil {
		return err
	}
	if code != StatusNormalClosure && code != StatusNoStatusRcvd && (code < 3000 || code > 4999) {
		return fmt.Errorf("ws: close code %d cannot be sent under js: the WebSocket API sends only 1000 and 3000-4999", code)
	}
	return c.closeWith(ctx, code, reason)
}

func (c *Conn) closeWith(ctx context.Context, code StatusCode, reason string) error {
	c.mu.Lock()
	if !c.closing && !c.ended {
		c.closing = true
		c.closeCode, c.closeReason = code, reason
		close(c.closeReq)
	}
	code, reason = c.closeCode, c.closeReason
	c.mu.Unlock()
	grace := time.NewTimer(c.cfg.closeGrace)
	defer grace.Stop()
	select {
	case <-c.done:
		return c.closeResult()
	case <-ctx.Done():
		c.end(&CloseError{Code: code, Reason: reason, Err: ctx.Err()})
		if c.closeResult() == nil {
			return nil
		}
		return ctx.Err()
	case <-grace.C:
		c.end(&CloseError{Code: code, Reason: reason, Err: actor.ErrCloseTimeout})
		return c.closeResult()
	}
}

// closeResult is Close's answer once the connection has ended: nil if the
// close handshake completed.
func (c *Conn) closeResult() error {
	err := c.Err()
	var ce *CloseError
	if errors.As(err, &ce) && ce.Err == nil {
		return nil
	}
	return err
}

// CloseNow asks the host to close (it cannot skip the close handshake: the
// WebSocket API has no way to drop the socket) and ends the connection on
// our side at once, with ErrClosed; it returns Err. A connection that
// already ended is left as it was.
func (c *Conn) CloseNow() error {
	c.hostClose(StatusNoStatusRcvd, "")
	c.end(ErrClosed)
	return c.Err()
}

// Done returns a channel closed when the connection has ended: the host's
// close event came, or the connection ended on our side.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended, or nil while it is open: a
// *CloseError from the close event (see CloseError), ErrClosed after
// CloseNow, or a write timeout error.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Context returns a context cancelled when the connection has ended.
func (c *Conn) Context() context.Context { return c.ctx }

// Subprotocol returns the subprotocol the server chose, as the host
// reports it (WebSocket.protocol).
func (c *Conn) Subprotocol() string { return c.protocol }

// LocalAddr returns an address of network "websocket" whose String is
// empty: the host does not tell a page its local address.
func (c *Conn) LocalAddr() net.Addr { return addrJS("") }

// RemoteAddr returns an address of network "websocket" whose String is the
// URL the connection was opened to.
func (c *Conn) RemoteAddr() net.Addr { return addrJS(c.url) }

// Stats returns the connection's counters. Under js RTT is always 0 and
// IncomingQueued counts the messages waiting behind a full Incoming too.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	backlog := len(c.backlog)
	c.mu.Unlock()
	return Stats{
		MessagesIn:      c.messagesIn.Load(),
		MessagesOut:     c.messagesOut.Load(),
		BytesIn:         c.bytesIn.Load(),
		BytesOut:        c.bytesOut.Load(),
		IncomingQueued:  len(c.incoming) + backlog,
		OutgoingQueued:  len(c.outgoing) + int(c.queued.Load()),
		OutgoingDropped: c.dropped.Load(),
	}
}

// addrJS is the address of a connection run by the host.
type addrJS string

func (addrJS) Network() string  { return "websocket" }
func (a addrJS) String() string { return string(a) }
