package actor

import (
	"bufio"
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/wsactor/ws/frame"
)

// MessageType is the type of a data message: frame.OpText or frame.OpBinary.
// Control frames never appear as Messages.
type MessageType = frame.Opcode

// Message is a whole WebSocket data message (RFC 6455 §5.6). A received
// Message's Data belongs to the receiver. A Message sent on Outgoing or with
// Send is read by the connection until it is written; see those for when the
// caller may touch Data again.
type Message struct {
	Type MessageType
	Data []byte

	pool *freeList // where Release returns Data; nil unless WithRecycledBuffers
}

// Text returns a text Message holding a copy of s.
func Text(s string) Message { return Message{Type: frame.OpText, Data: []byte(s)} }

// Binary returns a binary Message holding b (not copied).
func Binary(b []byte) Message { return Message{Type: frame.OpBinary, Data: b} }

// Conn is one WebSocket connection after its handshake, run by a supervisor
// goroutine with a reader and a writer (see the package doc). All methods
// are safe for concurrent use by any number of goroutines.
type Conn struct {
	conn net.Conn
	br   *bufio.Reader
	role frame.Role
	cfg  config

	// Channels between the user and the connection's goroutines.
	incoming chan Message  // reader/supervisor -> user; closed after done
	outgoing chan Message  // user -> writer; never closed
	sends    chan *sendReq // Send -> writer
	pings    chan pingReq  // Ping -> supervisor
	closes   chan closeReq // Close -> supervisor
	abort    chan struct{} // closed once by Close whose ctx ended
	abortErr error         // written before abort is closed
	abortOne sync.Once     //
	done     chan struct{} // closed once after every goroutine returned
	err      error         // written before done is closed

	// Channels between the goroutines.
	readEv  chan readEvent  // reader -> supervisor
	credit  chan struct{}   // supervisor -> reader: the held message was delivered
	pongAck chan struct{}   // supervisor -> reader: the pong for its ping went to the writer (or was dropped)
	ctrl    chan ctrlFrame  // supervisor -> writer
	writeEv chan writeEvent // writer -> supervisor

	// The write side. fw belongs to the writer goroutine, except between a
	// receive from lend and the matching send on back, when a Send that
	// found the writer idle writes with it on its own goroutine.
	fw   *frame.Writer
	lend chan struct{} // writer -> Send: unbuffered, offered only when idle
	back chan error    // Send -> writer: the lent write's error; capacity 1

	// Waking a paused reader's read-ahead (see awaitCredit).
	wakeMu  sync.Mutex
	peeking bool // the reader is in a read-ahead; guarded by wakeMu
	woken   bool // the supervisor set a past read deadline; guarded by wakeMu

	stats stats
	free  *freeList // WithRecycledBuffers; nil without
}

// New starts a WebSocket connection over conn, whose handshake is done, in
// role (frame.Client or frame.Server). br, if not nil, is the reader the
// handshake used on conn and may hold bytes already read past it; the Conn
// reads through it from now on. With nil, New makes a reader of
// WithReadBufferSize bytes.
//
// New starts the connection's goroutines and returns at once; from then on
// the Conn owns conn and closes it when the connection ends, and owns the
// extension given WithExtension: if it is an io.Closer, it is closed after
// the reader and writer have stopped. If the options
// are invalid or the role is neither Client nor Server, New returns an error
// and leaves conn untouched (the caller closes it).
func New(conn net.Conn, br *bufio.Reader, role frame.Role, opts ...Option) (*Conn, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if role != frame.Client && role != frame.Server {
		return nil, ErrInvalidRole
	}
	br = readerFor(conn, br, cfg.readBuffer)
	c := &Conn{
		conn:     conn,
		br:       br,
		role:     role,
		cfg:      cfg,
		incoming: make(chan Message, cfg.incomingBuffer),
		outgoing: make(chan Message, cfg.outgoingBuffer),
		sends:    make(chan *sendReq, cfg.outgoingBuffer),
		pings:    make(chan pingReq),
		closes:   make(chan closeReq),
		abort:    make(chan struct{}),
		done:     make(chan struct{}),
		readEv:   make(chan readEvent),
		credit:   make(chan struct{}, 1),
		pongAck:  make(chan struct{}, 1),
		ctrl:     make(chan ctrlFrame),
		writeEv:  make(chan writeEvent),
		fw: frame.NewWriter(conn, role, frame.WriterConfig{
			FragmentSize: cfg.fragment,
			BufferSize:   cfg.writeBuffer,
			Extension:    cfg.extension,
		}),
		lend: make(chan struct{}),
		back: make(chan error, 1),
	}
	if cfg.recycle {
		// Enough for every message that can be in flight: Incoming, the
		// held one, the one being read, and one the user holds.
		c.free = newFreeList(cfg.incomingBuffer+3, cfg.recycleCheck)
	}
	go c.run()
	return c, nil
}

// readerFor returns the reader the connection reads through: br when it is
// no bigger than size, else one of size bytes that first yields what br had
// buffered (frame.Rebuffer). A handshake may read through a bigger buffer (a
// client's grows to MaxHeaderBytes for a long response head; a caller's own
// may be anything); keeping it for the connection's life would cost every
// idle connection the difference.
func readerFor(conn net.Conn, br *bufio.Reader, size int) *bufio.Reader {
	if br == nil {
		return bufio.NewReaderSize(conn, size)
	}
	if br.Size() <= size || br.Buffered() > size {
		return br
	}
	return frame.Rebuffer(conn, br, size)
}

// run is the supervisor goroutine (see supervise); it starts the reader and
// writer in an errgroup first. Each has a stated end: the supervisor returns
// the connection's final error (always non-nil) after closing the socket,
// then cancels the group's ctx; the reader and writer end when the socket is
// closed or that ctx is done. Reader and writer report failures to the
// supervisor instead of returning them, so that it can still send the right
// close frame. Running the supervisor on run's own goroutine saves one
// goroutine (and its stack) per connection.
func (c *Conn) run() {
	ctx, cancel := context.WithCancel(context.Background())
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.readLoop(gctx) })
	g.Go(func() error { return c.writeLoop(gctx) })
	err := c.supervise(gctx)
	cancel()
	_ = g.Wait()       // reader and writer return nil
	_ = c.conn.Close() // already closed by the supervisor; make sure
	if cl, ok := c.cfg.extension.(io.Closer); ok {
		_ = cl.Close() // e.g. deflate returns its compressor to the pool
	}
	c.err = err
	close(c.done)
	close(c.incoming) // after done, so Err is set when a range over Incoming ends
}

// Incoming returns the channel of received data messages. It is closed when
// the connection ends, after Done; Err then says why. Each Message's Data is
// the receiver's to keep (or to give back with Release, see
// WithRecycledBuffers). If nobody reads it and it fills, the connection
// stops reading the socket (see the package doc).
func (c *Conn) Incoming() <-chan Message { return c.incoming }

// Outgoing returns the channel of messages to send, written in order. It is
// never closed, so a send on it never panics; a sender should select on
// Done too, since once the connection ends (or has sent its close frame)
// nothing reads it. After sending a Message the caller must not modify its
// Data: the connection reads it until it is written and does not keep it
// afterwards. A Message whose Type is not text or binary ends the connection
// with ErrInvalidMessageType.
func (c *Conn) Outgoing() chan<- Message { return c.outgoing }

// Done returns a channel closed when the connection has ended: every
// goroutine has returned and the socket is closed. It is closed exactly
// once.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended, or nil before Done is closed. See
// CloseError for a close handshake; otherwise it is ErrPongTimeout, or an
// I/O error wrapped as "actor: read: ..." / "actor: write: ..." (errors.Is
// finds io.EOF, os.ErrDeadlineExceeded and the like underneath).
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Receive returns the next received message, waiting for it until ctx ends
// (ctx's error) or the connection ends (ErrClosed; Err says why). Cancelling
// ctx ends only this call. It is the same as receiving from Incoming.
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

// sendReq carries one Send to the writer. state decides, once, whether the
// writer writes it (queued -> taken) or the Send gave up first (queued ->
// abandoned); a taken request is always answered on done.
type sendReq struct {
	msg   Message
	state atomic.Int32
	err   error
	done  chan struct{} // capacity 1; the writer sends once per taken request
}

const (
	sendQueued int32 = iota
	sendTaken
	sendAbandoned
)

// sendPool recycles sendReqs so that Send does not allocate. A request goes
// back only when no other goroutine can still see it: after its done was
// received, or if it never reached the writer's queue.
var sendPool = sync.Pool{New: func() any { return &sendReq{done: make(chan struct{}, 1)} }}

// Send writes m and returns once it has been written to the socket (nil), or
// the connection has ended (ErrClosed, or the write's error), or ctx has
// ended before the writer started on m (ctx's error: m was not sent at all).
//
// Cancelling ctx ends only this call, never the connection, and never leaves
// the stream corrupt: if the writer has already started on m when ctx ends,
// Send waits until m is completely written (bounded by WithWriteTimeout or
// the connection's end) and reports that outcome. When Send returns,
// the connection no longer reads m.Data.
//
// When the writer is idle (nothing queued, no write in progress), Send
// writes m itself, on the caller's goroutine, saving two goroutine
// hand-offs; otherwise it queues m for the writer, with the same bound as
// Outgoing. Either way, messages one goroutine puts on Outgoing before
// calling Send are written before the Send's message.
func (c *Conn) Send(ctx context.Context, m Message) error {
	if m.Type != frame.OpText && m.Type != frame.OpBinary {
		return ErrInvalidMessageType
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The writer offers lend only while it waits with every queue empty,
	// in the same select as its queues: taking it means nothing queued
	// before us is still unwritten.
	select {
	case <-c.lend:
		err := c.writeLent(m)
		c.back <- err // capacity 1: never blocks
		return err
	default:
	}
	r := sendPool.Get().(*sendReq)
	r.msg = m
	r.err = nil
	r.state.Store(sendQueued)
	select {
	case c.sends <- r:
	case <-ctx.Done():
		r.msg = Message{}
		sendPool.Put(r)
		return ctx.Err()
	case <-c.done:
		r.msg = Message{}
		sendPool.Put(r)
		return ErrClosed
	}
	select {
	case <-r.done:
		return finishSend(r)
	case <-ctx.Done():
		if r.state.CompareAndSwap(sendQueued, sendAbandoned) {
			return ctx.Err() // never written; r stays with the writer's queue
		}
	case <-c.done:
		if r.state.CompareAndSwap(sendQueued, sendAbandoned) {
			return ErrClosed
		}
	}
	<-r.done // the writer took it: it finishes the message and answers
	return finishSend(r)
}

func finishSend(r *sendReq) error {
	err := r.err
	r.msg = Message{}
	r.err = nil
	sendPool.Put(r)
	return err
}

// pingReq asks the supervisor for a ping; the answer comes on reply.
type pingReq struct {
	ctx   context.Context
	reply chan time.Duration // capacity 1
}

// Ping sends a ping and returns the round-trip time until its pong (RFC
// 6455 §5.5.2, §5.5.3). Several concurrent Pings may share one ping frame.
// It blocks until the pong, ctx's end (ctx's error; the connection goes on)
// or the connection's end (ErrClosed).
func (c *Conn) Ping(ctx context.Context) (time.Duration, error) {
	r := pingReq{ctx: ctx, reply: make(chan time.Duration, 1)}
	select {
	case c.pings <- r:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-c.done:
		return 0, ErrClosed
	}
	select {
	case rtt := <-r.reply:
		return rtt, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-c.done:
		return 0, ErrClosed
	}
}

// closeReq asks the supervisor to start the close handshake.
type closeReq struct {
	code   frame.StatusCode
	reason string
}

// Close runs the close handshake (RFC 6455 §7.1.2): it queues a close frame
// with code and reason after the messages already queued, waits for the
// peer's close frame, and closes the socket. It returns nil if the handshake
// completed, whoever started it.
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
	select {
	case c.closes <- closeReq{code, reason}:
	case <-c.done:
		return c.closeResult()
	case <-ctx.Done():
		return c.abortWith(ctx.Err())
	}
	select {
	case <-c.done:
		return c.closeResult()
	case <-ctx.Done():
		return c.abortWith(ctx.Err())
	}
}

// abortWith closes the connection now and waits for its end.
func (c *Conn) abortWith(err error) error {
	c.abortOne.Do(func() {
		c.abortErr = err
		close(c.abort)
	})
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

// Subprotocol returns the subprotocol given with WithSubprotocol.
func (c *Conn) Subprotocol() string { return c.cfg.subprotocol }

// LocalAddr returns the socket's local address.
func (c *Conn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// RemoteAddr returns the socket's remote address.
func (c *Conn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }
