package handshake

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkRequest runs the server's parser and checks on a raw request.
func checkRequest(s *Server, raw string) (*Request, error) {
	br := bufio.NewReaderSize(strings.NewReader(raw), s.maxHeaderBytes())
	head, err := readHead(br, s.maxHeaderBytes())
	if err != nil {
		return nil, err
	}
	r := &Request{}
	if err := r.parse(head, s.maxHeaderLines()); err != nil {
		return nil, err
	}
	if rej := s.check(r); rej != nil {
		return nil, rej
	}
	return r, nil
}

const goodRequest = "GET /chat?room=1 HTTP/1.1\r\n" +
	"Host: server.example.com\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Origin: http://server.example.com\r\n" +
	"Sec-WebSocket-Protocol: chat, superchat\r\n" +
	"Sec-WebSocket-Version: 13\r\n\r\n"

func TestKeyRFCExample(t *testing.T) {
	// RFC 6455 §1.3 and §4.2.2.
	require.Equal(t, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="))
	k, err := NewKey(strings.NewReader("the sample nonce"))
	require.NoError(t, err)
	require.Equal(t, "dGhlIHNhbXBsZSBub25jZQ==", k)
	k, err = NewKey(nil)
	require.NoError(t, err)
	require.True(t, validKey(k))
}

func TestRequestValid(t *testing.T) {
	r, err := checkRequest(&Server{}, goodRequest)
	require.NoError(t, err)
	require.Equal(t, "GET", r.Method())
	require.Equal(t, "/chat?room=1", r.RequestURI())
	require.Equal(t, "/chat", r.Path())
	require.Equal(t, "room=1", r.RawQuery())
	require.Equal(t, "1", r.Query().Get("room"))
	require.Equal(t, "HTTP/1.1", r.Proto())
	require.Equal(t, "server.example.com", r.Host())
	require.Equal(t, "http://server.example.com", r.Origin())
	require.Equal(t, "dGhlIHNhbXBsZSBub25jZQ==", r.Key())
	require.Equal(t, []string{"chat", "superchat"}, r.Subprotocols())
	require.Equal(t, "Upgrade", r.Header("connection"))
	require.Equal(t, []string{"websocket"}, r.Values("UPGRADE"))
	require.Equal(t, "13", r.Headers().Get("Sec-WebSocket-Version"))
}

// replace edits goodRequest: a header line "Name: value" is replaced, or
// removed when value is "-", or added when absent.
func edit(raw, name, value string) string {
	lines := strings.Split(strings.TrimSuffix(raw, "\r\n\r\n"), "\r\n")
	out := lines[:1]
	found := false
	for _, l := range lines[1:] {
		if n, _, _ := strings.Cut(l, ":"); strings.EqualFold(n, name) {
			found = true
			if value != "-" {
				out = append(out, name+": "+value)
			}
			continue
		}
		out = append(out, l)
	}
	if !found {
		out = append(out, name+": "+value)
	}
	return strings.Join(out, "\r\n") + "\r\n\r\n"
}

func TestRequestInvalid(t *testing.T) {
	big := strings.Repeat("a", 9000)
	many := goodRequest[:len(goodRequest)-2] + strings.Repeat("X-A: b\r\n", 70) + "\r\n"
	tests := []struct {
		name   string
		raw    string
		srv    Server
		status int
		err    error
	}{
		{"4.2.1/method POST", strings.Replace(goodRequest, "GET", "POST", 1), Server{}, 400, ErrMethod},
		{"4.2.1/HTTP/1.0", strings.Replace(goodRequest, "HTTP/1.1", "HTTP/1.0", 1), Server{}, 400, ErrHTTPVersion},
		{"4.2.1/malformed request line", strings.Replace(goodRequest, "GET /chat?room=1 HTTP/1.1", "GET /chat", 1), Server{}, 400, ErrMalformedRequest},
		{"4.2.1/bad proto", strings.Replace(goodRequest, "HTTP/1.1", "HTTP/x", 1), Server{}, 400, ErrMalformedRequest},
		{"4.2.1/target not origin-form", strings.Replace(goodRequest, "/chat?room=1", "chat", 1), Server{}, 400, ErrMalformedRequest},
		{"4.2.1/missing Host", edit(goodRequest, "Host", "-"), Server{}, 400, ErrMissingHost},
		{"4.2.1/duplicate Host", edit(goodRequest, "Host", "a\r\nHost: b"), Server{}, 400, ErrMissingHost},
		{"4.2.1/missing Upgrade", edit(goodRequest, "Upgrade", "-"), Server{}, 400, ErrUpgradeToken},
		{"4.2.1/Upgrade not websocket", edit(goodRequest, "Upgrade", "h2c"), Server{}, 400, ErrUpgradeToken},
		{"4.2.1/missing Connection", edit(goodRequest, "Connection", "-"), Server{}, 400, ErrConnectionToken},
		{"4.2.1/Connection keep-alive only", edit(goodRequest, "Connection", "keep-alive"), Server{}, 400, ErrConnectionToken},
		{"4.2.1/missing key", edit(goodRequest, "Sec-WebSocket-Key", "-"), Server{}, 400, ErrKey},
		{"4.2.1/key of 15 bytes", edit(goodRequest, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25j"), Server{}, 400, ErrKey},
		{"4.2.1/key not base64", edit(goodRequest, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25j!!=="), Server{}, 400, ErrKey},
		{"4.2.1/two keys", edit(goodRequest, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="), Server{}, 400, ErrKey},
		{"4.4/missing version", edit(goodRequest, "Sec-WebSocket-Version", "-"), Server{}, 426, ErrVersion},
		{"4.4/version 8", edit(goodRequest, "Sec-WebSocket-Version", "8"), Server{}, 426, ErrVersion},
		{"4.4/two versions", edit(goodRequest, "Sec-WebSocket-Version", "13\r\nSec-WebSocket-Version: 8"), Server{}, 426, ErrVersion},
		{"4.2.1/bad subprotocol list", edit(goodRequest, "Sec-WebSocket-Protocol", "a b"), Server{}, 400, ErrSubprotocols},
		{"9.1/bad extension header", edit(goodRequest, "Sec-WebSocket-Extensions", "x; =1"), Server{}, 400, ErrExtensions},
		{"4.2.1/obs-fold", edit(goodRequest, "X-A", "a\r\n b"), Server{}, 400, ErrMalformedRequest},
		{"4.2.1/space before colon", edit(goodRequest, "X-A ", "a"), Server{}, 400, ErrMalformedRequest},
		{"4.2.1/control character", edit(goodRequest, "X-A", "a\x00b"), Server{}, 400, ErrMalformedRequest},
		{"4.2.1/header too large", edit(goodRequest, "X-A", big), Server{}, 431, ErrHeaderTooLarge},
		{"4.2.1/too many header lines", many, Server{}, 431, ErrTooManyHeaders},
		{"10.2/cross origin", edit(goodRequest, "Origin", "https://evil.example"), Server{}, 403, ErrOrigin},
		{"10.2/null origin", edit(goodRequest, "Origin", "null"), Server{}, 403, ErrOrigin},
		{"10.2/two origins", edit(goodRequest, "Origin", "http://server.example.com\r\nOrigin: http://x"), Server{}, 400, ErrMalformedRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := checkRequest(&tt.srv, tt.raw)
			require.ErrorIs(t, err, tt.err)
			if errors.Is(err, ErrHeaderTooLarge) {
				return // readHead's error; ReadRequest turns it into 431
			}
			var rej *RejectError
			require.ErrorAs(t, err, &rej)
			require.Equal(t, tt.status, rej.Status)
			if tt.status == 426 {
				require.Equal(t, "13", rej.Header.Get("Sec-WebSocket-Version"))
			}
		})
	}
}

func TestRequestAccepted(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		srv  Server
	}{
		{"4.2.1/tokens case-insensitive in lists", edit(edit(goodRequest, "Upgrade", "foo, WebSocket"), "Connection", "keep-alive, UPGRADE"), Server{}},
		{"4.2.1/Connection on two lines", edit(goodRequest, "Connection", "keep-alive\r\nConnection: upgrade"), Server{}},
		{"4.2.1/HTTP/1.2", strings.Replace(goodRequest, "HTTP/1.1", "HTTP/1.2", 1), Server{}},
		{"4.2.1/LF line endings", strings.ReplaceAll(goodRequest, "\r\n", "\n"), Server{}},
		{"10.2/no origin", edit(goodRequest, "Origin", "-"), Server{}},
		{"10.2/origin host case", edit(goodRequest, "Origin", "https://SERVER.example.COM"), Server{}},
		{"10.2/origin pattern", edit(goodRequest, "Origin", "https://a.trusted.example"), Server{OriginPatterns: []string{"*.trusted.example"}}},
		{"10.2/origin pattern with scheme", edit(goodRequest, "Origin", "https://a.trusted.example"), Server{OriginPatterns: []string{"https://*.trusted.example"}}},
		{"10.2/origin check off", edit(goodRequest, "Origin", "https://evil.example"), Server{InsecureSkipOriginCheck: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := checkRequest(&tt.srv, tt.raw)
			require.NoError(t, err)
		})
	}
}

func TestSubprotocolSelection(t *testing.T) {
	r, err := checkRequest(&Server{}, goodRequest)
	require.NoError(t, err)
	tests := []struct {
		name string
		srv  Server
		want string
	}{
		{"4.2.2/server preference wins", Server{Subprotocols: []string{"superchat", "chat"}}, "superchat"},
		{"4.2.2/none in common", Server{Subprotocols: []string{"v9"}}, ""},
		{"4.2.2/callback", Server{SelectSubprotocol: func(r *Request) string { return r.Subprotocols()[1] }}, "superchat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.srv.Negotiate(r).Protocol)
		})
	}
}
