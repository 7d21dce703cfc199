// Package ws is a WebSocket library (RFC 6455, RFC 7692) built around one
// actor per connection: a reader and a writer goroutine own the socket,
// answer pings and closes, and talk to you over channels.
//
// A server:
//
//	http.Handle("/echo", ws.Handler(func(ctx context.Context, c *ws.Conn) {
//		for msg := range c.Incoming() {      // closed when the connection ends
//			if err := c.Send(ctx, msg); err != nil {
//				return
//			}
//		}
//	}))
//
// A client:
//
//	c, _, err := ws.Dial(ctx, "ws://localhost:8080/echo")
//	if err != nil { ... }
//	c.Outgoing() <- ws.Text("hello")         // or c.Send(ctx, msg) to wait for the write
//	msg := <-c.Incoming()
//	err = c.Close(ctx, ws.StatusNormalClosure, "bye")
//
// # Connections
//
// A Conn is safe for concurrent use: any number of goroutines may send at
// once. Incoming and Outgoing are bounded, so a slow
// reader pushes back on the socket and a slow peer on senders; a server
// that must never block on one client sends with select and a default case.
// Every blocking call takes a context, and cancelling it ends that call
// only, never the connection. Pings and closes from the peer are answered
// even when you only send. When the connection ends, Incoming is closed,
// Done is closed and Err says why: a *CloseError with the close code and
// reason, or the I/O or protocol error that ended it.
//
// # Options
//
// Options shared by both sides (limits, buffers, keepalive, subprotocols,
// compression, the handshake timeout) are of type Option and fit both Dial
// and Accept. Client-only options (WithHeader, WithTLSConfig, WithProxy,
// WithRedirects, ...) are DialOptions and server-only ones (WithOrigins,
// WithAnyOrigin, WithResponseHeader, WithSubprotocolSelector)
// AcceptOptions: giving one to the wrong side does not compile. Every
// setting has one default, the same on both sides. Handler checks its
// options when it is called and panics on a bad one, so a misconfigured
// server fails at start-up rather than on every request; NewServer returns
// the error instead.
//
// Defaults are chosen for a server on the internet: messages up to 32 MiB
// (DefaultMaxMessageSize), a ping after 30 s of silence and 30 s for its
// pong, a 5 s grace period for close handshakes, and browsers accepted only
// from the page's own origin (RFC 6455 §10.2; cross-site WebSocket
// hijacking), and no compression: permessage-deflate (RFC 7692) is used only
// when both sides enable it with WithCompression, because it costs CPU and
// memory per connection and can leak secrets mixed with attacker-chosen data
// through message sizes. Enabled, it runs without context takeover by
// default.
//
// # Beyond whole messages
//
// SendStream sends a message read from an io.Reader, fragment by fragment;
// with WithStreamedReceive, NextReader hands each received message out as
// an io.Reader: a message larger than memory passes with about a fragment
// of heap, under the same limits. Prepare encodes a message once for many
// connections (a broadcast: framed and compressed once), and SendPrepared
// sends it. NetConn turns a connection into a net.Conn, for TLS, yamux or
// gRPC over WebSocket. SendJSON, ReceiveJSON and the iterator JSON send
// and receive typed values; a message that does not decode is a
// *DecodeError and the connection goes on.
//
// Compiled with GOOS=js GOARCH=wasm, Dial and Conn run on the host's
// WebSocket (a browser's, or Node's); the host does the framing, so some
// options do not apply there (see Dial's documentation in that build).
//
// # Shutdown
//
// http.Server.Shutdown does not see hijacked connections. Handler returns a
// *Server whose Shutdown closes every connection with 1001 (going away) and
// waits for the handlers; call it next to http.Server.Shutdown. For
// connections from Accept, bind each to a context with WithLifetime and
// cancel it from http.Server.RegisterOnShutdown. Call Server.Shutdown
// before http.Server.Shutdown, which waits for the handlers of HTTP/2
// WebSockets.
//
// # HTTP/2
//
// Accept and Handler also take WebSockets bootstrapped over HTTP/2 (RFC
// 8441): an extended CONNECT with :protocol websocket, answered 200, with
// the WebSocket's frames in the stream's DATA frames. Browsers use it on
// their existing HTTPS connection once the server advertises
// SETTINGS_ENABLE_CONNECT_PROTOCOL, so many WebSockets share one TCP+TLS
// connection and none costs a new handshake. Origin policy, subprotocols,
// compression, limits, keepalive and the close handshake are the same;
// HTTP/2 flow control takes the place of TCP's for backpressure. A stream
// reset or a lost connection ends the Conn with an Err matching
// ErrStreamReset or ErrConnectionLost.
//
// net/http's HTTP/2 server (Go 1.26, 1.27) accepts extended CONNECT only
// when the process starts with GODEBUG=http2xconnect=1 in its environment:
// net/http reads it once at start-up, so neither this package nor a
// //go:debug line can turn it on. Without it the server does not advertise
// the setting, browsers open their WebSockets over HTTP/1.1 as before, and
// nothing changes. With it, every WebSocket endpoint of the process may be
// reached over HTTP/2, so all of them must go through Accept or Handler
// (a handler that hijacks answers HTTP/2 with 500). On HTTP/2 an Accept
// caller's handler must not return before the Conn ends (see Accept).
//
// Dial uses HTTP/2 for wss URLs by itself when the server advertises the
// setting: WebSockets to the same server then share one connection. A
// server without RFC 8441 gets HTTP/1.1, and is remembered so that later
// Dials go straight to it; WithHTTP1 opts out (see Dial).
//
// # Bad input
//
// A bad handshake is answered with 400 (426 for a wrong version, 403 for a
// foreign origin). On an open connection, the peer's protocol violations
// close it with 1002, invalid UTF-8 with 1007, an oversized message with
// 1009; Err then holds a *CloseError with that code.
//
// The layers below are usable alone: package frame is the codec, package
// handshake the HTTP upgrade, package actor the connection. What this
// package does not do: reconnecting (see package reconnect), or any message
// format above text and binary.
package ws
