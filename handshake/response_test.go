package handshake

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const sampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

const goodResponse = "HTTP/1.1 101 Switching Protocols\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: " + sampleAccept + "\r\n\r\n"

// cannedServer answers the first request on a pipe with resp and returns
// the client end and the request it read.
func cannedServer(t *testing.T, resp string) (net.Conn, <-chan string) {
	t.Helper()
	c, s := net.Pipe()
	got := make(chan string, 1)
	go func() {
		defer s.Close()
		br := bufio.NewReader(s)
		head, err := readHead(br, 1<<16)
		got <- head
		if err != nil {
			return
		}
		_, _ = s.Write([]byte(resp))
	}()
	t.Cleanup(func() { c.Close() })
	return c, got
}

// sampleClient uses the RFC's sample nonce so that the accept is known.
func sampleClient(c Client) *Client {
	c.Rand = strings.NewReader("the sample nonce")
	return &c
}

func TestClientRequest(t *testing.T) {
	// RFC 6455 §4.1 items 1-12 of the client's request.
	conn, got := cannedServer(t, goodResponse+"FRAME")
	c := sampleClient(Client{
		Origin:       "http://example.com",
		Subprotocols: []string{"chat", "superchat"},
		Extensions:   []Negotiator{&PerMessageDeflate{ClientMaxWindowBits: 15}},
		Header:       map[string][]string{"Cookie": {"a=b"}},
	})
	acc, err := c.Handshake(context.Background(), conn, "ws://server.example.com:8080/chat?x=1")
	require.NoError(t, err)
	head := <-got
	r := &Request{}
	require.NoError(t, r.parse(head, 64))
	require.Nil(t, r.validate())
	require.Equal(t, "/chat?x=1", r.RequestURI())
	require.Equal(t, "server.example.com:8080", r.Host())
	require.Equal(t, "dGhlIHNhbXBsZSBub25jZQ==", r.Key())
	require.Equal(t, "http://example.com", r.Origin())
	require.Equal(t, []string{"chat", "superchat"}, r.Subprotocols())
	require.Equal(t, "permessage-deflate; client_max_window_bits", r.Header("Sec-WebSocket-Extensions"))
	require.Equal(t, "a=b", r.Header("Cookie"))
	// Bytes after the response are frames and must not be lost.
	b := make([]byte, 5)
	_, err = acc.Reader.Read(b)
	require.NoError(t, err)
	require.Equal(t, "FRAME", string(b))
	require.Equal(t, 101, acc.Response.StatusCode)
}

func TestClientResponse(t *testing.T) {
	withHeader := func(h string) string { return strings.TrimSuffix(goodResponse, "\r\n") + h + "\r\n\r\n" }
	tests := []struct {
		name   string
		client Client
		resp   string
		err    error
		check  func(t *testing.T, a *Accepted)
	}{
		{"4.1/accepted", Client{}, goodResponse, nil, func(t *testing.T, a *Accepted) {
			require.Equal(t, smallHead, a.Reader.Size(), "a short head keeps the small read buffer")
		}},
		{"4.1/tokens case-insensitive", Client{}, strings.Replace(strings.Replace(goodResponse, "Upgrade: websocket", "Upgrade: WebSocket", 1), "Connection: Upgrade", "Connection: keep-alive, upgrade", 1), nil, nil},
		{"4.1/status 200 is a rejection", Client{}, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", &RejectError{}, nil},
		{"4.1/missing Upgrade", Client{}, strings.Replace(goodResponse, "Upgrade: websocket\r\n", "", 1), ErrUpgradeToken, nil},
		{"4.1/missing Connection", Client{}, strings.Replace(goodResponse, "Connection: Upgrade\r\n", "", 1), ErrConnectionToken, nil},
		{"4.1/wrong accept", Client{}, strings.Replace(goodResponse, sampleAccept, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", 1), ErrAccept, nil},
		{"4.1/missing accept", Client{}, strings.Replace(goodResponse, "Sec-WebSocket-Accept: "+sampleAccept+"\r\n", "", 1), ErrAccept, nil},
		{"4.1/subprotocol not offered", Client{Subprotocols: []string{"chat"}}, withHeader("Sec-WebSocket-Protocol: other\r\n"), ErrProtocolNotOffered, nil},
		{"4.1/subprotocol when none offered", Client{}, withHeader("Sec-WebSocket-Protocol: chat\r\n"), ErrProtocolNotOffered, nil},
		{"4.1/subprotocol chosen", Client{Subprotocols: []string{"a", "chat"}}, withHeader("Sec-WebSocket-Protocol: chat\r\n"), nil,
			func(t *testing.T, a *Accepted) { require.Equal(t, "chat", a.Protocol) }},
		{"4.1/extension not offered", Client{}, withHeader("Sec-WebSocket-Extensions: permessage-deflate\r\n"), ErrExtensionNotOffered, nil},
		{"9.1/malformed extensions", Client{Extensions: []Negotiator{&PerMessageDeflate{}}}, withHeader("Sec-WebSocket-Extensions: permessage-deflate;\r\n"), ErrExtensions, nil},
		{"7.1.2.2/client_max_window_bits recorded", Client{Extensions: []Negotiator{&PerMessageDeflate{ClientMaxWindowBits: 15}}},
			withHeader("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n"), nil,
			func(t *testing.T, a *Accepted) {
				require.NotNil(t, a.Deflate)
				require.Equal(t, 10, a.Deflate.ClientMaxWindowBits)
			}},
		{"7.1.2.2/client_max_window_bits not offered", Client{Extensions: []Negotiator{&PerMessageDeflate{}}},
			withHeader("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n"), ErrExtensionParams, nil},
		{"4.1/malformed status line", Client{}, "HTTP/1.1 1O1 Switching\r\n\r\n", ErrMalformedResponse, nil},
		{"4.1/HTTP/2 status line", Client{}, strings.Replace(goodResponse, "HTTP/1.1", "HTTP/2.0", 1), ErrMalformedResponse, nil},
		{"4.1/malformed header", Client{}, withHeader("Bad Header: x\r\n"), ErrMalformedResponse, nil},
		{"4.1/truncated response", Client{}, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n", errors.New("EOF"), nil},
		// The head is read through a 4 KiB buffer first; a longer one moves
		// to a buffer of the full limit without losing what was read, or
		// the frame bytes that follow the head.
		{"4.1/head over 4 KiB, under the limit", Client{}, strings.TrimSuffix(withHeader("X-Big: "+strings.Repeat("b", 10000)+"\r\n"), "\r\n") + "FRAME", nil,
			func(t *testing.T, a *Accepted) {
				require.Len(t, a.Response.Header.Get("X-Big"), 10000)
				require.Equal(t, 16<<10, a.Reader.Size())
				b := make([]byte, 5)
				_, err := io.ReadFull(a.Reader, b)
				require.NoError(t, err)
				require.Equal(t, "FRAME", string(b))
			}},
		{"4.1/head over the 16 KiB limit", Client{}, withHeader("X-Big: " + strings.Repeat("b", 17000) + "\r\n"), ErrHeaderTooLarge, nil},
		{"4.1/head over a limit under 4 KiB", Client{MaxHeaderBytes: 200}, withHeader("X-Big: " + strings.Repeat("b", 300) + "\r\n"), ErrHeaderTooLarge, nil},
		{"4.1/head under a limit over 16 KiB", Client{MaxHeaderBytes: 64 << 10}, withHeader("X-Big: " + strings.Repeat("b", 40000) + "\r\n"), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, _ := cannedServer(t, tt.resp)
			a, err := sampleClient(tt.client).Handshake(context.Background(), conn, "ws://server.example.com/chat")
			switch want := tt.err.(type) {
			case nil:
				require.NoError(t, err)
				if tt.check != nil {
					tt.check(t, a)
				}
			case *RejectError:
				var rej *RejectError
				require.ErrorAs(t, err, &rej)
				require.Equal(t, 200, rej.Status)
				require.Equal(t, "hi", string(rej.Body))
			default:
				if want.Error() == "EOF" {
					require.Error(t, err)
					return
				}
				require.ErrorIs(t, err, want)
			}
		})
	}
}

func TestClientConfigErrors(t *testing.T) {
	tests := []struct {
		name   string
		client Client
		url    string
		err    error
	}{
		{"3/bad scheme", Client{}, "ftp://x/", ErrBadURL},
		{"3/fragment", Client{}, "ws://x/#frag", ErrBadURL},
		{"4.1/custom header overrides Upgrade", Client{Header: map[string][]string{"Upgrade": {"x"}}}, "ws://x/", ErrReservedHeader},
		{"4.1/custom header overrides Sec-WebSocket-Key", Client{Header: map[string][]string{"Sec-WebSocket-Key": {"x"}}}, "ws://x/", ErrReservedHeader},
		{"4.1/subprotocol not a token", Client{Subprotocols: []string{"a b"}}, "ws://x/", ErrSubprotocols},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s := net.Pipe()
			defer s.Close()
			_, err := tt.client.Handshake(context.Background(), c, tt.url)
			require.ErrorIs(t, err, tt.err)
		})
	}
}
