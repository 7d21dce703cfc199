package handshake_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"

	"github.com/wsactor/ws/handshake"
)

// A server and a client on the two ends of an in-memory pipe.
func ExampleServer_ReadRequest() {
	srvConn, cliConn := net.Pipe()
	srv := &handshake.Server{Subprotocols: []string{"chat"}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, err := srv.ReadRequest(context.Background(), srvConn)
		if err != nil {
			log.Print(err)
			return
		}
		fmt.Println("server: path", req.Path(), "offers", req.Subprotocols())
		acc, err := req.Accept(srv.Negotiate(req))
		if err != nil {
			log.Print(err)
			return
		}
		acc.Conn.Close()
	}()
	c := &handshake.Client{Subprotocols: []string{"chat", "v1"}}
	acc, err := c.Handshake(context.Background(), cliConn, "ws://example.com/room/1")
	<-done
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("client: protocol", acc.Protocol)
	// Output:
	// server: path /room/1 offers [chat v1]
	// client: protocol chat
}

// Refusing a handshake after looking at it.
func ExampleRequest_Reject() {
	srvConn, cliConn := net.Pipe()
	go func() {
		req, err := (&handshake.Server{}).ReadRequest(context.Background(), srvConn)
		if err != nil {
			return
		}
		_ = req.Reject(handshake.Reject{Status: http.StatusUnauthorized, Body: []byte("who are you?")})
	}()
	_, err := (&handshake.Client{}).Handshake(context.Background(), cliConn, "ws://example.com/")
	var rej *handshake.RejectError
	if errors.As(err, &rej) {
		fmt.Println(rej.Status, string(rej.Body))
	}
	// Output: 401 who are you?
}

// Upgrading through net/http; the accepted connection is handed to the
// frame layer.
func ExampleServer_Upgrade() {
	srv := &handshake.Server{
		Subprotocols: []string{"chat"},
		Extensions:   []handshake.Negotiator{&handshake.PerMessageDeflate{}},
	}
	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		acc, err := srv.Upgrade(w, r) // refusals are answered already
		if err != nil {
			return
		}
		defer acc.Conn.Close()
		// Read frames from acc.Reader, write them to acc.Conn;
		// acc.Deflate says whether and how to compress.
	})
}

// Dialling with compression and a proxy from the environment.
func ExampleClient_Dial() {
	c := &handshake.Client{
		Subprotocols: []string{"v2"},
		Extensions:   []handshake.Negotiator{&handshake.PerMessageDeflate{ClientMaxWindowBits: 15}},
		MaxRedirects: 3,
	}
	acc, err := c.Dial(context.Background(), "wss://example.com/feed")
	if err != nil {
		var re *handshake.RedirectError
		var rej *handshake.RejectError
		switch {
		case errors.As(err, &re):
			log.Print("moved to ", re.Location)
		case errors.As(err, &rej):
			log.Print("refused: ", rej.Status)
		}
		return
	}
	defer acc.Conn.Close()
}
