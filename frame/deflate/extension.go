package deflate

import (
	"github.com/klauspost/compress/flate"

	"github.com/wsactor/ws/frame"
)

// DefaultLevel is the compression level a zero Config gets: flate.BestSpeed,
// the fastest LZ77 level and the cheapest to reset (without context takeover
// a compressor is reset for every message: about 2 µs with a 1 KiB message
// at BestSpeed, up to 17 µs at BestCompression). gorilla/websocket defaults
// to it as well. On the JSON-like messages of the benchmarks it sends 19%
// of the bytes at 64 KiB and 28% at 1 KiB without context takeover
// (BenchmarkEcho).
const DefaultLevel = flate.BestSpeed

// DefaultThreshold is the size, in bytes, below which a zero Config sends
// messages uncompressed: 128. Below it DEFLATE rarely saves bytes on a fresh
// window (a block header, a Huffman table or fixed codes, and the one-byte
// flush remainder eat the gain) yet still costs a compressor reset and a
// decompressor reset with its dictionary copy on the peer. Small messages on
// a connection with context takeover do compress well; set Threshold to -1
// there if bandwidth matters more than CPU.
const DefaultThreshold = 128

// Config tunes the codec. The zero value is BestSpeed, a 128-byte
// threshold, and context takeover whenever Params allow it.
type Config struct {
	// Level is the DEFLATE level, flate.HuffmanOnly (-2) to
	// flate.BestCompression (9); flate.DefaultCompression (-1) means 6.
	// Zero means DefaultLevel (BestSpeed): flate.NoCompression cannot be
	// chosen here — to send a message uncompressed use
	// frame.Writer.WriteMessageUnencoded, or a large Threshold.
	Level int

	// Threshold: data messages shorter than this many bytes are sent
	// uncompressed (RSV1 clear, always legal, RFC 7692 §6). Zero means
	// DefaultThreshold; a negative value compresses every message.
	Threshold int

	// ResetCompressor makes our compressor start afresh for every message
	// even when Params allow context takeover. That is always legal (the
	// peer keeps a window we simply never refer to) and trades ratio for
	// memory: a compressor is about 0.8 MiB at BestSpeed, and with
	// takeover each connection holds one between messages; with
	// ResetCompressor it is taken from a pool for each message and given
	// back.
	ResetCompressor bool
}

// Extension is permessage-deflate (RFC 7692) for one connection, a
// frame.Extension: pass it in both frame.ReaderConfig.Extension and
// frame.WriterConfig.Extension of that connection (actor.WithExtension).
//
// Goroutine safety: EncodeMessage (the writer's goroutine) and
// DecodeMessage (the reader's goroutine) may run at the same time, as the
// compressor and decompressor share nothing; calls to one of them are
// serialised by a mutex, and Close may be called from any goroutine.
//
// Memory: see New.
type Extension struct {
	enc encoder
	dec decoder
}

// New returns the extension for one connection in role, obeying the
// negotiated p (RFC 7692 §7.1) with the tuning in cfg. It returns
// ErrInvalidParams for window bits outside 8..15, frame.ErrInvalidRole for
// a role that is neither frame.Client nor frame.Server, and
// ErrInvalidLevel.
//
// Which side's parameters apply: role's own ("server_*" for frame.Server)
// govern our compressor, the peer's govern our decompressor.
//
// Context takeover (RFC 7692 §7.1.1). When our side may keep its context
// (and cfg.ResetCompressor is false), one flate.Writer lives with the
// connection from its first compressed message until Close, flushed per
// message (about 0.8 MiB at BestSpeed: the encoder's hash table and
// buffers). When
// it may not, a pooled writer is taken for each message and given back on
// every path. When the peer keeps its context, we keep the last 2^w bytes
// of what we decompressed (w = the peer's max window bits, so 32 KiB by
// default) and start a pooled inflater on them for each message; otherwise
// the decompressor holds nothing between messages. An idle connection with
// no takeover on either side holds only the Extension itself (a few hundred
// bytes).
//
// Window bits (RFC 7692 §7.1.2). Decompression accepts any window 8..15:
// the inflater works with a 32 KiB window, a superset. The encoder cannot
// limit its back-references below 32 KiB, so when our side's max
// window bits w is below 15 (a server demanded client_max_window_bits=w, or
// a client's offer had server_max_window_bits=w and a server of ours took
// it), we
// compress only messages of at most 2^w bytes, each with a fresh
// compressor, whose back-references therefore stay within 2^w bytes; longer
// messages go uncompressed (RSV1 clear), which is always legal.
func New(p Params, role frame.Role, cfg Config) (*Extension, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	level := cfg.Level
	if level == 0 {
		level = DefaultLevel
	}
	if level < flate.HuffmanOnly || level > flate.BestCompression {
		return nil, ErrInvalidLevel
	}
	threshold := cfg.Threshold
	if threshold == 0 {
		threshold = DefaultThreshold
	}
	var ourNoTakeover, peerNoTakeover bool
	var ourBits, peerBits int
	switch role {
	case frame.Server:
		ourNoTakeover, peerNoTakeover = p.ServerNoContextTakeover, p.ClientNoContextTakeover
		ourBits, peerBits = windowBits(p.ServerMaxWindowBits), windowBits(p.ClientMaxWindowBits)
	case frame.Client:
		ourNoTakeover, peerNoTakeover = p.ClientNoContextTakeover, p.ServerNoContextTakeover
		ourBits, peerBits = windowBits(p.ClientMaxWindowBits), windowBits(p.ServerMaxWindowBits)
	default:
		return nil, frame.ErrInvalidRole
	}
	e := &Extension{}
	e.enc = encoder{
		level:     level,
		threshold: threshold,
		maxLen:    -1,
		takeover:  !ourNoTakeover && !cfg.ResetCompressor,
		sink:      new(sink),
	}
	if ourBits < 15 {
		e.enc.maxLen = 1 << ourBits
		e.enc.takeover = false
	}
	e.dec = decoder{
		takeover: !peerNoTakeover,
		window:   1 << peerBits,
		src:      new(source),
	}
	return e, nil
}

// Rsv returns frame.Rsv1, the "Per-Message Compressed" bit (RFC 7692 §6).
func (e *Extension) Rsv() uint8 { return frame.Rsv1 }

// Close returns the connection's compressor to the pool and drops the
// decompressor's window. Call it when the connection ends (actor calls it,
// as io.Closer); later EncodeMessage and DecodeMessage calls return
// ErrClosed. It is idempotent, safe from any goroutine, and always returns
// nil.
func (e *Extension) Close() error {
	e.enc.close()
	e.dec.close()
	return nil
}

// EncodeMessage compresses one data message for frame.Writer (RFC 7692
// §7.2.1): it appends the DEFLATE data, flushed with a sync flush and
// stripped of its 0x00 0x00 0xff 0xff tail, to dst and returns it with
// rsv = frame.Rsv1. It declines (returns dst and rsv 0, to send payload as it
// is) for messages under the threshold, over the window limit (see New),
// and — without context takeover only — when compression would not make
// the message smaller. op is not consulted: text and binary compress alike.
// payload is not modified or retained. It does not block on I/O.
func (e *Extension) EncodeMessage(dst, payload []byte, op frame.Opcode) ([]byte, uint8, error) {
	return e.enc.encode(dst, payload)
}

// DecodeMessage decompresses one message for frame.Reader (RFC 7692
// §7.2.2): it appends the 0x00 0x00 0xff 0xff tail to payload (without
// copying it) and inflates into dst, appending and returning it. It stops
// as soon as the output would exceed limit bytes (counted from len(dst);
// limit <= 0 means frame.DefaultMaxMessageSize), with a *frame.ProtocolError
// {Code: 1009, Err: frame.ErrMessageTooLarge}, never having asked for
// capacity past the limit. Corrupt data is a *frame.ProtocolError{Code: 1007,
// Err: ErrCorrupt}. DEFLATE blocks with BFINAL set (RFC 7692 §7.2.3.4) are
// accepted, including data after them in the same message. payload is not
// modified or retained.
func (e *Extension) DecodeMessage(dst, payload []byte, rsv uint8, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = frame.DefaultMaxMessageSize
	}
	return e.dec.decode(dst, payload, limit)
}

// SharedKey reports whether a message of n bytes would be compressed as a
// shared message (frame.SharedEncoder): not under the threshold or over
// the window limit (see New). The key is the level, so that a broadcast
// compressed once serves every connection of that level.
func (e *Extension) SharedKey(n int) (key int, ok bool) { return e.enc.sharedKey(n) }

// EncodeShared compresses payload for many connections at once
// (frame.SharedEncoder): with a fresh compressor at this Extension's
// level, never its connection's, so the output refers to nothing before
// the message and every peer can inflate it, whatever context it keeps
// (RFC 7692 §7.1.1). It declines (rsv 0) when that would not make the
// message smaller. It costs what one message costs without context
// takeover, and is safe from any goroutine, even after Close.
func (e *Extension) EncodeShared(dst, payload []byte, op frame.Opcode) ([]byte, uint8, error) {
	return e.enc.encodeShared(dst, payload)
}

// SharedSent records that a message from EncodeShared went out on this
// connection (frame.SharedEncoder). With context takeover the peer appends
// it to its window, so our compressor, which did not see it, no longer
// matches: the next EncodeMessage starts a fresh compressor, as if context
// takeover were off for that one message; the ones after it refer back as
// usual. At levels 1 to 6 that reset is cheap (klauspost/compress's fast
// encoders move an offset instead of clearing tables). The other way to
// stay in step, sending shared messages uncompressed on such connections,
// would give up the broadcast's compression to spare one message a fresh
// window. Without takeover it does nothing.
func (e *Extension) SharedSent(rsv uint8) {
	if rsv != 0 {
		e.enc.sharedSent()
	}
}

var (
	_ frame.Extension     = (*Extension)(nil)
	_ frame.SharedEncoder = (*Extension)(nil)
)
