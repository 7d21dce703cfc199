package session

import (
	"container/list"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/wsactor/ws"
)

// Server is the http.Handler of the session protocol's server side: it
// upgrades requests that offer Protocol with ws.Handler, and runs the
// handler function once per session, not once per connection. A session
// outlives its connections: when one dies the session is kept, detached,
// for WithDetachedTimeout, and the client's next connection resumes it —
// each side replays what the other missed, and the handler sees one
// stream, exactly once and in order, as if nothing happened. It is safe
// for concurrent use.
type Server struct {
	cfg config
	fn  func(context.Context, *Session)
	ws  *ws.Server

	detachedB atomic.Int64 // replay bytes held by detached sessions

	mu       sync.Mutex
	sessions map[string]*Session // by raw id; ended overflowed sessions stay until their timer
	detached list.List           // of *Session, detached the longest ago first
	closing  bool
	apps     sync.WaitGroup // handler functions
	atts     map[*attachment]struct{}

	resumed, replayed, duplicates, created atomic.Int64
}

// ServerStats are a Server's counters: the sessions now, and totals
// since NewServer.
type ServerStats struct {
	Sessions   int   // live sessions, attached or detached
	Detached   int   // of which detached, waiting for their client
	Created    int64 // sessions created
	Resumed    int64 // connections that resumed a session
	Replayed   int64 // messages written again after a resume
	Duplicates int64 // messages received twice (a replay overlapping what had arrived) and dropped
}

// Session is one session on the server: the handler function's view of a
// client across its connections.
type Session struct {
	srv *Server
	id  []byte
	sid string
	key string
	ctx context.Context
	end context.CancelCauseFunc

	mu        sync.Mutex
	st        stream
	written   uint64 // highest seq written on any connection
	epoch     uint64 // latest issued
	confirmed uint64 // latest the client proved it has
	att       *attachment
	detElem   *list.Element
	detBytes  int
	detGen    uint64
	timer     *time.Timer
	endErr    error
	endCode   ws.StatusCode
	space     chan struct{} // closed and replaced when room frees or the session ends
	done      chan struct{}

	recvMu sync.Mutex // serialises delivery across connections
	in     chan ws.Message
}

// attachment is one connection of a session.
type attachment struct {
	conn   *ws.Conn
	epoch  uint64
	ctx    context.Context // cancelled, with a *closeCause, to take the connection away
	cancel context.CancelCauseFunc
	wake   chan struct{} // capacity 1: the writer has something to do
	closed chan struct{} // closed once the connection has ended
}

// closeCause is why the server takes a connection from its session: the
// close code and reason it is closed with.
type closeCause struct {
	code   ws.StatusCode
	reason string
}

func (c *closeCause) Error() string { return fmt.Sprintf("session: close %d %s", c.code, c.reason) }

type keyCtx struct{}

// NewServer returns a Server that runs fn for every session, on its own
// goroutine, from the session's first connection until fn returns or the
// session ends. fn's ctx is cancelled when the session ends (expired,
// overflowed, the client closed it, Shutdown); fn should then return. When
// fn returns the session waits up to WithFlushTimeout for the client to
// acknowledge what was sent, then ends, and the client is told with
// CodeEnded. The error is an invalid option.
func NewServer(fn func(ctx context.Context, s *Session), opts ...Option) (*Server, error) {
	if fn == nil {
		return nil, errors.New("session: NewServer: nil handler function")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	srv := &Server{cfg: cfg, fn: fn, sessions: map[string]*Session{}, atts: map[*attachment]struct{}{}}
	srv.detached.Init()
	acc := append(slices.Clone(cfg.acceptOpts),
		ws.WithSubprotocolSelector(func(*http.Request, []string) string { return Protocol }))
	if srv.ws, err = ws.NewServer(srv.serveConn, acc...); err != nil {
		return nil, err
	}
	return srv, nil
}

// ServeHTTP refuses a request that does not offer Protocol (400) or whose
// key function fails (403), and upgrades the others.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !offers(r, Protocol) {
		w.Header().Set("Connection", "close")
		http.Error(w, "session: the "+Protocol+" subprotocol is required", http.StatusBadRequest)
		return
	}
	var key string
	if srv.cfg.key != nil {
		k, err := srv.cfg.key(r)
		if err != nil {
			http.Error(w, "session: forbidden", http.StatusForbidden)
			return
		}
		key = k
	}
	srv.ws.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyCtx{}, key)))
}

func offers(r *http.Request, p string) bool {
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, o := range strings.Split(v, ",") {
			if strings.TrimSpace(o) == p {
				return true
			}
		}
	}
	return false
}

// Len returns the number of live sessions, attached or detached.
func (srv *Server) Len() int { return srv.Stats().Sessions }

// Stats returns the server's counters.
func (srv *Server) Stats() ServerStats {
	srv.mu.Lock()
	st := ServerStats{Detached: srv.detached.Len()}
	for _, s := range srv.sessions {
		s.mu.Lock()
		if s.endErr == nil {
			st.Sessions++
		}
		s.mu.Unlock()
	}
	srv.mu.Unlock()
	st.Created, st.Resumed = srv.created.Load(), srv.resumed.Load()
	st.Replayed, st.Duplicates = srv.replayed.Load(), srv.duplicates.Load()
	return st
}

// Shutdown ends every session (ErrEnded; connected clients get CodeEnded
// "server shutting down", which tells them not to resume), waits for the
// handler functions to return, then shuts the underlying ws.Server down.
// From its start new connections are refused. ctx bounds the waits; its
// error is returned when it ends first.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	srv.closing = true
	var closed []chan struct{}
	for a := range srv.atts {
		closed = append(closed, a.closed)
	}
	for _, s := range srv.sessions {
		s.mu.Lock()
		srv.endLocked(s, ErrEnded, CodeEnded, "server shutting down")
		if s.timer != nil { // an overflowed session's tombstone
			s.timer.Stop()
		}
		s.mu.Unlock()
		delete(srv.sessions, string(s.id))
	}
	srv.mu.Unlock()

	apps := make(chan struct{})
	go func() { srv.apps.Wait(); close(apps) }()
	var err error
	for _, c := range closed { // CodeEnded goes out before ws's 1001
		select {
		case <-c:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	err = errors.Join(err, srv.ws.Shutdown(ctx))
	select {
	case <-apps:
	case <-ctx.Done():
		err = errors.Join(err, ctx.Err())
	}
	return err
}

// serveConn runs one connection: hello, attach, welcome, then the reader
// here and the writer on its own goroutine until the connection ends.
func (srv *Server) serveConn(ctx context.Context, conn *ws.Conn) {
	key, _ := ctx.Value(keyCtx{}).(string)
	hctx, cancel := context.WithTimeout(ctx, srv.cfg.handshake)
	m, err := conn.Receive(hctx)
	cancel()
	if err != nil {
		srv.refuse(conn, CodeProtocol, "no hello")
		return
	}
	f, err := decode(m)
	if err != nil || f.kind != kindHello {
		srv.refuse(conn, CodeProtocol, "expected a hello")
		return
	}
	s, att, from, welcome, code, reason := srv.attach(ctx, conn, key, f)
	if code != 0 {
		srv.refuse(conn, code, reason)
		return
	}
	defer close(att.closed)
	defer att.cancel(nil)
	writerDone := make(chan struct{})
	if err := conn.Send(att.ctx, welcome); err == nil {
		go func() {
			defer close(writerDone)
			s.writer(att, from)
		}()
		s.reader(att)
	} else {
		close(writerDone)
	}
	if cause, ok := context.Cause(att.ctx).(*closeCause); ok {
		cctx, ccancel := context.WithTimeout(context.Background(), srv.cfg.flush)
		_ = conn.Close(cctx, cause.code, cause.reason)
		ccancel()
	}
	<-conn.Done()
	<-writerDone
	srv.detach(s, att)
}

func (srv *Server) refuse(conn *ws.Conn, code ws.StatusCode, reason string) {
	cctx, cancel := context.WithTimeout(context.Background(), srv.cfg.flush)
	defer cancel()
	_ = conn.Close(cctx, code, reason)
}

// attach creates or resumes the session of hello and attaches conn to it.
// It returns the welcome to send and the seq the client has, or a close
// code and reason to refuse with.
func (srv *Server) attach(ctx context.Context, conn *ws.Conn, key string, hello frame) (s *Session, att *attachment, from uint64, welcome ws.Message, code ws.StatusCode, reason string) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closing {
		return nil, nil, 0, welcome, CodeEnded, "server shutting down"
	}
	resumed := len(hello.id) != 0
	if !resumed {
		if hello.epoch != 0 || hello.last != 0 {
			return nil, nil, 0, welcome, CodeProtocol, "new session with a sequence"
		}
		s = srv.newSessionLocked(key)
		s.mu.Lock()
	} else {
		s = srv.sessions[string(hello.id)]
		if s == nil || subtle.ConstantTimeCompare([]byte(s.key), []byte(key)) != 1 {
			return nil, nil, 0, welcome, CodeUnknown, "unknown session"
		}
		s.mu.Lock()
		switch {
		case s.endErr != nil:
			c := s.endCode
			if !errors.Is(s.endErr, ErrOverflow) {
				c = CodeUnknown
			}
			s.mu.Unlock()
			return nil, nil, 0, welcome, c, s.endErr.Error()
		case hello.epoch != s.epoch && hello.epoch != s.confirmed:
			s.mu.Unlock()
			return nil, nil, 0, welcome, CodeStale, "stale epoch"
		case hello.last < s.st.acked || hello.last >= s.st.next:
			s.mu.Unlock()
			return nil, nil, 0, welcome, CodeProtocol, "resume: last received out of range"
		}
	}
	defer s.mu.Unlock()
	if _, err := s.st.ack(hello.last); err != nil {
		panic("session: ack checked above: " + err.Error())
	}
	s.st.setPeer(hello.maxN, hello.maxB)
	if resumed {
		srv.resumed.Add(1)
		if s.written > hello.last {
			srv.replayed.Add(int64(s.written - hello.last))
		}
	}
	if s.att != nil {
		s.att.cancel(&closeCause{CodeSuperseded, "superseded by a newer connection"})
		s.att = nil
	}
	srv.undetachLocked(s)
	if hello.epoch == s.epoch {
		s.confirmed = s.epoch
	}
	s.epoch++
	att = &attachment{conn: conn, epoch: s.epoch, wake: make(chan struct{}, 1), closed: make(chan struct{})}
	att.ctx, att.cancel = context.WithCancelCause(ctx)
	s.att = att
	srv.atts[att] = struct{}{}
	s.signalSpaceLocked()
	welcome = encodeHandshake(kindWelcome, s.id, s.epoch, s.st.takeAck(), srv.cfg.replayN, srv.cfg.replayB, resumed)
	return s, att, hello.last, welcome, 0, ""
}

// newSessionLocked makes a session and starts its handler function.
func (srv *Server) newSessionLocked(key string) *Session {
	id := make([]byte, idLen)
	_, _ = rand.Read(id) // crypto/rand.Read never fails (Go 1.24)
	s := &Session{
		srv: srv, id: id, sid: base64.RawURLEncoding.EncodeToString(id), key: key,
		st:    newStream(srv.cfg.replayN, srv.cfg.replayB),
		space: make(chan struct{}), done: make(chan struct{}),
		in: make(chan ws.Message),
	}
	s.ctx, s.end = context.WithCancelCause(context.Background())
	srv.sessions[string(id)] = s
	srv.created.Add(1)
	srv.apps.Add(1)
	go srv.runApp(s)
	return s
}

func (srv *Server) runApp(s *Session) {
	defer srv.apps.Done()
	srv.fn(s.ctx, s)
	t := time.NewTimer(srv.cfg.flush)
	defer t.Stop()
	for {
		s.mu.Lock()
		empty, sp := len(s.st.buf) == 0 || s.endErr != nil, s.space
		s.mu.Unlock()
		if empty {
			break
		}
		select {
		case <-sp:
			continue
		case <-t.C:
		}
		break
	}
	srv.endSession(s, ErrEnded, CodeEnded, "session ended")
}

// detach is called when att's connection has ended.
func (srv *Server) detach(s *Session, att *attachment) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	delete(srv.atts, att)
	s.mu.Lock()
	if s.att != att || s.endErr != nil {
		s.mu.Unlock()
		return
	}
	s.att = nil
	var ce *ws.CloseError
	if errors.As(att.conn.Err(), &ce) && ce.Remote &&
		(ce.Code == ws.StatusNormalClosure || ce.Code == ws.StatusGoingAway) {
		srv.endLocked(s, ErrEnded, CodeEnded, "closed by the client")
		s.mu.Unlock()
		return
	}
	if srv.closing {
		srv.endLocked(s, ErrEnded, CodeEnded, "server shutting down")
		s.mu.Unlock()
		return
	}
	s.detElem = srv.detached.PushBack(s)
	s.detBytes = s.st.bytes
	srv.detachedB.Add(int64(s.detBytes))
	s.detGen++
	gen := s.detGen
	s.timer = time.AfterFunc(srv.cfg.detached, func() { srv.expire(s, gen) })
	s.signalSpaceLocked()
	s.mu.Unlock()
	srv.evictLocked()
}

// undetachLocked takes s off the detached list.
func (srv *Server) undetachLocked(s *Session) {
	if s.detElem == nil {
		return
	}
	srv.detached.Remove(s.detElem)
	s.detElem = nil
	srv.detachedB.Add(-int64(s.detBytes))
	s.detBytes = 0
	s.timer.Stop()
}

func (srv *Server) expire(s *Session, gen uint64) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.detElem != nil && s.detGen == gen {
		srv.endLocked(s, ErrExpired, CodeUnknown, "expired")
	}
}

// evictLocked ends the sessions detached the longest ago while the
// detached ones exceed their limits. srv.mu is held, no session's.
func (srv *Server) evictLocked() {
	for srv.detached.Len() > 0 && (srv.detached.Len() > srv.cfg.maxDetached ||
		srv.detachedB.Load() > int64(srv.cfg.maxDetachedB)) {
		s := srv.detached.Front().Value.(*Session)
		s.mu.Lock()
		srv.endLocked(s, ErrExpired, CodeUnknown, "evicted")
		s.mu.Unlock()
	}
}

func (srv *Server) endSession(s *Session, err error, code ws.StatusCode, reason string) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	srv.endLocked(s, err, code, reason)
}

// endLocked ends s once; srv.mu and s.mu are held. An overflowed session
// stays in the map, empty, for the detached timeout so that its client's
// resume is told CodeOverflow; others are forgotten at once.
func (srv *Server) endLocked(s *Session, err error, code ws.StatusCode, reason string) {
	if s.endErr != nil {
		return
	}
	s.endErr, s.endCode = err, code
	if s.att != nil {
		s.att.cancel(&closeCause{code, reason})
	}
	srv.undetachLocked(s)
	s.st.buf, s.st.bytes = nil, 0
	if errors.Is(err, ErrOverflow) && !srv.closing {
		s.timer = time.AfterFunc(srv.cfg.detached, func() {
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if srv.sessions[string(s.id)] == s {
				delete(srv.sessions, string(s.id))
			}
		})
	} else if srv.sessions[string(s.id)] == s {
		delete(srv.sessions, string(s.id))
	}
	close(s.done)
	s.end(err)
	s.signalSpaceLocked()
	go func() { // after a delivery in progress, which gives up on done
		s.recvMu.Lock()
		close(s.in)
		s.recvMu.Unlock()
	}()
}

func (s *Session) signalSpaceLocked() {
	close(s.space)
	s.space = make(chan struct{})
}

// ID returns the session's id: 128 bits from crypto/rand, base64url.
func (s *Session) ID() string { return s.sid }

// Key returns the key WithKey's function gave the request that created
// the session.
func (s *Session) Key() string { return s.key }

// Incoming returns the messages the client sent in the session, each
// once, in order, across its connections. It is closed when the session
// ends.
func (s *Session) Incoming() <-chan ws.Message { return s.in }

// Connected reports whether a connection of the client is attached now.
func (s *Session) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.att != nil
}

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns why the session ended (ErrEnded, ErrExpired, ErrOverflow,
// ErrProtocol), or nil while it lives.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endErr
}

// Send queues m for the client: once it returns nil, m is delivered
// exactly once, in order, unless the session ends first. It waits while
// the replay buffer is full and the client connected (the client's
// acknowledgements make room); while the client is away a full buffer
// follows WithOverflow: OverflowEnd ends the session and returns
// ErrOverflow, OverflowBlock waits. It returns ctx's error, the session's
// end error, ErrTooLarge for a message over the byte limit, or
// ws.ErrInvalidMessageType. The caller must not modify m.Data afterwards.
// Send is safe for concurrent use; concurrent messages go in some order.
func (s *Session) Send(ctx context.Context, m ws.Message) error {
	if m.Type != ws.TextMessage && m.Type != ws.BinaryMessage {
		return ws.ErrInvalidMessageType
	}
	size := len(m.Data)
	if size > s.st.maxB {
		return ErrTooLarge
	}
	s.mu.Lock()
	for !s.st.fits(size) || s.endErr != nil {
		if s.endErr != nil {
			err := s.endErr
			s.mu.Unlock()
			return err
		}
		if s.att == nil && s.srv.cfg.overflow == OverflowEnd {
			s.mu.Unlock()
			s.srv.endSession(s, ErrOverflow, CodeOverflow, "replay buffer overflow")
			return s.Err()
		}
		sp := s.space
		s.mu.Unlock()
		select {
		case <-sp:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.mu.Lock()
	}
	s.st.push(m)
	detached := s.detElem != nil
	if detached {
		s.detBytes += size
		s.srv.detachedB.Add(int64(size))
	}
	att := s.att
	s.mu.Unlock()
	if att != nil {
		att.signal()
	}
	if detached && s.srv.detachedB.Load() > int64(s.srv.cfg.maxDetachedB) {
		s.srv.mu.Lock()
		s.srv.evictLocked()
		s.srv.mu.Unlock()
	}
	return nil
}

func (a *attachment) signal() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// writer writes the session's messages after from on att's connection,
// then each new one, with the cumulative ack piggybacked on the first data
// frame of each batch, or alone after the ack delay when nothing is sent.
func (s *Session) writer(att *attachment, from uint64) {
	const batchMax = 64
	var (
		batch   = make([]entry, batchMax)
		buf     []byte
		written = from
		t       = time.NewTimer(time.Hour)
		armed   bool
		fired   bool
	)
	t.Stop()
	defer t.Stop()
	for {
		s.mu.Lock()
		if s.att != att {
			s.mu.Unlock()
			return
		}
		n := copy(batch, s.st.after(written, batchMax))
		due := s.st.ackDue()
		var ack uint64
		sendAck := due && (n > 0 || fired || s.st.ackUrgent())
		if sendAck {
			ack = s.st.takeAck()
		}
		s.mu.Unlock()
		fired = false
		if n > 0 {
			for i, e := range batch[:n] {
				buf = appendData(buf[:0], e.seq, ack, sendAck && i == 0, e.msg)
				if err := att.conn.Send(att.ctx, ws.Binary(buf)); err != nil {
					return
				}
				written = e.seq
			}
			clear(batch[:n])
			s.mu.Lock()
			s.written = max(s.written, written)
			s.mu.Unlock()
			continue
		}
		if sendAck {
			if err := att.conn.Send(att.ctx, encodeAck(ack)); err != nil {
				return
			}
			continue
		}
		if due && !armed {
			t.Reset(s.srv.cfg.ackDelay)
			armed = true
		}
		select {
		case <-att.wake:
		case <-t.C:
			armed, fired = false, true
		case <-att.ctx.Done():
			return
		case <-att.conn.Done():
			return
		}
	}
}

// reader handles the frames of att's connection until it ends or the
// session takes it away.
func (s *Session) reader(att *attachment) {
	confirmed := false
	for {
		m, err := att.conn.Receive(att.ctx)
		if err != nil {
			return
		}
		f, err := decode(m)
		if err != nil {
			s.violation(err.Error())
			return
		}
		if !confirmed { // a frame on this connection: the client has its welcome
			confirmed = true
			s.mu.Lock()
			if s.att == att {
				s.confirmed = att.epoch
			}
			s.mu.Unlock()
		}
		switch {
		case f.kind == kindAck || (f.kind == kindData && f.hasAck):
			s.mu.Lock()
			freed, err := s.st.ack(f.ack)
			if freed {
				s.signalSpaceLocked()
			}
			s.mu.Unlock()
			if err != nil {
				s.violation(err.Error())
				return
			}
		case f.kind != kindData:
			s.violation("unexpected handshake frame")
			return
		}
		if f.kind != kindData {
			continue
		}
		if f.text && !utf8.Valid(f.payload) {
			s.violation("text message not UTF-8")
			return
		}
		if !s.deliver(att, f) {
			return
		}
	}
}

// deliver hands a data frame's message to Incoming unless it is a
// duplicate; false when the reader should stop.
func (s *Session) deliver(att *attachment, f frame) bool {
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	s.mu.Lock()
	if s.endErr != nil {
		s.mu.Unlock()
		return false
	}
	ok, err := s.st.recv(f.seq, len(f.payload))
	s.mu.Unlock()
	if err != nil {
		s.violation(err.Error())
		return false
	}
	if !ok {
		s.srv.duplicates.Add(1)
		return true
	}
	att.signal() // the writer owes an ack
	t := ws.BinaryMessage
	if f.text {
		t = ws.TextMessage
	}
	select {
	case s.in <- ws.Message{Type: t, Data: f.payload}:
		return true
	case <-s.done:
		return false
	}
}

// violation ends the session: the client broke the protocol, so neither
// side's sequence can be trusted.
func (s *Session) violation(reason string) {
	s.srv.endSession(s, ErrProtocol, CodeProtocol, reason)
}
