package chatroom

import (
	"context"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/wsactor/ws"
)

// Hub is a set of chat rooms: presence and broadcast. Implementations are
// safe for concurrent use.
type Hub interface {
	// Join adds conn to room as name (a guest name if it is empty after
	// cleaning) and returns its member, whose queue already holds the
	// room's recent history — or, if since is the ID of a line the
	// client saw, the lines after it, and then the live lines without
	// a gap or a repeat; if the room no longer keeps since, MissedLine
	// comes first. The caller runs Member.Run and calls Leave when the
	// connection ends.
	Join(ctx context.Context, room, name, since string, conn *ws.Conn) (*Member, error)
	// Leave removes m from its room; a member already dropped is not
	// announced twice.
	Leave(m *Member)
	// Publish sends line to every member of room, on every process of
	// the hub. An error means the line reached nobody.
	Publish(ctx context.Context, room, line string) error
	// Members returns the names present in room, sorted.
	Members(ctx context.Context, room string) ([]string, error)
}

// DefaultRoom is the room of a client that names none.
const DefaultRoom = "lobby"

// MembersPrefix starts the message that carries a room's member list.
const MembersPrefix = "@members "

// MembersLine formats names as the member-list message.
func MembersLine(names []string) string {
	if names == nil {
		names = []string{}
	}
	b, _ := json.Marshal(names) // a []string always marshals
	return MembersPrefix + string(b)
}

// ParseMembers returns the names of a member-list message, and false for
// any other message.
func ParseMembers(line string) ([]string, bool) {
	rest, ok := strings.CutPrefix(line, MembersPrefix)
	if !ok {
		return nil, false
	}
	var names []string
	if json.Unmarshal([]byte(rest), &names) != nil {
		return nil, false
	}
	return names, true
}

const maxNameBytes = 32

// CleanName keeps a name short, printable and on one line. It also strips
// leading '*' and '@', so that no member's line can pass for a notice or
// a member list.
func CleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	s = strings.TrimLeft(strings.TrimSpace(s), "*@ ")
	for len(s) > maxNameBytes {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

// CleanRoom keeps a room name to letters, digits, '-' and '_' (it becomes
// part of broker keys), at most 32 bytes; empty means DefaultRoom.
func CleanRoom(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return -1
	}, s)
	if len(s) > 32 {
		s = s[:32]
	}
	if s == "" {
		return DefaultRoom
	}
	return s
}
