package handshake_test

import (
	"fmt"
	"net/http"

	"github.com/wsactor/ws/handshake"
)

// One handler for both bootstraps: RFC 6455's upgrade on HTTP/1.1 and RFC
// 8441's extended CONNECT on HTTP/2 (the process must run with
// GODEBUG=http2xconnect=1 for net/http to pass the latter on). Over HTTP/2
// the handler waits for the stream to be closed before it returns.
func ExampleServer_UpgradeConnect() {
	srv := &handshake.Server{Subprotocols: []string{"chat"}}
	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		if !handshake.IsConnectRequest(r) {
			acc, err := srv.Upgrade(w, r)
			if err != nil {
				return
			}
			defer acc.Conn.Close()
			// Read frames from acc.Reader, write them to acc.Conn.
			return
		}
		acc, err := srv.UpgradeConnect(w, r)
		if err != nil {
			return
		}
		sc := acc.Conn.(*handshake.StreamConn)
		defer func() { <-sc.Done() }() // net/http ends the stream when the handler returns
		defer acc.Conn.Close()
		// Read frames from acc.Reader, write them to acc.Conn, as above.
	})
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
