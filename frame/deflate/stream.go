package deflate

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	"github.com/wsactor/ws/frame"
)

// errNoStream is returned by EncodeFragment for a later piece of a message
// whose first piece was never encoded (or was declined).
var errNoStream = errors.New("deflate: fragment of a message that was not started")

// EncodeFragment compresses one piece of a data message whose length is not
// known in advance, for a sender that writes each piece as a frame as it
// goes (RFC 6455 §5.4, RFC 7692 §6.1: one DEFLATE stream over all the
// fragments, RSV1 on the first frame only). first marks the message's
// first piece, last its final one (p may then be empty).
//
// The first call decides: it returns rsv = frame.Rsv1 and the compressed
// piece, or rsv 0 and dst (declined: send the whole message uncompressed,
// without calling again) when our side's window is under 15 bits, since the
// encoder cannot bound its back-references for a message of unknown length
// (see New). The threshold does not apply: a streamed message is taken to
// be long. Each piece's output ends with a sync flush, tail included, so the
// peer can inflate everything sent so far without waiting for the next
// piece; only the last piece's flush loses its 0x00 0x00 0xff 0xff tail
// (RFC 7692 §7.2.1), which leaves one byte (an empty stored block's header)
// when the last piece is empty. With context takeover the
// connection's compressor carries on from the previous message; without,
// a pooled one is held from the first piece to the last (or to Close).
//
// Between first and last no other message may be encoded. p is not
// modified or retained; the output is appended to dst.
func (e *Extension) EncodeFragment(dst, p []byte, first, last bool) ([]byte, uint8, error) {
	return e.enc.fragment(dst, p, first, last)
}

func (c *encoder) fragment(dst, p []byte, first, last bool) ([]byte, uint8, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return dst, 0, ErrClosed
	}
	if first {
		if c.maxLen >= 0 {
			return dst, 0, nil
		}
		c.dropStream()
		fw := c.fw
		if fw == nil {
			var err error
			if fw, err = getWriter(c.level, c.sink); err != nil {
				return dst, 0, err
			}
			if c.takeover {
				c.fw = fw
			}
		}
		c.stream = fw
	} else if c.stream == nil {
		return dst, 0, errNoStream
	}
	out := dst
	if first || last || len(p) > 0 {
		c.sink.b = out
		_, err := c.stream.Write(p)
		if err == nil {
			err = c.stream.Flush()
		}
		out = c.sink.b
		c.sink.b = nil
		if err == nil && !bytes.HasSuffix(out[len(dst):], syncTail) {
			err = errNoSyncTail
		}
		if err != nil {
			if c.takeover {
				c.fw = nil // the context is unknown now
			}
			c.dropStream()
			return dst, 0, err
		}
	}
	if last {
		out = out[:len(out)-len(syncTail)]
		c.dropStream()
	}
	return out, frame.Rsv1, nil
}

// dropStream ends a streamed message: a pooled compressor goes back.
func (c *encoder) dropStream() {
	if c.stream != nil && c.stream != c.fw {
		putWriter(c.level, c.stream)
	}
	c.stream = nil
}

// byteSource is what the inflater reads: an io.ByteReader, so that it
// reads no further than it needs.
type byteSource interface {
	io.Reader
	io.ByteReader
}

// DecodeStream returns a reader of one received message's decompressed
// payload (RFC 7692 §7.2.2), for a receiver that does not hold the whole
// message: src yields the message's compressed payload, fragment after
// fragment, then io.EOF at its end. The reader inflates as it is read,
// into the caller's buffer, so memory does not grow with the message; the
// caller bounds the total it accepts. It returns io.EOF after the last
// byte, a *frame.ProtocolError (1007, ErrCorrupt) for data that is not
// DEFLATE, and src's own errors as they are.
//
// With the peer's context takeover, the history carries over to the next
// message once this one has been read to io.EOF; a message abandoned
// midway leaves the history unknown, and later messages may fail to
// decode. Close gives the inflater back. Only one message may be decoded
// at a time, streamed or not.
func (e *Extension) DecodeStream(src io.Reader) (io.ReadCloser, error) {
	bs, ok := src.(byteSource)
	if !ok {
		bs = bufio.NewReader(src)
	}
	d := &e.dec
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, ErrClosed
	}
	s := &streamReader{d: d, src: streamSource{src: bs}}
	if d.takeover {
		s.win = append(make([]byte, 0, 2*maxDict), d.hist...)
	} else {
		s.win = make([]byte, 0, 2*maxDict)
	}
	s.fr = getReader(&s.src, s.win)
	return s, nil
}

// streamSource feeds the inflater src, then the sync tail once src ends.
// It keeps src's first error other than io.EOF, and can give back the
// bytes read to look past a final block.
type streamSource struct {
	src  byteSource
	back []byte // bytes given back, read again first
	eof  bool   // src returned io.EOF
	tail int    // bytes of syncTail consumed
	err  error  // src's error other than io.EOF
}

func (s *streamSource) ReadByte() (byte, error) {
	if len(s.back) > 0 {
		b := s.back[0]
		s.back = s.back[1:]
		return b, nil
	}
	if !s.eof && s.err == nil {
		b, err := s.src.ReadByte()
		if err == nil {
			return b, nil
		}
		if err != io.EOF {
			s.err = err
			return 0, err
		}
		s.eof = true
	}
	if s.err != nil {
		return 0, s.err
	}
	if s.tail < len(syncTail) {
		b := syncTail[s.tail]
		s.tail++
		return b, nil
	}
	return 0, io.EOF
}

func (s *streamSource) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(s.back) == 0 && !s.eof && s.err == nil {
		n, err := s.src.Read(p)
		switch {
		case err == io.EOF:
			s.eof = true
		case err != nil:
			s.err = err
		}
		if n > 0 || err != io.EOF {
			return n, err
		}
	}
	b, err := s.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = b
	return 1, nil
}

// rest reports whether what is left after a final block is nothing but
// padding (RFC 7692 §7.2.3.4): at most one zero byte before the payload's
// end. Otherwise it gives back what it read, for the next DEFLATE stream.
func (s *streamSource) rest() bool {
	if s.tail > 0 {
		return true
	}
	b, err := s.ReadByte()
	if err != nil || s.tail > 0 {
		return true
	}
	if b != 0 {
		s.back = append(s.back[:0], b)
		return false
	}
	c, err := s.ReadByte()
	if err != nil || s.tail > 0 {
		return true
	}
	s.back = append(s.back[:0], b, c)
	return false
}

// streamReader is DecodeStream's reader.
type streamReader struct {
	d   *decoder
	src streamSource
	fr  inflater
	win []byte // the last maxDict bytes of output (with the history before it), in a buffer of twice that
	err error
}

func (s *streamReader) Read(p []byte) (int, error) {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	if s.d.closed {
		s.fail(ErrClosed)
		return 0, ErrClosed
	}
	for {
		n, err := s.fr.Read(p)
		if n > 0 {
			s.record(p[:n])
		}
		switch {
		case err == nil:
			return n, nil
		case s.src.err != nil:
			s.fail(s.src.err)
		case err == io.ErrUnexpectedEOF && s.src.eof:
			// The input ended after the tail's empty stored block.
			s.finish()
		case err == io.EOF:
			// A final block ended the DEFLATE stream (§7.2.3.4).
			if s.src.rest() {
				s.finish()
				break
			}
			_ = s.fr.Reset(&s.src, s.dict())
			if n > 0 {
				return n, nil
			}
			continue
		default:
			s.fail(errCorrupt)
		}
		return n, s.err
	}
}

// record appends output to the window, keeping its last maxDict bytes.
func (s *streamReader) record(b []byte) {
	if len(b) >= maxDict {
		s.win = append(s.win[:0], b[len(b)-maxDict:]...)
		return
	}
	if len(s.win)+len(b) > cap(s.win) {
		keep := s.dict()
		s.win = s.win[:copy(s.win, keep)]
	}
	s.win = append(s.win, b...)
}

func (s *streamReader) dict() []byte { return s.win[max(0, len(s.win)-maxDict):] }

// finish ends a message read to its end: with takeover its last window
// bytes become the history for the next one.
func (s *streamReader) finish() {
	s.err = io.EOF
	if s.d.takeover {
		w := s.win[max(0, len(s.win)-s.d.window):]
		s.d.hist = slide(s.d.hist[:0], w, s.d.window)
	}
	s.release()
}

func (s *streamReader) fail(err error) {
	s.err = err
	s.release()
}

func (s *streamReader) release() {
	if s.fr != nil {
		putReader(s.fr)
		s.fr = nil
	}
	s.src.src = nil
	s.win = nil
}

// Close gives the inflater back; later Reads return an error.
func (s *streamReader) Close() error {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if s.err == nil {
		s.err = ErrClosed
		s.release()
	}
	return nil
}
