package chatroom_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/examples/chat/chatroom"
	"github.com/wsactor/ws/reconnect"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCleanName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"  alice ", "alice"},
		{"a\nb", "ab"},
		{"\x00", ""},
		{"* admin", "admin"},
		{"@members [\"x\"]", "members [\"x\"]"},
		{strings.Repeat("é", 40), strings.Repeat("é", 16)},
	} {
		require.Equal(t, tc.want, chatroom.CleanName(tc.in), "%q", tc.in)
	}
}

func TestCleanRoom(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", chatroom.DefaultRoom},
		{"go-dev_2", "go-dev_2"},
		{"a:b*c", "abc"},
		{"::", chatroom.DefaultRoom},
		{strings.Repeat("r", 40), strings.Repeat("r", 32)},
	} {
		require.Equal(t, tc.want, chatroom.CleanRoom(tc.in), "%q", tc.in)
	}
}

func ExampleMembersLine() {
	line := chatroom.MembersLine([]string{"alice", "bob"})
	fmt.Println(line)
	names, ok := chatroom.ParseMembers(line)
	fmt.Println(names, ok)
	_, ok = chatroom.ParseMembers("alice: @members [] is not a list")
	fmt.Println(ok)
	// Output:
	// @members ["alice","bob"]
	// [alice bob] true
	// false
}

// member is a test connection that collects what it receives.
type member struct {
	conn  *ws.Conn
	lines chan string
}

func join(t *testing.T, ctx context.Context, base, query string) *member {
	t.Helper()
	c, _, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws?"+query)
	require.NoError(t, err)
	m := &member{conn: c, lines: make(chan string, 100)}
	go func() {
		defer close(m.lines)
		for msg := range c.Incoming() {
			m.lines <- string(msg.Data) // "@ID text" for a recorded line
		}
	}()
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(cctx, ws.StatusNormalClosure, "")
		for range m.lines {
		}
	})
	return m
}

// until reads m's lines until one's text equals want and returns the
// texts before it.
func (m *member) until(t *testing.T, ctx context.Context, want string) []string {
	t.Helper()
	_, seen := m.untilID(t, ctx, want)
	return seen
}

// untilID is until returning the ID of the line wanted too.
func (m *member) untilID(t *testing.T, ctx context.Context, want string) (string, []string) {
	t.Helper()
	var seen []string
	for {
		select {
		case raw, ok := <-m.lines:
			require.True(t, ok, "connection ended before %q; saw %q", want, seen)
			id, l := chatroom.SplitID(raw)
			if l == want {
				return id, seen
			}
			seen = append(seen, l)
		case <-ctx.Done():
			t.Fatalf("no %q; saw %q", want, seen)
		}
	}
}

// TestMemoryRooms: rooms are separate — lines and member lists stay in
// their room — and a guest gets a name.
func TestMemoryRooms(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hub := chatroom.NewMemory(10, 16)
	h := chatroom.Handler(hub)
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Shutdown(context.Background())

	a1 := join(t, ctx, srv.URL, "room=a&name=ann")
	a1.until(t, ctx, `@members ["ann"]`)
	b1 := join(t, ctx, srv.URL, "room=b")
	b1.until(t, ctx, `@members ["guest-1"]`)
	a2 := join(t, ctx, srv.URL, "room=a&name=al")
	a1.until(t, ctx, `@members ["al","ann"]`)
	a2.until(t, ctx, `@members ["al","ann"]`)

	require.NoError(t, b1.conn.Send(ctx, ws.Text("in b")))
	b1.until(t, ctx, "guest-1: in b")
	require.NoError(t, a2.conn.Send(ctx, ws.Text("in a")))
	seen := a1.until(t, ctx, "al: in a")
	require.NotContains(t, seen, "guest-1: in b")

	names, err := hub.Members(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, []string{"al", "ann"}, names)
	names, err = hub.Members(ctx, "c")
	require.NoError(t, err)
	require.Empty(t, names)
}

// TestDialAny: each dial goes to one of the URLs, whichever the client
// asked for, never twice in a row to the same one, and to every one in
// time.
func TestDialAny(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var urls []string
	for _, name := range []string{"A", "B", "C"} {
		h := ws.Handler(func(ctx context.Context, c *ws.Conn) { _ = c.Send(ctx, ws.Text(name)) })
		srv := httptest.NewServer(h)
		defer srv.Close()
		defer h.Shutdown(context.Background())
		urls = append(urls, "ws"+strings.TrimPrefix(srv.URL, "http"))
	}
	dial := chatroom.DialAny(urls...)
	var got []string
	// 60 dials: each step picks one of the two others, so missing one
	// server throughout has probability 3·2^-59.
	for range 60 {
		c, _, err := dial(ctx, "ws://ignored.invalid/")
		require.NoError(t, err)
		msg, ok := <-c.Incoming()
		require.True(t, ok)
		if len(got) > 0 {
			require.NotEqual(t, got[len(got)-1], string(msg.Data), "the same node twice in a row")
		}
		got = append(got, string(msg.Data))
		<-c.Done()
	}
	for _, name := range []string{"A", "B", "C"} {
		require.True(t, slices.Contains(got, name), "%s never dialled: %v", name, got)
	}
}

// TestMemoryResume: a member that comes back with ?since= the ID of the
// last line it saw gets the lines after it, once, and then the live
// ones; one whose ID the room no longer keeps (here: from another epoch
// of the process) is told it missed lines.
func TestMemoryResume(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hub := chatroom.NewMemory(10, 16)
	h := chatroom.Handler(hub)
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Shutdown(context.Background())

	ann := join(t, ctx, srv.URL, "name=ann")
	bob := join(t, ctx, srv.URL, "name=bob")
	ann.until(t, ctx, `@members ["ann","bob"]`)
	for _, s := range []string{"one", "two"} {
		require.NoError(t, ann.conn.Send(ctx, ws.Text(s)))
	}
	two, _ := bob.untilID(t, ctx, "ann: two")
	require.True(t, chatroom.ValidID(two), "%q", two)
	require.NoError(t, bob.conn.Close(ctx, ws.StatusNormalClosure, ""))
	ann.until(t, ctx, "* bob left")
	require.NoError(t, ann.conn.Send(ctx, ws.Text("three")))
	ann.until(t, ctx, "ann: three")

	for _, tc := range []struct {
		name, since string
		want        []string // the recorded lines first received, in order
	}{
		{"kept", two, []string{"* bob left", "ann: three", "* bob joined"}},
		{"gone", "1-1", []string{chatroom.MissedLine, "* ann joined", "* bob joined", "ann: one"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := join(t, ctx, srv.URL, "name=bob&since="+tc.since)
			var got []string
			for len(got) < len(tc.want) {
				raw := <-b.lines
				if _, list := chatroom.ParseMembers(raw); !list {
					_, text := chatroom.SplitID(raw)
					got = append(got, text)
				}
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestCompareID(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1-1", "1-1", 0},
		{"1-2", "1-10", -1},
		{"2-0", "1-99", 1},
		{"1700000000000-0", "999-5", 1},
		{"x", "1-1", -1},
		{"1-1", "", 1},
	} {
		require.Equal(t, tc.want, chatroom.CompareID(tc.a, tc.b), "%q vs %q", tc.a, tc.b)
	}
}

func ExampleResume() {
	var r chatroom.Resume
	for _, msg := range []string{"@5-1 ann: hi", "* bob joined", "@5-2 bob: hello", "@5-1 ann: hi"} {
		text, fresh := r.See(msg)
		fmt.Println(text, fresh)
	}
	fmt.Println(r.URL("ws://localhost:8080/ws?name=cat"))
	// Output:
	// ann: hi true
	// * bob joined true
	// bob: hello true
	// ann: hi false
	// ws://localhost:8080/ws?name=cat&since=5-2
}

func ExampleSplitID() {
	fmt.Println(chatroom.SplitID("@1712345678901-0 ann: hi"))
	fmt.Println(chatroom.SplitID(`@members ["ann"]`))
	// Output:
	// 1712345678901-0 ann: hi
	//  @members ["ann"]
}

func ExampleCompareID() {
	fmt.Println(chatroom.CompareID("1712345678901-2", "1712345678901-10"))
	fmt.Println(chatroom.ValidID("1712345678901-2"), chatroom.ValidID("members"))
	// Output:
	// -1
	// true false
}

// A Go client of a chat cluster that resumes where it left off: each
// message goes through r.See, and every redial presents r's last ID.
func ExampleDialAnyResume() {
	r := new(chatroom.Resume)
	c, err := reconnect.New("ws://localhost:8081/ws",
		reconnect.WithDialFunc(chatroom.DialAnyResume(r, "ws://localhost:8081/ws?name=gopher", "ws://localhost:8082/ws?name=gopher")))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	go func() { _ = c.Run(ctx) }()
	for msg := range c.Incoming() {
		if text, fresh := r.See(string(msg.Data)); fresh {
			fmt.Println(text)
		}
	}
}
