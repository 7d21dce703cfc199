//go:build !js

package ws

import (
	"context"
	"net"
	"net/http"
)

// dialHooks are the Dial settings that reach into how the connection is
// opened and what the request carries beyond headers.
type dialHooks struct {
	netDial func(ctx context.Context, network, addr string) (net.Conn, error)
	jar     http.CookieJar
	http    httpMode // WithHTTP2, WithHTTP1
}

// httpMode is which HTTP version Dial asks for on wss and https URLs.
type httpMode uint8

const (
	// httpAuto, the default: HTTP/2 when the connection is direct and the
	// server is not remembered as lacking RFC 8441, else HTTP/1.1.
	httpAuto httpMode = iota
	// httpPrefer2 (WithHTTP2): as httpAuto, also through a proxy.
	httpPrefer2
	// httpOnly1 (WithHTTP1): HTTP/1.1 alone, h2 not offered in TLS.
	httpOnly1
)

// WithNetDial sets the function that opens the connection, to the server or
// to the proxy when one applies: network is "tcp" and addr that host:port,
// and what it returns need not be TCP. CONNECT, TLS (for wss) and the
// handshake run on its result, within the handshake timeout (ctx carries
// it). It reaches a server on a unix socket, goes through a SOCKS proxy
// (golang.org/x/net/proxy's ContextDialer.DialContext fits) or runs over
// an in-memory net.Pipe. It replaces WithDialer. Default: WithDialer's
// net.Dialer.
func WithNetDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) DialOption {
	return dialOption(func(c *dialConfig) { c.hooks.netDial = dial })
}

// WithCookieJar makes Dial send jar's cookies for the URL with the upgrade
// request (in one Cookie header, after any set by WithHeader) and store the
// Set-Cookie fields of the server's answer in jar, as net/http's Client
// does. The jar sees a ws URL as http and a wss URL as https, so cookies
// set by the site's pages apply (RFC 6455 §4.1). Default: no jar.
func WithCookieJar(jar http.CookieJar) DialOption {
	return dialOption(func(c *dialConfig) { c.hooks.jar = jar })
}
