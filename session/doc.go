// Package session carries a WebSocket conversation across reconnects with
// exactly-once, in-order delivery in both directions, for as long as the
// session lives.
//
// Each side numbers its data messages and keeps them in a bounded replay
// buffer until the peer acknowledges them; acknowledgements are cumulative
// and ride on data frames, or go alone after a short idle delay. A session
// has an id of 128 random bits and an epoch. On a reconnect the client
// presents (id, epoch, last received); the server answers with what it
// last received, and each side replays what the other missed. When the
// server cannot resume — it restarted and lost its sessions, the session
// expired, its replay buffer overflowed while the client was away, or the
// id belongs to another key — it refuses with a close code, and the
// client's application is told (OnLost) before a new session starts: there
// is never a silent gap.
//
// The server side is an http.Handler built on ws.Handler, which runs the
// application's function once per session:
//
//	srv, err := session.NewServer(func(ctx context.Context, s *session.Session) {
//		for m := range s.Incoming() { // every message of the client, once, in order
//			_ = s.Send(ctx, m)
//		}
//	}, session.WithKey(userFromToken))
//	http.Handle("/feed", srv)
//
// The client side is a reconnect.Layer:
//
//	sc, err := session.NewClient(session.OnLost(func(l *session.LostError) { resync(l) }))
//	c, err := reconnect.New("wss://example.com/feed", reconnect.WithLayer(sc))
//	go c.Run(ctx)
//	c.Outgoing() <- ws.Text("x")      // delivered exactly once while the session lives
//	for m := range c.Incoming() { ... }
//
// The protocol is negotiated as the subprotocol Protocol
// ("wsactor.session.v1"); a client that does not offer it gets 400, and a
// client whose server does not select it gives up with ErrNotNegotiated.
// docs/session.md describes the wire format, the close codes and the
// measured cost.
package session
