package chatroom

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/wsactor/ws"
)

// Member is one connection in a room and its queue of messages to send.
type Member struct {
	// Name is the member's cleaned name, Room its room.
	Name, Room string
	// ID is unique among the members of one Local.
	ID uint64

	local *Local
	conn  *ws.Conn
	queue chan *ws.PreparedMessage // bounded: full means too slow; closed on removal

	// Under local.mu: while paused (between AddPaused and Resume) lines
	// wait in pending; after Resume, recorded lines up to after were
	// replayed already and are skipped.
	paused  bool
	pending []Line
	after   string
}

// maxPending bounds the lines a paused member buffers while its replay is
// read: more means the broker is far slower than the room.
const maxPending = 4096

// Run writes the member's queue to its connection until the member is
// removed from its Local or the connection ends.
func (m *Member) Run(ctx context.Context) {
	for pm := range m.queue {
		if err := m.conn.SendPrepared(ctx, pm); err != nil {
			return
		}
	}
}

// Tell queues line for m alone, without waiting; it reports false when
// m's queue is full or m has left.
func (m *Member) Tell(line string) bool {
	pm, err := ws.Prepare(ws.Text(line))
	if err != nil {
		return false
	}
	m.local.mu.Lock()
	defer m.local.mu.Unlock()
	if m.local.rooms[m.Room] == nil || !m.local.rooms[m.Room].members[m] {
		return false
	}
	if m.paused {
		m.pending = append(m.pending, Line{Text: line})
		return true
	}
	select {
	case m.queue <- pm:
		return true
	default:
		return false
	}
}

// Local is the part of a hub in one process: the members connected here,
// by room, and each room's recent history. It never blocks on a member:
// a line is prepared once and offered to every queue, and a member whose
// queue is full is closed with 1008 (policy violation) and removed.
type Local struct {
	mu     sync.Mutex
	rooms  map[string]*localRoom
	keep   int
	queue  int
	lastID uint64
}

type localRoom struct {
	members map[*Member]bool
	history []recorded
}

type recorded struct {
	Line
	pm *ws.PreparedMessage
}

// NewLocal returns a Local that keeps history lines per room for
// newcomers and queues up to queue messages per member (queue is raised
// to history+8 so that a newcomer's history always fits).
func NewLocal(history, queue int) *Local {
	return &Local{rooms: make(map[string]*localRoom), keep: max(history, 0), queue: max(queue, history+8)}
}

// Add makes conn a member of room and queues the room's history for it.
func (l *Local) Add(room, name string, conn *ws.Conn) *Member {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.rooms[room]
	if r == nil {
		r = &localRoom{members: make(map[*Member]bool)}
		l.rooms[room] = r
	}
	l.lastID++
	m := &Member{Name: name, Room: room, ID: l.lastID, local: l, conn: conn, queue: make(chan *ws.PreparedMessage, l.queue)}
	for _, h := range r.history {
		m.queue <- h.pm // the queue is longer than the history
	}
	r.members[m] = true
	return m
}

// AddPaused makes conn a member of room without its history: the lines
// delivered to room from now on wait, in order, until Resume. A resuming
// client's member is added paused before its replay is read from the
// broker, so that no line falls between the replay and the live feed.
func (l *Local) AddPaused(room, name string, conn *ws.Conn) *Member {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.rooms[room]
	if r == nil {
		r = &localRoom{members: make(map[*Member]bool)}
		l.rooms[room] = r
	}
	l.lastID++
	m := &Member{Name: name, Room: room, ID: l.lastID, local: l, conn: conn, paused: true}
	r.members[m] = true
	return m
}

// Resume queues replay for m, then the lines that waited since AddPaused
// except recorded lines with an ID up to the last replayed one (or up to
// after, if replay is empty): those were in the replay. Recorded lines
// delivered later with such an ID are skipped too; the live feed may
// still carry a line the replay had already read. Call it once, before
// m.Run. Its queue is made long enough for the replay on top of the
// usual length.
func (l *Local) Resume(m *Member, after string, replay []Line) {
	for _, ln := range replay {
		if ln.ID != "" && CompareID(ln.ID, after) > 0 {
			after = ln.ID
		}
	}
	pms := make([]*ws.PreparedMessage, 0, len(replay))
	for _, ln := range replay {
		if pm, err := ws.Prepare(ws.Text(ln.wire())); err == nil {
			pms = append(pms, pm)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	m.paused = false
	m.after = after
	pending := m.pending
	m.pending = nil
	m.queue = make(chan *ws.PreparedMessage, len(pms)+len(pending)+l.queue)
	if r := l.rooms[m.Room]; r == nil || !r.members[m] {
		close(m.queue) // removed while paused
		return
	}
	for _, pm := range pms {
		m.queue <- pm
	}
	for _, ln := range pending {
		if ln.ID != "" && CompareID(ln.ID, m.after) <= 0 {
			continue
		}
		if pm, err := ws.Prepare(ws.Text(ln.wire())); err == nil {
			m.queue <- pm
		}
	}
}

// HistorySince returns the recorded lines of room after the one with ID
// since, and true; or, when the history no longer holds since, all of it
// and false.
func (l *Local) HistorySince(room, since string) ([]Line, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.rooms[room]
	if r == nil {
		return nil, false
	}
	for i, h := range r.history {
		if h.ID == since {
			return linesOf(r.history[i+1:]), true
		}
	}
	return linesOf(r.history), false
}

func linesOf(rs []recorded) []Line {
	lines := make([]Line, len(rs))
	for i, r := range rs {
		lines[i] = r.Line
	}
	return lines
}

// Remove takes m out of its room and ends its Run. It reports whether m
// was still there (false: it was dropped or removed before).
func (l *Local) Remove(m *Member) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.remove(m)
}

func (l *Local) remove(m *Member) bool {
	r := l.rooms[m.Room]
	if r == nil || !r.members[m] {
		return false
	}
	delete(r.members, m)
	if !m.paused {
		close(m.queue) // a paused member's queue is made, and closed, by Resume
	}
	if len(r.members) == 0 && len(r.history) == 0 {
		delete(l.rooms, m.Room)
	}
	return true
}

// Deliver queues line for every local member of room, as "@ID text",
// and records it in the room's history. It returns the members it
// dropped for being too slow; they are already closed with 1008 and
// removed.
func (l *Local) Deliver(room string, line Line) []*Member { return l.send(room, line, true) }

// Notify is Deliver without an ID and without recording line in the
// history: for messages that are only true now, such as a member list or
// a relay outage.
func (l *Local) Notify(room, line string) []*Member { return l.send(room, Line{Text: line}, false) }

func (l *Local) send(room string, line Line, record bool) []*Member {
	pm, err := ws.Prepare(ws.Text(line.wire()))
	if err != nil {
		return nil // only for a non-data type; ws.Text is always valid
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.rooms[room]
	if r == nil {
		if !record || l.keep == 0 {
			return nil
		}
		r = &localRoom{members: make(map[*Member]bool)}
		l.rooms[room] = r
	}
	if record && l.keep > 0 {
		r.history = append(r.history, recorded{line, pm})
		if len(r.history) > l.keep {
			r.history = slices.Delete(r.history, 0, len(r.history)-l.keep)
		}
	}
	var dropped []*Member
	for m := range r.members {
		if m.paused {
			if len(m.pending) < maxPending {
				m.pending = append(m.pending, line)
				continue
			}
			closeSoon(m.conn, ws.StatusPolicyViolation, "too slow")
			l.remove(m)
			dropped = append(dropped, m)
			continue
		}
		if m.after != "" && line.ID != "" {
			if CompareID(line.ID, m.after) <= 0 {
				continue // replayed already
			}
			m.after = "" // IDs increase from here on
		}
		select {
		case m.queue <- pm:
		default:
			closeSoon(m.conn, ws.StatusPolicyViolation, "too slow")
			l.remove(m)
			dropped = append(dropped, m)
		}
	}
	return dropped
}

// Rooms returns the names of the rooms with a local member.
func (l *Local) Rooms() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var rooms []string
	for name, r := range l.rooms {
		if len(r.members) > 0 {
			rooms = append(rooms, name)
		}
	}
	slices.Sort(rooms)
	return rooms
}

// Members returns the local members of room.
func (l *Local) Members(room string) []*Member {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.rooms[room]
	if r == nil {
		return nil
	}
	ms := make([]*Member, 0, len(r.members))
	for m := range r.members {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *Member) int { return cmp.Compare(a.ID, b.ID) })
	return ms
}

// Names returns the sorted names of room's local members.
func (l *Local) Names(room string) []string {
	var names []string
	for _, m := range l.Members(room) {
		names = append(names, m.Name)
	}
	slices.Sort(names)
	return names
}

// closeSoon closes c without blocking the caller.
func closeSoon(c *ws.Conn, code ws.StatusCode, reason string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = c.Close(ctx, code, reason)
	}()
}
