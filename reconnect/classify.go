package reconnect

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/handshake"
)

// Decision is a classifier's verdict on a failure: whether to try again
// and, if the server said when (Retry-After), the least time to wait.
type Decision struct {
	Retry bool
	// After, when positive, is the least time before the next attempt. The
	// client caps it (WithMaxRetryAfter) and adds the backoff's jittered
	// delay on top, so a crowd told "Retry-After: 30" does not return in
	// the same second.
	After time.Duration
}

// Classify is the default classifier (see WithClassifier). err is what
// ended an attempt or a connection: a dial or handshake error, an error
// of the WithHeader function or of OnConnect, or the connection's Err.
//
// It stops on:
//   - a *backoff.PermanentError (return backoff.Permanent(err) from
//     OnConnect or a header function to give up);
//   - a refused handshake (*handshake.RejectError) with a 3xx or 4xx
//     status, except 408, 425 and 429: the request itself is wrong (401,
//     403, 404, ...) and will be wrong again;
//   - a redirect that was not followed (*handshake.RedirectError);
//   - a close with 1008 (policy violation): the server does not want us;
//   - client configuration errors: handshake.ErrBadURL,
//     ErrReservedHeader, ErrSubprotocols, ErrDowngrade,
//     ErrTooManyRedirects, and certificate verification failures.
//
// It retries everything else: refused, reset and timed-out connections,
// DNS failures, keepalive timeouts, 5xx, 408, 425 and 429, abnormal
// closure (1006), going away (1001), internal error (1011), service
// restart (1012), try again later (1013), a normal close by the server
// (1000), and application codes. A Retry-After header on a retried
// refusal (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) sets After.
func Classify(err error) Decision {
	return classifyAt(err, time.Now())
}

func classifyAt(err error, now time.Time) Decision {
	var perm *backoff.PermanentError
	if errors.As(err, &perm) {
		return Decision{}
	}
	var rej *handshake.RejectError
	if errors.As(err, &rej) {
		switch s := rej.Status; {
		case s >= 500, s == http.StatusRequestTimeout, s == http.StatusTooEarly, s == http.StatusTooManyRequests:
			return Decision{Retry: true, After: RetryAfter(rej.Header, now)}
		default:
			return Decision{}
		}
	}
	var red *handshake.RedirectError
	if errors.As(err, &red) {
		return Decision{}
	}
	var ce *actor.CloseError
	if errors.As(err, &ce) {
		return Decision{Retry: ce.Code != frame.StatusPolicyViolation}
	}
	for _, stop := range []error{handshake.ErrBadURL, handshake.ErrReservedHeader,
		handshake.ErrSubprotocols, handshake.ErrDowngrade, handshake.ErrTooManyRedirects} {
		if errors.Is(err, stop) {
			return Decision{}
		}
	}
	var (
		unknownAuth x509.UnknownAuthorityError
		invalid     x509.CertificateInvalidError
		hostname    x509.HostnameError
		verify      *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownAuth) || errors.As(err, &invalid) || errors.As(err, &hostname) || errors.As(err, &verify) {
		return Decision{}
	}
	return Decision{Retry: true}
}

// RetryAfter parses h's Retry-After (RFC 9110 §10.2.3), either
// delay-seconds or an HTTP-date taken relative to now. It returns zero for
// a missing, malformed or past value.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(s) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if d := t.Sub(now); d > 0 {
		return d
	}
	return 0
}
