package handshake

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseRequest: the request reader and parser never panic, and a
// parsed request formatted back parses to the same fields.
func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(goodRequest))
	f.Add([]byte(strings.ReplaceAll(goodRequest, "\r\n", "\n")))
	f.Add([]byte(edit(goodRequest, "Sec-WebSocket-Extensions", `permessage-deflate; client_max_window_bits, x; a="b"`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), 4096)
		head, err := readHead(br, 4096)
		if err != nil {
			return
		}
		r := &Request{}
		if r.parse(head, 64) != nil {
			return
		}
		_ = r.validate()
		var b strings.Builder
		b.WriteString(r.method + " " + r.target + " " + r.proto)
		for _, f := range r.fields {
			b.WriteString("\r\n" + f.name + ": " + f.value)
		}
		r2 := &Request{}
		require.NoError(t, r2.parse(b.String(), 64))
		require.Equal(t, r.fields, r2.fields)
		require.Equal(t, r.target, r2.target)
		require.Equal(t, r.validate() == nil, r2.validate() == nil)
	})
}

// FuzzParseResponse: the response parser never panics and round-trips.
func FuzzParseResponse(f *testing.F) {
	f.Add([]byte(goodResponse))
	f.Add([]byte("HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), 4096)
		head, err := readHead(br, 4096)
		if err != nil {
			return
		}
		resp, err := parseResponse(head, 64)
		if err != nil {
			return
		}
		_ = readRejectBody(br, resp)
		resp2, err := parseResponse(formatResponseHead(resp), 64)
		require.NoError(t, err)
		require.Equal(t, resp.StatusCode, resp2.StatusCode)
		require.Equal(t, resp.Status, resp2.Status)
		require.Equal(t, resp.Header, resp2.Header)
		_ = (&Client{}).verifyNoPanic(resp)
	})
}

// verifyNoPanic runs the 101 checks with a fixed key and deflate offered.
func (c *Client) verifyNoPanic(resp *http.Response) error {
	c.Extensions = []Negotiator{&PerMessageDeflate{ClientMaxWindowBits: 15}}
	c.Subprotocols = []string{"chat"}
	_, err := c.verify(resp, "dGhlIHNhbXBsZSBub25jZQ==")
	return err
}

// FuzzParseExtensions: the §9.1 parser never panics, format→parse agrees,
// and negotiation on any input never panics.
func FuzzParseExtensions(f *testing.F) {
	f.Add("permessage-deflate; client_max_window_bits")
	f.Add(`permessage-deflate; server_max_window_bits="10", permessage-deflate`)
	f.Add(`x; a="b\c"; d, , y`)
	f.Add("permessage-deflate; client_no_context_takeover; server_no_context_takeover; server_max_window_bits=15; client_max_window_bits=9")
	f.Fuzz(func(t *testing.T, s string) {
		exts, err := ParseExtensions(nil, s)
		if err != nil {
			return
		}
		again, err := ParseExtensions(nil, FormatExtensions(exts))
		require.NoError(t, err)
		require.Equal(t, exts, again)
		d := &PerMessageDeflate{ClientMaxWindowBits: 10}
		if resp, ok := d.Negotiate(offersFor(exts, DeflateName)); ok {
			_, err := ParseDeflateParams(resp)
			require.NoError(t, err, "negotiated %s", resp)
			require.NoError(t, (&PerMessageDeflate{ClientMaxWindowBits: 15}).Verify(resp))
		}
		for _, e := range exts {
			_, _ = ParseDeflateParams(e)
		}
	})
}
