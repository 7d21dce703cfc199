package handshake_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/wsactor/ws/handshake"
)

// One handler for both bootstraps: RFC 6455's upgrade on HTTP/1.1 and RFC
// 8441's extended CONNECT on HTTP/2 (the process must run with
// GODEBUG=http2xconnect=1 for net/http to pass the latter on), which
// Upgrade hands to UpgradeConnect. Over HTTP/2 the handler waits for the
// stream to be closed (Accepted.Done) before it returns.
func ExampleServer_UpgradeConnect() {
	srv := &handshake.Server{Subprotocols: []string{"chat"}}
	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		acc, err := srv.Upgrade(w, r)
		if err != nil {
			return
		}
		if acc.Done != nil {
			defer func() { <-acc.Done }() // net/http ends the stream when the handler returns
		}
		defer acc.Conn.Close()
		// Read frames from acc.Reader, write them to acc.Conn.
	})
}

// The HEADERS of an RFC 8441 WebSocket: the pseudo-header fields and the
// regular ones, without Upgrade, Connection or Sec-WebSocket-Key.
func ExampleClient_NewConnectRequest() {
	c := &handshake.Client{Subprotocols: []string{"chat", "superchat"}, Origin: "https://example.com"}
	req, err := c.NewConnectRequest("wss://example.com/chat?room=1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(":method CONNECT")
	fmt.Println(":protocol websocket")
	fmt.Println(":scheme", req.Scheme)
	fmt.Println(":authority", req.Authority)
	fmt.Println(":path", req.Path)
	for _, k := range []string{"Sec-Websocket-Version", "Sec-Websocket-Protocol", "Origin"} {
		fmt.Println(strings.ToLower(k), req.Header.Get(k))
	}
	// Output:
	// :method CONNECT
	// :protocol websocket
	// :scheme https
	// :authority example.com
	// :path /chat?room=1
	// sec-websocket-version 13
	// sec-websocket-protocol chat, superchat
	// origin https://example.com
}

// A 200 to the extended CONNECT is success (RFC 8441 §5); the subprotocol
// is checked against the offer as after a 101.
func ExampleClient_VerifyConnect() {
	c := &handshake.Client{Subprotocols: []string{"chat"}}
	acc, err := c.VerifyConnect("wss://example.com/chat", &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Sec-Websocket-Protocol": {"chat"}},
	}, nil)
	fmt.Println(acc.Protocol, err)
	_, err = c.VerifyConnect("wss://example.com/chat", &http.Response{StatusCode: http.StatusForbidden}, []byte("origin not allowed\n"))
	fmt.Println(err)
	// Output:
	// chat <nil>
	// handshake: rejected with 403 Forbidden: "origin not allowed\n"
}

// DialTransport offers h2 and http/1.1 in TLS and leaves the choice to the
// caller: HTTP/2 frames, or Handshake on the same connection.
func ExampleClient_DialTransport() {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	c := &handshake.Client{TLSConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig}
	conn, err := c.DialTransport(context.Background(), "wss://"+srv.Listener.Addr().String()+"/", "h2", "http/1.1")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	fmt.Println(conn.(*tls.Conn).ConnectionState().NegotiatedProtocol)
	// Output:
	// h2
}

// How net/http's HTTP/2 server presents an RFC 8441 request.
func ExampleIsConnectRequest() {
	r := &http.Request{
		Method:     http.MethodConnect,
		ProtoMajor: 2,
		Header:     http.Header{":protocol": {"websocket"}, "Sec-Websocket-Version": {"13"}},
	}
	fmt.Println(handshake.IsConnectRequest(r))
	r.Header.Del(":protocol") // a plain CONNECT: a tunnel request, not a WebSocket
	fmt.Println(handshake.IsConnectRequest(r))
	// Output:
	// true
	// false
}

// ProxyURL tells before dialling whether a proxy sits between the client
// and the server, as a caller choosing between HTTP/2 and HTTP/1.1 needs
// to know.
func ExampleClient_ProxyURL() {
	proxied := &handshake.Client{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: "proxy.example:3128"})}
	u, err := proxied.ProxyURL("wss://example.com/chat")
	fmt.Println(u, err)

	direct := &handshake.Client{Proxy: http.ProxyURL(nil)}
	u, err = direct.ProxyURL("wss://example.com/chat")
	fmt.Println(u == nil, err)
	// Output:
	// http://proxy.example:3128 <nil>
	// true <nil>
}
