package reconnect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/wsactor/ws"
)

// Client keeps one WebSocket connection to a URL alive: it dials, runs
// OnConnect, flushes queued messages, and when the connection ends it
// waits a jittered backoff and dials again, until it is closed, its ctx
// ends, or a failure is classified as permanent. Incoming, Outgoing and
// Events are the same channels for its whole life, across connections.
//
// All methods are safe for concurrent use. Create it with New, then call
// Run once.
type Client struct {
	url string
	cfg config

	incoming chan ws.Message
	outgoing chan ws.Message
	q        *queue

	evMu     sync.Mutex // guards sending on and closing events
	events   chan Event
	evClosed bool

	state    atomic.Int32
	started  atomic.Bool
	stop     chan struct{} // closed by Close
	stopOnce sync.Once
	closeMu  sync.Mutex
	closeCtx context.Context // Close's ctx, set before stop is closed
	done     chan struct{}   // closed when the client has ended
	doneOnce sync.Once

	// The intake goroutine (one per Run) moves messages from outgoing into
	// q. park stops it between messages: a receiver of a resume channel
	// holds no message until the channel is closed. intakeEnd is nil until
	// Run starts the intake, and closed once it has returned.
	park      chan chan struct{}
	intakeMu  sync.Mutex
	intakeEnd chan struct{}

	stats struct {
		attempts, connects, sent, received, dropped, eventsDropped atomic.Int64
	}
}

// Stats are the client's counters since New.
type Stats struct {
	Attempts      int64 // connection attempts started
	Connects      int64 // connections that passed OnConnect
	Sent          int64 // messages written on a connection
	Received      int64 // messages delivered to Incoming
	Dropped       int64 // messages dropped by the policy or maybe lost in flight
	EventsDropped int64 // events discarded because Events was full
	// Queued counts the messages waiting now: a message sent on Outgoing
	// counts from the moment its send returns, one given to Send from when
	// it is queued (Send itself returns only once it is written), until
	// the writer takes it or it is dropped.
	Queued int
}

// New returns a client for url (ws, wss, http or https) configured by
// opts. It does no I/O: call Run to connect. The only error is an invalid
// option, the client's or a ws option given to WithDialOptions.
func New(url string, opts ...Option) (*Client, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := checkDialOptions(url, cfg.allDialOpts()); err != nil {
		return nil, err
	}
	c := &Client{
		url:      url,
		cfg:      cfg,
		incoming: make(chan ws.Message, cfg.incoming),
		outgoing: make(chan ws.Message),
		events:   make(chan Event, cfg.events),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		park:     make(chan chan struct{}),
	}
	c.q = newQueue(cfg.outgoing, cfg.policy, c.dropped)
	c.q.guard = c.withIntakeParked
	return c, nil
}

// Incoming returns the channel of received messages, the same for every
// connection; it is closed when the client ends (after Run returns).
// Messages arrive in order per connection and connections in turn: every
// message of one connection comes before any of the next. A message's
// Data belongs to the receiver.
func (c *Client) Incoming() <-chan ws.Message { return c.incoming }

// Outgoing returns the channel to send messages on, the same for every
// connection. It is never closed. A message sent on it is queued (subject
// to the WithOverflow policy) and written in order once connected; the
// send blocks until the message is queued, which needs Run to be running,
// so select on Done as well. The caller must not modify Data afterwards.
// Loss (policy or a connection dying mid-write) is reported as a Dropped
// event.
func (c *Client) Outgoing() chan<- ws.Message { return c.outgoing }

// Events returns the channel of state changes (see Event). It is closed
// when the client ends. The client never waits for it: when it is full
// the oldest event is discarded.
func (c *Client) Events() <-chan Event { return c.events }

// Done is closed when the client has ended: Run returned, or Close was
// called before Run.
func (c *Client) Done() <-chan struct{} { return c.done }

// State returns the current state.
func (c *Client) State() State { return State(c.state.Load()) }

// Stats returns the client's counters. Queued includes every message whose
// send on Outgoing has returned and that is still waiting.
func (c *Client) Stats() Stats {
	var queued int
	c.withIntakeParked(func() { queued = c.q.len() })
	return Stats{
		Attempts:      c.stats.attempts.Load(),
		Connects:      c.stats.connects.Load(),
		Sent:          c.stats.sent.Load(),
		Received:      c.stats.received.Load(),
		Dropped:       c.stats.dropped.Load(),
		EventsDropped: c.stats.eventsDropped.Load(),
		Queued:        queued,
	}
}

// Send queues msg, subject to the WithOverflow policy, and waits until it
// has been written on a connection (nil), possibly after a reconnect.
// Otherwise it returns ErrDropped or ErrBufferFull (policy), an error
// wrapping ErrMaybeLost (the connection ended while writing it), ErrClosed
// (the client ended first) or ctx's error. Cancelling ctx withdraws the
// message if it is still queued; if it is being written it may still go
// out. It may be called before Run. The caller must not modify msg.Data
// afterwards.
func (c *Client) Send(ctx context.Context, msg ws.Message) error {
	it := &item{msg: msg, done: make(chan error, 1)}
	if err := c.q.put(ctx, it); err != nil {
		return err
	}
	select {
	case err := <-it.done:
		return err
	case <-ctx.Done():
		c.q.remove(it)
		return ctx.Err()
	}
}

// Close ends the client: it stops dialing or waiting, writes the messages
// already queued if connected, closes the connection with 1000 (normal
// closure), and waits for Run to return. ctx bounds all of it; when it
// ends the connection is dropped and Close returns ctx's error. Run then
// returns ErrClosed. Calling Close more than once, or before Run, is fine.
func (c *Client) Close(ctx context.Context) error {
	c.stopOnce.Do(func() {
		c.closeMu.Lock()
		c.closeCtx = ctx
		c.closeMu.Unlock()
		close(c.stop)
	})
	if c.started.CompareAndSwap(false, true) {
		c.finish()
		return nil
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run connects and keeps connecting until ctx ends (it returns ctx's
// error), Close is called (ErrClosed), or it gives up: a failure
// classified as permanent, WithMaxAttempts, WithMaxElapsedTime or
// backoff.Stop (it returns the cause, after a GaveUp event). When ctx ends
// while connected the connection is closed with 1001 (going away) within
// its close grace period (ws.WithCloseGracePeriod, given in
// WithDialOptions). Run blocks until every goroutine of the client
// has returned; then Incoming and Events are closed and queued messages
// fail with ErrClosed. A second call returns ErrRunTwice.
func (c *Client) Run(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		select {
		case <-c.done:
			return ErrClosed
		default:
			return ErrRunTwice
		}
	}
	r := &run{c: c, quit: make(chan struct{}), intakeEnd: make(chan struct{})}
	r.ctx, r.cancel = context.WithCancel(ctx)
	defer r.cancel()
	r.life, r.lifeEnd = context.WithCancel(context.Background())
	defer r.lifeEnd()
	c.intakeMu.Lock()
	c.intakeEnd = r.intakeEnd
	c.intakeMu.Unlock()

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // Close cancels dials and waits at once
		defer wg.Done()
		select {
		case <-c.stop:
			r.cancel()
		case <-r.quit:
		}
	}()
	go func() {
		defer wg.Done()
		defer close(r.intakeEnd)
		r.intake()
	}()
	err := r.loop(ctx)
	close(r.quit)
	r.lifeEnd()
	r.cancel()
	wg.Wait()
	r.fwd.Wait()
	if r.held != nil { // handed back by a Layer on the last connection
		r.held.finish(ErrClosed)
	}
	c.finish()
	return err
}

// intake moves messages from Outgoing into the queue until Close or the
// end of the run. It receives only when the message can be queued at once,
// and queues it before it next selects, so a send on Outgoing that has
// returned is in the queue by the time anyone who parks the intake, or
// waits for intakeEnd, looks.
func (r *run) intake() {
	c := r.c
	for {
		var in chan ws.Message // nil: no room, leave senders waiting
		ready, wake := c.q.intakeReady()
		if ready {
			in = c.outgoing
		}
		select {
		case m := <-in:
			c.q.pushIntake(&item{msg: m})
		case <-wake:
		case resume := <-c.park:
			<-resume
		case <-c.stop:
			return
		case <-r.quit:
			return
		}
	}
}

// withIntakeParked runs fn while the intake holds no message received from
// Outgoing and takes none: between a receive and its push the queue does
// not yet show a message whose send has returned.
func (c *Client) withIntakeParked(fn func()) {
	c.intakeMu.Lock()
	end := c.intakeEnd
	if end == nil {
		// Run has not started the intake, and cannot while we hold intakeMu.
		defer c.intakeMu.Unlock()
		fn()
		return
	}
	c.intakeMu.Unlock()
	resume := make(chan struct{})
	select {
	case c.park <- resume:
		defer close(resume)
	case <-end:
	}
	fn()
}

// finish ends the client once: fail the queue, close the channels.
func (c *Client) finish() {
	c.doneOnce.Do(func() {
		c.setState(StateClosed)
		c.q.close()
		close(c.incoming)
		c.evMu.Lock()
		c.evClosed = true
		close(c.events)
		c.evMu.Unlock()
		close(c.done)
	})
}

func (c *Client) setState(s State) { c.state.Store(int32(s)) }

// emit delivers ev without ever waiting: when Events is full the oldest
// event is discarded.
func (c *Client) emit(ev Event) {
	c.evMu.Lock()
	defer c.evMu.Unlock()
	if c.evClosed {
		return
	}
	for {
		select {
		case c.events <- ev:
			return
		default:
		}
		select {
		case <-c.events:
			c.stats.eventsDropped.Add(1)
		default:
		}
	}
}

func (c *Client) dropped(msg ws.Message, err error) {
	c.stats.dropped.Add(1)
	c.emit(Dropped{Message: msg, Err: err})
}

// run is the state of one Run call, owned by its goroutine except where
// noted.
type run struct {
	c      *Client
	ctx    context.Context // Run's ctx, also cancelled by Close
	cancel context.CancelFunc
	quit   chan struct{} // closed when the loop has returned: helpers stop

	// intakeEnd is closed when the intake has returned: after Close, once
	// the queue is empty too, nothing more will be written.
	intakeEnd chan struct{}

	fwd     sync.WaitGroup // incoming forwarders (they may outlive a connection)
	lastFwd chan struct{}  // closed when the previous connection's forwarder is done

	life    context.Context // ends when the loop has returned: a Link's Receive stops
	lifeEnd context.CancelFunc
	held    *item // a message a Link handed back (ErrNotSent), written first next time
}

// loop is the supervisor: connect, serve, classify, wait, again. It
// returns Run's result.
func (r *run) loop(parent context.Context) error {
	c, b := r.c, r.c.cfg.backoff
	b.Reset()
	var (
		attempt     int
		outageStart = time.Now()
	)
	for {
		attempt++
		c.setState(StateConnecting)
		c.stats.attempts.Add(1)
		c.emit(Connecting{Attempt: attempt})
		conn, link, resp, err := r.connect()
		if err == nil {
			c.stats.connects.Add(1)
			c.setState(StateConnected)
			c.emit(Connected{Attempt: attempt, Response: resp})
			var uptime time.Duration
			var own bool
			uptime, own, err = r.serve(conn, link)
			if own {
				return r.ownEnd(parent)
			}
			c.emit(Disconnected{Err: err, Uptime: uptime})
			if c.cfg.onDisconnect != nil {
				c.cfg.onDisconnect(conn, err)
			}
			if uptime >= c.cfg.resetAfter {
				b.Reset()
				attempt = 0
				outageStart = time.Now()
			}
		} else if r.ctx.Err() != nil {
			return r.ownEnd(parent)
		}

		d := c.cfg.classify(err)
		if !d.Retry {
			return r.giveUp(fmt.Errorf("reconnect: %w", err))
		}
		if c.cfg.maxAttempts > 0 && attempt >= c.cfg.maxAttempts {
			return r.giveUp(fmt.Errorf("reconnect: gave up after %d attempts: %w", attempt, err))
		}
		delay := b.NextBackOff()
		if delay == backoff.Stop {
			return r.giveUp(fmt.Errorf("reconnect: backoff stopped after %d attempts: %w", attempt, err))
		}
		if d.After > 0 {
			delay += min(d.After, c.cfg.maxRetryAfter)
		}
		if max := c.cfg.maxElapsed; max > 0 && time.Since(outageStart)+delay > max {
			return r.giveUp(fmt.Errorf("reconnect: gave up after %v: %w", max, err))
		}
		c.setState(StateWaiting)
		c.emit(Retrying{Attempt: attempt + 1, In: delay, Err: err})
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
			return r.ownEnd(parent)
		}
	}
}

// ownEnd is Run's result when it ends by Close or ctx.
func (r *run) ownEnd(parent context.Context) error {
	if err := parent.Err(); err != nil {
		select {
		case <-r.c.stop:
		default:
			return err
		}
	}
	return ErrClosed
}

func (r *run) giveUp(err error) error {
	r.c.emit(GaveUp{Err: err})
	return err
}

// connect makes one attempt: header, dial, the layer's Attach, OnConnect.
// link is nil without a layer.
func (r *run) connect() (*ws.Conn, Link, *http.Response, error) {
	c := r.c
	var h http.Header
	if c.cfg.header != nil {
		var err error
		if h, err = c.cfg.header(r.ctx); err != nil {
			return nil, nil, nil, fmt.Errorf("header: %w", err)
		}
	}
	conn, resp, err := c.dial(r.ctx, h)
	if err != nil {
		return nil, nil, nil, err
	}
	if c.cfg.onConnect == nil && c.cfg.layer == nil {
		return conn, nil, resp, nil
	}
	octx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	go func() { // OnConnect's ctx also ends with the connection
		select {
		case <-conn.Done():
			cancel()
		case <-octx.Done():
		}
	}()
	var link Link
	if c.cfg.layer != nil {
		if link, err = c.cfg.layer.Attach(octx, conn); err != nil {
			r.drop(conn, ws.StatusNormalClosure)
			return nil, nil, nil, fmt.Errorf("layer: %w", err)
		}
	}
	if c.cfg.onConnect != nil {
		if err := c.cfg.onConnect(octx, conn); err != nil {
			r.drop(conn, ws.StatusNormalClosure)
			return nil, nil, nil, fmt.Errorf("OnConnect: %w", err)
		}
	}
	return conn, link, resp, nil
}

// drop closes conn with code and waits for it; the connection's close
// grace period (ws.WithCloseGracePeriod) bounds the handshake.
func (r *run) drop(conn *ws.Conn, code ws.StatusCode) {
	_ = conn.Close(context.Background(), code, "")
	<-conn.Done()
}

// serve runs a connection until it ends (err, uptime) or the client ends
// it (own is true).
func (r *run) serve(conn *ws.Conn, link Link) (uptime time.Duration, own bool, err error) {
	c, start := r.c, time.Now()

	prev, mine := r.lastFwd, make(chan struct{})
	r.lastFwd = mine
	r.fwd.Add(1)
	if link != nil {
		go r.forwardLink(link, prev, mine)
	} else {
		go r.forward(conn, prev, mine)
	}

	pumpDone := make(chan struct{})
	go r.pump(conn, link, pumpDone)

	select {
	case <-conn.Done():
		<-pumpDone
		return time.Since(start), false, conn.Err()
	case <-r.ctx.Done():
	}
	select {
	case <-c.stop: // Close: flush the queue, then 1000, all within Close's ctx
		c.closeMu.Lock()
		cctx := c.closeCtx
		c.closeMu.Unlock()
		select {
		case <-pumpDone:
			if link != nil {
				_ = link.Flush(cctx)
			}
		case <-cctx.Done():
		}
		_ = conn.Close(cctx, ws.StatusNormalClosure, "")
	default: // Run's ctx: going away, within the connection's close grace period
		_ = conn.Close(context.Background(), ws.StatusGoingAway, "")
	}
	<-conn.Done()
	<-pumpDone
	return time.Since(start), true, conn.Err()
}

// pump writes queued messages on conn in order until conn ends, the run
// ends, or (after Close) the intake has stopped and the queue is empty.
func (r *run) pump(conn *ws.Conn, link Link, done chan<- struct{}) {
	defer close(done)
	c := r.c
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopCancel := context.AfterFunc(r.ctx, func() {
		select {
		case <-c.stop: // Close flushes: only its own ctx bounds the writes
		default:
			cancel()
		}
	})
	defer stopCancel()
	abort := make(chan struct{})
	go func() {
		defer close(abort)
		select {
		case <-conn.Done():
		case <-ctx.Done():
		}
	}()
	defer func() { cancel(); <-abort }()
	send := conn.Send
	if link != nil {
		send = link.Send
	}
	for {
		it := r.held
		r.held = nil
		if it == nil {
			if it = c.q.take(abort, r.intakeEnd); it == nil {
				return
			}
		}
		if err := send(ctx, it.msg); err != nil {
			if errors.Is(err, ErrNotSent) {
				r.held = it
				return
			}
			err = fmt.Errorf("%w: %w", ErrMaybeLost, err)
			it.finish(err)
			c.dropped(it.msg, err)
			return
		}
		c.stats.sent.Add(1)
		it.finish(nil)
	}
}

// forward copies conn's messages to Incoming, after the previous
// connection's forwarder is done, until conn's Incoming is closed or the
// run ends.
func (r *run) forward(conn *ws.Conn, prev <-chan struct{}, done chan<- struct{}) {
	defer r.fwd.Done()
	defer close(done)
	if prev != nil {
		select {
		case <-prev:
		case <-r.quit:
			return
		}
	}
	for {
		select {
		case m, ok := <-conn.Incoming():
			if !ok {
				return
			}
			select {
			case r.c.incoming <- m:
				r.c.stats.received.Add(1)
			case <-r.quit:
				return
			}
		case <-r.quit:
			return
		}
	}
}

// forwardLink is forward for a connection run through a Layer: it copies
// what the link's Receive returns.
func (r *run) forwardLink(link Link, prev <-chan struct{}, done chan<- struct{}) {
	defer r.fwd.Done()
	defer close(done)
	if prev != nil {
		select {
		case <-prev:
		case <-r.quit:
			return
		}
	}
	for {
		m, err := link.Receive(r.life)
		if err != nil {
			return
		}
		select {
		case r.c.incoming <- m:
			r.c.stats.received.Add(1)
		case <-r.quit:
			return
		}
	}
}
