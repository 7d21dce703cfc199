package handshake

import (
	"errors"
	"net/http"
	"strconv"
)

// Sentinel errors. A server-side validation failure is reported as a
// *RejectError whose Err is one of the request sentinels below and whose
// Status is the HTTP status that was sent; test with errors.Is or errors.As.
// A client-side verification failure wraps one of the response sentinels.
var (
	// Request validation (RFC 6455 §4.2.1), carried by *RejectError.
	ErrMalformedRequest = errors.New("handshake: malformed request")
	ErrMethod           = errors.New("handshake: method is not GET")
	ErrHTTPVersion      = errors.New("handshake: HTTP version is not 1.1 or later")
	ErrMissingHost      = errors.New("handshake: missing Host")
	ErrUpgradeToken     = errors.New("handshake: Upgrade does not contain websocket")
	ErrConnectionToken  = errors.New("handshake: Connection does not contain Upgrade")
	ErrKey              = errors.New("handshake: Sec-WebSocket-Key is not base64 of 16 bytes")
	ErrVersion          = errors.New("handshake: Sec-WebSocket-Version is not 13")
	ErrSubprotocols     = errors.New("handshake: malformed Sec-WebSocket-Protocol")
	ErrExtensions       = errors.New("handshake: malformed Sec-WebSocket-Extensions")
	ErrHeaderTooLarge   = errors.New("handshake: header too large")
	ErrTooManyHeaders   = errors.New("handshake: too many header lines")
	ErrOrigin           = errors.New("handshake: origin not allowed")

	// Response verification (RFC 6455 §4.1, §9.1; RFC 7692 §7).
	ErrMalformedResponse   = errors.New("handshake: malformed response")
	ErrAccept              = errors.New("handshake: Sec-WebSocket-Accept does not match the key")
	ErrProtocolNotOffered  = errors.New("handshake: server chose a subprotocol that was not offered")
	ErrExtensionNotOffered = errors.New("handshake: server accepted an extension that was not offered")
	ErrExtensionParams     = errors.New("handshake: illegal extension parameters")

	// Client configuration and dialling.
	ErrBadURL           = errors.New("handshake: URL scheme must be ws, wss, http or https")
	ErrReservedHeader   = errors.New("handshake: custom header overrides a handshake header")
	ErrTooManyRedirects = errors.New("handshake: too many redirects")
	ErrDowngrade        = errors.New("handshake: redirect from wss to ws refused")
	ErrProxy            = errors.New("handshake: proxy refused CONNECT")

	// Server-side use errors.
	ErrHandshakeDone = errors.New("handshake: request already answered")
	ErrNotOffered    = errors.New("handshake: Accept names a subprotocol or extension the client did not offer")
)

// RejectError is a handshake refused with an HTTP status.
//
// On the server it is returned by ReadRequest, Request.Reject and
// Server.Upgrade: Status is the status that was sent (400, 403, 426, 431 or
// the caller's own) and Err the validation sentinel, if any. On the client it
// is returned when the server answered with a status other than 101 that is
// not a followed redirect: Status, Header and the first MaxRejectBody bytes of
// the body are the server's.
type RejectError struct {
	Status int
	Reason string      // short text: the reason sent or the response's reason phrase
	Header http.Header // response headers (client side); may be nil
	Body   []byte      // start of the response body, at most MaxRejectBody bytes
	Err    error       // cause, e.g. ErrKey; may be nil
}

// MaxRejectBody is how much of a rejection's body the client keeps.
const MaxRejectBody = 4 << 10

func (e *RejectError) Error() string {
	s := "handshake: rejected with " + strconv.Itoa(e.Status)
	if t := http.StatusText(e.Status); t != "" {
		s += " " + t
	}
	if e.Reason != "" && e.Reason != http.StatusText(e.Status) {
		s += ": " + e.Reason
	}
	if len(e.Body) > 0 {
		b := e.Body
		if len(b) > 200 {
			b = b[:200]
		}
		s += ": " + strconv.Quote(string(b))
	}
	return s
}

// Unwrap returns the cause.
func (e *RejectError) Unwrap() error { return e.Err }

// RedirectError is a 3xx answer with a Location (soketto's Redirect). The
// client returns it unless it follows redirects (Client.MaxRedirects).
type RedirectError struct {
	Status   int
	Location string // resolved against the request URL
}

func (e *RedirectError) Error() string {
	return "handshake: redirected with " + strconv.Itoa(e.Status) + " to " + e.Location
}

// reject builds the server-side error for a validation failure.
func reject(status int, err error) *RejectError {
	r := err.Error()
	if len(r) > len("handshake: ") && r[:len("handshake: ")] == "handshake: " {
		r = r[len("handshake: "):]
	}
	return &RejectError{Status: status, Reason: r, Err: err}
}
