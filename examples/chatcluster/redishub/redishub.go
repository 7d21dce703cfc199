// Package redishub is a chatroom.Hub shared by several processes through
// Redis: each process delivers to its own members through a
// chatroom.Local, and lines travel between processes by Redis pub/sub, one
// channel per room. Presence is kept in Redis with expiring keys, so a
// process that dies without saying goodbye drops out of every member list
// within its TTL.
//
// Keys, with the default prefix "chat:" and room R, node N:
//
//	chat:room:R            pub/sub channel: "L"+ID+" "+line (a line), "P" (presence changed)
//	chat:room:R:log        stream of R's lines (field "l"), trimmed to about StreamLen
//	chat:room:R:nodes      set of the nodes with members in R
//	chat:room:R:node:N     hash member-id → name of N's members in R; expires after TTL
//	chat:nodes             pub/sub channel every node subscribes to, so that
//	                       each reconnect to Redis is confirmed by a subscription
//	chat:guests            counter for guest names
//
// Guarantees, and their limits: a line is delivered at most once to each
// member connected when it passes through Redis, in the order its sender
// sent it (each member's lines are published one after the other).
//
// Every line is also appended to its room's stream, and its stream ID
// goes with it to the clients ("@ID name: text"). A client that comes
// back with ?since=ID — after its node drained, or a dropped connection —
// gets the stream's lines after ID, then the live ones, with nothing lost
// or repeated in between (Join). Fan-out stays on pub/sub and the stream
// serves only that recovery: one subscription per node carries every
// room, where XREAD BLOCK would take one blocked connection per room per
// node, and live delivery keeps working the way it did while the stream
// is read only on a resume. The price is that pub/sub and stream must
// agree on order: one Lua script does XADD and PUBLISH, and Redis runs a
// script atomically, so the order of the live feed is the order of the
// IDs. A client away for longer than the stream reaches back (StreamLen
// lines), or longer than Replay lines, is told so (chatroom.MissedLine)
// and gets the latest lines; so is one whose Redis restarted without
// persistence, which loses the streams.
//
// A node whose subscription broke catches up the same way: once a room's
// channel is subscribed again, it reads the room's stream after the last
// line it delivered. While Redis is unreachable a node tells its members once
// ("* relay unavailable ...") and tells a sender that its line was not
// delivered, instead of dropping it silently; when the subscription is
// back it says "* relay restored" and rewrites its presence, which a
// restarted Redis has lost.
package redishub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/examples/chat/chatroom"
)

// Notices a node sends to its members when Redis goes away and comes back.
const (
	UnavailableLine = "* relay unavailable: lines are not delivered until it is back"
	RestoredLine    = "* relay restored"
)

// ErrUnavailable is the error of Publish while Redis cannot be reached.
var ErrUnavailable = errors.New("relay unavailable")

// Options configure a Hub. The zero value is usable.
type Options struct {
	// Node names this process in presence keys; it must differ between
	// the processes sharing a Redis. Default: 8 random hex digits.
	Node string
	// History is how many lines per room a newcomer receives: the lines
	// this node has seen, so a restarted node starts empty. Default 0.
	History int
	// Queue is how many messages wait for a member before it is dropped
	// with 1008. Default 64.
	Queue int
	// TTL is how long a node's presence outlives its last refresh; it
	// is refreshed every TTL/3. Default 15 s.
	TTL time.Duration
	// Prefix starts every key and channel name. Default "chat:".
	Prefix string
	// ListEvery is the least time between two member lists sent to a
	// room's members. A list is the whole room, so in a room of n a
	// burst of n joins would otherwise cost n² names written; with it,
	// a burst costs one list per ListEvery. Default 250 ms.
	ListEvery time.Duration
	// StreamLen is about how many lines each room's stream keeps for
	// resuming clients (XADD MAXLEN ~: Redis trims whole nodes of the
	// stream, so it keeps at least this many). Default 10,000.
	StreamLen int
	// Replay is the most lines a resuming client is sent; one that
	// missed more is told it missed lines and gets the last Replay.
	// Default 1,000.
	Replay int
	// Quiet leaves out the "* NAME joined" and "* NAME left" lines; the
	// member list still changes. For large rooms: n members arriving
	// would otherwise be n² lines written, a burst that fills the queues
	// of members that are not slow at all.
	Quiet bool
}

// Hub is a chatroom.Hub over Redis. Create it with New; Close it before
// closing the redis.Client.
type Hub struct {
	rdb   *redis.Client
	opt   Options
	local *chatroom.Local
	ps    *redis.PubSub

	ctx    context.Context // ends on Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	writeMu sync.Mutex // orders presence writes, so a refresh never resurrects a member that left

	mu        sync.Mutex
	up        bool                     // the subscription is confirmed and no command has failed since
	toldDown  bool                     // members were told the relay is unavailable
	confirmed map[string]chan struct{} // channel → closed once subscribed
	lists     map[string]string        // room → last member list sent
	written   map[string]bool          // rooms whose presence key this node wrote

	guests     atomic.Uint64
	kickWrite  chan struct{}
	kickList   chan struct{}
	closeOnce  sync.Once
	closeError error
}

// New returns a hub using rdb and starts its subscriber and its presence
// refresher. It does no I/O of its own: if Redis cannot be reached yet,
// the hub starts as unavailable and recovers when Redis is there.
func New(rdb *redis.Client, opt Options) *Hub {
	if opt.Node == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		opt.Node = hex.EncodeToString(b[:])
	}
	if opt.Queue <= 0 {
		opt.Queue = 64
	}
	if opt.TTL <= 0 {
		opt.TTL = 15 * time.Second
	}
	if opt.Prefix == "" {
		opt.Prefix = "chat:"
	}
	if opt.StreamLen <= 0 {
		opt.StreamLen = 10000
	}
	if opt.Replay <= 0 {
		opt.Replay = 1000
	}
	if opt.ListEvery <= 0 {
		opt.ListEvery = 250 * time.Millisecond
	}
	h := &Hub{
		rdb:       rdb,
		opt:       opt,
		local:     chatroom.NewLocal(opt.History, opt.Queue),
		confirmed: make(map[string]chan struct{}),
		lists:     make(map[string]string),
		written:   make(map[string]bool),
		kickWrite: make(chan struct{}, 1),
		kickList:  make(chan struct{}, 1),
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.confirmed[h.opt.Prefix+"nodes"] = make(chan struct{})
	h.ps = rdb.Subscribe(h.ctx, h.opt.Prefix+"nodes")
	h.wg.Add(2)
	go h.receive()
	go h.refresh()
	return h
}

// Node returns the node name of h.
func (h *Hub) Node() string { return h.opt.Node }

// Up reports whether h's subscription to Redis is confirmed and no
// command has failed since.
func (h *Hub) Up() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.up
}

func (h *Hub) channel(room string) string  { return h.opt.Prefix + "room:" + room }
func (h *Hub) nodesKey(room string) string { return h.opt.Prefix + "room:" + room + ":nodes" }
func (h *Hub) logKey(room string) string   { return h.opt.Prefix + "room:" + room + ":log" }
func (h *Hub) nodeKey(room, node string) string {
	return h.opt.Prefix + "room:" + room + ":node:" + node
}

// opCtx bounds one Redis operation done for a member.
func (h *Hub) opCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(h.ctx, 2*time.Second)
}

// Join implements chatroom.Hub. A member resuming from since is added
// paused once this node is subscribed to room, so that the lines arriving
// from then on wait; the stream is read after since (XRANGE, which sees
// every line published before it, XADD and PUBLISH being one script);
// then the member gets the replay and the waiting lines newer than the
// last replayed (chatroom.Local.Resume). A line published while the
// stream was read is in the replay and in the live feed, and is sent
// once.
func (h *Hub) Join(ctx context.Context, room, name, since string, conn *ws.Conn) (*chatroom.Member, error) {
	name = chatroom.CleanName(name)
	if name == "" {
		name = h.guestName(ctx)
	}
	h.subscribe(ctx, room)
	var m *chatroom.Member
	if since == "" {
		m = h.local.Add(room, name, conn)
	} else {
		m = h.local.AddPaused(room, name, conn)
	}
	h.mu.Lock()
	if !h.up {
		h.toldDown = true
		m.Tell(UnavailableLine)
	}
	h.mu.Unlock()
	if since != "" {
		h.local.Resume(m, since, h.replay(ctx, room, since))
	}

	octx, cancel := h.opCtx()
	defer cancel()
	h.writeMu.Lock()
	_, err := h.rdb.TxPipelined(octx, func(p redis.Pipeliner) error {
		key := h.nodeKey(room, h.opt.Node)
		p.HSet(octx, key, strconv.FormatUint(m.ID, 10), name)
		p.PExpire(octx, key, h.opt.TTL)
		p.SAdd(octx, h.nodesKey(room), h.opt.Node)
		return nil
	})
	h.markWritten(room)
	h.writeMu.Unlock()
	if err != nil {
		h.down(err)
	}
	if !h.opt.Quiet {
		_ = h.Publish(octx, room, "* "+name+" joined")
	}
	h.presenceChanged(octx, room)
	return m, nil
}

// replay returns the lines of room's stream after since, at most Replay
// of them, with chatroom.MissedLine first when the stream no longer holds
// since (trimmed, or lost in a Redis restart) or holds more than Replay
// lines after it.
func (h *Hub) replay(ctx context.Context, room, since string) []chatroom.Line {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	missed := []chatroom.Line{{Text: chatroom.MissedLine}}
	// since itself, the Replay lines after it, and one more to tell
	// whether there are more.
	xs, err := h.rdb.XRangeN(ctx, h.logKey(room), since, "+", int64(h.opt.Replay)+2).Result()
	if err != nil {
		h.down(err)
		return missed
	}
	ok := len(xs) > 0 && xs[0].ID == since
	if ok {
		xs = xs[1:]
	}
	if len(xs) > h.opt.Replay {
		ok = false
		if xs, err = h.rdb.XRevRangeN(ctx, h.logKey(room), "+", "-", int64(h.opt.Replay)).Result(); err != nil {
			h.down(err)
			return missed
		}
		slices.Reverse(xs)
	}
	lines := make([]chatroom.Line, 0, len(xs)+1)
	if !ok {
		lines = append(lines, missed...)
	}
	for _, x := range xs {
		if text, isStr := x.Values["l"].(string); isStr {
			lines = append(lines, chatroom.Line{ID: x.ID, Text: text})
		}
	}
	return lines
}

func (h *Hub) guestName(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if n, err := h.rdb.Incr(ctx, h.opt.Prefix+"guests").Result(); err == nil {
		return fmt.Sprintf("guest-%d", n)
	}
	return fmt.Sprintf("guest-%s-%d", h.opt.Node, h.guests.Add(1))
}

func (h *Hub) markWritten(room string) {
	h.mu.Lock()
	h.written[room] = true
	h.mu.Unlock()
}

// subscribe subscribes to room's channel, once per room, and waits a
// little for Redis to confirm it, so that the member's own join is not
// published before this node listens. A room stays subscribed until
// Close: rooms are few, and unsubscribing would race with the next join.
func (h *Hub) subscribe(ctx context.Context, room string) {
	ch := h.channel(room)
	h.mu.Lock()
	done, ok := h.confirmed[ch]
	if !ok {
		done = make(chan struct{})
		h.confirmed[ch] = done
	}
	up := h.up
	h.mu.Unlock()
	if !ok {
		if err := h.ps.Subscribe(h.ctx, ch); err != nil {
			h.down(err)
			return
		}
	}
	if !up {
		return
	}
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
	}
}

// Leave implements chatroom.Hub.
func (h *Hub) Leave(m *chatroom.Member) {
	if !h.local.Remove(m) {
		return
	}
	octx, cancel := h.opCtx()
	defer cancel()
	h.forget(octx, m.Room, m)
	if !h.opt.Quiet {
		_ = h.Publish(octx, m.Room, "* "+m.Name+" left")
	}
	h.presenceChanged(octx, m.Room)
}

// forget removes members from room's presence.
func (h *Hub) forget(ctx context.Context, room string, ms ...*chatroom.Member) {
	fields := make([]string, len(ms))
	for i, m := range ms {
		fields[i] = strconv.FormatUint(m.ID, 10)
	}
	h.writeMu.Lock()
	err := h.rdb.HDel(ctx, h.nodeKey(room, h.opt.Node), fields...).Err()
	h.writeMu.Unlock()
	if err != nil {
		h.down(err)
	}
}

// publishScript appends a line to its room's stream and publishes it with
// its ID, atomically: the live feed then carries the lines in ID order,
// which resuming relies on (a client's last ID covers every line before
// it). KEYS[1] is the stream; ARGV: the stream's length, the line, the
// channel.
var publishScript = redis.NewScript(`
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'l', ARGV[2])
redis.call('PUBLISH', ARGV[3], 'L' .. id .. ' ' .. ARGV[2])
return id
`)

// Publish implements chatroom.Hub. Its error wraps ErrUnavailable when
// Redis could not take the line.
func (h *Hub) Publish(ctx context.Context, room, line string) error {
	if err := publishScript.Run(ctx, h.rdb, []string{h.logKey(room)}, h.opt.StreamLen, line, h.channel(room)).Err(); err != nil {
		h.down(err)
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// presenceChanged tells every node, this one included, to send room's
// member list again.
func (h *Hub) presenceChanged(ctx context.Context, room string) {
	if err := h.rdb.Publish(ctx, h.channel(room), "P").Err(); err != nil {
		h.down(err)
		kick(h.kickList) // at least this node's members see the change
	}
}

// Members implements chatroom.Hub: the names in every live node's
// presence hash. Nodes whose hash has expired are removed from the set.
func (h *Hub) Members(ctx context.Context, room string) ([]string, error) {
	nodes, err := h.rdb.SMembers(ctx, h.nodesKey(room)).Result()
	if err != nil {
		return nil, err
	}
	cmds := make([]*redis.StringSliceCmd, len(nodes))
	_, err = h.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, n := range nodes {
			cmds[i] = p.HVals(ctx, h.nodeKey(room, n))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	names := []string{}
	var gone []any
	for i, c := range cmds {
		if len(c.Val()) == 0 {
			gone = append(gone, nodes[i])
		}
		names = append(names, c.Val()...)
	}
	if len(gone) > 0 {
		_ = h.rdb.SRem(ctx, h.nodesKey(room), gone...).Err()
	}
	slices.Sort(names)
	return names, nil
}

// receive reads the subscription until Close. go-redis redials and
// resubscribes every channel on the Receive after a failure; the
// confirmation of a subscription is what marks Redis as back. It keeps
// the ID of the last line delivered per room: once a room's channel is
// subscribed again after a failure, the lines published meanwhile are
// read from the room's stream and delivered (catchUp), and a live line
// with an ID not above the last is not delivered twice.
func (h *Hub) receive() {
	defer h.wg.Done()
	delay := 50 * time.Millisecond
	last := make(map[string]string) // room → ID of the last line delivered
	stale := make(map[string]bool)  // rooms to catch up once resubscribed
	for {
		msg, err := h.ps.Receive(h.ctx)
		if err != nil {
			if h.ctx.Err() != nil {
				return
			}
			for room := range last {
				stale[room] = true
			}
			h.down(err)
			// Redial after a jittered pause, growing to 1 s: a Redis
			// restart is noticed by every node at once.
			t := time.NewTimer(delay/2 + mrand.N(delay))
			select {
			case <-t.C:
			case <-h.ctx.Done():
				t.Stop()
				return
			}
			delay = min(2*delay, time.Second)
			continue
		}
		delay = 50 * time.Millisecond
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				h.subscribed(m.Channel)
				if room, ok := strings.CutPrefix(m.Channel, h.opt.Prefix+"room:"); ok && stale[room] {
					delete(stale, room)
					h.catchUp(room, last)
				}
			}
		case *redis.Message:
			room, ok := strings.CutPrefix(m.Channel, h.opt.Prefix+"room:")
			if !ok || m.Payload == "" {
				continue
			}
			switch m.Payload[0] {
			case 'L':
				id, text, ok := strings.Cut(m.Payload[1:], " ")
				if !ok || (last[room] != "" && chatroom.CompareID(id, last[room]) <= 0) {
					continue // delivered already, by catchUp
				}
				last[room] = id
				h.dropped(room, h.local.Deliver(room, chatroom.Line{ID: id, Text: text}))
			case 'P':
				kick(h.kickList)
			}
		}
	}
}

// catchUp delivers the lines of room's stream after last[room], at most
// Replay of them, and records the last delivered. The members were told
// the relay was unavailable when the subscription broke, so a gap the
// stream cannot fill (a Redis restart lost it) has been said already.
func (h *Hub) catchUp(room string, last map[string]string) {
	ctx, cancel := context.WithTimeout(h.ctx, 2*time.Second)
	defer cancel()
	xs, err := h.rdb.XRangeN(ctx, h.logKey(room), "("+last[room], "+", int64(h.opt.Replay)).Result()
	if err != nil {
		h.down(err)
		return
	}
	for _, x := range xs {
		if text, ok := x.Values["l"].(string); ok {
			last[room] = x.ID
			h.dropped(room, h.local.Deliver(room, chatroom.Line{ID: x.ID, Text: text}))
		}
	}
}

// subscribed records a confirmed subscription; the first after a failure
// marks Redis as back.
func (h *Hub) subscribed(channel string) {
	h.mu.Lock()
	if c, ok := h.confirmed[channel]; ok {
		select {
		case <-c:
		default:
			close(c)
		}
	}
	wasUp, told := h.up, h.toldDown
	h.up, h.toldDown = true, false
	h.mu.Unlock()
	if !wasUp {
		if told {
			h.notifyAll(RestoredLine)
		}
		kick(h.kickWrite) // a restarted Redis has lost every presence key
	}
}

// down marks Redis as unreachable and tells the members, once per outage.
func (h *Hub) down(err error) {
	if h.ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return
	}
	h.mu.Lock()
	wasUp := h.up
	h.up = false
	if wasUp {
		h.toldDown = true
	}
	h.mu.Unlock()
	if wasUp {
		h.notifyAll(UnavailableLine)
	}
}

// notifyAll sends line, unrecorded, to every local member.
func (h *Hub) notifyAll(line string) {
	for _, room := range h.local.Rooms() {
		h.dropped(room, h.local.Notify(room, line))
	}
}

// dropped takes the members Local dropped for being too slow out of the
// presence and announces them, off the caller's goroutine (the
// subscriber must not wait for Redis).
func (h *Hub) dropped(room string, ms []*chatroom.Member) {
	if len(ms) == 0 {
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		octx, cancel := h.opCtx()
		defer cancel()
		h.forget(octx, room, ms...)
		_ = h.Publish(octx, room, chatroom.DroppedLine(ms))
		h.presenceChanged(octx, room)
	}()
}

// refresh rewrites this node's presence every TTL/3 (and when Redis comes
// back), and sends each room's member list to the local members whenever
// it changed.
func (h *Hub) refresh() {
	defer h.wg.Done()
	tick := time.NewTicker(h.opt.TTL / 3)
	defer tick.Stop()
	var listed time.Time // when the lists were last sent
	for {
		write, tell := false, false
		select {
		case <-h.ctx.Done():
			return
		case <-tick.C:
			write = true
		case <-h.kickWrite:
			write, tell = true, true
		case <-h.kickList:
		}
		ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
		if write {
			h.writePresence(ctx)
		}
		if tell {
			// Redis is back, and empty if it restarted: the other nodes
			// learn of this node's members now, not at their next tick.
			for _, room := range h.local.Rooms() {
				h.presenceChanged(ctx, room)
			}
		}
		if wait := h.opt.ListEvery - time.Since(listed); wait > 0 {
			// Changes arriving meanwhile are coalesced into this round.
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-h.ctx.Done():
				t.Stop()
				cancel()
				return
			}
		}
		listed = time.Now()
		for _, room := range h.local.Rooms() {
			h.sendList(ctx, room)
		}
		cancel()
	}
}

// writePresence replaces this node's presence hash of every room with
// its current local members, in one transaction per room.
func (h *Hub) writePresence(ctx context.Context) {
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	rooms := make([]string, 0, len(h.written))
	for r := range h.written {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()
	for _, r := range h.local.Rooms() {
		if !slices.Contains(rooms, r) {
			rooms = append(rooms, r)
		}
	}
	for _, room := range rooms {
		ms := h.local.Members(room)
		key := h.nodeKey(room, h.opt.Node)
		_, err := h.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, key)
			if len(ms) == 0 {
				p.SRem(ctx, h.nodesKey(room), h.opt.Node)
				return nil
			}
			fields := make([]any, 0, 2*len(ms))
			for _, m := range ms {
				fields = append(fields, strconv.FormatUint(m.ID, 10), m.Name)
			}
			p.HSet(ctx, key, fields...)
			p.PExpire(ctx, key, h.opt.TTL)
			p.SAdd(ctx, h.nodesKey(room), h.opt.Node)
			return nil
		})
		if err != nil {
			h.down(err)
			return
		}
		h.mu.Lock()
		if len(ms) == 0 {
			delete(h.written, room)
		} else {
			h.written[room] = true
		}
		h.mu.Unlock()
	}
}

// sendList sends room's member list to its local members if it changed
// since the last one sent.
func (h *Hub) sendList(ctx context.Context, room string) {
	names, err := h.Members(ctx, room)
	if err != nil {
		h.down(err)
		return
	}
	line := chatroom.MembersLine(names)
	h.mu.Lock()
	same := h.lists[room] == line
	h.lists[room] = line
	h.mu.Unlock()
	if !same {
		h.dropped(room, h.local.Notify(room, line))
	}
}

// Close removes this node from every room's presence, tells the other
// nodes, and stops the subscriber and the refresher. The members should
// have left already (chatroom.Serve closes their connections first).
// ctx bounds the goodbye to Redis.
func (h *Hub) Close(ctx context.Context) error {
	h.closeOnce.Do(func() {
		h.writeMu.Lock()
		h.mu.Lock()
		rooms := make([]string, 0, len(h.written))
		for r := range h.written {
			rooms = append(rooms, r)
		}
		h.mu.Unlock()
		var errs []error
		for _, room := range rooms {
			_, err := h.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Del(ctx, h.nodeKey(room, h.opt.Node))
				p.SRem(ctx, h.nodesKey(room), h.opt.Node)
				p.Publish(ctx, h.channel(room), "P")
				return nil
			})
			errs = append(errs, err)
		}
		h.writeMu.Unlock()
		h.cancel()
		errs = append(errs, h.ps.Close())
		h.wg.Wait()
		h.closeError = errors.Join(errs...)
	})
	return h.closeError
}

func kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

var _ chatroom.Hub = (*Hub)(nil)
