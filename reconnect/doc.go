// Package reconnect keeps a WebSocket client connected: it redials with a
// jittered exponential backoff, classifies failures into transient and
// permanent, and gives its user one Incoming channel, one Outgoing channel
// and one Events channel for its whole life, across connections.
//
//	c, err := reconnect.New("wss://example.com/feed",
//		reconnect.WithDialOptions(ws.WithKeepalive(15*time.Second, 10*time.Second), ws.WithSubprotocols("v2")),
//		reconnect.OnConnect(func(ctx context.Context, conn *ws.Conn) error {
//			return conn.Send(ctx, ws.Text(`{"subscribe":"prices"}`))
//		}))
//	go c.Run(ctx)                       // returns when ctx ends, on Close, or when it gives up
//	for msg := range c.Incoming() { ... } // never closed between connections
//
// Every connection is opened with ws.Dial and the ws.DialOptions given to
// WithDialOptions, so TLS, proxies, WithNetDial, cookies, compression,
// subprotocols, limits and keepalive apply to each, with ws's defaults;
// WithHeader adds headers computed for each dial (a refreshed token). The
// client's own settings are how it retries (WithBackoff, WithClassifier,
// WithMaxAttempts, ...), its queues (WithOutgoingBuffer, WithOverflow,
// WithIncomingBuffer) and its events. Retry decisions follow HTTP
// semantics (RFC 9110 §15: 4xx is the client's fault, 5xx the server's;
// §10.2.3 Retry-After) and WebSocket close codes (RFC 6455 §7.4: 1008 stops,
// 1001, 1006, 1011, 1012 and 1013 retry); see Classify.
//
// Delivery is at-most-once: messages queued while offline are written in
// order after OnConnect, but a message being written when a connection dies
// may be lost, and what the kernel had accepted but the peer never read is
// lost without an error. docs/reconnect.md shows how to build at-least-once
// on top (sequence numbers and resume-from in OnConnect); the
// examples/reconnect program runs it.
//
// WithLayer runs a protocol over every connection: with package session's
// Client, delivery becomes exactly-once and in order across reconnects for
// as long as the session lives.
//
// What it does not do on its own: resend in-flight messages, deduplicate,
// persist the queue, or follow redirects itself (ws.WithRedirects in
// WithDialOptions makes each dial follow them).
package reconnect
