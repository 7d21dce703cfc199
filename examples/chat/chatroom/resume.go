package chatroom

import (
	"cmp"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// MissedLine is the notice a resuming member gets when the room no longer
// keeps the line it saw last (the log was trimmed, or the broker restarted
// without persistence): the lines in between are gone, and the client is
// told so rather than shown a silent gap.
const MissedLine = "* missed lines: the room's log no longer reaches back to your last line"

// Line is one recorded line of a room and its ID. Notices that are not
// recorded (member lists, relay outages) have an empty ID.
type Line struct {
	ID, Text string
}

// wire is the message a client receives for l: "@ID text", or the bare
// text when l has no ID.
func (l Line) wire() string {
	if l.ID == "" {
		return l.Text
	}
	return "@" + l.ID + " " + l.Text
}

// An ID is "MS-SEQ", two decimal numbers: a Redis stream entry ID, or for
// the in-memory hub its start time in milliseconds and a counter. IDs of
// one room increase in the order its lines are delivered.
func parseID(id string) (ms, seq uint64, ok bool) {
	a, b, found := strings.Cut(id, "-")
	if !found {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	return ms, seq, err1 == nil && err2 == nil
}

// ValidID reports whether id has the form of a line ID.
func ValidID(id string) bool {
	_, _, ok := parseID(id)
	return ok
}

// CompareID orders two valid line IDs as -1, 0 or +1; an invalid ID sorts
// before every valid one.
func CompareID(a, b string) int {
	am, as, aok := parseID(a)
	bm, bs, bok := parseID(b)
	switch {
	case !aok || !bok:
		return cmp.Compare(btoi(aok), btoi(bok))
	case am != bm:
		return cmp.Compare(am, bm)
	}
	return cmp.Compare(as, bs)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SplitID splits a received message "@ID text" into its ID and text; for
// any other message (a notice, a member list) id is empty and text is msg.
func SplitID(msg string) (id, text string) {
	rest, ok := strings.CutPrefix(msg, "@")
	if !ok {
		return "", msg
	}
	id, text, ok = strings.Cut(rest, " ")
	if !ok || !ValidID(id) {
		return "", msg
	}
	return id, text
}

// Resume is the client side of resuming: it remembers the ID of the last
// line received and adds it to every dial as ?since=ID, so that the node
// the client reconnects to sends the lines it missed, and only those. It
// is safe for concurrent use; the zero value is ready.
type Resume struct {
	mu   sync.Mutex
	last string
}

// See records msg's ID, if it has one that is newer than the last seen,
// and returns its text and whether it is new: false for a line already
// seen (a client may drop it).
func (r *Resume) See(msg string) (text string, fresh bool) {
	id, text := SplitID(msg)
	if id == "" {
		return text, true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last != "" && CompareID(id, r.last) <= 0 {
		return text, false
	}
	r.last = id
	return text, true
}

// Since returns the ID of the last line seen, or "" before the first.
func (r *Resume) Since() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// URL returns raw with ?since= set to the last ID seen (raw unchanged
// before the first line, or if it does not parse).
func (r *Resume) URL(raw string) string {
	since := r.Since()
	if since == "" {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set("since", since)
	u.RawQuery = q.Encode()
	return u.String()
}
