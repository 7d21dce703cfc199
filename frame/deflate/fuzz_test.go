package deflate_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

// FuzzInflate feeds arbitrary bytes to the decompressor under a small
// limit: it must not panic, must never return more than the limit nor ask
// for capacity much past it, and must fail only with 1007 or 1009.
func FuzzInflate(f *testing.F) {
	for _, s := range []string{
		"f2 48 cd c9 c9 07 00", "f2 00 11 00 00", "00 05 00 fa ff 48 65 6c 6c 6f 00",
		"f3 48 cd c9 c9 07 00 00", "f2 48 05 00 00 00 ff ff ca c9 c9 07 00", "00", "ff ff ff",
	} {
		f.Add(unhex(f, s), true)
		f.Add(unhex(f, s), false)
	}
	f.Add(bomb(f, 2), false)
	const limit = 4096
	f.Fuzz(func(t *testing.T, payload []byte, takeover bool) {
		p := deflate.Params{ServerNoContextTakeover: !takeover}
		e, err := deflate.New(p, frame.Client, deflate.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		// Twice, so the second message sees the first one's window.
		for range 2 {
			out, err := e.DecodeMessage(nil, payload, frame.Rsv1, limit)
			if len(out) > limit || cap(out) > limit+limit/8+8192 {
				t.Fatalf("len %d cap %d over limit %d", len(out), cap(out), limit)
			}
			if err == nil {
				continue
			}
			var pe *frame.ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("not a ProtocolError: %v", err)
			}
			switch {
			case pe.Code == frame.StatusInvalidFramePayloadData && errors.Is(err, deflate.ErrCorrupt):
			case pe.Code == frame.StatusMessageTooBig && errors.Is(err, frame.ErrMessageTooLarge):
			default:
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
	})
}

// FuzzRoundTrip cuts data into messages and sends them through a server's
// Extension to a client's: what arrives is what was sent, in every mode.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("Hello"), uint8(0), uint8(0))
	f.Add(jsonLike(3000, 1), uint8(7), uint8(1))
	f.Add(jsonLike(3000, 2), uint8(200), uint8(2))
	f.Add(bytes.Repeat([]byte("abc"), 2000), uint8(3), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8, mode uint8) {
		p := deflate.Params{
			ServerNoContextTakeover: mode&1 != 0,
			ClientNoContextTakeover: mode&2 != 0,
		}
		if mode&4 != 0 {
			p.ServerMaxWindowBits = 9
		}
		cfg := deflate.Config{Threshold: -1, Level: []int{1, 9, -2, 5}[mode>>3&3]}
		send, err := deflate.New(p, frame.Server, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer send.Close()
		recv, err := deflate.New(p, frame.Client, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer recv.Close()
		// At most 256 messages: levels 2..9 clear 640 KiB on every reset.
		data = data[:min(len(data), 8<<10)]
		size := int(cut)*32 + 32
		for len(data) > 0 {
			msg := data[:min(size, len(data))]
			data = data[len(msg):]
			comp, rsv, err := send.EncodeMessage(nil, msg, frame.OpBinary)
			if err != nil {
				t.Fatal(err)
			}
			if rsv == 0 {
				continue
			}
			out, err := recv.DecodeMessage(nil, comp, rsv, int64(len(msg)))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !bytes.Equal(out, msg) {
				t.Fatalf("round trip differs: sent %d bytes, got %d", len(msg), len(out))
			}
		}
	})
}

// FuzzDecodeStream decodes arbitrary payloads both whole (DecodeMessage)
// and streamed (DecodeStream, from a source that yields a byte at a time
// or in halves), twice so the second message sees the first one's window:
// the streamed reader must not panic, must agree with the whole decoder on
// every byte it yields, and must fail only with ErrCorrupt where the whole
// decoder fails.
func FuzzDecodeStream(f *testing.F) {
	for _, s := range []string{
		"f2 48 cd c9 c9 07 00", "f2 00 11 00 00", "00 05 00 fa ff 48 65 6c 6c 6f 00",
		"f3 48 cd c9 c9 07 00 00", "f2 48 05 00 00 00 ff ff ca c9 c9 07 00", "00", "ff ff ff",
	} {
		f.Add(unhex(f, s), true, false)
		f.Add(unhex(f, s), false, true)
	}
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, payload []byte, takeover, oneByte bool) {
		p := deflate.Params{ServerNoContextTakeover: !takeover}
		whole, err := deflate.New(p, frame.Client, deflate.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer whole.Close()
		streamed, err := deflate.New(p, frame.Client, deflate.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer streamed.Close()
		for range 2 {
			want, werr := whole.DecodeMessage(nil, payload, frame.Rsv1, limit)
			var src io.Reader = bytes.NewReader(payload)
			if oneByte {
				src = iotest.OneByteReader(src)
			} else {
				src = iotest.HalfReader(src)
			}
			r, err := streamed.DecodeStream(src)
			if err != nil {
				t.Fatal(err)
			}
			got, serr := io.ReadAll(io.LimitReader(r, limit+1))
			r.Close()
			if werr != nil {
				if errors.Is(werr, frame.ErrMessageTooLarge) {
					return // the streamed reader has no limit of its own
				}
				if serr == nil {
					t.Fatalf("whole failed (%v), streamed did not", werr)
				}
			}
			if serr != nil {
				if !errors.Is(serr, deflate.ErrCorrupt) {
					t.Fatalf("streamed failed with %v", serr)
				}
				if werr == nil {
					t.Fatalf("streamed failed (%v), whole did not", serr)
				}
				if !bytes.HasPrefix(want, got) && len(want) > 0 {
					t.Fatalf("streamed yielded bytes the whole decoder did not")
				}
				return
			}
			if !bytes.Equal(want, got) {
				t.Fatalf("whole %d bytes, streamed %d bytes differ", len(want), len(got))
			}
		}
	})
}
