package interop

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/internal/wstest"
)

// deflateSizes are the message sizes of the compression matrix.
var deflateSizes = []int{0, 1, 64 << 10, 8 << 20}

// deflateSteps sends and expects every size as text and binary, both a
// compressible and an incompressible fill, with a ping in between.
func deflateSteps() []wstest.Step {
	var steps []wstest.Step
	seed := uint32(1)
	for _, n := range deflateSizes {
		for _, typ := range []string{wstest.Text, wstest.Binary} {
			for _, f := range []string{wstest.FillSeq, wstest.FillPRNG} {
				steps = append(steps, wstest.SendFill(typ, n, f, seed), wstest.ExpectFill(typ, n, f, seed))
				seed++
			}
		}
	}
	steps = append(steps, wstest.Ping("mid"), wstest.SendText("after ping"), wstest.ExpectText("after ping"))
	return append(steps, wstest.Close(1000, "").Expecting(1000, ""))
}

// TestDeflateOurClientNodeServer: ws.Dial with compression against npm ws
// with perMessageDeflate, over the parameter combinations of RFC 7692 §7.1.
func TestDeflateOurClientNodeServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		server   []string
		opts     []ws.DialOption
		wantExts []string // substrings of the accepted extension
	}{
		{"7.1.1/no context takeover (our default)", []string{"--deflate"}, nil,
			[]string{"permessage-deflate", "server_no_context_takeover", "client_no_context_takeover"}},
		{"7.1.1/context takeover both ways", []string{"--deflate"}, []ws.DialOption{ws.WithContextTakeover()},
			[]string{"permessage-deflate"}},
		{"7.1.1/server demands no takeover", []string{"--deflate", "--server-no-context-takeover", "--client-no-context-takeover"},
			[]ws.DialOption{ws.WithContextTakeover()},
			[]string{"server_no_context_takeover", "client_no_context_takeover"}},
		{"7.1.2.1/server_max_window_bits=10 from the server", []string{"--deflate", "--server-max-window-bits", "10"},
			[]ws.DialOption{ws.WithContextTakeover()}, []string{"server_max_window_bits=10"}},
		{"7.1.2.2/client_max_window_bits=10 from the server", []string{"--deflate", "--client-max-window-bits", "10"},
			[]ws.DialOption{ws.WithClientMaxWindowBits(15)}, []string{"client_max_window_bits=10"}},
		{"threshold 0 and best compression", []string{"--deflate"},
			[]ws.DialOption{ws.WithCompressionThreshold(-1), ws.WithCompressionLevel(9)}, []string{"permessage-deflate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := wstest.StartNodeServer(t, append([]string{"echo"}, tc.server...)...)
			ctx := wstest.DeadlineAfter(t, slow*time.Minute)
			opts := append([]ws.DialOption{ws.WithCompression(), ws.WithMaxMessageSize(16 << 20)}, tc.opts...)
			c, resp := dialNode(t, srv.URL+"/", opts...)
			ext := resp.Header.Get("Sec-WebSocket-Extensions")
			t.Logf("accepted: %q", ext)
			for _, w := range tc.wantExts {
				require.Contains(t, ext, w)
			}
			seed := uint32(1)
			for _, n := range deflateSizes {
				for _, typ := range []string{wstest.Text, wstest.Binary} {
					for _, f := range []string{wstest.FillSeq, wstest.FillPRNG} {
						p := wstest.Fill(typ, n, f, seed)
						seed++
						m := ws.Binary(p)
						if typ == wstest.Text {
							m.Type = ws.TextMessage
						}
						require.NoError(t, c.Send(ctx, m))
						got := recv(t, ctx, c)
						require.Equal(t, m.Type, got.Type)
						require.Equal(t, wstest.SHA256(p), wstest.SHA256(got.Data), "%s %d bytes %s", typ, n, f)
					}
				}
			}
			_, err := c.Ping(ctx)
			require.NoError(t, err)
			require.NoError(t, c.Close(ctx, ws.StatusNormalClosure, ""))
			evs, err := srv.WaitEvents(ctx, "connection", 1)
			require.NoError(t, err)
			require.Contains(t, evs[0].Extensions, "permessage-deflate")
			require.Empty(t, srv.Events("error"), "npm ws reported errors")
		})
	}
}

// TestDeflateNodeClientOurServer: the npm ws client with perMessageDeflate
// against ws.Handler with compression.
func TestDeflateNodeClientOurServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		server   []ws.AcceptOption
		client   []string
		wantExts []string // substrings of the extension the client reports; nil: none
	}{
		{"7.1.1/no context takeover (our default)", nil, []string{"--deflate"},
			[]string{"permessage-deflate", "server_no_context_takeover", "client_no_context_takeover"}},
		{"7.1.1/context takeover both ways", []ws.AcceptOption{ws.WithContextTakeover()}, []string{"--deflate"},
			[]string{"permessage-deflate"}},
		{"7.1.1/client asks for server_no_context_takeover", []ws.AcceptOption{ws.WithContextTakeover()},
			[]string{"--deflate", "--server-no-context-takeover", "--client-no-context-takeover"},
			[]string{"server_no_context_takeover", "client_no_context_takeover"}},
		{"7.1.2.2/client_max_window_bits limited by us", []ws.AcceptOption{ws.WithContextTakeover(), ws.WithClientMaxWindowBits(9)},
			[]string{"--deflate", "--client-max-window-bits", "12"}, []string{"client_max_window_bits=9"}},
		{"7.1.2.1/server_max_window_bits=10 offer is accepted (longer messages go uncompressed)", nil,
			[]string{"--deflate", "--server-max-window-bits", "10"}, []string{"server_max_window_bits=10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startOurServer(t, echo, append([]ws.AcceptOption{ws.WithCompression(), ws.WithMaxMessageSize(16 << 20)}, tc.server...)...)
			ctx := wstest.DeadlineAfter(t, slow*time.Minute)
			events, err := wstest.RunNodeClient(t, ctx, srv.URL+"/", deflateSteps(),
				append([]string{"--timeout", strconv.Itoa(slow * 30_000)}, tc.client...)...)
			require.NoError(t, err)
			var ext string
			for _, ev := range events {
				if ev.Event == "open" {
					ext = ev.Extensions
				}
			}
			t.Logf("npm ws client negotiated %q", ext)
			if tc.wantExts == nil {
				require.Empty(t, ext)
			}
			for _, w := range tc.wantExts {
				require.Contains(t, ext, w)
			}
			requireRemoteClose(t, srv.lastErr(t, ctx), ws.StatusNormalClosure, "")
		})
	}
}

// TestDeflateBombLimited: a compressed message that inflates past our limit
// ends the connection with 1009, not with our memory.
func TestDeflateBombLimited(t *testing.T) {
	t.Parallel()
	srv := startOurServer(t, echo, ws.WithCompression(), ws.WithMaxMessageSize(1<<20))
	ctx := wstest.Deadline(t)
	_, err := wstest.RunNodeClient(t, ctx, srv.URL+"/", []wstest.Step{
		wstest.SendFill(wstest.Binary, 8<<20, wstest.FillSeq, 0), // ~8 MiB inflated from a few KiB
		{Op: "wait-close", ExpectCode: 1009},                     // any reason
	}, "--deflate")
	require.NoError(t, err)
	var ce *ws.CloseError
	require.ErrorAs(t, srv.lastErr(t, ctx), &ce)
	require.Equal(t, ws.StatusMessageTooBig, ce.Code)
}
