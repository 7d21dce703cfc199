//go:build !js

package ws

import (
	"net"
	neturl "net/url"
	"strings"

	"github.com/wsactor/ws/handshake"
)

// WithHTTP2 makes Dial try HTTP/2 (RFC 8441) for wss and https URLs also
// when a proxy applies (WithProxy, or the environment's), tunnelling h2
// through the proxy's CONNECT. Without a proxy it changes nothing: Dial
// tries HTTP/2 by default (see Dial). WithHTTP1 undoes it; the last of
// the two given wins.
func WithHTTP2() DialOption {
	return dialOption(func(c *dialConfig) { c.hooks.http = httpPrefer2 })
}

// WithHTTP1 makes Dial use HTTP/1.1 alone: TLS offers only http/1.1 in
// ALPN, and the WebSocket is an Upgrade on its own connection, as before
// RFC 8441. It is the opt-out from Dial's automatic HTTP/2, for servers
// or middleboxes that mishandle h2, or to keep each WebSocket on a TCP
// connection of its own. WithHTTP2 undoes it; the last of the two given
// wins.
func WithHTTP1() DialOption {
	return dialOption(func(c *dialConfig) { c.hooks.http = httpOnly1 })
}

// tryHTTP2 reports whether Dial should first try url over HTTP/2: a wss or
// https URL, not under WithHTTP1, and, unless WithHTTP2 asked for it
// anyway, no proxy between (a proxy keeps HTTP/1.1 by default: what is
// known about the server behind it is not known about the proxy). An error
// from the proxy function is left to the HTTP/1.1 dial to report.
func (c *dialConfig) tryHTTP2(hc *handshake.Client, url string) bool {
	if !isSecureURL(url) {
		return false
	}
	switch c.hooks.http {
	case httpAuto:
		proxy, err := hc.ProxyURL(url)
		return err == nil && proxy == nil
	case httpPrefer2:
		return true
	default:
		return false
	}
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
