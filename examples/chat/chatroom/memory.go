package chatroom

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wsactor/ws"
)

// Memory is the hub of one process: its Local is the whole room, and
// presence is the list of local members. It is the chat's default and
// needs nothing outside the process.
type Memory struct {
	mu     sync.Mutex // orders joins, leaves and lines, so every member sees one sequence
	local  *Local
	guests int
	epoch  string // start time in ms: the first half of every line ID
	seq    uint64 // the second half, counting the lines of every room
}

// NewMemory returns an in-memory hub that keeps history lines per room
// for newcomers and queues up to queue messages per member.
func NewMemory(history, queue int) *Memory {
	return &Memory{local: NewLocal(history, queue), epoch: strconv.FormatInt(time.Now().UnixMilli(), 10)}
}

// Join implements Hub. A member resuming from since gets the history
// after it; if the history no longer holds since (it is older than the
// history's length, or from before a restart of this process, whose
// IDs start from a new epoch) it is told MissedLine and gets the whole
// history.
func (h *Memory) Join(_ context.Context, room, name, since string, conn *ws.Conn) (*Member, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	name = CleanName(name)
	if name == "" {
		h.guests++
		name = fmt.Sprintf("guest-%d", h.guests)
	}
	var m *Member
	if since == "" {
		m = h.local.Add(room, name, conn)
	} else {
		// h.mu keeps every line out until Resume: nothing waits.
		m = h.local.AddPaused(room, name, conn)
		replay, ok := h.local.HistorySince(room, since)
		if !ok {
			replay = append([]Line{{Text: MissedLine}}, replay...)
		}
		h.local.Resume(m, since, replay)
	}
	h.deliver(room, "* "+name+" joined")
	h.presence(room)
	return m, nil
}

// Leave implements Hub.
func (h *Memory) Leave(m *Member) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.local.Remove(m) {
		h.deliver(m.Room, "* "+m.Name+" left")
		h.presence(m.Room)
	}
}

// Publish implements Hub.
func (h *Memory) Publish(_ context.Context, room, line string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.deliver(room, line) {
		h.presence(room)
	}
	return nil
}

// Members implements Hub.
func (h *Memory) Members(_ context.Context, room string) ([]string, error) {
	return h.local.Names(room), nil
}

// deliver records line and, while members are dropped for being too
// slow, announces them; it reports whether any was. h.mu is held.
func (h *Memory) deliver(room, line string) bool {
	some := false
	for line != "" {
		h.seq++
		dropped := h.local.Deliver(room, Line{ID: h.epoch + "-" + strconv.FormatUint(h.seq, 10), Text: line})
		line = ""
		if len(dropped) > 0 {
			some = true
			line = DroppedLine(dropped)
		}
	}
	return some
}

// presence sends room's member list to its members. h.mu is held.
func (h *Memory) presence(room string) {
	for {
		dropped := h.local.Notify(room, MembersLine(h.local.Names(room)))
		if len(dropped) == 0 {
			return
		}
		h.deliver(room, DroppedLine(dropped))
	}
}

// DroppedLine is the notice announcing members dropped for being too slow.
func DroppedLine(dropped []*Member) string {
	names := make([]string, len(dropped))
	for i, m := range dropped {
		names[i] = m.Name
	}
	return "* dropped (too slow): " + strings.Join(names, ", ")
}
