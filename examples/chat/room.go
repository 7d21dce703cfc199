package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wsactor/ws"
)

const (
	maxMessage   = 1000 // bytes a member may send at once
	memberQueue  = 64   // messages waiting for a member before it is dropped
	maxNameBytes = 32
)

// chatOptions are the connection settings of the room: small messages, a
// liveness check, and the default same-origin check (a page from another
// site cannot join with the user's cookies). Compression is on, without
// context takeover: chat lines are public and repetitive, each line is
// compressed once for the whole room (see room.record), and no member
// keeps a compressor while idle.
func chatOptions() []ws.AcceptOption {
	return []ws.AcceptOption{
		ws.WithCompression(),
		ws.WithMaxMessageSize(maxMessage),
		ws.WithIncomingBuffer(8),
		ws.WithKeepalive(20*time.Second, 20*time.Second),
		ws.WithWriteTimeout(10 * time.Second),
		ws.WithCloseGracePeriod(3 * time.Second),
	}
}

// member is one connection in the room and its queue of lines to send.
type member struct {
	conn  *ws.Conn
	name  string
	queue chan *ws.PreparedMessage // bounded: full means too slow
}

// send writes the member's queue to its connection until the queue is
// closed (the member left) or the connection ends.
func (m *member) send(ctx context.Context) {
	for pm := range m.queue {
		if err := m.conn.SendPrepared(ctx, pm); err != nil {
			return
		}
	}
}

// room is the hub: its members and the recent history. Each line is
// prepared once — framed and compressed for every member at the cost of
// one — and put on each member's queue without waiting: a member whose
// queue is full is dropped.
type room struct {
	mu      sync.Mutex
	members map[*ws.Conn]*member
	history []*ws.PreparedMessage
	keep    int
	guests  int
}

func newRoom(keep int) *room {
	return &room{members: make(map[*ws.Conn]*member), keep: keep}
}

// serve runs one member's connection: join, relay its messages, leave.
func (rm *room) serve(ctx context.Context, c *ws.Conn) {
	m := rm.join(c, ws.RequestFromContext(ctx).URL.Query().Get("name"))
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		m.send(ctx)
	}()
	defer func() {
		rm.leave(m)
		<-sent
	}()
	for msg := range c.Incoming() {
		if msg.Type != ws.TextMessage {
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			_ = c.Close(cctx, ws.StatusUnsupportedData, "text only")
			cancel()
			return
		}
		text := strings.TrimSpace(string(msg.Data))
		if text == "" {
			continue
		}
		rm.broadcast(m.name + ": " + text)
	}
}

func (rm *room) join(c *ws.Conn, name string) *member {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	name = cleanName(name)
	if name == "" {
		rm.guests++
		name = fmt.Sprintf("guest-%d", rm.guests)
	}
	m := &member{conn: c, name: name, queue: make(chan *ws.PreparedMessage, memberQueue)}
	for _, line := range rm.history {
		m.queue <- line // the queue holds more than the history
	}
	rm.members[c] = m
	rm.record("* " + name + " joined")
	return m
}

// leave removes m, if it is still in the room, and ends its sender.
func (rm *room) leave(m *member) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if rm.members[m.conn] == m {
		rm.remove(m)
		rm.record("* " + m.name + " left")
	}
}

// remove takes m out of the room and closes its queue. rm.mu is held.
func (rm *room) remove(m *member) {
	delete(rm.members, m.conn)
	close(m.queue)
}

func (rm *room) broadcast(line string) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	rm.record(line)
}

// record prepares line once, appends it to the history and queues it for
// every member, then announces the members that were too slow to take
// it. rm.mu is held.
func (rm *room) record(line string) {
	for line != "" {
		pm, err := ws.Prepare(ws.Text(line))
		if err != nil {
			return // only for a non-data type; ws.Text is always valid
		}
		rm.history = append(rm.history, pm)
		if len(rm.history) > rm.keep {
			rm.history = rm.history[len(rm.history)-rm.keep:]
		}
		var dropped []string
		for _, m := range rm.members {
			if !deliver(m, pm) {
				rm.remove(m)
				dropped = append(dropped, m.name)
			}
		}
		line = ""
		if len(dropped) > 0 {
			line = "* dropped (too slow): " + strings.Join(dropped, ", ")
		}
	}
}

// deliver queues pm for m without waiting and reports whether it could.
// A member whose queue is full is too slow for the room: it is closed with
// 1008 (policy violation), and the caller removes it.
func deliver(m *member, pm *ws.PreparedMessage) bool {
	select {
	case m.queue <- pm:
		return true
	default:
		closeSoon(m.conn, ws.StatusPolicyViolation, "too slow")
		return false
	}
}

// closeSoon closes c without blocking the caller.
func closeSoon(c *ws.Conn, code ws.StatusCode, reason string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = c.Close(ctx, code, reason)
	}()
}

// cleanName keeps a name short, printable and on one line.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	for len(s) > maxNameBytes {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}
