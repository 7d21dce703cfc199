//go:build !js

package ws_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/handshake"
)

type point struct {
	X, Y int
	Tag  string `json:",omitempty"`
}

// TestSendJSON: SendJSON sends what json.Marshal makes (no trailing
// newline) as one text message, for values of any type.
func TestSendJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		send func(ctx context.Context, c *ws.Conn) error
		want any
	}{
		{"struct", func(ctx context.Context, c *ws.Conn) error { return ws.SendJSON(ctx, c, point{1, 2, "<a&b>"}) }, point{1, 2, "<a&b>"}},
		{"pointer", func(ctx context.Context, c *ws.Conn) error { return ws.SendJSON(ctx, c, &point{X: 3}) }, &point{X: 3}},
		{"map", func(ctx context.Context, c *ws.Conn) error {
			return ws.SendJSON(ctx, c, map[string]int{"b": 2, "a": 1})
		}, map[string]int{"a": 1, "b": 2}},
		{"slice", func(ctx context.Context, c *ws.Conn) error { return ws.SendJSON(ctx, c, []int{1, 2, 3}) }, []int{1, 2, 3}},
		{"string", func(ctx context.Context, c *ws.Conn) error { return ws.SendJSON(ctx, c, "héllo\n") }, "héllo\n"},
		{"null", func(ctx context.Context, c *ws.Conn) error { return ws.SendJSON[*point](ctx, c, nil) }, nil},
		{"raw", func(ctx context.Context, c *ws.Conn) error {
			return ws.SendJSON(ctx, c, json.RawMessage(`{"k": [1, 2]}`))
		}, json.RawMessage(`{"k": [1, 2]}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := openPair(t, pairConfig{})
			require.NoError(t, tc.send(testCtx(t), p.client))
			m := recv(t, p.server)
			require.Equal(t, ws.TextMessage, m.Type)
			want, err := json.Marshal(tc.want)
			require.NoError(t, err)
			require.Equal(t, string(want), string(m.Data))
		})
	}
}

// TestSendJSONErrors: a value encoding/json refuses is reported with its
// error and nothing is sent; otherwise the errors are Send's (ctx's error,
// ErrClosed).
func TestSendJSONErrors(t *testing.T) {
	p := openPair(t, pairConfig{})
	ctx := testCtx(t)
	err := ws.SendJSON(ctx, p.client, map[string]any{"c": make(chan int)})
	var ute *json.UnsupportedTypeError
	require.ErrorAs(t, err, &ute)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, ws.SendJSON(cancelled, p.client, 2), context.Canceled)

	require.NoError(t, ws.SendJSON(ctx, p.client, 1))
	require.Equal(t, "1", string(recv(t, p.server).Data), "the failed values sent nothing")

	require.NoError(t, p.client.Close(ctx, ws.StatusNormalClosure, ""))
	require.ErrorIs(t, ws.SendJSON(ctx, p.client, 3), ws.ErrClosed)
}

// TestReceiveJSON: ReceiveJSON decodes text and binary messages; one that
// does not decode is a *DecodeError holding the message and json's error,
// and the connection goes on.
func TestReceiveJSON(t *testing.T) {
	for _, tc := range []struct {
		name    string
		msg     ws.Message
		want    point
		decErr  any // a pointer to the json error type errors.As must find, or nil
		wantErr bool
	}{
		{"text", ws.Text(`{"X":1,"Y":2}`), point{X: 1, Y: 2}, nil, false},
		{"binary", ws.Binary([]byte(`{"X":3,"Tag":"b"}`)), point{X: 3, Tag: "b"}, nil, false},
		{"syntax", ws.Text(`{"X":`), point{}, new(*json.SyntaxError), true},
		{"wrong type", ws.Text(`{"X":"one"}`), point{}, new(*json.UnmarshalTypeError), true},
		{"empty", ws.Text(""), point{}, new(*json.SyntaxError), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := openPair(t, pairConfig{})
			ctx := testCtx(t)
			require.NoError(t, p.server.Send(ctx, tc.msg))
			require.NoError(t, p.server.Send(ctx, ws.Text(`{"Y":9}`)))
			got, err := ws.ReceiveJSON[point](ctx, p.client)
			if !tc.wantErr {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
			} else {
				var de *ws.DecodeError
				require.ErrorAs(t, err, &de)
				require.Equal(t, tc.msg.Type, de.Type)
				require.Equal(t, string(tc.msg.Data), string(de.Data))
				require.ErrorAs(t, err, tc.decErr)
				require.ErrorContains(t, err, "JSON")
			}
			next, err := ws.ReceiveJSON[point](ctx, p.client)
			require.NoError(t, err, "the connection goes on")
			require.Equal(t, point{Y: 9}, next)
		})
	}
}

// TestReceiveJSONEnds: cancelling ctx ends only the call; once the
// connection has ended the error matches ErrClosed and says why.
func TestReceiveJSONEnds(t *testing.T) {
	p := openPair(t, pairConfig{})
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	_, err := ws.ReceiveJSON[point](ctx, p.client)
	require.ErrorIs(t, err, context.Canceled)
	require.Nil(t, p.client.Err(), "the connection goes on")

	require.NoError(t, p.server.Close(testCtx(t), 4001, "done"))
	<-p.client.Done()
	_, err = ws.ReceiveJSON[point](testCtx(t), p.client)
	require.ErrorIs(t, err, ws.ErrClosed)
	var ce *ws.CloseError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, ws.StatusCode(4001), ce.Code)
}

// TestJSON: the iterator yields values and decode errors in order, goes on
// past a decode error, and ends as the connection does: silently after a
// normal close, with a last error otherwise.
func TestJSON(t *testing.T) {
	for _, tc := range []struct {
		name     string
		end      func(c *ws.Conn) error
		finalErr ws.StatusCode // 0: the loop ends without an error
	}{
		{"normal closure", closeWith(ws.StatusNormalClosure), 0},
		{"going away", closeWith(ws.StatusGoingAway), 0},
		{"no status", closeWith(ws.StatusNoStatusRcvd), 0},
		{"application code", closeWith(4000), 4000},
		{"socket closed without a close frame", func(c *ws.Conn) error { return c.CloseNow() }, ws.StatusAbnormalClosure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := openPair(t, pairConfig{})
			ctx := testCtx(t)
			for _, s := range []string{`{"X":1}`, `nope`, `{"X":2}`} {
				require.NoError(t, p.server.Send(ctx, ws.Text(s)))
			}
			_ = tc.end(p.server)

			var vals []point
			var decodeErrs, others []error
			for v, err := range ws.JSON[point](p.client) {
				var de *ws.DecodeError
				switch {
				case errors.As(err, &de):
					decodeErrs = append(decodeErrs, err)
					require.Equal(t, "nope", string(de.Data))
					require.Zero(t, v)
				case err != nil:
					others = append(others, err)
					require.Zero(t, v)
				default:
					vals = append(vals, v)
				}
			}
			require.Equal(t, []point{{X: 1}, {X: 2}}, vals)
			require.Len(t, decodeErrs, 1)
			if tc.finalErr == 0 {
				require.Empty(t, others)
				return
			}
			require.Len(t, others, 1)
			require.Equal(t, tc.finalErr, ws.CloseStatus(others[0]))
		})
	}
}

// TestJSONBreak: breaking out of the loop leaves the connection open and
// the next message for whoever reads next.
func TestJSONBreak(t *testing.T) {
	p := openPair(t, pairConfig{})
	ctx := testCtx(t)
	require.NoError(t, p.server.Send(ctx, ws.Text(`bad`)))
	require.NoError(t, p.server.Send(ctx, ws.Text(`{"X":5}`)))
	for _, err := range ws.JSON[point](p.client) {
		var de *ws.DecodeError
		require.ErrorAs(t, err, &de)
		break
	}
	require.Nil(t, p.client.Err())
	got, err := ws.ReceiveJSON[point](ctx, p.client)
	require.NoError(t, err)
	require.Equal(t, point{X: 5}, got)
	// A second loop over the same connection carries on.
	require.NoError(t, ws.SendJSON(ctx, p.server, point{X: 6}))
	for v, err := range ws.JSON[point](p.client) {
		require.NoError(t, err)
		require.Equal(t, point{X: 6}, v)
		break
	}
}

// TestSendJSONAllocs: SendJSON allocates no more per message than
// encoding/json's Encoder does on its own into a reused buffer: the
// buffer is pooled and a write-through Send allocates nothing. The peer
// only discards bytes, so that its allocations do not count.
func TestSendJSONAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("under the race detector sync.Pool drops some of what it is given, so pooled buffers allocate; counts are taken without -race")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acc, err := (&handshake.Server{}).Upgrade(w, r)
		if err != nil {
			return
		}
		defer acc.Conn.Close()
		_, _ = io.Copy(io.Discard, acc.Reader)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := ws.Dial(ctx, wsURL(srv), ws.WithKeepalive(0, 0))
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()

	for _, tc := range []struct {
		name string
		v    any
	}{
		{"struct", point{1, 2, "tag"}},
		{"map", map[string]int{"a": 1, "b": 2}},
		{"large", make([]int, 10_000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf jsonSink
			enc := json.NewEncoder(&buf)
			encAllocs := testing.AllocsPerRun(200, func() {
				buf.n = 0
				_ = enc.Encode(tc.v)
			})
			bg := context.Background()
			sendAllocs := testing.AllocsPerRun(200, func() {
				if err := ws.SendJSON(bg, c, tc.v); err != nil {
					t.Fatal(err)
				}
			})
			t.Logf("allocs per message: SendJSON %.0f, json.Encoder alone %.0f", sendAllocs, encAllocs)
			require.LessOrEqual(t, sendAllocs, encAllocs)
		})
	}
}

// jsonSink counts what is written to it and keeps nothing.
type jsonSink struct{ n int }

func (s *jsonSink) Write(p []byte) (int, error) { s.n += len(p); return len(p), nil }
