package handshake

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wsactor/ws/frame/deflate"
)

// DeflateName is the permessage-deflate extension token (RFC 7692 §7).
const DeflateName = "permessage-deflate"

// Parameter names of RFC 7692 §7.1.
const (
	serverNoContextTakeover = "server_no_context_takeover"
	clientNoContextTakeover = "client_no_context_takeover"
	serverMaxWindowBits     = "server_max_window_bits"
	clientMaxWindowBits     = "client_max_window_bits"
)

// PerMessageDeflate negotiates permessage-deflate (RFC 7692). Put a pointer
// to one in Server.Extensions or Client.Extensions to enable compression;
// its zero value offers or accepts plain permessage-deflate with context
// takeover on both sides. It is safe for concurrent use once configured.
//
// Window-bits policy. The DEFLATE encoder frame/deflate uses (klauspost's,
// like Go's compress/flate) always compresses with a 32 KiB (15-bit)
// window and cannot be limited, while its inflater accepts any
// window of 8..15 bits. Hence:
//   - As server, an offer with server_max_window_bits=N is accepted with the
//     same N. For N below 15 the codec (frame/deflate) then compresses only
//     messages of at most 2^N bytes, each on its own, so no back-reference
//     reaches beyond the window, and sends longer ones uncompressed, which
//     is always legal. (Declining instead would leave peers that ask for a
//     small window, such as Autobahn's 13.3 and 13.5, without compression.)
//     client_max_window_bits in an offer, with or without a value, is fine.
//   - As client, we never offer server_max_window_bits. We offer
//     client_max_window_bits (without a value, as Chromium does) when
//     ClientMaxWindowBits is set (package ws always sets it when compression
//     is on). If the server then answers client_max_window_bits=N with
//     N < 15 the handshake still succeeds and deflate.Params.ClientMaxWindowBits
//     records N: the codec compresses only messages of at most 2^N bytes,
//     each on its own, and sends longer ones uncompressed, which is always
//     legal.
type PerMessageDeflate struct {
	// ServerNoContextTakeover: as client, offer server_no_context_takeover
	// (the server must then reset its compressor after each message and
	// say so). As server, always answer server_no_context_takeover, which
	// bounds our per-connection compressor memory between messages.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover: as client, offer client_no_context_takeover
	// (a hint that we reset our compressor after each message). As server,
	// answer client_no_context_takeover, asking the client to reset; the
	// server also answers it whenever the client offered it.
	ClientNoContextTakeover bool
	// ClientMaxWindowBits: as server, when an offer carries
	// client_max_window_bits, answer client_max_window_bits with this value
	// (or the offer's, if smaller) to limit the client's window; 0 leaves
	// the client's window unlimited. As client, any value in 8..15 makes the
	// offer include client_max_window_bits without a value. Values outside
	// 8..15 mean 0.
	ClientMaxWindowBits int
}

// Name returns "permessage-deflate".
func (*PerMessageDeflate) Name() string { return DeflateName }

// Offers returns the client's single offer element (RFC 7692 §5, §7.1).
func (d *PerMessageDeflate) Offers() []Extension {
	e := Extension{Name: DeflateName}
	if d.ServerNoContextTakeover {
		e.Params = append(e.Params, Param{Name: serverNoContextTakeover})
	}
	if d.ClientNoContextTakeover {
		e.Params = append(e.Params, Param{Name: clientNoContextTakeover})
	}
	if d.clientBits() != 0 {
		e.Params = append(e.Params, Param{Name: clientMaxWindowBits})
	}
	return []Extension{e}
}

func (d *PerMessageDeflate) clientBits() int {
	if d.ClientMaxWindowBits < 8 || d.ClientMaxWindowBits > 15 {
		return 0
	}
	return d.ClientMaxWindowBits
}

// Negotiate accepts the first offer that is valid (RFC 7692 §7.1: no
// unknown, duplicate or ill-valued parameter) and that we can honour (see
// the window-bits policy), and returns the response element.
func (d *PerMessageDeflate) Negotiate(offers []Extension) (Extension, bool) {
	for _, o := range offers {
		p, err := parseDeflate(o, false)
		if err != nil {
			continue
		}
		resp := Extension{Name: DeflateName}
		if p.serverNCT || d.ServerNoContextTakeover {
			resp.Params = append(resp.Params, Param{Name: serverNoContextTakeover})
		}
		if p.clientNCT || d.ClientNoContextTakeover {
			resp.Params = append(resp.Params, Param{Name: clientNoContextTakeover})
		}
		if p.serverBits != 0 {
			// RFC 7692 §7.1.2.1: accepting the parameter means echoing it
			// with the same or a smaller value; below 15 the codec keeps
			// compressed messages within the window (see above).
			resp.Params = append(resp.Params, Param{Name: serverMaxWindowBits, Value: strconv.Itoa(p.serverBits)})
		}
		if bits := d.clientBits(); p.clientBitsOffered && bits != 0 {
			if p.clientBits != 0 && p.clientBits < bits {
				bits = p.clientBits
			}
			resp.Params = append(resp.Params, Param{Name: clientMaxWindowBits, Value: strconv.Itoa(bits)})
		}
		return resp, true
	}
	return Extension{}, false
}

// Verify checks the server's response against our offer (RFC 7692 §7.1):
// known parameters, each at most once, legal values, client_max_window_bits
// only if we offered it, server_no_context_takeover if we asked for it.
func (d *PerMessageDeflate) Verify(resp Extension) error {
	p, err := parseDeflate(resp, true)
	if err != nil {
		return err
	}
	if p.clientBitsOffered && d.clientBits() == 0 {
		return fmt.Errorf("%w: client_max_window_bits was not offered", ErrExtensionParams)
	}
	if d.ServerNoContextTakeover && !p.serverNCT {
		return fmt.Errorf("%w: server_no_context_takeover was requested", ErrExtensionParams)
	}
	return nil
}

// ParseDeflateParams returns the parameters agreed by a permessage-deflate
// response element, checked as in RFC 7692 §7.1.
func ParseDeflateParams(resp Extension) (deflate.Params, error) {
	p, err := parseDeflate(resp, true)
	if err != nil {
		return deflate.Params{}, err
	}
	return deflate.Params{
		ServerNoContextTakeover: p.serverNCT,
		ClientNoContextTakeover: p.clientNCT,
		ServerMaxWindowBits:     p.serverBits,
		ClientMaxWindowBits:     p.clientBits,
	}, nil
}

type deflateParams struct {
	serverNCT, clientNCT bool
	serverBits           int
	clientBits           int
	clientBitsOffered    bool
	seenSBits, seenCBits bool
	seenSNCT, seenCNCT   bool
}

// parseDeflate checks the parameters of a permessage-deflate element. In an
// offer client_max_window_bits may lack a value (RFC 7692 §7.1.2.2); in a
// response every window-bits parameter needs one.
func parseDeflate(e Extension, response bool) (deflateParams, error) {
	var p deflateParams
	if !strings.EqualFold(e.Name, DeflateName) {
		return p, fmt.Errorf("%w: %s is not %s", ErrExtensionParams, e.Name, DeflateName)
	}
	bad := func(what, name string) (deflateParams, error) {
		return deflateParams{}, fmt.Errorf("%w: %s %s", ErrExtensionParams, what, name)
	}
	for _, prm := range e.Params {
		var seen *bool
		switch strings.ToLower(prm.Name) {
		case serverNoContextTakeover:
			seen = &p.seenSNCT
			p.serverNCT = true
			if prm.Value != "" {
				return bad("value on", prm.Name)
			}
		case clientNoContextTakeover:
			seen = &p.seenCNCT
			p.clientNCT = true
			if prm.Value != "" {
				return bad("value on", prm.Name)
			}
		case serverMaxWindowBits:
			seen = &p.seenSBits
			n, ok := windowBits(prm.Value)
			if !ok {
				return bad("bad value for", prm.Name)
			}
			p.serverBits = n
		case clientMaxWindowBits:
			seen = &p.seenCBits
			p.clientBitsOffered = true
			if prm.Value == "" && !response {
				break
			}
			n, ok := windowBits(prm.Value)
			if !ok {
				return bad("bad value for", prm.Name)
			}
			p.clientBits = n
		default:
			return bad("unknown parameter", prm.Name)
		}
		if *seen {
			return bad("duplicate parameter", prm.Name)
		}
		*seen = true
	}
	return p, nil
}

// windowBits parses a window size: a decimal 8..15 without leading zeros
// (RFC 7692 §7.1.2.1).
func windowBits(s string) (int, bool) {
	switch {
	case len(s) == 1 && s[0] >= '8' && s[0] <= '9':
		return int(s[0] - '0'), true
	case len(s) == 2 && s[0] == '1' && s[1] >= '0' && s[1] <= '5':
		return 10 + int(s[1]-'0'), true
	}
	return 0, false
}
