package handshake

import (
	"strings"
)

// Extension is one element of a Sec-WebSocket-Extensions header: an
// extension name and its parameters in order (RFC 6455 §9.1). In a client's
// offer, several elements with the same Name are alternatives, most
// preferred first.
type Extension struct {
	Name   string
	Params []Param
}

// Param is one extension parameter. Value is empty for a parameter without
// a value; a quoted value is stored unquoted (RFC 6455 §9.1 requires it to
// be a token once unescaped, so it is never empty).
type Param struct {
	Name  string
	Value string
}

// Param returns the value of the first parameter called name (compared
// case-insensitively) and whether it is present.
func (e Extension) Param(name string) (value string, ok bool) {
	for _, p := range e.Params {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return "", false
}

// String formats e as a header element, e.g. "permessage-deflate;
// client_max_window_bits=10".
func (e Extension) String() string {
	return string(appendExtension(nil, e))
}

// FormatExtensions formats exts as the value of one
// Sec-WebSocket-Extensions header.
func FormatExtensions(exts []Extension) string {
	return string(AppendExtensions(nil, exts))
}

// AppendExtensions appends exts, formatted as one header value, to dst.
// Values that are not tokens are written as quoted strings.
func AppendExtensions(dst []byte, exts []Extension) []byte {
	for i, e := range exts {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = appendExtension(dst, e)
	}
	return dst
}

func appendExtension(dst []byte, e Extension) []byte {
	dst = append(dst, e.Name...)
	for _, p := range e.Params {
		dst = append(dst, "; "...)
		dst = append(dst, p.Name...)
		if p.Value == "" {
			continue
		}
		dst = append(dst, '=')
		if isToken(p.Value) {
			dst = append(dst, p.Value...)
			continue
		}
		dst = append(dst, '"')
		for i := 0; i < len(p.Value); i++ {
			if c := p.Value[i]; c == '"' || c == '\\' {
				dst = append(dst, '\\')
			}
			dst = append(dst, p.Value[i])
		}
		dst = append(dst, '"')
	}
	return dst
}

// ParseExtensions parses one Sec-WebSocket-Extensions header value per the
// grammar of RFC 6455 §9.1 (tokens, quoted-string values that must unquote
// to tokens, optional whitespace around ";", "," and "=") and appends the
// elements to dst. Empty list elements are skipped. On malformed input it
// returns dst unchanged and ErrExtensions.
func ParseExtensions(dst []Extension, s string) ([]Extension, error) {
	start := len(dst)
	p := extParser{s: s}
	for {
		p.skipOWS()
		if p.eof() {
			return dst, nil
		}
		if p.peek() == ',' {
			p.i++
			continue
		}
		name, ok := p.token()
		if !ok {
			return dst[:start], ErrExtensions
		}
		e := Extension{Name: name}
		for {
			p.skipOWS()
			if p.eof() || p.peek() == ',' {
				break
			}
			if p.peek() != ';' {
				return dst[:start], ErrExtensions
			}
			p.i++
			p.skipOWS()
			pn, ok := p.token()
			if !ok {
				return dst[:start], ErrExtensions
			}
			var pv string
			p.skipOWS()
			if !p.eof() && p.peek() == '=' {
				p.i++
				p.skipOWS()
				if !p.eof() && p.peek() == '"' {
					pv, ok = p.quoted()
				} else {
					pv, ok = p.token()
				}
				if !ok || !isToken(pv) {
					return dst[:start], ErrExtensions
				}
			}
			e.Params = append(e.Params, Param{Name: pn, Value: pv})
		}
		dst = append(dst, e)
		if !p.eof() {
			p.i++ // ','
		}
	}
}

type extParser struct {
	s string
	i int
}

func (p *extParser) eof() bool  { return p.i >= len(p.s) }
func (p *extParser) peek() byte { return p.s[p.i] }

func (p *extParser) skipOWS() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *extParser) token() (string, bool) {
	j := p.i
	for j < len(p.s) && isTokenChar(p.s[j]) {
		j++
	}
	if j == p.i {
		return "", false
	}
	t := p.s[p.i:j]
	p.i = j
	return t, true
}

// quoted reads a quoted-string (RFC 9110 §5.6.4) and returns it unescaped.
func (p *extParser) quoted() (string, bool) {
	p.i++ // opening quote
	j := p.i
	escaped := false
	for ; j < len(p.s); j++ {
		c := p.s[j]
		switch {
		case c == '"':
			raw := p.s[p.i:j]
			p.i = j + 1
			if !escaped {
				return raw, true
			}
			var b strings.Builder
			for k := 0; k < len(raw); k++ {
				if raw[k] == '\\' {
					k++
				}
				b.WriteByte(raw[k])
			}
			return b.String(), true
		case c == '\\':
			escaped = true
			j++
			if j >= len(p.s) || !isQuotedPairChar(p.s[j]) {
				return "", false
			}
		case !isQdText(c):
			return "", false
		}
	}
	return "", false
}

func isQdText(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80
}

func isQuotedPairChar(c byte) bool {
	return c == '\t' || (c >= 0x20 && c <= 0x7e) || c >= 0x80
}

// offersFor returns the offers called name, keeping the client's order
// of alternatives within each name.
func offersFor(offers []Extension, name string) []Extension {
	var out []Extension
	for _, o := range offers {
		if strings.EqualFold(o.Name, name) {
			out = append(out, o)
		}
	}
	return out
}
