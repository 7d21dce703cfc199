package handshake

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wsactor/ws/frame"
)

// Client performs the client's opening handshake (RFC 6455 §4.1), on a
// connection the caller supplies (Handshake) or one it dials (Dial). The
// zero value is a usable client with no subprotocol, no extension, the
// proxy from the environment and the default limits. A Client must not be
// modified while in use; it is safe for concurrent use otherwise.
type Client struct {
	// Origin, if set, is sent as the Origin header, as a browser would.
	Origin string
	// Subprotocols are offered in this order (Sec-WebSocket-Protocol). Each
	// must be a token.
	Subprotocols []string
	// Extensions build the Sec-WebSocket-Extensions offer and verify the
	// server's answer, e.g. &PerMessageDeflate{}.
	Extensions []Negotiator
	// Header holds extra request headers. It must not set Host, Upgrade,
	// Connection or a Sec-WebSocket-* header (ErrReservedHeader).
	Header http.Header
	// HandshakeTimeout bounds the whole handshake after the TCP connection
	// is made (proxy CONNECT, TLS and HTTP exchange), via conn.SetDeadline;
	// Dial also bounds connecting with it. Zero means
	// DefaultHandshakeTimeout (10 s); negative means no limit.
	HandshakeTimeout time.Duration
	// MaxHeaderBytes bounds the response head. Zero means 16 KiB. The head
	// is read through a 4 KiB buffer, which Accepted.Reader keeps for the
	// frames (an idle connection holds no more); a longer head moves it to
	// a buffer of MaxHeaderBytes.
	MaxHeaderBytes int
	// Rand is the source of the Sec-WebSocket-Key; nil means crypto/rand.
	Rand io.Reader

	// Dialer connects for Dial; nil means a zero net.Dialer. NetDial, if
	// set, replaces it.
	Dialer *net.Dialer
	// NetDial, if set, opens the connection for Dial instead of Dialer:
	// network is "tcp" and addr the host:port of the server, or of the
	// proxy when one applies; the result need not be TCP. It lets Dial
	// reach a unix socket, go through a SOCKS dialer
	// (golang.org/x/net/proxy's ContextDialer.DialContext fits) or run
	// over an in-memory net.Pipe. CONNECT, TLS and the handshake then run
	// on what it returns. ctx carries the handshake timeout.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Jar, if set, supplies the cookies of the request URL (one Cookie
	// header, after any in Header) and stores the Set-Cookie fields of the
	// server's response, 101 or not (RFC 6265 §5.3, §5.4), as net/http's
	// Client does. The jar sees ws URLs as http and wss as https, the
	// schemes a cookie jar knows (RFC 6455 §4.1 says cookies apply as for
	// HTTP), so cookies set by the site's pages are sent and the jar's rule
	// for Secure cookies treats wss as https.
	Jar http.CookieJar
	// TLSConfig is used for wss URLs; nil means the zero config. ServerName
	// defaults to the URL's host and NextProtos is forced to http/1.1.
	TLSConfig *tls.Config
	// Proxy returns the HTTP proxy to tunnel through with CONNECT for a
	// request whose URL has scheme "https" (wss) or "http" (ws). A nil
	// Proxy means http.ProxyFromEnvironment (HTTPS_PROXY, HTTP_PROXY,
	// NO_PROXY); to connect directly, return nil, nil. User information in
	// the proxy URL is sent as Proxy-Authorization: Basic.
	Proxy func(*http.Request) (*url.URL, error)
	// MaxRedirects is how many redirects Dial follows; zero means none,
	// so a redirect is returned as a *RedirectError. A redirect from wss to
	// ws is always refused (ErrDowngrade).
	MaxRedirects int
}

// errNilConn reports a NetDial that returned neither a connection nor an
// error.
var errNilConn = errors.New("NetDial returned a nil connection")

func (c *Client) maxHeaderBytes() int {
	if c.MaxHeaderBytes > 0 {
		return c.MaxHeaderBytes
	}
	return 16 << 10
}

// target is a parsed WebSocket URL.
type target struct {
	u      *url.URL
	secure bool
	host   string // Host header
	addr   string // host:port to dial
}

// parseURL maps ws, wss, http and https URLs (RFC 6455 §3) to a target.
func parseURL(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, fmt.Errorf("handshake: %w", err)
	}
	var t target
	port := "80"
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
	case "wss", "https":
		t.secure, port = true, "443"
	default:
		return target{}, fmt.Errorf("%w: %q", ErrBadURL, raw)
	}
	if u.Host == "" || u.Fragment != "" || u.User != nil {
		// RFC 6455 §3: no fragment; userinfo is not part of a ws URI.
		return target{}, fmt.Errorf("%w: %q", ErrBadURL, raw)
	}
	t.u, t.host = u, u.Host
	if u.Port() == "" {
		t.addr = net.JoinHostPort(u.Hostname(), port)
	} else {
		t.addr = u.Host
	}
	return t, nil
}

// Handshake performs the opening handshake on conn, which the caller has
// connected (and wrapped in TLS, for wss) to rawURL's host. It blocks until
// the server's response is read and verified, the handshake timeout
// passes, or ctx is cancelled (which aborts it). It does not follow
// redirects.
//
// On success the deadline is cleared and the returned Accepted owns conn.
// A 3xx answer with Location is a *RedirectError and any other non-101
// answer a *RejectError; on every error conn is closed.
func (c *Client) Handshake(ctx context.Context, conn net.Conn, rawURL string) (*Accepted, error) {
	t, err := parseURL(rawURL)
	if err != nil {
		conn.Close()
		return nil, err
	}
	var dl deadline
	dl.start(ctx, conn, c.HandshakeTimeout)
	acc, err := c.handshake(conn, t, &dl)
	if err != nil {
		dl.cancel()
		conn.Close()
		return nil, err
	}
	return acc, nil
}

func (c *Client) handshake(conn net.Conn, t target, dl *deadline) (*Accepted, error) {
	key, err := NewKey(c.Rand)
	if err != nil {
		return nil, fmt.Errorf("handshake: key: %w", err)
	}
	req, err := c.appendRequest(nil, t, key)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write(req); err != nil {
		return nil, fmt.Errorf("handshake: write request: %w", dl.cause(err))
	}
	// Read the response through a small buffer, which the frame layer
	// keeps reading through afterwards (an idle connection holds it), and
	// move to one of the full limit only for a head that does not fit.
	max := c.maxHeaderBytes()
	br := bufio.NewReaderSize(conn, min(max, smallHead))
	head, err := readHead(br, max)
	if errors.Is(err, errBufferFull) {
		br = frame.Rebuffer(conn, br, max)
		head, err = readHead(br, max)
	}
	if err != nil {
		return nil, fmt.Errorf("handshake: read response: %w", dl.cause(err))
	}
	resp, err := parseResponse(head, 256)
	if err != nil {
		return nil, fmt.Errorf("handshake: read response: %w", err)
	}
	if c.Jar != nil {
		if cookies := resp.Cookies(); len(cookies) > 0 {
			c.Jar.SetCookies(jarURL(t.u), cookies)
		}
	}
	switch resp.StatusCode {
	case http.StatusSwitchingProtocols:
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		if loc := resp.Header.Get("Location"); loc != "" {
			next, err := t.u.Parse(loc)
			if err != nil {
				return nil, fmt.Errorf("handshake: redirect: %w", err)
			}
			return nil, &RedirectError{Status: resp.StatusCode, Location: next.String()}
		}
		fallthrough
	default:
		_, reason, _ := strings.Cut(resp.Status, " ")
		return nil, &RejectError{
			Status: resp.StatusCode,
			Reason: reason,
			Header: resp.Header,
			Body:   readRejectBody(br, resp),
		}
	}
	acc, err := c.verify(resp, key)
	if err != nil {
		return nil, fmt.Errorf("handshake: read response: %w", err)
	}
	if err := dl.end(); err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	acc.Conn, acc.Reader = conn, br
	return acc, nil
}

// appendRequest formats the opening handshake (RFC 6455 §4.1 items 1-12).
func (c *Client) appendRequest(b []byte, t target, key string) ([]byte, error) {
	for _, p := range c.Subprotocols {
		if !isToken(p) {
			return nil, fmt.Errorf("%w: subprotocol %q is not a token", ErrSubprotocols, p)
		}
	}
	if err := checkHeader(c.Header); err != nil {
		return nil, err
	}
	if c.Origin != "" && c.Header.Get("Origin") != "" {
		return nil, fmt.Errorf("%w: Origin set twice", ErrReservedHeader)
	}
	if !validFieldValue(c.Origin) {
		return nil, fmt.Errorf("handshake: invalid Origin %q", c.Origin)
	}
	b = append(b, "GET "...)
	b = append(b, t.u.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, t.host...)
	b = append(b, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "...)
	b = append(b, key...)
	b = append(b, "\r\nSec-WebSocket-Version: 13\r\n"...)
	if c.Origin != "" {
		b = append(append(append(b, "Origin: "...), c.Origin...), "\r\n"...)
	}
	if len(c.Subprotocols) > 0 {
		b = append(b, "Sec-WebSocket-Protocol: "...)
		b = append(b, strings.Join(c.Subprotocols, ", ")...)
		b = append(b, "\r\n"...)
	}
	var offers []Extension
	for _, n := range c.Extensions {
		offers = append(offers, n.Offers()...)
	}
	if len(offers) > 0 {
		b = append(b, "Sec-WebSocket-Extensions: "...)
		b = append(AppendExtensions(b, offers), "\r\n"...)
	}
	b = appendHeader(b, c.requestHeader(t))
	return append(b, "\r\n"...), nil
}

// requestHeader is Header with the jar's cookies for t merged into one
// Cookie field, since a user agent sends at most one (RFC 6265 §5.4).
func (c *Client) requestHeader(t target) http.Header {
	if c.Jar == nil {
		return c.Header
	}
	cookies := c.Jar.Cookies(jarURL(t.u))
	if len(cookies) == 0 {
		return c.Header
	}
	var b strings.Builder
	for _, v := range c.Header.Values("Cookie") {
		if v = strings.TrimSpace(v); v != "" {
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(v)
		}
	}
	for _, ck := range cookies {
		if s := (&http.Cookie{Name: ck.Name, Value: ck.Value, Quoted: ck.Quoted}).String(); s != "" {
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(s)
		}
	}
	h := c.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Cookie", b.String())
	return h
}

// jarURL is u as a cookie jar understands it: net/http/cookiejar ignores
// schemes other than http and https.
func jarURL(u *url.URL) *url.URL {
	j := *u
	switch strings.ToLower(u.Scheme) {
	case "ws":
		j.Scheme = "http"
	case "wss":
		j.Scheme = "https"
	}
	return &j
}

// verify checks a 101 response (RFC 6455 §4.1, the server's response
// items 1-6) and returns what was agreed.
func (c *Client) verify(resp *http.Response, key string) (*Accepted, error) {
	var up, conn bool
	for _, v := range resp.Header.Values("Upgrade") {
		up = up || hasToken(v, "websocket")
	}
	for _, v := range resp.Header.Values("Connection") {
		conn = conn || hasToken(v, "upgrade")
	}
	if !up {
		return nil, ErrUpgradeToken
	}
	if !conn {
		return nil, ErrConnectionToken
	}
	if acc := resp.Header.Values("Sec-Websocket-Accept"); len(acc) != 1 || acc[0] != AcceptKey(key) {
		return nil, ErrAccept
	}
	return c.negotiated(resp)
}

// negotiated checks the subprotocol and extensions of a successful answer,
// 101 or (RFC 8441) 2xx, and returns what was agreed.
func (c *Client) negotiated(resp *http.Response) (*Accepted, error) {
	a := &Accepted{Response: resp}
	if ps := resp.Header.Values("Sec-Websocket-Protocol"); len(ps) > 0 {
		if len(ps) != 1 || !contains(c.Subprotocols, ps[0]) {
			return nil, fmt.Errorf("%w: %q", ErrProtocolNotOffered, strings.Join(ps, ", "))
		}
		a.Protocol = ps[0]
	}
	for _, v := range resp.Header.Values("Sec-Websocket-Extensions") {
		var err error
		if a.Extensions, err = ParseExtensions(a.Extensions, v); err != nil {
			return nil, err
		}
	}
	if err := verifyExtensions(c.Extensions, a.Extensions); err != nil {
		return nil, err
	}
	for _, e := range a.Extensions {
		if strings.EqualFold(e.Name, DeflateName) {
			p, err := ParseDeflateParams(e)
			if err != nil {
				return nil, err
			}
			a.Deflate = &p
		}
	}
	return a, nil
}

// Dial connects to rawURL (ws, wss, http or https), through the proxy if
// one applies, performs TLS for wss, and then Handshake; it follows up to
// MaxRedirects redirects. It blocks until done, the handshake timeout, or
// ctx is cancelled. On error no connection is left open.
func (c *Client) Dial(ctx context.Context, rawURL string) (*Accepted, error) {
	t, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	for hops := 0; ; hops++ {
		acc, err := c.dialOnce(ctx, t)
		var re *RedirectError
		if err == nil || c.MaxRedirects <= 0 || !errors.As(err, &re) {
			return acc, err
		}
		if hops >= c.MaxRedirects {
			return nil, fmt.Errorf("%w: %w", ErrTooManyRedirects, err)
		}
		next, perr := parseURL(re.Location)
		if perr != nil {
			return nil, fmt.Errorf("%w: %w", perr, err)
		}
		if t.secure && !next.secure {
			return nil, fmt.Errorf("%w: %w", ErrDowngrade, err)
		}
		t = next
	}
}

func (c *Client) dialOnce(ctx context.Context, t target) (*Accepted, error) {
	var dl deadline
	conn, cancel, err := c.transport(ctx, t, &dl, []string{"http/1.1"})
	if err != nil {
		return nil, err
	}
	defer cancel()
	acc, err := c.handshake(conn, t, &dl)
	if err != nil {
		dl.cancel()
		conn.Close()
		return nil, err
	}
	return acc, nil
}

// transport connects to t's server (through the proxy if one applies) and
// runs TLS for wss offering alpn; dl then bounds the rest of the handshake.
// cancel releases the dial's timeout context.
func (c *Client) transport(ctx context.Context, t target, dl *deadline, alpn []string) (net.Conn, context.CancelFunc, error) {
	dctx, cancel := ctx, context.CancelFunc(func() {})
	if c.HandshakeTimeout >= 0 {
		timeout := c.HandshakeTimeout
		if timeout == 0 {
			timeout = DefaultHandshakeTimeout
		}
		dctx, cancel = context.WithTimeout(ctx, timeout)
	}
	conn, err := c.transportIn(dctx, ctx, t, dl, alpn)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return conn, cancel, nil
}

func (c *Client) transportIn(dctx, ctx context.Context, t target, dl *deadline, alpn []string) (net.Conn, error) {
	proxy, err := c.proxyFor(t)
	if err != nil {
		return nil, err
	}
	addr := t.addr
	if proxy != nil {
		addr = proxyAddr(proxy)
	}
	dial := c.NetDial
	if dial == nil {
		d := c.Dialer
		if d == nil {
			d = &net.Dialer{}
		}
		dial = d.DialContext
	}
	conn, err := dial(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("handshake: dial: %w", err)
	}
	if conn == nil {
		return nil, fmt.Errorf("handshake: dial: %w", errNilConn)
	}
	dl.start(ctx, conn, c.HandshakeTimeout)
	conn, err = c.connect(ctx, conn, proxy, t, dl, alpn)
	if err != nil {
		dl.cancel()
		return nil, err
	}
	return conn, nil
}

// ProxyURL returns the proxy Dial would tunnel through to reach rawURL,
// or nil when it connects directly: Proxy's answer, or the environment's
// when Proxy is nil. A caller choosing between HTTP/2 and HTTP/1.1 before
// dialling needs to know whether a proxy sits in between.
func (c *Client) ProxyURL(rawURL string) (*url.URL, error) {
	t, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return c.proxyFor(t)
}

// DialTransport connects to rawURL's server as Dial does — NetDial or
// Dialer, the proxy's CONNECT tunnel, TLS for wss and https URLs — but
// offers alpn in TLS instead of http/1.1 and returns the connection before
// any HTTP is sent, with its deadline cleared. It is the first half of a
// WebSocket over HTTP/2 (RFC 8441): the caller reads the negotiated
// protocol from the *tls.Conn's ConnectionState and speaks HTTP/2, or
// falls back to Handshake on the same connection when the server chose
// http/1.1.
func (c *Client) DialTransport(ctx context.Context, rawURL string, alpn ...string) (net.Conn, error) {
	t, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if len(alpn) == 0 {
		alpn = []string{"http/1.1"}
	}
	var dl deadline
	conn, cancel, err := c.transport(ctx, t, &dl, alpn)
	if err != nil {
		return nil, err
	}
	defer cancel()
	if err := dl.end(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("handshake: %w", err)
	}
	return conn, nil
}

// connect runs CONNECT through the proxy, if any, and TLS for wss on a
// fresh connection; on error it has closed conn.
func (c *Client) connect(ctx context.Context, conn net.Conn, proxy *url.URL, t target, dl *deadline, alpn []string) (net.Conn, error) {
	if proxy != nil {
		tc, err := tunnel(ctx, conn, proxy, t.addr, c.TLSConfig, dl)
		if err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	if t.secure {
		cfg := &tls.Config{}
		if c.TLSConfig != nil {
			cfg = c.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = t.u.Hostname()
		}
		cfg.NextProtos = alpn
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			tc.Close()
			return nil, fmt.Errorf("handshake: tls: %w", dl.cause(err))
		}
		conn = tc
		dl.conn = tc
	}
	return conn, nil
}
