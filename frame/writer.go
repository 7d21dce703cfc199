package frame

import (
	"crypto/rand"
	"io"
	"net"
)

// DefaultWriteBufferSize is the size of a Writer's buffer when its config
// leaves it at zero.
const DefaultWriteBufferSize = 16 << 10

// keyBatch is how many bytes of masking keys a client Writer draws from its
// random source at a time: 64 keys per read, not one read per frame.
const keyBatch = 256

// WriterConfig configures a Writer. The zero value writes every message as
// one frame through a 16 KiB buffer, with no extension and crypto/rand keys.
type WriterConfig struct {
	// FragmentSize, if positive, splits data messages longer than it into
	// frames of at most FragmentSize payload bytes (RFC 6455 §5.4). Zero
	// sends every message as a single frame.
	FragmentSize int

	// BufferSize is the size of the buffer frames are gathered in before
	// they are written; zero means DefaultWriteBufferSize. Frames that fit
	// wait there until Flush; a larger unmasked payload goes straight to the
	// connection with its header in one vectored write, and a larger masked
	// one is masked into a pooled scratch buffer of up to 1 MiB and written
	// the same way. The default-size buffer is borrowed from a pool when the
	// first frame of a batch is written and given back by Flush, so an idle
	// Writer holds no buffer; a buffer of any other size is the Writer's own.
	BufferSize int

	// Extension is the negotiated extension, if any; WriteMessage passes
	// data messages through it.
	Extension Extension

	// Rand is the source of masking keys in the client role; nil means
	// crypto/rand (RFC 6455 §5.3 asks for unpredictable keys). Tests set it
	// to reproduce the RFC's examples.
	Rand io.Reader

	// BetweenFragments, if set, is called by WriteMessage after each
	// fragment of a message but the last, with that fragment written or
	// buffered. It may write control frames with WriteControl or
	// WriteClose, which RFC 6455 §5.4 allows in the middle of a fragmented
	// message, and nothing else; an error it returns ends the message
	// with that error. It lets a pong or a ping go out during a long
	// message instead of after it.
	BetweenFragments func() error
}

// Writer writes messages and control frames as frames for role: in the
// client role it masks each frame with a fresh key, into its own buffer so
// the caller's bytes are never modified. Frames are gathered in a buffer and
// reach the underlying writer when the buffer fills or on Flush, so a batch
// of messages costs one write. A Writer is not safe for concurrent use; it
// never starts a goroutine.
type Writer struct {
	w        io.Writer
	role     Role
	fragment int
	ext      Extension
	rand     io.Reader

	buf    []byte  // pending frames, cap fixed at size; nil when pooled and empty
	bufp   *[]byte // the pooled buffer buf came from, while borrowed
	size   int     // BufferSize
	pooled bool    // buf is borrowed per batch rather than owned
	extBuf []byte  // scratch for the extension's output
	vec    net.Buffers
	vecArr [2][]byte

	keys    []byte // a client's batch of keys, made on its first masked frame
	keysPos int

	between func() error // WriterConfig.BetweenFragments
}

// NewWriter returns a Writer of frames to w, sent by role.
func NewWriter(w io.Writer, role Role, cfg WriterConfig) *Writer {
	size := cfg.BufferSize
	if size <= 0 {
		size = DefaultWriteBufferSize
	}
	if size < 2*MaxHeaderSize+MaxControlPayload {
		size = 2*MaxHeaderSize + MaxControlPayload
	}
	src := cfg.Rand
	if src == nil {
		src = rand.Reader
	}
	wr := &Writer{
		w:        w,
		role:     role,
		fragment: cfg.FragmentSize,
		ext:      cfg.Extension,
		rand:     src,
		size:     size,
		pooled:   size == DefaultWriteBufferSize,
		keysPos:  keyBatch,
		between:  cfg.BetweenFragments,
	}
	if !wr.pooled {
		wr.buf = make([]byte, 0, size)
	}
	return wr
}

// Reset makes wr write to w, dropping anything not yet flushed.
func (wr *Writer) Reset(w io.Writer) {
	wr.w = w
	wr.buf = wr.buf[:0]
	wr.releaseBuf()
}

// ensureBuf borrows the pooled buffer for a batch of frames if wr has none.
func (wr *Writer) ensureBuf() {
	if wr.buf == nil {
		wr.bufp = getBuf(wr.size)
		wr.buf = *wr.bufp
	}
}

// releaseBuf gives an empty borrowed buffer back to its pool.
func (wr *Writer) releaseBuf() {
	if wr.pooled && wr.bufp != nil && len(wr.buf) == 0 {
		putBuf(wr.bufp)
		wr.bufp, wr.buf = nil, nil
	}
}

// Buffered returns how many bytes are waiting for Flush.
func (wr *Writer) Buffered() int { return len(wr.buf) }

// WriteMessage writes a whole data message (OpText or OpBinary), passing it
// through the extension if there is one, and fragmenting it if the config
// asks. It does not check that text is UTF-8: that is the sender's promise.
// payload is not modified or retained. The frames may wait in the buffer
// until Flush.
func (wr *Writer) WriteMessage(op Opcode, payload []byte) error {
	return wr.writeMessage(op, payload, true, 0)
}

// WriteMessageUnencoded is WriteMessage without the extension: the message
// is sent as it is even when, say, compression was negotiated. Use it for
// data that is already compressed.
func (wr *Writer) WriteMessageUnencoded(op Opcode, payload []byte) error {
	return wr.writeMessage(op, payload, false, 0)
}

// WriteEncodedMessage writes a data message whose payload the extension
// has already transformed, with rsv (bits the extension claims, or 0) on
// its first frame: a message encoded once for many connections (see
// SharedEncoder). It fragments and masks as WriteMessage does and returns
// ErrReservedBits for bits the Writer's extension does not claim.
func (wr *Writer) WriteEncodedMessage(op Opcode, rsv uint8, payload []byte) error {
	if op != OpText && op != OpBinary {
		return ErrInvalidOpcode
	}
	var claimed uint8
	if wr.ext != nil {
		claimed = wr.ext.Rsv()
	}
	if rsv&^claimed != 0 {
		return ErrReservedBits
	}
	return wr.writeMessage(op, payload, false, rsv)
}

// WriteRaw writes p as it is: whole frames encoded beforehand with
// AppendHeader (masked, in the client role, with keys of the caller's
// choosing), such as one message's frames built once for many server
// connections. Like a frame from WriteMessage it may wait in the buffer
// until Flush; a p larger than the buffer's free space goes out with the
// pending frames in one vectored write, not copied. p is not modified or
// retained.
func (wr *Writer) WriteRaw(p []byte) error {
	wr.ensureBuf()
	if len(p) <= cap(wr.buf)-len(wr.buf) {
		wr.buf = append(wr.buf, p...)
		return nil
	}
	return wr.writeBufAnd(p)
}

// writeMessage writes a message, encoded by the extension if useExt, else
// sent with rsv as it is.
func (wr *Writer) writeMessage(op Opcode, payload []byte, useExt bool, rsv uint8) error {
	if op != OpText && op != OpBinary {
		return ErrInvalidOpcode
	}
	if useExt && wr.ext != nil {
		out, bits, err := wr.ext.EncodeMessage(wr.extBuf[:0], payload, op)
		if err != nil {
			return err
		}
		if bits != 0 {
			wr.extBuf, payload, rsv = out, out, bits
			defer wr.releaseExtBuf()
		}
	}
	if wr.fragment <= 0 || len(payload) <= wr.fragment {
		return wr.writeFrame(true, rsv, op, payload)
	}
	for first := true; ; first = false {
		n := min(len(payload), wr.fragment)
		fin := n == len(payload)
		frameOp := OpContinuation
		var bits uint8
		if first {
			frameOp, bits = op, rsv
		}
		if err := wr.writeFrame(fin, bits, frameOp, payload[:n]); err != nil {
			return err
		}
		payload = payload[n:]
		if fin {
			return nil
		}
		if wr.between != nil {
			if err := wr.between(); err != nil {
				return err
			}
		}
	}
}

// releaseExtBuf keeps a modest scratch buffer for encoded payloads and lets
// a large one go once its frames are written, so one big compressed message
// does not pin its memory for the life of the connection.
func (wr *Writer) releaseExtBuf() {
	if cap(wr.extBuf) > 64<<10 {
		wr.extBuf = nil
	}
}

// WriteFrame writes one frame with no extension applied, for callers doing
// their own fragmentation: op is OpText or OpBinary for the first frame,
// OpContinuation after it, and fin marks the last. The Writer does not track
// fragmentation state; a wrong sequence is the caller's protocol error.
func (wr *Writer) WriteFrame(fin bool, op Opcode, payload []byte) error {
	if op.IsControl() || op.IsReserved() {
		return ErrInvalidOpcode
	}
	return wr.writeFrame(fin, 0, op, payload)
}

// WriteControl writes a ping, pong or close frame with payload (at most 125
// bytes; a close payload should come from AppendClosePayload).
func (wr *Writer) WriteControl(op Opcode, payload []byte) error {
	if !op.IsControl() || op.IsReserved() {
		return ErrInvalidOpcode
	}
	if len(payload) > MaxControlPayload {
		return ErrControlTooLong
	}
	return wr.writeControl(op, payload)
}

// WriteClose writes a close frame with code and reason (RFC 6455 §5.5.1).
// StatusNoStatusRcvd writes a close frame with no body.
func (wr *Writer) WriteClose(code StatusCode, reason string) error {
	var arr [MaxControlPayload]byte
	p, err := AppendClosePayload(arr[:0], code, reason)
	if err != nil {
		return err
	}
	return wr.writeControl(OpClose, p)
}

// writeControl writes a frame of at most MaxControlPayload bytes through the
// buffer. Unlike writeFrame it never hands payload to a vectored write, so
// payload does not escape: WriteClose's stack array and a caller's stack
// payload cost no allocation.
func (wr *Writer) writeControl(op Opcode, payload []byte) error {
	h := Header{Fin: true, Opcode: op, Length: int64(len(payload))}
	switch wr.role {
	case Client:
		h.Masked = true
		if err := wr.nextKey(&h.Mask); err != nil {
			return err
		}
	case Server:
	default:
		return ErrInvalidRole
	}
	// The buffer holds at least 2*MaxHeaderSize+MaxControlPayload bytes.
	wr.ensureBuf()
	if cap(wr.buf)-len(wr.buf) < h.Size()+len(payload) {
		if err := wr.Flush(); err != nil {
			return err
		}
	}
	wr.buf = AppendHeader(wr.buf, h)
	start := len(wr.buf)
	wr.buf = append(wr.buf, payload...)
	if h.Masked {
		Mask(h.Mask, 0, wr.buf[start:])
	}
	return nil
}

// Flush writes the buffered frames to the underlying writer and, for a
// pooled buffer, gives the buffer back.
func (wr *Writer) Flush() error {
	var err error
	if len(wr.buf) > 0 {
		_, err = wr.w.Write(wr.buf)
		wr.buf = wr.buf[:0]
	}
	wr.releaseBuf()
	return err
}

// writeBufAnd writes the pending frames and p in one vectored write.
func (wr *Writer) writeBufAnd(p []byte) error {
	wr.vec = append(wr.vecArr[:0], wr.buf, p)
	_, err := wr.vec.WriteTo(wr.w)
	wr.vecArr = [2][]byte{}
	wr.buf = wr.buf[:0]
	return err
}

func (wr *Writer) writeFrame(fin bool, rsv uint8, op Opcode, payload []byte) error {
	h := Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(payload))}
	switch wr.role {
	case Client:
		h.Masked = true
		if err := wr.nextKey(&h.Mask); err != nil {
			return err
		}
	case Server:
	default:
		return ErrInvalidRole
	}
	wr.ensureBuf()
	if cap(wr.buf)-len(wr.buf) < h.Size() {
		if _, err := wr.w.Write(wr.buf); err != nil {
			wr.buf = wr.buf[:0]
			return err
		}
		wr.buf = wr.buf[:0]
	}
	wr.buf = AppendHeader(wr.buf, h)
	if len(payload) <= cap(wr.buf)-len(wr.buf) {
		start := len(wr.buf)
		wr.buf = append(wr.buf, payload...)
		if h.Masked {
			Mask(h.Mask, 0, wr.buf[start:])
		}
		return nil
	}
	if !h.Masked {
		// Header and payload in one vectored write: no copy of the payload.
		return wr.writeBufAnd(payload)
	}
	// Masked and larger than the buffer: mask into a pooled scratch buffer
	// (in 1 MiB pieces beyond that) and write each piece with the pending
	// frames and header in front of it.
	scratch := getBuf(min(len(payload), maxPooledBuf))
	defer putBuf(scratch)
	pos := 0
	for len(payload) > 0 {
		n := min(len(payload), cap(*scratch))
		chunk := (*scratch)[:n]
		pos = maskCopy(chunk, payload[:n], h.Mask, pos)
		payload = payload[n:]
		if err := wr.writeBufAnd(chunk); err != nil {
			return err
		}
	}
	return nil
}

// nextKey takes the next masking key from the batch, refilling it from the
// random source when it runs out.
func (wr *Writer) nextKey(k *[4]byte) error {
	if wr.keysPos+4 > len(wr.keys) {
		if wr.keys == nil {
			wr.keys = make([]byte, keyBatch)
		}
		if _, err := io.ReadFull(wr.rand, wr.keys); err != nil {
			return err
		}
		wr.keysPos = 0
	}
	copy(k[:], wr.keys[wr.keysPos:])
	wr.keysPos += 4
	return nil
}
