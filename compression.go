//go:build !js

package ws

import (
	"errors"

	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/frame/deflate"
	"github.com/wsactor/ws/handshake"
)

// compression is the permessage-deflate policy (RFC 7692).
type compression struct {
	enabled         bool
	level           int // 0: deflate.DefaultLevel
	threshold       int // 0: deflate.DefaultThreshold
	contextTakeover bool
	clientBits      int // 0: no client_max_window_bits
	set             string
}

// WithCompression enables permessage-deflate (RFC 7692). A client offers it
// and a server accepts a client's offer; a peer that does not support it
// gets uncompressed messages, never an error.
//
// Compression is off by default on both sides, for three reasons: CPU on
// every message; memory per connection (a compressor is about 0.8 MiB at
// the default level and, with context takeover, lives as long as the
// connection); and secrecy — compressing a message that mixes a secret with
// data an attacker chooses leaks the secret through the message's length
// (CRIME/BREACH). Turn it on for large, repetitive, public payloads (JSON
// feeds, chat).
//
// Once enabled, the defaults are: level flate.BestSpeed, messages under 128
// bytes sent as they are, and no context takeover on either side (each
// message compressed on its own, so an idle connection holds no compressor
// and the windows never carry one message's content into the next). The
// options below change them.
func WithCompression() Option {
	return connOption(func(c *connConfig) { c.compression.enabled = true })
}

// WithCompressionLevel sets the DEFLATE level (compress/flate's constants
// apply), flate.HuffmanOnly (-2)
// to flate.BestCompression (9). Default flate.BestSpeed (1): several times
// faster than level 6 for a small loss of ratio. It requires WithCompression.
func WithCompressionLevel(level int) Option {
	return connOption(func(c *connConfig) { c.compression.level = level; c.compression.note("WithCompressionLevel") })
}

// WithCompressionThreshold sends messages shorter than n bytes
// uncompressed. Default 128; a negative n compresses every message. It
// requires WithCompression.
func WithCompressionThreshold(n int) Option {
	return connOption(func(c *connConfig) { c.compression.threshold = n; c.compression.note("WithCompressionThreshold") })
}

// WithContextTakeover lets both compressors keep their window between
// messages (RFC 7692 §7.1.1): better ratios on streams of similar small
// messages, at the cost of compressor memory for the life of each
// connection and of one message's content influencing the next one's size.
// Default: no context takeover. It requires WithCompression.
func WithContextTakeover() Option {
	return connOption(func(c *connConfig) { c.compression.contextTakeover = true; c.compression.note("WithContextTakeover") })
}

// WithClientMaxWindowBits limits the client's LZ77 window to 2^bits bytes,
// bits in 8..15 (RFC 7692 §7.1.2.2). A server answers offers that allow it
// with client_max_window_bits=bits, bounding the memory the client's side of
// the context costs it. A client always offers client_max_window_bits
// (without a value) when compression is on, and honours whatever window the
// server then asks for by sending only messages that fit it compressed.
// Default: 15, no limit. It requires WithCompression.
func WithClientMaxWindowBits(bits int) Option {
	return connOption(func(c *connConfig) { c.compression.clientBits = bits; c.compression.note("WithClientMaxWindowBits") })
}

func (c *compression) note(name string) {
	if c.set == "" {
		c.set = name
	}
}

func (c *compression) validate() error {
	if !c.enabled {
		if c.set != "" {
			return errors.New("ws: " + c.set + " requires WithCompression")
		}
		return nil
	}
	if c.level < -2 || c.level > 9 {
		return errors.New("ws: WithCompressionLevel: level outside -2..9")
	}
	if c.clientBits != 0 && (c.clientBits < 8 || c.clientBits > 15) {
		return errors.New("ws: WithClientMaxWindowBits: bits outside 8..15")
	}
	return nil
}

// negotiators returns the handshake's extension negotiators for role, or nil
// when compression is off.
func (c *compression) negotiators(role frame.Role) []handshake.Negotiator {
	if !c.enabled {
		return nil
	}
	// Without WithClientMaxWindowBits a client still offers
	// client_max_window_bits (as Chromium and npm ws do): it tells the
	// server it may limit our window — we can honour any limit, by sending
	// messages that do not fit it uncompressed — and some servers accept
	// compression only from clients that offer it. A server answers with a
	// limit only when one was set.
	bits := c.clientBits
	if bits == 0 && role == frame.Client {
		bits = 15
	}
	return []handshake.Negotiator{&handshake.PerMessageDeflate{
		ServerNoContextTakeover: !c.contextTakeover,
		ClientNoContextTakeover: !c.contextTakeover,
		ClientMaxWindowBits:     bits,
	}}
}

// extension returns the codec for the negotiated parameters, or nil when
// compression was not agreed.
func (c *compression) extension(p *deflate.Params, role frame.Role) (*deflate.Extension, error) {
	if p == nil {
		return nil, nil
	}
	return deflate.New(*p, role, deflate.Config{
		Level:           c.level,
		Threshold:       c.threshold,
		ResetCompressor: !c.contextTakeover,
	})
}
