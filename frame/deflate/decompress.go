package deflate

import (
	"io"
	"sync"
)

// maxDict is the most history a DEFLATE stream can refer to (RFC 1951).
const maxDict = 32 << 10

// decoder is our decompressor side.
type decoder struct {
	mu       sync.Mutex
	takeover bool // the peer keeps its context: keep ours
	window   int  // 2^(peer's max window bits): how much history to keep
	closed   bool
	hist     []byte  // with takeover: the last window bytes we decompressed
	src      *source // separate so a pooled inflater pins only it
}

// source feeds the inflater payload followed by the sync tail, without
// copying the payload. It is an io.ByteReader, so the inflater reads it
// directly, byte by byte as it needs, rather than through a bufio.Reader of
// its own — which also means nothing past a final block is consumed.
type source struct {
	p    []byte
	tail int // bytes of syncTail consumed
}

func (s *source) ReadByte() (byte, error) {
	if len(s.p) > 0 {
		b := s.p[0]
		s.p = s.p[1:]
		return b, nil
	}
	if s.tail < len(syncTail) {
		b := syncTail[s.tail]
		s.tail++
		return b, nil
	}
	return 0, io.EOF
}

func (s *source) Read(b []byte) (int, error) {
	n := copy(b, s.p)
	s.p = s.p[n:]
	if n < len(b) {
		m := copy(b[n:], syncTail[s.tail:])
		s.tail += m
		n += m
	}
	if n == 0 && len(b) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// rest reports whether what is left is nothing but padding and the tail: a
// final block's remainder (RFC 7692 §7.2.3.4) with no more blocks after it.
// A final block that ended inside the appended tail ended the DEFLATE
// stream too: an inflater such as zlib's stops there and ignores what
// follows, and so does DecodeStream.
func (s *source) rest() bool {
	return s.tail > 0 || len(s.p) <= 1 && (len(s.p) == 0 || s.p[0] == 0)
}

func (d *decoder) decode(dst, payload []byte, limit int64) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return dst, ErrClosed
	}
	src := d.src
	src.p, src.tail = payload, 0
	defer func() { src.p = nil }() // never pin the caller's buffer

	start := len(dst)
	var dict []byte
	if d.takeover {
		dict = d.hist
	}
	fr := getReader(src, dict)
	defer putReader(fr)

	out := dst
	mark := start // output before mark is already in hist
	for {
		var err error
		out, err = inflate(fr, out, start, limit, len(payload))
		switch err {
		case io.ErrUnexpectedEOF:
			// The input ended, after the tail's empty stored block: the
			// message is complete (RFC 7692 §7.2.2).
		case io.EOF:
			// A block with BFINAL set ended the DEFLATE stream (§7.2.3.4).
			if !src.rest() {
				// More blocks follow in this message: go on with a new
				// stream whose history is everything so far.
				if d.takeover {
					d.hist = slide(d.hist, out[mark:], d.window)
					mark = len(out)
					dict = d.hist
				} else {
					dict = out[start:]
					dict = dict[max(0, len(dict)-maxDict):]
				}
				_ = fr.Reset(src, dict)
				continue
			}
		case errTooLarge:
			return out, errTooLarge
		default:
			return out, errCorrupt
		}
		break
	}
	if d.takeover {
		d.hist = slide(d.hist, out[mark:], d.window)
	}
	return out, nil
}

// inflate reads fr into out until fr reports an error (returned as it is),
// never letting out hold more than limit bytes past start: at the limit it
// reads one more byte into a scratch array, and if there is one it returns
// errTooLarge. It grows out at most to the limit, by doubling, starting from
// a guess of four times the compressed size, so a bomb costs at most about
// twice the limit in allocations.
func inflate(fr io.Reader, out []byte, start int, limit int64, inLen int) ([]byte, error) {
	for {
		produced := int64(len(out) - start)
		room := int64(cap(out) - len(out))
		room = min(room, limit-produced)
		if room == 0 {
			if produced >= limit {
				var one [1]byte
				n, err := fr.Read(one[:])
				if n > 0 {
					return out, errTooLarge
				}
				if err == nil {
					continue
				}
				return out, err
			}
			grow := min(max(produced, 4*int64(inLen), 512), limit-produced)
			// Not slices.Grow: append's growth policy may double past
			// the limit, and this capacity is exactly what we ask for.
			bigger := make([]byte, len(out), len(out)+int(grow))
			copy(bigger, out)
			out = bigger
			continue
		}
		n, err := fr.Read(out[len(out) : len(out)+int(room)])
		out = out[:len(out)+n]
		if err != nil {
			return out, err
		}
	}
}

// slide appends b to the history h, keeping only its last window bytes,
// and returns it. h's capacity is allocated once, at window bytes.
func slide(h, b []byte, window int) []byte {
	if len(b) >= window {
		if cap(h) < window {
			h = make([]byte, window)
		}
		h = h[:window]
		copy(h, b[len(b)-window:])
		return h
	}
	if cap(h) < window {
		h = append(make([]byte, 0, window), h...)
	}
	if over := len(h) + len(b) - window; over > 0 {
		h = h[:copy(h, h[over:])]
	}
	return append(h, b...)
}

// close drops the history.
func (d *decoder) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	d.hist = nil
}
