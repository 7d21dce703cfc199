package handshake

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// proxyFor returns the proxy for t, or nil to connect directly. As
// net/http does, the proxy is chosen for the https scheme for wss and the
// http scheme for ws.
func (c *Client) proxyFor(t target) (*url.URL, error) {
	proxy := c.Proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	scheme := "http"
	if t.secure {
		scheme = "https"
	}
	req := &http.Request{
		Method: http.MethodGet,
		URL:    &url.URL{Scheme: scheme, Host: t.host, Path: "/"},
		Header: http.Header{},
		Host:   t.host,
	}
	u, err := proxy(req)
	if err != nil {
		return nil, fmt.Errorf("handshake: proxy: %w", err)
	}
	if u != nil && u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: unsupported proxy scheme %q", ErrProxy, u.Scheme)
	}
	return u, nil
}

// proxyAddr is the host:port of a proxy URL.
func proxyAddr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// tunnel asks the proxy on conn to CONNECT to addr (RFC 9110 §9.3.6) and
// returns the tunnelled connection. For an https proxy it first speaks TLS
// to the proxy.
func tunnel(ctx context.Context, conn net.Conn, proxy *url.URL, addr string, tlsCfg *tls.Config, dl *deadline) (net.Conn, error) {
	if proxy.Scheme == "https" {
		cfg := &tls.Config{}
		if tlsCfg != nil {
			cfg = tlsCfg.Clone()
		}
		cfg.ServerName = proxy.Hostname()
		cfg.NextProtos = nil
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("handshake: proxy tls: %w", dl.cause(err))
		}
		conn = tc
	}
	var b strings.Builder
	b.WriteString("CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n")
	if u := proxy.User; u != nil {
		pass, _ := u.Password()
		cred := base64.StdEncoding.EncodeToString([]byte(u.Username() + ":" + pass))
		b.WriteString("Proxy-Authorization: Basic " + cred + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return nil, fmt.Errorf("handshake: proxy: %w", dl.cause(err))
	}
	br := bufio.NewReaderSize(conn, 4096)
	head, err := readHead(br, 4096)
	if err != nil {
		return nil, fmt.Errorf("handshake: proxy: %w", dl.cause(err))
	}
	resp, err := parseResponse(head, 64)
	if err != nil {
		return nil, fmt.Errorf("handshake: proxy: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		_, reason, _ := strings.Cut(resp.Status, " ")
		return nil, &RejectError{
			Status: resp.StatusCode,
			Reason: "proxy: " + reason,
			Header: resp.Header,
			Body:   readRejectBody(br, resp),
			Err:    ErrProxy,
		}
	}
	if br.Buffered() > 0 {
		// The proxy relayed bytes before we spoke: keep them.
		return &bufferedConn{Conn: conn, r: br}, nil
	}
	return conn, nil
}

// bufferedConn reads through a bufio.Reader that already holds bytes.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
