package handshake

import (
	"bufio"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Request is a client's opening handshake as the server sees it (RFC 6455
// §4.2.1), read by Server.ReadRequest from a raw connection or converted
// from an *http.Request by Server.Upgrade. Its strings are substrings of
// one copy of the request head and stay valid for as long as the Request
// is referenced.
//
// A Request read from a connection must be answered exactly once, with
// Accept or Reject. It is not safe for concurrent use.
type Request struct {
	method, target, proto string
	path, rawQuery        string
	major, minor          int

	host, key, origin, version string
	upgradeOK, connectionOK    bool
	protocols                  []string
	extensions                 []Extension
	fields                     []field
	fieldArr                   [20]field
	malformed                  error

	// State of a handshake on a connection.
	conn     net.Conn
	br       *bufio.Reader
	dl       deadline
	answered bool
}

type field struct{ name, value string }

// Method returns the request method; it is "GET" in a valid handshake.
func (r *Request) Method() string { return r.method }

// RequestURI returns the request target as sent: the resource name, path
// and query (RFC 6455 §3).
func (r *Request) RequestURI() string { return r.target }

// Path returns the path part of the request target, still escaped.
func (r *Request) Path() string { return r.path }

// RawQuery returns the query of the request target without the "?".
func (r *Request) RawQuery() string { return r.rawQuery }

// Query parses RawQuery. It allocates; invalid pairs are dropped.
func (r *Request) Query() url.Values {
	v, _ := url.ParseQuery(r.rawQuery)
	return v
}

// Proto returns the protocol version, e.g. "HTTP/1.1".
func (r *Request) Proto() string { return r.proto }

// Host returns the Host header.
func (r *Request) Host() string { return r.host }

// Origin returns the Origin header, or "" when there was none (a
// non-browser client).
func (r *Request) Origin() string { return r.origin }

// Key returns the Sec-WebSocket-Key header (RFC 6455 §4.2.1 item 5).
func (r *Request) Key() string { return r.key }

// Subprotocols returns the subprotocols offered in Sec-WebSocket-Protocol,
// in the client's order of preference. The slice belongs to r.
func (r *Request) Subprotocols() []string { return r.protocols }

// Extensions returns the parsed Sec-WebSocket-Extensions offers in the
// client's order; elements with the same name are alternatives. The slice
// belongs to r.
func (r *Request) Extensions() []Extension { return r.extensions }

// Header returns the first value of the header called name (compared
// case-insensitively), or "".
func (r *Request) Header(name string) string {
	for _, f := range r.fields {
		if strings.EqualFold(f.name, name) {
			return f.value
		}
	}
	return ""
}

// Values returns every value of the header called name, in order.
func (r *Request) Values(name string) []string {
	var vs []string
	for _, f := range r.fields {
		if strings.EqualFold(f.name, name) {
			vs = append(vs, f.value)
		}
	}
	return vs
}

// Headers returns all header fields as a new http.Header with canonical
// keys. It allocates; prefer Header for single look-ups.
func (r *Request) Headers() http.Header {
	h := make(http.Header, len(r.fields))
	for _, f := range r.fields {
		h.Add(f.name, f.value)
	}
	return h
}

// parseRequest parses a request head (without its final empty line) into
// r. A malformed start line or field is returned as a *RejectError with
// status 400; too many fields with 431. Semantic checks are left to
// validate, so that the parser can be fuzzed alone.
func (r *Request) parse(head string, maxLines int) error {
	line, rest := nextLine(head)
	method, line, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(line, " ")
	if !ok1 || !ok2 || !isToken(method) || target == "" || strings.ContainsAny(target, " \t") {
		return reject(http.StatusBadRequest, ErrMalformedRequest)
	}
	for i := 0; i < len(target); i++ {
		if c := target[i]; c <= ' ' || c >= 0x7f {
			return reject(http.StatusBadRequest, ErrMalformedRequest)
		}
	}
	major, minor, ok := parseProto(proto)
	if !ok {
		return reject(http.StatusBadRequest, ErrMalformedRequest)
	}
	r.method, r.target, r.proto, r.major, r.minor = method, target, proto, major, minor
	r.path, r.rawQuery, _ = strings.Cut(target, "?")
	r.fields = r.fieldArr[:0]
	for rest != "" {
		line, rest = nextLine(rest)
		if len(r.fields) >= maxLines {
			return reject(http.StatusRequestHeaderFieldsTooLarge, ErrTooManyHeaders)
		}
		name, value, ok := parseField(line)
		if !ok {
			return reject(http.StatusBadRequest, ErrMalformedRequest)
		}
		r.fields = append(r.fields, field{name, value})
		r.noteField(name, value)
	}
	return nil
}

// noteField records the fields the handshake is about. A field that may
// not repeat is remembered as malformed and reported by validate with the
// status its check carries.
func (r *Request) noteField(name, value string) {
	switch {
	case strings.EqualFold(name, "Host"):
		if r.host != "" || value == "" {
			r.setMalformed(ErrMissingHost)
		}
		r.host = value
	case strings.EqualFold(name, "Upgrade"):
		r.upgradeOK = r.upgradeOK || hasToken(value, "websocket")
	case strings.EqualFold(name, "Connection"):
		r.connectionOK = r.connectionOK || hasToken(value, "upgrade")
	case strings.EqualFold(name, "Sec-WebSocket-Key"):
		if r.key != "" {
			r.setMalformed(ErrKey)
		}
		r.key = value
	case strings.EqualFold(name, "Sec-WebSocket-Version"):
		if r.version != "" {
			r.setMalformed(ErrVersion)
		}
		r.version = value
	case strings.EqualFold(name, "Origin"):
		if r.origin != "" {
			r.setMalformed(ErrOrigin)
		}
		r.origin = value
	case strings.EqualFold(name, "Sec-WebSocket-Protocol"):
		var ok bool
		if r.protocols, ok = appendTokenList(r.protocols, value); !ok {
			r.setMalformed(ErrSubprotocols)
		}
	case strings.EqualFold(name, "Sec-WebSocket-Extensions"):
		var err error
		if r.extensions, err = ParseExtensions(r.extensions, value); err != nil {
			r.setMalformed(ErrExtensions)
		}
	}
}

func (r *Request) setMalformed(err error) {
	if r.malformed == nil {
		r.malformed = err
	}
}

// validate applies RFC 6455 §4.2.1 to a parsed request and returns the
// rejection to send, or nil.
func (r *Request) validate() *RejectError {
	switch {
	case r.method != http.MethodGet:
		return reject(http.StatusBadRequest, ErrMethod)
	case r.major < 1 || (r.major == 1 && r.minor < 1):
		return reject(http.StatusBadRequest, ErrHTTPVersion)
	case r.target[0] != '/':
		return reject(http.StatusBadRequest, ErrMalformedRequest)
	case r.host == "" || r.malformed == ErrMissingHost:
		return reject(http.StatusBadRequest, ErrMissingHost)
	case !r.upgradeOK:
		return reject(http.StatusBadRequest, ErrUpgradeToken)
	case !r.connectionOK:
		return reject(http.StatusBadRequest, ErrConnectionToken)
	case r.version != "13" || r.malformed == ErrVersion:
		e := reject(http.StatusUpgradeRequired, ErrVersion)
		e.Header = http.Header{"Sec-Websocket-Version": {"13"}}
		return e
	case !validKey(r.key) || r.malformed == ErrKey:
		return reject(http.StatusBadRequest, ErrKey)
	case r.malformed != nil:
		if r.malformed == ErrOrigin {
			return reject(http.StatusBadRequest, ErrMalformedRequest)
		}
		return reject(http.StatusBadRequest, r.malformed)
	}
	return nil
}

// fromHTTP fills r from a request parsed by net/http.
func (r *Request) fromHTTP(hr *http.Request) {
	r.method, r.target, r.proto = hr.Method, hr.RequestURI, hr.Proto
	if r.target == "" || r.target[0] != '/' {
		r.target = hr.URL.RequestURI()
	}
	r.major, r.minor = hr.ProtoMajor, hr.ProtoMinor
	r.path, r.rawQuery, _ = strings.Cut(r.target, "?")
	r.fields = r.fieldArr[:0]
	if hr.Host != "" {
		r.fields = append(r.fields, field{"Host", hr.Host})
		r.noteField("Host", hr.Host)
	}
	for name, values := range hr.Header {
		for _, v := range values {
			r.fields = append(r.fields, field{name, v})
			r.noteField(name, v)
		}
	}
}
