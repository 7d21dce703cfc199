package deflate_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
)

// unhex parses "c1 07 f2 48" into bytes.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

// newExt returns an Extension or fails the test.
func newExt(t testing.TB, p deflate.Params, role frame.Role, cfg deflate.Config) *deflate.Extension {
	t.Helper()
	e, err := deflate.New(p, role, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// pair is one direction of a connection: a server's Writer into a buffer and
// a client's Reader out of it, each with its own Extension.
type pair struct {
	buf  bytes.Buffer
	w    *frame.Writer
	r    *frame.Reader
	send *deflate.Extension
	recv *deflate.Extension
}

func newPair(t testing.TB, p deflate.Params, cfg deflate.Config, wcfg frame.WriterConfig, limit int64) *pair {
	t.Helper()
	pr := &pair{
		send: newExt(t, p, frame.Server, cfg),
		recv: newExt(t, p, frame.Client, cfg),
	}
	wcfg.Extension = pr.send
	pr.w = frame.NewWriter(&pr.buf, frame.Server, wcfg)
	pr.r = frame.NewReader(bufio.NewReader(&pr.buf), frame.Client, frame.ReaderConfig{MaxMessageSize: limit, Extension: pr.recv})
	return pr
}

// roundTrip sends msg and reads it back, returning the bytes that went on
// the wire and what was read.
func (pr *pair) roundTrip(t testing.TB, op frame.Opcode, msg []byte) (wire, got []byte) {
	t.Helper()
	require.NoError(t, pr.w.WriteMessage(op, msg))
	require.NoError(t, pr.w.Flush())
	wire = append([]byte(nil), pr.buf.Bytes()...)
	gotOp, got, err := pr.r.ReadMessage(nil)
	require.NoError(t, err)
	require.Equal(t, op, gotOp)
	return wire, got
}

// jsonLike returns n bytes of JSON-ish text, repetitive in keys and varied
// in values like real API traffic.
func jsonLike(n int, seed int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		v := uint32(seed*7919 + i*104729)
		v ^= v >> 13
		v *= 0x5bd1e995
		b.WriteString(`{"id":`)
		b.WriteString(itoa(int(v % 100000)))
		b.WriteString(`,"user":"user`)
		b.WriteString(itoa(int(v % 997)))
		b.WriteString(`","text":"message number `)
		b.WriteString(itoa(i))
		b.WriteString(`","ts":16`)
		b.WriteString(itoa(int(v % 100000000)))
		b.WriteString(`,"read":`)
		if v&1 == 0 {
			b.WriteString("true}")
		} else {
			b.WriteString("false}")
		}
	}
	out := b.Bytes()[:n]
	return out
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var d [20]byte
	p := len(d)
	for i > 0 {
		p--
		d[p] = byte('0' + i%10)
		i /= 10
	}
	return string(d[p:])
}

// headers returns the headers of the frames in wire.
func headers(t testing.TB, wire []byte) []frame.Header {
	t.Helper()
	var hs []frame.Header
	br := bufio.NewReader(bytes.NewReader(wire))
	for {
		h, err := frame.ReadHeader(br)
		if err == io.EOF {
			return hs
		}
		require.NoError(t, err)
		_, err = br.Discard(int(h.Length))
		require.NoError(t, err)
		hs = append(hs, h)
	}
}
