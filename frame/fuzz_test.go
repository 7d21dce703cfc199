package frame

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
	"unicode/utf8"
)

// FuzzParseHeader: any bytes either fail to parse or parse into a header
// that encodes back to the same bytes when its length is minimally encoded,
// and decode→encode→decode agrees; ReadHeader agrees with ParseHeader.
func FuzzParseHeader(f *testing.F) {
	for _, tc := range headerCases {
		f.Add(unhex(f, tc.hex))
	}
	f.Add(unhex(f, "82 7f 80 00 00 00 00 00 00 00"))
	f.Add(unhex(f, "82 7e 00 05")) // non-minimal 16-bit length
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseHeader(b)
		rh, rerr := ReadHeader(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			switch {
			case errors.Is(err, ErrShortHeader):
				if !errors.Is(rerr, io.EOF) && !errors.Is(rerr, io.ErrUnexpectedEOF) {
					t.Fatalf("ParseHeader short, ReadHeader %v", rerr)
				}
			case errors.Is(err, ErrLengthOverflow):
				// ParseHeader sees the bad length before a missing mask
				// key; ReadHeader waits for the whole header first.
				if !errors.Is(rerr, ErrLengthOverflow) && !errors.Is(rerr, io.ErrUnexpectedEOF) {
					t.Fatalf("ParseHeader overflow, ReadHeader %v", rerr)
				}
			default:
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if rerr != nil || rh != h {
			t.Fatalf("ReadHeader %+v %v, ParseHeader %+v", rh, rerr, h)
		}
		if h.Length < 0 || n > MaxHeaderSize || n > len(b) {
			t.Fatalf("bad header %+v n=%d", h, n)
		}
		enc := AppendHeader(nil, h)
		if len(enc) != h.Size() || len(enc) > n {
			t.Fatalf("encoded %d bytes, Size %d, parsed %d", len(enc), h.Size(), n)
		}
		if len(enc) == n && !bytes.Equal(enc, b[:n]) {
			t.Fatalf("re-encoding differs: % x vs % x", enc, b[:n])
		}
		h2, n2, err := ParseHeader(enc)
		if err != nil || h2 != h || n2 != len(enc) {
			t.Fatalf("decode→encode→decode: %+v %d %v, want %+v", h2, n2, err, h)
		}
		// Check never panics and only returns documented errors.
		for _, role := range []Role{Client, Server} {
			if err := h.Check(role, Rsv1); err != nil {
				var pe *ProtocolError
				if !errors.As(err, &pe) || pe.Code != StatusProtocolError {
					t.Fatalf("Check: %v", err)
				}
			}
		}
	})
}

// FuzzClosePayload: a payload either parses, and rebuilds byte for byte,
// or is a *ProtocolError with 1002 or 1007.
func FuzzClosePayload(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x03})
	f.Add(closeBody(1000, "bye"))
	f.Add(closeBody(1005, ""))
	f.Add(closeBody(4999, "Größe"))
	f.Add(closeBody(1000, "\xff"))
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := ParseClosePayload(p)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("not a *ProtocolError: %v", err)
			}
			want := StatusProtocolError
			if errors.Is(err, ErrCloseReasonUTF8) {
				want = StatusInvalidFramePayloadData
			}
			if pe.Code != want {
				t.Fatalf("%v: code %d", err, pe.Code)
			}
			return
		}
		if len(p) == 0 {
			if code != StatusNoStatusRcvd || reason != nil {
				t.Fatalf("empty: %v %q", code, reason)
			}
		} else if !code.ValidOnWire() || !utf8.Valid(reason) {
			t.Fatalf("accepted code %d reason %q", code, reason)
		}
		if len(reason) > MaxCloseReason {
			// Only a payload longer than a control frame allows gets here.
			return
		}
		out, err := AppendClosePayload(nil, code, string(reason))
		if err != nil || !bytes.Equal(out, p) {
			t.Fatalf("rebuild: % x %v, want % x", out, err, p)
		}
	})
}

// FuzzUTF8 compares the validator with unicode/utf8, whole and split at a
// point into two Writes, and checks fail-fast byte by byte.
func FuzzUTF8(f *testing.F) {
	for _, tc := range utf8Cases {
		f.Add([]byte(tc.in), uint16(len(tc.in)/2))
	}
	f.Fuzz(func(t *testing.T, p []byte, split uint16) {
		want := utf8.Valid(p)
		if got := ValidUTF8(p); got != want {
			t.Fatalf("ValidUTF8(% x) = %v, utf8.Valid %v", p, got, want)
		}
		if got := ValidUTF8String(string(p)); got != want {
			t.Fatalf("ValidUTF8String(% x) = %v", p, got)
		}
		s := int(split) % (len(p) + 1)
		var v UTF8Validator
		ok1, _ := utf8Prefix(p[:s])
		if got := v.Write(p[:s]); got != ok1 {
			t.Fatalf("Write(% x) = %v, want %v", p[:s], got, ok1)
		}
		ok2, complete := utf8Prefix(p)
		if got := v.Write(p[s:]); got != ok2 {
			t.Fatalf("split %d: Write = %v, want %v", s, got, ok2)
		}
		if v.Done() != (ok2 && complete) || v.Done() != want {
			t.Fatalf("split %d: Done = %v, want %v", s, v.Done(), want)
		}
		if len(p) > 64 {
			return
		}
		v.Reset()
		for i := range p {
			ok, complete := utf8Prefix(p[:i+1])
			if v.Write(p[i:i+1]) != ok || v.Done() != (ok && complete) {
				t.Fatalf("byte %d of % x: Valid %v Done %v, want %v %v", i, p, v.Valid(), v.Done(), ok, ok && complete)
			}
		}
	})
}

// FuzzMask compares Mask with the byte loop at any key, position and split.
func FuzzMask(f *testing.F) {
	f.Add([]byte("Hello"), uint32(0x37fa213d), uint8(0), uint16(2))
	f.Add(make([]byte, 300), uint32(0x01020304), uint8(3), uint16(129))
	f.Add(bytes.Repeat([]byte{0xff}, 1000), uint32(0xdeadbeef), uint8(1), uint16(7))
	f.Fuzz(func(t *testing.T, p []byte, k uint32, pos uint8, split uint16) {
		key := [4]byte{byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)}
		want := bytes.Clone(p)
		wantPos := maskBytes(key, int(pos), want)
		got := bytes.Clone(p)
		s := int(split) % (len(p) + 1)
		np := Mask(key, int(pos), got[:s])
		if np2 := Mask(key, np, got[s:]); np2 != wantPos || !bytes.Equal(got, want) {
			t.Fatalf("key % x pos %d split %d: pos %d want %d", key, pos, s, np2, wantPos)
		}
	})
}

// FuzzReader feeds any byte stream to a Reader with small limits: it never
// panics, returns only documented errors, never returns a message over the
// limit or a buffer larger than it, and control payloads stay within 125.
func FuzzReader(f *testing.F) {
	for _, tc := range rfcExamples {
		if len(tc.wire) < 2000 {
			f.Add(unhex(f, tc.wire), tc.role == Server, false)
		}
	}
	for _, tc := range readerErrorCases {
		f.Add(tc.wire, tc.role == Server, tc.cfg.Extension != nil)
	}
	f.Add(cat(frameBytes(false, 0, OpText, noKey, "Hel"), frameBytes(true, 0, OpPing, noKey, "x"),
		frameBytes(true, 0, OpContinuation, noKey, "lo")), false, false)
	f.Add(frameBytes(true, Rsv1, OpBinary, rfcKey, "abc"), true, true)
	f.Fuzz(func(t *testing.T, wire []byte, server, withExt bool) {
		const limit = 64
		role := Client
		if server {
			role = Server
		}
		cfg := ReaderConfig{MaxMessageSize: limit, MaxFrameSize: 48}
		if withExt {
			cfg.Extension = &fakeExt{}
		}
		r := NewReader(bufio.NewReaderSize(bytes.NewReader(wire), 16), role, cfg)
		for range 100 {
			op, msg, err := r.ReadMessage(nil)
			if err != nil {
				var pe *ProtocolError
				switch {
				case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				case errors.As(err, &pe):
					if pe.Code != StatusProtocolError && pe.Code != StatusInvalidFramePayloadData && pe.Code != StatusMessageTooBig {
						t.Fatalf("close code %d for %v", pe.Code, err)
					}
				default:
					t.Fatalf("undocumented error %v", err)
				}
				if cap(r.msg) > limit || cap(r.comp) > limit {
					t.Fatalf("reader buffers cap %d/%d over the limit", cap(r.msg), cap(r.comp))
				}
				return
			}
			switch {
			case op.IsControl():
				if len(msg) > MaxControlPayload {
					t.Fatalf("control payload of %d bytes", len(msg))
				}
				if op == OpClose {
					if _, _, err := ParseClosePayload(msg); err != nil {
						t.Fatalf("close payload returned unchecked: %v", err)
					}
				}
			case op == OpText || op == OpBinary:
				if len(msg) > limit || cap(msg) > limit {
					t.Fatalf("message len %d cap %d over the limit %d", len(msg), cap(msg), limit)
				}
				if op == OpText && !utf8.Valid(msg) {
					t.Fatalf("invalid UTF-8 text returned: % x", msg)
				}
			default:
				t.Fatalf("ReadMessage returned opcode %v", op)
			}
		}
	})
}
