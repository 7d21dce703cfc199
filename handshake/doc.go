// Package handshake implements the WebSocket opening handshake of RFC 6455
// §4 over HTTP/1.1, client and server, with subprotocol selection and
// extension negotiation (§9.1), including permessage-deflate (RFC 7692 §5,
// §7). It is the port of soketto's handshake module and is usable alone:
// on a raw net.Conn, or from net/http.
//
// Server on a raw connection (soketto's Server):
//
//	srv := &handshake.Server{Subprotocols: []string{"chat"}}
//	req, err := srv.ReadRequest(ctx, conn) // malformed: answered, closed, *RejectError
//	// inspect req.Key(), req.Path(), req.Header("Cookie"), req.Subprotocols() ...
//	acc, err := req.Accept(srv.Negotiate(req)) // or req.Reject(handshake.Reject{Status: 403})
//	// read frames from acc.Reader, write them to acc.Conn
//
// Server through net/http: acc, err := srv.Upgrade(w, r). Client:
// acc, err := (&handshake.Client{}).Dial(ctx, "wss://example.com/feed"), or
// Client.Handshake on a connection of your own.
//
// Outcomes follow soketto's three: accepted is the *Accepted return value;
// a redirect is a *RedirectError and a refusal a *RejectError, reached
// with errors.As. The same *RejectError reports, on the server, the status
// the server sent for a bad request (400, 403, 426, 431), with the cause
// in Err (ErrKey, ErrVersion, ...). Nobody needs to match error text.
//
// Bad input. Every handshake runs under one deadline (HandshakeTimeout,
// 10 s by default) set with conn.SetDeadline and cleared on success;
// cancelling ctx sets a past deadline through context.AfterFunc, so a
// blocking handshake returns at once with ctx's error. The request head is
// bounded (MaxHeaderBytes, 8 KiB; MaxHeaderLines, 64; both answered with
// 431). On every failure the connection is closed.
//
// Bytes the peer sent after its handshake are frames: they stay buffered
// in Accepted.Reader, which the frame layer must read from.
//
// Security: the server checks Origin by default (RFC 6455 §10.2): no
// Origin or the same host is accepted, others need OriginPatterns or
// InsecureSkipOriginCheck.
//
// What it does not do: frames (see package frame), HTTP/2 WebSockets
// (RFC 8441), keep-alive of a refused connection, cookies or HTTP
// authentication beyond custom headers and proxy Basic auth. It starts no
// goroutine of its own and imports no higher layer of the module.
package handshake
