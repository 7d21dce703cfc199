package ws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// NetConn returns a net.Conn that carries a byte stream over c in messages
// of type typ, to run a stream protocol (TLS, SSH, yamux, HTTP/1) through a
// WebSocket. It takes over c's receiving side: nothing else may read c's
// Incoming (or call Receive) while it is in use. NetConn panics if typ is
// neither TextMessage nor BinaryMessage. Prefer BinaryMessage: with
// TextMessage every Write must be valid UTF-8 on its own, since the peer
// fails the connection with 1007 otherwise (RFC 6455 §8.1).
//
// Write sends p as one message and returns once it has been written to the
// socket. An empty p sends nothing: a stream has no empty pieces, and an
// empty message would only wake the peer's Read for no bytes. The peer's
// limit on message size (WithMaxMessageSize) caps what one Write may carry;
// io.Copy's 32 KiB writes are far below the default.
//
// Read returns the bytes of the messages in the order they came: a message
// bigger than p is returned across several Reads, and one Read never spans
// two messages. Empty messages are skipped. A message of the other type
// fails the Read and closes c with 1003 (unsupported data, RFC 6455
// §7.4.1): a byte stream cannot skip part of itself. Once c has ended with
// a completed close handshake whose code was 1000 (normal closure), 1001
// (going away) or none (1005), Read returns io.EOF, after every message
// that came before the close frame has been read; after any other end it
// returns an error that matches c's Err and io.ErrUnexpectedEOF, never
// io.EOF (errors.Is, errors.As).
//
// The methods are safe for concurrent use, as net.Conn's are: concurrent
// Writes each go out as one whole message, and concurrent Reads each get
// bytes of their own.
//
// Deadlines (SetDeadline, SetReadDeadline, SetWriteDeadline) follow
// net.Conn: a Read or Write still blocked when its deadline passes, or
// started after that, returns an error that is a net.Error whose Timeout
// reports true and that matches os.ErrDeadlineExceeded with errors.Is; a
// later deadline makes them work again. A read deadline never costs data or
// the connection, since a message is taken from c whole or not at all. A
// WebSocket message cannot be cut short, though: the connection ends if a
// Send's ctx ends in the middle of its message, as the stream could not go
// on after part of a frame. So a Write whose deadline passes before its
// message has been handed to c returns 0 and sends nothing, while one whose
// deadline passes after that returns len(p) and the timeout: its message is
// still written whole, in order, and the next Write waits for it (bounded
// by its own deadline). The connection survives both.
//
// Close closes c with 1000 (normal closure) and returns once the close
// handshake is over (bounded by the close grace period), nil if it
// completed. Reads and Writes pending then return an error matching
// net.ErrClosed, as does every call made after it; a message whose Write
// was pending may or may not have been sent. When ctx ends, the NetConn is
// closed the same way, and the errors match ctx's error too, unless c had
// ended before (a Handler's ctx ends because c did: Read still reports
// that end). ctx does not bound a Write that has begun: its message is
// written whole, or c ends.
//
// LocalAddr and RemoteAddr are those of c's socket.
func NetConn(ctx context.Context, c *Conn, typ MessageType) net.Conn {
	if typ != TextMessage && typ != BinaryMessage {
		panic("ws: NetConn: message type must be TextMessage or BinaryMessage")
	}
	nc := &netConn{
		c:         c,
		typ:       typ,
		closed:    make(chan struct{}),
		readTurn:  make(chan struct{}, 1),
		writeTurn: make(chan struct{}, 1),
		rd:        newDeadline(),
		wd:        newDeadline(),
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() {
			select {
			case <-c.Done():
				// c ended first, and its end is what Read reports: a
				// Handler's ctx, for one, is cancelled because c ended.
				return
			default:
			}
			cause := fmt.Errorf("%w: %w", net.ErrClosed, context.Cause(ctx))
			if nc.markClosed(cause) {
				_ = nc.closeConn()
			}
		})
		// Forget ctx once c has ended, so that a long-lived ctx does not
		// keep every NetConn made from it.
		nc.stopWatch = stop
		context.AfterFunc(c.Context(), func() { stop() })
	}
	return nc
}

// netConn is the net.Conn of NetConn.
type netConn struct {
	c         *Conn
	typ       MessageType
	stopWatch func() bool // stops the watch of NetConn's ctx; nil without one

	closed    chan struct{} // closed by Close or by the end of NetConn's ctx
	closeOnce sync.Once
	closeErr  error // why closed was closed; written before it is

	// readTurn (capacity 1) is held by the one Read running: a waiting
	// Read can still give up at its deadline.
	readTurn chan struct{}
	rd       deadline
	// The message being read, held by the Read that has the turn.
	msg  Message // its buffer goes back (Release) once read
	rest []byte  // what is left of msg.Data
	rerr error   // sticky: io.EOF, or why reading failed

	// writeTurn (capacity 1) is held by a Write from the moment it hands
	// its message over until the message is written; a Write that returned
	// at its deadline leaves it to its sender.
	writeTurn chan struct{}
	wd        deadline
}

var _ net.Conn = (*netConn)(nil)

func (nc *netConn) Read(p []byte) (int, error) {
	select {
	case nc.readTurn <- struct{}{}:
	case <-nc.closed:
		return 0, nc.opErr("read", nc.closeErr)
	case <-nc.rd.wait():
		return 0, nc.opErr("read", os.ErrDeadlineExceeded)
	}
	defer func() { <-nc.readTurn }()
	if err := nc.readable(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for len(nc.rest) == 0 {
		select {
		case m, ok := <-nc.c.Incoming():
			if !ok {
				nc.rerr = nc.endErr()
				return 0, nc.rerr
			}
			if m.Type != nc.typ {
				m.Release()
				nc.rerr = nc.wrongType(m.Type)
				return 0, nc.rerr
			}
			if len(m.Data) == 0 {
				m.Release()
				continue
			}
			nc.msg, nc.rest = m, m.Data
		case <-nc.closed:
			return 0, nc.opErr("read", nc.closeErr)
		case <-nc.rd.wait():
			return 0, nc.opErr("read", os.ErrDeadlineExceeded)
		}
	}
	n := copy(p, nc.rest)
	nc.rest = nc.rest[n:]
	if len(nc.rest) == 0 {
		nc.msg.Release()
		nc.msg, nc.rest = Message{}, nil
	}
	return n, nil
}

// readable reports why the Read holding the turn cannot read, if it cannot:
// Close and a passed deadline win over data already there, as on a socket.
func (nc *netConn) readable() error {
	select {
	case <-nc.closed:
		return nc.opErr("read", nc.closeErr)
	default:
	}
	select {
	case <-nc.rd.wait():
		return nc.opErr("read", os.ErrDeadlineExceeded)
	default:
	}
	return nc.rerr
}

// endErr is what Read returns once c's Incoming is closed: io.EOF when the
// peer ended the stream with a normal close, else c's Err.
func (nc *netConn) endErr() error {
	err := nc.c.Err()
	if cleanClose(err) {
		return io.EOF
	}
	if err == nil {
		err = ErrClosed
	}
	return nc.opErr("read", &streamEndError{err})
}

// streamEndError is Read's error after the connection ended other than by
// a normal close. It matches what c's Err matches (errors.Is, errors.As)
// and io.ErrUnexpectedEOF, but never io.EOF: a stream reader takes io.EOF
// for the peer ending the stream on purpose, while a socket closed without
// a close frame ("actor: read: EOF") may have cut it anywhere.
type streamEndError struct{ err error }

func (e *streamEndError) Error() string {
	return "ws: NetConn: the connection ended without a normal close: " + e.err.Error()
}

// Is reports whether c's Err matches target, io.EOF excepted, or target is
// io.ErrUnexpectedEOF.
func (e *streamEndError) Is(target error) bool {
	return target == io.ErrUnexpectedEOF || (target != io.EOF && errors.Is(e.err, target))
}

// As finds target in c's Err. There is no Unwrap, so that errors.Is cannot
// reach an io.EOF inside it.
func (e *streamEndError) As(target any) bool { return errors.As(e.err, target) }

// cleanClose reports whether err is the end of a close handshake that
// completed with 1000, 1001 or no code (1005, a browser's close() without
// arguments): the peer meant to stop, and all it sent before was received.
func cleanClose(err error) bool {
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Err != nil {
		return false
	}
	switch ce.Code {
	case StatusNormalClosure, StatusGoingAway, StatusNoStatusRcvd:
		return true
	}
	return false
}

// wrongType closes c with 1003 for a message of type got and returns the
// Read's error, which wraps c's Err.
func (nc *netConn) wrongType(got MessageType) error {
	_ = nc.c.Close(context.Background(), StatusUnsupportedData, "expected "+nc.typ.String()+" messages")
	return nc.opErr("read", fmt.Errorf("ws: NetConn: got a %v message on a %v stream: %w", got, nc.typ, nc.c.Err()))
}

// writeOp is one Write's message on its way: Send runs on a goroutine of
// its own so that the Write can return at its deadline without cutting the
// message. state decides once whether the Write waits for the result
// (waiting -> finished) or has left (waiting -> abandoned), in which case
// the sender cleans up and passes the write turn on.
type writeOp struct {
	buf   []byte // a copy of p: the caller may reuse p once Write returns
	state atomic.Int32
	err   error
	done  chan struct{} // capacity 1; signalled once when finished
}

const (
	opWaiting int32 = iota
	opFinished
	opAbandoned
)

// maxPooledWrite bounds the buffers writeOps keep in writePool, so that one
// big Write does not pin its copy.
const maxPooledWrite = 64 << 10

var writePool = sync.Pool{New: func() any { return &writeOp{done: make(chan struct{}, 1)} }}

func getWriteOp(p []byte) *writeOp {
	op := writePool.Get().(*writeOp)
	op.buf = append(op.buf[:0], p...)
	op.state.Store(opWaiting)
	op.err = nil
	return op
}

func putWriteOp(op *writeOp) {
	if cap(op.buf) > maxPooledWrite {
		op.buf = nil
	}
	op.err = nil
	writePool.Put(op)
}

func (nc *netConn) Write(p []byte) (int, error) {
	if err := nc.writable(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	select {
	case nc.writeTurn <- struct{}{}:
	case <-nc.closed:
		return 0, nc.opErr("write", nc.closeErr)
	case <-nc.wd.wait():
		return 0, nc.opErr("write", os.ErrDeadlineExceeded)
	}
	if err := nc.writable(); err != nil {
		<-nc.writeTurn
		return 0, err
	}
	op := getWriteOp(p)
	go nc.send(op)
	var err error
	select {
	case <-op.done:
		return nc.finishWrite(op, len(p))
	case <-nc.closed:
		err = nc.opErr("write", nc.closeErr)
	case <-nc.wd.wait():
		err = nc.opErr("write", os.ErrDeadlineExceeded)
	}
	if op.state.CompareAndSwap(opWaiting, opAbandoned) {
		return len(p), err // the message is on its way; send cleans up
	}
	<-op.done // written (or failed) just now
	return nc.finishWrite(op, len(p))
}

// writable reports why a Write cannot start, if it cannot.
func (nc *netConn) writable() error {
	select {
	case <-nc.closed:
		return nc.opErr("write", nc.closeErr)
	default:
	}
	select {
	case <-nc.wd.wait():
		return nc.opErr("write", os.ErrDeadlineExceeded)
	default:
	}
	return nil
}

// send writes op's message. The ctx never ends: a Send interrupted mid
// message would end the connection, so deadlines stop the wait in Write
// instead.
func (nc *netConn) send(op *writeOp) {
	op.err = nc.c.Send(context.Background(), Message{Type: nc.typ, Data: op.buf})
	if op.state.CompareAndSwap(opWaiting, opFinished) {
		op.done <- struct{}{}
		return
	}
	putWriteOp(op)
	<-nc.writeTurn
}

// finishWrite reports a Write whose message Send has finished with.
func (nc *netConn) finishWrite(op *writeOp, n int) (int, error) {
	err := op.err
	putWriteOp(op)
	<-nc.writeTurn
	if err != nil {
		if errors.Is(err, ErrClosed) {
			if cerr := nc.c.Err(); cerr != nil {
				err = fmt.Errorf("%w: %w", err, cerr)
			}
		}
		return 0, nc.opErr("write", err)
	}
	return n, nil
}

func (nc *netConn) Close() error {
	if !nc.markClosed(net.ErrClosed) {
		return nc.opErr("close", net.ErrClosed)
	}
	if nc.stopWatch != nil {
		nc.stopWatch()
	}
	if err := nc.closeConn(); err != nil {
		return nc.opErr("close", err)
	}
	return nil
}

// markClosed closes nc.closed with cause, once; it reports whether this
// call did.
func (nc *netConn) markClosed(cause error) bool {
	first := false
	nc.closeOnce.Do(func() {
		nc.closeErr = cause
		close(nc.closed)
		first = true
	})
	return first
}

// closeConn runs c's close handshake with 1000 and stops the deadline
// timers.
func (nc *netConn) closeConn() error {
	nc.rd.stop()
	nc.wd.stop()
	return nc.c.Close(context.Background(), StatusNormalClosure, "")
}

func (nc *netConn) LocalAddr() net.Addr  { return nc.c.LocalAddr() }
func (nc *netConn) RemoteAddr() net.Addr { return nc.c.RemoteAddr() }

func (nc *netConn) SetDeadline(t time.Time) error {
	if err := nc.setDeadline(&nc.rd, t); err != nil {
		return err
	}
	return nc.setDeadline(&nc.wd, t)
}

func (nc *netConn) SetReadDeadline(t time.Time) error  { return nc.setDeadline(&nc.rd, t) }
func (nc *netConn) SetWriteDeadline(t time.Time) error { return nc.setDeadline(&nc.wd, t) }

func (nc *netConn) setDeadline(d *deadline, t time.Time) error {
	select {
	case <-nc.closed:
		return nc.opErr("set", nc.closeErr)
	default:
	}
	d.set(t)
	return nil
}

// opErr wraps err the way a socket's methods do, so that callers that look
// for *net.OpError, net.ErrClosed or a Timeout find them.
func (nc *netConn) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: "websocket", Source: nc.c.LocalAddr(), Addr: nc.c.RemoteAddr(), Err: err}
}

// deadline is one direction's deadline: a channel closed once it has
// passed, replaced when a later deadline is set.
type deadline struct {
	mu    sync.Mutex
	gen   uint64 // counts sets; a timer fires only for the set that armed it
	timer *time.Timer
	ch    chan struct{}
}

func newDeadline() deadline { return deadline{ch: make(chan struct{})} }

// set makes t the deadline; the zero time means none.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	passed := isClosed(d.ch)
	if t.IsZero() {
		if passed {
			d.ch = make(chan struct{})
		}
		return
	}
	dur := time.Until(t)
	if dur <= 0 {
		if !passed {
			close(d.ch)
		}
		return
	}
	if passed {
		d.ch = make(chan struct{})
	}
	gen := d.gen
	d.timer = time.AfterFunc(dur, func() { d.expire(gen) })
}

// expire closes the channel for the set numbered gen, unless another set
// came since.
func (d *deadline) expire(gen uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.gen == gen && !isClosed(d.ch) {
		close(d.ch)
	}
}

// stop cancels a pending timer and leaves the channel as it is.
func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

// wait returns the channel closed once the deadline has passed.
func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
