package interop

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
	"github.com/wsactor/ws/handshake"
	"github.com/wsactor/ws/internal/wstest"
)

// streamSize is the message TestStreamNodeServer streams each way.
const streamSize = 256 << 20

// TestStreamNodeServer streams a 256 MiB message to the npm ws server in
// echo mode with actor.Conn.SendStream and reads the echo with NextReader
// (WithStreamedReceive), with and without permessage-deflate (context
// takeover both ways, our compressor fed fragment by fragment): ws must
// receive exactly what our source yielded (its length and SHA-256), and we
// must read it back the same, text checked for UTF-8 on both sides.
func TestStreamNodeServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		deflate bool
		typ     frame.Opcode
		block   int // the repeating block of the payload
	}{
		{"binary", false, frame.OpBinary, 64<<10 + 3},
		{"deflate/text", true, frame.OpText, 4093},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"echo", "--max-payload", fmt.Sprint(streamSize)}
			if tc.deflate {
				args = append(args, "--deflate")
			}
			srv := wstest.StartNodeServer(t, args...)
			ctx := wstest.DeadlineAfter(t, slow*time.Minute)
			c := dialActor(t, ctx, srv.URL, tc.deflate, actor.WithStreamedReceive(), actor.WithMaxMessageSize(streamSize))

			want := sha256.New()
			_, err := io.Copy(want, newLetters(streamSize, tc.block))
			require.NoError(t, err)
			wantSum := hex.EncodeToString(want.Sum(nil))

			errc := make(chan error, 1)
			go func() { errc <- c.SendStream(ctx, tc.typ, newLetters(streamSize, tc.block)) }()
			typ, r, err := c.NextReader(ctx)
			require.NoError(t, err)
			got := sha256.New()
			n, err := io.CopyBuffer(got, r, make([]byte, 64<<10))
			require.NoError(t, err)
			require.NoError(t, <-errc)
			require.Equal(t, tc.typ, typ)
			require.Equal(t, int64(streamSize), n)
			require.Equal(t, wantSum, hex.EncodeToString(got.Sum(nil)), "the echo")

			evs, err := srv.WaitEvents(ctx, "message", 1)
			require.NoError(t, err)
			require.Equal(t, streamSize, evs[0].Len)
			require.Equal(t, wantSum, evs[0].SHA256, "what ws received")
			wantType := "binary"
			if tc.typ == frame.OpText {
				wantType = "text"
			}
			require.Equal(t, wantType, evs[0].Type)
			if tc.deflate {
				conns, err := srv.WaitEvents(ctx, "connection", 1)
				require.NoError(t, err)
				require.Contains(t, conns[0].Extensions, "permessage-deflate")
			}
			require.NoError(t, c.Close(ctx, frame.StatusNormalClosure, ""))
		})
	}
}

// dialActor opens a WebSocket to url with a handshake of its own and runs
// an actor.Conn on it with opts, for options the ws package does not
// expose; with compress it offers permessage-deflate (context takeover
// both ways) and uses what the server accepts.
func dialActor(t *testing.T, ctx context.Context, url string, compress bool, opts ...actor.Option) *actor.Conn {
	t.Helper()
	host := strings.TrimPrefix(url, "ws://")
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", host)
	require.NoError(t, err)
	key, err := handshake.NewKey(rand.Reader)
	require.NoError(t, err)
	req := "GET / HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n"
	if compress {
		req += "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	}
	_, err = io.WriteString(nc, req+"\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.Equal(t, handshake.AcceptKey(key), resp.Header.Get("Sec-WebSocket-Accept"))
	if compress {
		exts, err := handshake.ParseExtensions(nil, resp.Header.Get("Sec-WebSocket-Extensions"))
		require.NoError(t, err)
		require.Len(t, exts, 1)
		params, err := handshake.ParseDeflateParams(exts[0])
		require.NoError(t, err)
		ext, err := deflate.New(params, frame.Client, deflate.Config{})
		require.NoError(t, err)
		opts = append(opts, actor.WithExtension(ext))
	}
	c, err := actor.New(nc, br, frame.Client, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(ctx, frame.StatusNormalClosure, "")
		<-c.Done()
	})
	return c
}

// letters yields n bytes of a repeating block of random lowercase letters
// (valid text), generated on the fly: a block longer than the DEFLATE
// window hardly compresses, a short one compresses well.
type letters struct {
	block []byte
	n     int64
	off   int64
}

func newLetters(n int64, blockLen int) *letters {
	b := make([]byte, blockLen)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = 'a' + byte(x%26)
	}
	return &letters{block: b, n: n}
}

func (l *letters) Read(p []byte) (int, error) {
	if l.off >= l.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), l.n-l.off)]
	k := 0
	for k < len(p) {
		k += copy(p[k:], l.block[(l.off+int64(k))%int64(len(l.block)):])
	}
	l.off += int64(k)
	return k, nil
}
