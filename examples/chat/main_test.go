package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/examples/chat/chatroom"
	"github.com/wsactor/ws/internal/wstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start runs the program on 127.0.0.1:0 and returns its URL and a
// function that stops it as SIGINT would.
func start(t *testing.T) (base string, stop func() error) {
	t.Helper()
	return wstest.StartProgram(t, run, "-addr", "127.0.0.1:0")
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func join(t *testing.T, base, name string) *ws.Conn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(base, "http") + "ws?name=" + name
	c, _, err := ws.Dial(testCtx(t), url)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(ctx, ws.StatusNormalClosure, "")
		<-c.Done()
	})
	return c
}

// waitFor reads c's messages until one equals line.
func waitFor(t *testing.T, c *ws.Conn, line string) {
	t.Helper()
	ctx := testCtx(t)
	var seen []string
	for {
		select {
		case m, ok := <-c.Incoming():
			_, text := chatroom.SplitID(string(m.Data))
			require.True(t, ok, "connection ended (%v) before %q; saw %q", c.Err(), line, seen)
			if text == line {
				return
			}
			seen = append(seen, text)
		case <-ctx.Done():
			t.Fatalf("no %q; saw %q", line, seen)
		}
	}
}

// waitForAll reads c's messages until it has seen every one of lines, in
// any order.
func waitForAll(t *testing.T, c *ws.Conn, lines ...string) {
	t.Helper()
	ctx := testCtx(t)
	missing := make(map[string]bool)
	for _, l := range lines {
		missing[l] = true
	}
	var seen []string
	for len(missing) > 0 {
		select {
		case m, ok := <-c.Incoming():
			_, text := chatroom.SplitID(string(m.Data))
			require.True(t, ok, "connection ended (%v); missing %v; saw %q", c.Err(), missing, seen)
			delete(missing, text)
			seen = append(seen, text)
		case <-ctx.Done():
			t.Fatalf("missing %v; saw %q", missing, seen)
		}
	}
}

func TestChatPage(t *testing.T) {
	base, _ := start(t)
	resp, err := http.Get(base)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(body), "new WebSocket(")

	resp, err = http.Get(base + "nothing-here")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestChatRoom(t *testing.T) {
	base, stop := start(t)
	alice := join(t, base, "alice")
	waitFor(t, alice, "* alice joined")
	bob := join(t, base, "bob")
	waitFor(t, bob, "* alice joined") // history
	waitFor(t, alice, "* bob joined")
	waitFor(t, alice, `@members ["alice","bob"]`) // presence, on every change
	waitFor(t, bob, `@members ["alice","bob"]`)

	require.NoError(t, alice.Send(testCtx(t), ws.Text("hi bob")))
	waitFor(t, bob, "alice: hi bob")
	waitFor(t, alice, "alice: hi bob")
	require.NoError(t, bob.Send(testCtx(t), ws.Text("  hi alice  ")))
	waitFor(t, alice, "bob: hi alice")

	// Binary is not chat: 1003.
	eve := join(t, base, "eve")
	require.NoError(t, eve.Send(testCtx(t), ws.Binary([]byte{1})))
	<-eve.Done()
	var ce *ws.CloseError
	require.ErrorAs(t, eve.Err(), &ce)
	require.Equal(t, ws.StatusUnsupportedData, ce.Code)
	waitFor(t, alice, "* eve left")
	waitFor(t, alice, `@members ["alice","bob"]`)

	// Too long: 1009.
	mallory := join(t, base, "mallory")
	require.NoError(t, mallory.Send(testCtx(t), ws.Text(strings.Repeat("x", chatroom.MaxMessage+1))))
	<-mallory.Done()
	require.ErrorAs(t, mallory.Err(), &ce)
	require.Equal(t, ws.StatusMessageTooBig, ce.Code)

	// SIGINT: everyone gets 1001.
	require.NoError(t, stop())
	for _, c := range []*ws.Conn{alice, bob} {
		<-c.Done()
		require.ErrorAs(t, c.Err(), &ce)
		require.Equal(t, ws.StatusGoingAway, ce.Code)
	}
}

// TestChatDropsSlowMember: a member that stops reading is dropped with 1008
// while the others keep chatting.
func TestChatDropsSlowMember(t *testing.T) {
	base, _ := start(t)
	host := strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/")

	// The slow member: a hand-made client with a small receive buffer that
	// never reads after its handshake.
	conn, err := net.Dial("tcp", host)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.(*net.TCPConn).SetReadBuffer(4096))
	_, err = io.WriteString(conn, "GET /ws?name=slow HTTP/1.1\r\nHost: "+host+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)

	// The fast member sends in lockstep with its own echo, so that only
	// the slow member's queue can fill up.
	fast := join(t, base, "fast")
	waitFor(t, fast, "* fast joined")
	ctx := testCtx(t)
	text := strings.Repeat("z", chatroom.MaxMessage-10)
	// next returns the fast member's next message, skipping the slow
	// member's join announcement and the member lists: the hub may
	// register the slow member after the fast one (its handshake answer
	// comes before the hub sees it), and then the fast one hears about it.
	next := func() string {
		for {
			select {
			case m, ok := <-fast.Incoming():
				require.True(t, ok, "fast member dropped: %v", fast.Err())
				_, text := chatroom.SplitID(string(m.Data))
				if _, list := chatroom.ParseMembers(text); !list && text != "* slow joined" {
					return text
				}
			case <-ctx.Done():
				t.Fatalf("slow member not dropped in time")
			}
		}
	}
	for sent := 0; ; sent++ {
		require.NoError(t, fast.Send(ctx, ws.Text(text)))
		switch got := next(); got {
		case "fast: " + text:
		case "* dropped (too slow): slow":
			t.Logf("slow member dropped after %d messages", sent)
			waitFor(t, fast, "fast: "+text)
			require.NoError(t, fast.Send(ctx, ws.Text("still here")))
			waitFor(t, fast, "fast: still here")
			return
		default:
			t.Fatalf("unexpected %q", got)
		}
	}
}
