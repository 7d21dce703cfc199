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

// chatOptions are the connection settings of the room: small messages,
// a bounded queue per member, a liveness check, and the default
// same-origin check (a page from another site cannot join with the user's
// cookies). Compression is on, without context takeover: chat lines are
// public and repetitive, and no member keeps a compressor while idle.
func chatOptions() []ws.AcceptOption {
	return []ws.AcceptOption{
		ws.WithCompression(),
		ws.WithMaxMessageSize(maxMessage),
		ws.WithOutgoingBuffer(memberQueue),
		ws.WithIncomingBuffer(8),
		ws.WithKeepalive(20*time.Second, 20*time.Second),
		ws.WithWriteTimeout(10 * time.Second),
		ws.WithCloseGracePeriod(3 * time.Second),
	}
}

// room is the hub: its members and the recent history. Broadcasts never
// block: a member whose queue is full is dropped.
type room struct {
	mu      sync.Mutex
	members map[*ws.Conn]string
	history []string
	keep    int
	guests  int
}

func newRoom(keep int) *room {
	return &room{members: make(map[*ws.Conn]string), keep: keep}
}

// serve runs one member's connection: join, relay its messages, leave.
func (rm *room) serve(ctx context.Context, c *ws.Conn) {
	name := rm.join(c, ws.RequestFromContext(ctx).URL.Query().Get("name"))
	defer rm.leave(c, name)
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
		rm.broadcast(name + ": " + text)
	}
}

func (rm *room) join(c *ws.Conn, name string) string {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	name = cleanName(name)
	if name == "" {
		rm.guests++
		name = fmt.Sprintf("guest-%d", rm.guests)
	}
	for _, line := range rm.history {
		rm.deliver(c, line) // the queue holds more than the history
	}
	rm.members[c] = name
	rm.record("* " + name + " joined")
	return name
}

func (rm *room) leave(c *ws.Conn, name string) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if _, ok := rm.members[c]; ok {
		delete(rm.members, c)
		rm.record("* " + name + " left")
	}
}

func (rm *room) broadcast(line string) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	rm.record(line)
}

// record appends line to the history and sends it to every member, then
// announces the members that were too slow to take it. rm.mu is held.
func (rm *room) record(line string) {
	for line != "" {
		rm.history = append(rm.history, line)
		if len(rm.history) > rm.keep {
			rm.history = rm.history[len(rm.history)-rm.keep:]
		}
		var dropped []string
		for c, name := range rm.members {
			if !rm.deliver(c, line) {
				delete(rm.members, c)
				dropped = append(dropped, name)
			}
		}
		line = ""
		if len(dropped) > 0 {
			line = "* dropped (too slow): " + strings.Join(dropped, ", ")
		}
	}
}

// deliver queues line for c without waiting and reports whether it could.
// A member whose queue is full is too slow for the room: it is closed with
// 1008 (policy violation), and the caller removes it.
func (rm *room) deliver(c *ws.Conn, line string) bool {
	select {
	case c.Outgoing() <- ws.Text(line):
		return true
	case <-c.Done():
		return true // leaving anyway; serve's leave removes it
	default:
		closeSoon(c, ws.StatusPolicyViolation, "too slow")
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
