package actor

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

// FuzzStreamedReceive feeds arbitrary bytes, as a client's frames, to a
// server Conn made WithStreamedReceive (with or without permessage-deflate)
// and reads every message through NextReader: whatever the bytes, nothing
// panics, every Read ends, a Read fails only with the *CloseError of a
// violation (its *frame.ProtocolError when the connection was ending for
// another reason already), ErrClosed or the "ws: read:"/"ws: write:" error
// that ended the connection, and the connection ends once the bytes do —
// never a hang.
func FuzzStreamedReceive(f *testing.F) {
	peer := &rawPeer{role: frame.Client, key: [4]byte{1, 2, 3, 4}}
	seeds := [][]byte{
		peer.frameBytes(true, 0, frame.OpText, []byte("hello"), nil),
		append(peer.frameBytes(false, 0, frame.OpBinary, []byte("ab"), nil),
			append(peer.frameBytes(true, 0, frame.OpPing, []byte("p"), nil),
				peer.frameBytes(true, 0, frame.OpContinuation, []byte("cd"), nil)...)...),
		peer.frameBytes(true, frame.Rsv1, frame.OpText, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, nil),
		peer.frameBytes(true, 0, frame.OpText, []byte{0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf}, nil), // cut UTF-8
		peer.frameBytes(true, 0, frame.OpClose, []byte{0x03, 0xe8}, nil),
		peer.frameBytes(true, 0, frame.OpText, []byte("unmasked"), boolp(false)),
	}
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		raw, side := net.Pipe()
		opts := []Option{WithStreamedReceive(), WithMaxMessageSize(64 << 10), WithKeepalive(0, 0),
			WithCloseGracePeriod(time.Second), WithFailLinger(0)}
		if compress {
			e, err := deflate.New(deflate.Params{}, frame.Server, deflate.Config{})
			if err != nil {
				t.Fatal(err)
			}
			opts = append(opts, WithExtension(e))
		}
		c, err := New(side, nil, frame.Server, opts...)
		if err != nil {
			t.Fatal(err)
		}
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			_, _ = io.Copy(io.Discard, raw) // pongs and the close frame
		}()
		go func() {
			_, _ = raw.Write(data)
			_ = raw.Close()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		buf := make([]byte, 1000)
		for {
			_, r, err := c.NextReader(ctx)
			if err != nil {
				if ctx.Err() != nil {
					t.Fatal("NextReader hung")
				}
				break
			}
			for {
				_, err := r.Read(buf)
				if err == io.EOF {
					break
				}
				if err != nil {
					var ce *CloseError
					var pe *frame.ProtocolError
					if !errors.As(err, &ce) && !errors.As(err, &pe) && !errors.Is(err, ErrClosed) && !strings.HasPrefix(err.Error(), "ws: ") {
						t.Fatalf("Read failed with %v", err)
					}
					break
				}
				if ctx.Err() != nil {
					t.Fatal("Read hung")
				}
			}
			_ = r.Close()
		}
		select {
		case <-c.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("the connection did not end after its peer's bytes did")
		}
		<-drained
	})
}
