//go:build !js

package ws

import (
	"net"
	neturl "net/url"
	"strings"
)

// WithHTTP2 makes Dial open wss (and https) WebSockets over HTTP/2 (RFC
// 8441) when the server supports it: Dial offers h2 in TLS, and if the
// server picks it and advertises SETTINGS_ENABLE_CONNECT_PROTOCOL, the
// WebSocket is one stream of that connection. Later Dials to the same
// host:port with the same *tls.Config (WithTLSConfig) and the same
// WithNetDial and WithProxy functions open their streams on the same
// connection, up to the server's SETTINGS_MAX_CONCURRENT_STREAMS, then on a
// new one; the connection closes when its last WebSocket ends.
//
// A server that picks http/1.1 in TLS gets the HTTP/1.1 upgrade on the
// same connection; one that speaks HTTP/2 without RFC 8441 gets it on a
// new one (Dials waiting for that connection fall back likewise). Redirects (WithRedirects) are followed over HTTP/1.1. ws:// URLs
// always use HTTP/1.1.
//
// Over HTTP/2 the Conn behaves as over TCP — keepalive, limits, close
// handshake — with HTTP/2 flow control as backpressure: a WebSocket whose
// Incoming is full lets the server send 256 KiB more, then holds it back,
// without holding back the connection's other WebSockets. A RST_STREAM from
// the server ends the Conn with an Err matching ErrStreamReset; the loss of
// the connection, or a GOAWAY that did not cover the stream, with
// ErrConnectionLost. Default: HTTP/1.1 only.
func WithHTTP2() DialOption {
	return dialOption(func(c *dialConfig) { c.hooks.http2 = true })
}

// isSecureURL reports a wss or https URL.
func isSecureURL(url string) bool {
	u, err := neturl.Parse(url)
	if err != nil {
		return false
	}
	s := strings.ToLower(u.Scheme)
	return s == "wss" || s == "https"
}

// hostPort is a secure URL's host:port, the port defaulting to 443.
func hostPort(url string) string {
	u, err := neturl.Parse(url)
	if err != nil {
		return url
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return strings.ToLower(u.Host)
}
