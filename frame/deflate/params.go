package deflate

// Params are the permessage-deflate parameters agreed in the handshake
// (RFC 7692 §7.1). The handshake package negotiates them; the codec obeys
// them. The zero value means "context takeover on both sides, 15-bit windows".
type Params struct {
	// ServerNoContextTakeover: the server resets its compressor after every
	// message (RFC 7692 §7.1.1.1).
	ServerNoContextTakeover bool
	// ClientNoContextTakeover: the client resets its compressor after every
	// message (RFC 7692 §7.1.1.2).
	ClientNoContextTakeover bool
	// ServerMaxWindowBits is the LZ77 window the server's compressor may use,
	// 8..15; 0 means 15 (RFC 7692 §7.1.2.1).
	ServerMaxWindowBits int
	// ClientMaxWindowBits is the LZ77 window the client's compressor may use,
	// 8..15; 0 means 15 (RFC 7692 §7.1.2.2).
	ClientMaxWindowBits int
}

// windowBits returns the effective window bits of a parameter (0 means 15).
func windowBits(b int) int {
	if b == 0 {
		return 15
	}
	return b
}

// Validate reports whether p is something the codec can obey: window bits
// 0 (meaning 15) or 8..15. It returns nil or ErrInvalidParams.
func (p Params) Validate() error {
	for _, b := range [2]int{p.ServerMaxWindowBits, p.ClientMaxWindowBits} {
		if b != 0 && (b < 8 || b > 15) {
			return ErrInvalidParams
		}
	}
	return nil
}
