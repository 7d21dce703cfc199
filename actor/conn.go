package actor

import (
	"bufio"
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"

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
	// Uncompressed, on a message to send, sends it as it is even when the
	// connection negotiated compression (permessage-deflate): for data
	// already compressed (images, archives), which DEFLATE would only
	// grow, or too short to gain. RFC 7692 §6 lets every message choose;
	// an uncompressed message leaves both sides' compression contexts
	// untouched, so it may come between compressed ones on a connection
	// with context takeover. Received messages have it false. A field,
	// not a Send option, so that Outgoing and Prepare honour it too; it
	// sits in the padding after Type, so a Message stays 40 bytes (on
	// 64-bit platforms) as it is copied through Incoming and Outgoing.
	Uncompressed bool
	Data         []byte

	pool *freeList // where Release returns Data; nil unless WithRecycledBuffers
}

// Text returns a text Message holding a copy of s.
func Text(s string) Message { return Message{Type: frame.OpText, Data: []byte(s)} }

// Binary returns a binary Message holding b (not copied).
func Binary(b []byte) Message { return Message{Type: frame.OpBinary, Data: b} }

// Conn is one WebSocket connection after its handshake, run by a reader and
// a writer goroutine (see the package doc). All methods are safe for
// concurrent use by any number of goroutines.
type Conn struct {
	conn net.Conn
	br   *bufio.Reader
	role frame.Role
	cfg  config

	incoming chan Message  // reader -> user; closed once no message can follow
	outgoing chan Message  // user -> writer goroutine; never closed
	kick     chan struct{} // capacity 1: there is work for the writer goroutine
	stop     chan struct{} // closed once, by shutdown, when the connection starts ending
	readDone chan struct{} // closed when the reader goroutine returns
	idle     chan struct{} // capacity 1: the write right, passed to the waiting writer goroutine
	credit   chan struct{} // capacity 1: the message the reader held back was delivered
	done     chan struct{} // closed once after both goroutines returned
	err      error         // written before done is closed

	// fw is used only by the holder of the write right (state.writing):
	// the writer goroutine, or a Send writing its message itself.
	fw *frame.Writer

	mu sync.Mutex
	st state // guarded by mu

	// ctrlPending is true while a pong or ping waits to be written; the
	// holder of the write right checks it between messages and fragments
	// without taking mu.
	ctrlPending atomic.Bool
	// outgoingUsed is set by the first call of Outgoing: from then on Send
	// queues behind Outgoing instead of writing itself (see Send).
	outgoingUsed atomic.Bool
	// queued counts Sends waiting in state.queue, for Stats.
	queued atomic.Int64
	// writeProgress counts completed writes (messages, fragments,
	// flushes): keepalive tells a slow write from a stalled one by it.
	writeProgress atomic.Uint64

	// Waking a paused reader's read-ahead (see awaitCredit).
	wakeMu  sync.Mutex
	peeking bool // the reader is in a read-ahead; guarded by wakeMu
	woken   bool // a past read deadline was set to wake it; guarded by wakeMu
	// aheadReads counts the read-aheads of a paused reader that brought
	// bytes: the peer is sending, even if a pong is behind them.
	aheadReads atomic.Uint64

	budget budget // bytes in Incoming; used by whoever delivers
	stats  stats
	free   *freeList // WithRecycledBuffers; nil without
}

// New starts a WebSocket connection over conn, whose handshake is done, in
// role (frame.Client or frame.Server). br, if not nil, is the reader the
// handshake used on conn and may hold bytes already read past it; the Conn
// reads through it from now on. With nil, New makes a reader of
// WithReadBufferSize bytes.
//
// New starts the connection's two goroutines and returns at once; from
// then on the Conn owns conn and closes it when the connection ends, and
// owns the extension given WithExtension: if it is an io.Closer, it is
// closed after the reader and writer have stopped. If the options are
// invalid or the role is neither Client nor Server, New returns an error and
// leaves conn untouched (the caller closes it).
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
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		readDone: make(chan struct{}),
		idle:     make(chan struct{}, 1),
		credit:   make(chan struct{}, 1),
		done:     make(chan struct{}),
		budget:   newBudget(cfg.incomingBuffer, cfg.incomingBytes),
	}
	c.fw = frame.NewWriter(conn, role, frame.WriterConfig{
		FragmentSize:     cfg.fragment,
		BufferSize:       cfg.writeBuffer,
		Extension:        cfg.extension,
		BetweenFragments: c.betweenFragments,
	})
	if cfg.recycle {
		// Enough for every message that can be in flight: Incoming, the
		// held one, the one being read, and one the user holds.
		c.free = newFreeList(cfg.incomingBuffer+3, cfg.recycleCheck)
	}
	c.st.pinger.init(cfg.pingInterval, cfg.pongTimeout)
	c.mu.Lock() // the timers' callbacks may run before New returns
	c.startTimers()
	c.mu.Unlock()
	go c.readLoop()
	go c.writeLoop()
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

// shutdown starts the connection's end, once: it fixes the final error
// from cause and the close handshake's state, stops both goroutines and
// closes the socket, which fails any read or write in progress. The writer
// goroutine then finishes (see finish).
func (c *Conn) shutdown(cause error) {
	c.mu.Lock()
	if c.st.ended {
		c.mu.Unlock()
		return
	}
	c.st.ended = true
	c.st.endErr = c.st.result(cause)
	c.st.stopTimers()
	c.mu.Unlock()
	close(c.stop)
	_ = c.conn.Close()
}

// finish runs last on the writer goroutine: once the reader has returned
// and the write right is free, nothing can touch the socket, the frame
// writer or the extension any more, so it releases them, refuses what is
// left on Outgoing, and closes Done and then Incoming.
func (c *Conn) finish() {
	c.shutdown(ErrClosed) // a no-op: the writer returns only after shutdown
	<-c.readDone
	c.mu.Lock()
	if c.st.writing {
		c.st.writerWait = true
		c.mu.Unlock()
		<-c.idle // a Send writing its message: the closed socket ends its write
		c.mu.Lock()
	}
	c.st.writing = true // for good: nothing writes after the end
	if c.st.watchStop != nil {
		c.st.watchStop()
	}
	c.st.watchCtx, c.st.watchStop = nil, nil
	c.st.held, c.st.holding = Message{}, false
	c.st.queue = sendQueue{}
	closeIncoming := !c.st.incomingClosed
	c.st.incomingClosed = true
	cancel := c.st.cancelCtx
	c.st.over = true
	c.err = c.st.endErr
	c.mu.Unlock()
	if cl, ok := c.cfg.extension.(io.Closer); ok {
		_ = cl.Close() // e.g. deflate returns its compressor to the pool
	}
	c.dropOutgoing()
	close(c.done)
	if closeIncoming {
		close(c.incoming) // after done, so Err is set when a range over Incoming ends
	}
	if cancel != nil {
		cancel()
	}
}

// kickWriter tells the writer goroutine to look at the state again.
func (c *Conn) kickWriter() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Incoming returns the channel of received data messages. It is closed
// when no more messages can come: after Done, or earlier once the peer
// broke the protocol (then the messages received before the violation are
// still in it, and Err already says why). Each Message's Data is the
// receiver's to keep (or to give back with Release, see
// WithRecycledBuffers). If nobody reads it and it fills, the connection
// stops reading the socket (see the package doc).
func (c *Conn) Incoming() <-chan Message { return c.incoming }

// Outgoing returns the channel of messages to send, written in order. It is
// never closed, so a send on it never panics. After sending a Message the
// caller must not modify its Data: the connection reads it until it is
// written and does not keep it afterwards.
//
// A Message whose Type is not text or binary (such as the zero Message) is
// not sent, and counted in Stats().OutgoingDropped; so is every message
// sent after the connection's close frame, and what Outgoing still held when
// the connection ended. From then on Outgoing returns a fresh channel with
// room for one message that nothing reads (not counted), so the statement
// c.Outgoing() <- m never blocks on a connection that is over. A sender
// that keeps one channel from Outgoing for a long loop should select on
// Done too. A write error of a message from Outgoing ends the connection,
// and Err reports it.
func (c *Conn) Outgoing() chan<- Message {
	select {
	case <-c.done:
		c.dropOutgoing()
		return make(chan Message, 1)
	default:
	}
	if !c.outgoingUsed.Load() {
		c.outgoingUsed.Store(true)
	}
	return c.outgoing
}

// dropOutgoing empties Outgoing, counting what it held as dropped.
func (c *Conn) dropOutgoing() {
	for {
		select {
		case <-c.outgoing:
			c.stats.dropped.Add(1)
		default:
			return
		}
	}
}

// Done returns a channel closed when the connection has ended: both
// goroutines have returned and the socket is closed. It is closed exactly
// once.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended, or nil while it is open. See
// CloseError for a close handshake; otherwise it is ErrPongTimeout, or an
// I/O error wrapped as "ws: read: ..." / "ws: write: ..." (errors.Is
// finds io.EOF, os.ErrDeadlineExceeded and the like underneath). Once the
// peer has broken the protocol the connection is ending: Err returns its
// *CloseError at once, before Done.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.failErr != nil {
		return c.st.result(nil)
	}
	return nil
}

// Context returns a context cancelled when the connection has ended (after
// Done is closed), for work that should not outlive it.
func (c *Conn) Context() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.ctx == nil {
		c.st.ctx, c.st.cancelCtx = context.WithCancel(context.Background())
		if c.st.over {
			c.st.cancelCtx()
		}
	}
	return c.st.ctx
}

// Receive returns the next received message, waiting for it until ctx ends
// (ctx's error) or no more messages can come (ErrClosed; Err says why).
// Cancelling ctx ends only this call. It is the same as receiving from
// Incoming.
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

// Subprotocol returns the subprotocol given with WithSubprotocol.
func (c *Conn) Subprotocol() string { return c.cfg.subprotocol }

// LocalAddr returns the socket's local address.
func (c *Conn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// RemoteAddr returns the socket's remote address.
func (c *Conn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }
