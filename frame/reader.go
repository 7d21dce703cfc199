package frame

import (
	"bufio"
	"io"
)

// DefaultMaxMessageSize is the message size limit a zero ReaderConfig gets:
// 32 MiB, after reassembly and after any extension's decoding.
const DefaultMaxMessageSize = 32 << 20

// ReaderConfig configures a Reader. The zero value is a Reader with the
// default limits and no extension.
type ReaderConfig struct {
	// MaxMessageSize bounds the payload of one data message, summed over
	// its fragments and counted after decompression. Over it the Reader
	// fails with 1009 (ErrMessageTooLarge) before reading the excess.
	// Zero means DefaultMaxMessageSize.
	MaxMessageSize int64

	// MaxFrameSize bounds the payload of a single frame, checked from the
	// header before any payload is read (1009, ErrFrameTooLarge). Zero means
	// MaxMessageSize.
	MaxFrameSize int64

	// Extension is the negotiated extension, if any. Without one, every
	// reserved bit is a protocol error (RFC 6455 §5.2).
	Extension Extension
}

// Reader reads whole messages from a stream of frames (RFC 6455 §5.4, §5.6):
// it checks every header for its role, unmasks, reassembles fragments,
// validates text as it arrives and enforces the limits of its ReaderConfig.
// Control frames, which may arrive between the fragments of a message, are
// returned on their own, and the message in progress is kept for the next
// call. A Reader is not safe for concurrent use; it never starts a goroutine.
type Reader struct {
	br       *bufio.Reader
	role     Role
	maxMsg   int64
	maxFrame int64
	ext      Extension
	extRsv   uint8

	// The message being assembled, kept across calls that return control frames.
	inMessage bool
	op        Opcode
	rsv       uint8 // reserved bits of the message's first frame
	msg       []byte
	comp      []byte // encoded payload of a message the extension will decode
	utf8      UTF8Validator

	ctrl [MaxControlPayload]byte
}

// NewReader returns a Reader of frames from br, received by role.
func NewReader(br *bufio.Reader, role Role, cfg ReaderConfig) *Reader {
	r := &Reader{br: br, role: role, ext: cfg.Extension}
	r.maxMsg = cfg.MaxMessageSize
	if r.maxMsg <= 0 {
		r.maxMsg = DefaultMaxMessageSize
	}
	r.maxFrame = cfg.MaxFrameSize
	if r.maxFrame <= 0 || r.maxFrame > r.maxMsg {
		r.maxFrame = r.maxMsg
	}
	if r.ext != nil {
		r.extRsv = r.ext.Rsv()
	}
	return r
}

// Reset makes r read from br and forgets any message in progress, keeping
// the configuration, so a Reader (and its buffers) can be reused.
func (r *Reader) Reset(br *bufio.Reader) {
	r.br = br
	r.inMessage = false
	r.msg = nil
	r.comp = r.comp[:0]
	r.utf8.Reset()
}

// ReadMessage reads until it has a whole data message or a control frame and
// returns its opcode and payload.
//
// A data message (OpText or OpBinary) is appended to dst[:0] and the slice
// returned belongs to the caller; pass a reused buffer to avoid allocating,
// or nil to get a buffer sized for the message. If a control frame
// interrupts a fragmented message, the part read so far is kept by the
// Reader and the next call goes on with it, appending to the buffer that
// call started (its own dst is then ignored).
//
// A control frame's payload (at most 125 bytes) aliases the Reader's memory
// and is valid until the next call. A close payload has already been checked
// (ParseClosePayload succeeds on it).
//
// Errors: a *ProtocolError for anything the peer did wrong (its Code is the
// close code to send), io.EOF when the stream ends cleanly between messages,
// io.ErrUnexpectedEOF when it ends inside a frame or a fragmented message,
// and any other read error as it is. After an error the Reader must not be
// used again, except after Reset.
func (r *Reader) ReadMessage(dst []byte) (Opcode, []byte, error) {
	for {
		h, err := ReadHeader(r.br)
		if err != nil {
			if err == io.EOF && r.inMessage {
				err = io.ErrUnexpectedEOF
			}
			return 0, nil, err
		}
		allowed := uint8(0)
		if !h.Opcode.IsControl() && h.Opcode != OpContinuation {
			allowed = r.extRsv
		}
		if err := h.Check(r.role, allowed); err != nil {
			return 0, nil, err
		}
		if h.Opcode.IsControl() {
			return r.readControl(h)
		}
		if !r.inMessage {
			if h.Opcode == OpContinuation {
				return 0, nil, errUnexpectedCont
			}
			r.inMessage, r.op, r.rsv = true, h.Opcode, h.Rsv
			r.msg = dst[:0]
			r.comp = r.comp[:0]
			r.utf8.Reset()
		} else if h.Opcode != OpContinuation {
			return 0, nil, errExpectedCont
		}
		if h.Length > r.maxFrame {
			return 0, nil, errFrameTooLarge
		}
		if err := r.readData(h); err != nil {
			return 0, nil, err
		}
		if !h.Fin {
			continue
		}
		return r.finishMessage()
	}
}

// readControl reads a control frame's payload into r.ctrl.
func (r *Reader) readControl(h Header) (Opcode, []byte, error) {
	p := r.ctrl[:h.Length]
	if _, err := io.ReadFull(r.br, p); err != nil {
		return 0, nil, eofIsUnexpected(err)
	}
	if h.Masked {
		Mask(h.Mask, 0, p)
	}
	if h.Opcode == OpClose {
		if _, _, err := ParseClosePayload(p); err != nil {
			return 0, nil, err
		}
	}
	return h.Opcode, p, nil
}

// readData appends one data frame's payload to the message in progress.
// Uncompressed text is validated chunk by chunk as it arrives, so invalid
// UTF-8 fails the connection before the rest of the frame is read (§8.1).
func (r *Reader) readData(h Header) error {
	encoded := r.rsv&r.extRsv != 0
	buf := &r.msg
	if encoded {
		buf = &r.comp
	}
	if int64(len(*buf))+h.Length > r.maxMsg {
		return errMessageTooLarge
	}
	checkText := r.op == OpText && !encoded
	remaining := h.Length
	pos := 0
	for remaining > 0 {
		b := *buf
		if len(b) == cap(b) {
			// Grow by what is announced, but never by more than what has
			// been received (or 1 MiB): a peer that announces a large frame
			// and sends little cannot make us allocate the whole limit.
			b = growTo(b, int(min(remaining, max(int64(len(b)), 1<<20))), r.maxMsg)
		}
		start := len(b)
		n, err := r.br.Read(b[start : start+int(min(remaining, int64(cap(b)-start)))])
		b = b[:start+n]
		*buf = b
		if n > 0 {
			chunk := b[start:]
			if h.Masked {
				pos = Mask(h.Mask, pos, chunk)
			}
			if checkText && !r.utf8.Write(chunk) {
				return errInvalidUTF8
			}
			remaining -= int64(n)
		}
		if err != nil && remaining > 0 {
			return eofIsUnexpected(err)
		}
	}
	return nil
}

// finishMessage completes the message in progress: decodes it through the
// extension if its first frame said so, and checks that text ends on a code
// point boundary.
func (r *Reader) finishMessage() (Opcode, []byte, error) {
	r.inMessage = false
	msg := r.msg
	r.msg = nil
	if r.rsv&r.extRsv != 0 {
		out, err := r.ext.DecodeMessage(msg, r.comp, r.rsv&r.extRsv, r.maxMsg)
		r.releaseComp()
		if err != nil {
			return 0, nil, err
		}
		msg = out
		if r.op == OpText && !ValidUTF8(msg) {
			return 0, nil, errInvalidUTF8
		}
		return r.op, msg, nil
	}
	if r.op == OpText && !r.utf8.Done() {
		return 0, nil, errInvalidUTF8
	}
	return r.op, msg, nil
}

// releaseComp keeps a modest scratch buffer for encoded payloads and lets
// a large one go, so one big compressed message does not pin its memory for
// the life of the connection.
func (r *Reader) releaseComp() {
	if cap(r.comp) > 64<<10 {
		r.comp = nil
		return
	}
	r.comp = r.comp[:0]
}

// growTo returns b with room for n more bytes, allocating (doubling, like
// append) only when it must and never beyond a capacity of limit, so that the
// memory a peer can make a Reader hold is bounded by the configured limit
// rather than by append's growth policy. len(b)+n must not exceed limit.
func growTo(b []byte, n int, limit int64) []byte {
	need := len(b) + n
	if need <= cap(b) {
		return b
	}
	c := int(min(max(int64(need), 2*int64(cap(b))), limit))
	if c < need {
		c = need
	}
	nb := make([]byte, len(b), c)
	copy(nb, b)
	return nb
}

func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
