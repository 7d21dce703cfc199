// Package actor runs one WebSocket connection (RFC 6455) after its
// handshake: a reader and a writer goroutine own the socket, and the user
// talks to the connection through channels and context-aware calls.
//
//	c, err := actor.New(netConn, br, frame.Client, actor.WithKeepalive(30*time.Second, 10*time.Second))
//	go func() { for m := range c.Incoming() { handle(m) } }()
//	err = c.Send(ctx, actor.Text("hello"))       // returns once written
//	rtt, err := c.Ping(ctx)
//	err = c.Close(ctx, frame.StatusNormalClosure, "bye")  // full handshake
//	<-c.Done(); why := c.Err()
//
// # Goroutines
//
// New starts two goroutines. The reader reads frames and handles each
// where it stands: data messages go into Incoming, pings queue their pongs,
// pongs answer pings, and a close frame or a protocol error moves the close
// handshake on. The writer writes what Outgoing brings, queued Sends,
// control frames and the close frame. Timers (keepalive, close grace
// period, lifetime) are callbacks that need neither goroutine, so a write
// blocked on a stalled peer cannot hold them up. The state they share — the close handshake,
// pings in flight, who is writing — is guarded by one mutex that nobody
// holds across I/O. A Send that finds nothing else being written writes its
// message itself, on the caller's goroutine. Done is closed once both
// goroutines have returned; Incoming is closed right after it.
//
// # Control frames (RFC 6455 §5.5)
//
// The connection answers control frames itself: every PING with a PONG,
// in order and before any reply to a message that followed the ping (up to
// 16 pongs wait; past that the newest replaces the last, as §5.5.3 allows),
// and a CLOSE by echoing its code and closing (§5.5.1). The reader never
// waits for a pong to be written. Pongs and pings go out between the
// fragments of a long message (WithFragmentSize). The user never reads
// control frames; OnPing and OnPong observe them.
//
// # Backpressure
//
// Incoming is bounded in messages (WithIncomingBuffer) and in bytes
// (WithIncomingBytes). When a message does not fit, it is held back and the
// reader reads no further data frame until it has been delivered: TCP flow
// control then slows the peer. While paused the reader still reads a
// control frame right behind the held message, and reads ahead into its
// read buffer's free space (WithReadBufferSize), so a peer that closes or
// resets the socket ends the connection even if nobody reads Incoming.
// Keepalive goes on meanwhile: bytes that arrive count as the peer's
// answer, and a peer that sends nothing at all is timed out. A closing
// connection stops waiting for the user: messages that find Incoming full
// are dropped so the reader can reach the peer's close frame, and the grace
// period bounds the rest.
//
// Outgoing is bounded too: a full channel blocks senders. The writer
// writes everything queued, then flushes once. A Send waits for its own
// message to be written.
//
// # Buffers
//
// Sending allocates nothing per message. Each received message gets a new
// buffer, which the user keeps; with WithRecycledBuffers the user gives it
// back with Message.Release and receiving allocates nothing either.
//
// # Cancellation
//
// Cancelling the ctx of Ping or Receive ends that call only; so does
// cancelling a Send before its message started. A Send whose ctx ends while
// its message is being written interrupts the write and ends the
// connection, since a stream cannot go on after part of a frame. Close's
// ctx bounds the handshake: when it ends the socket is closed without
// waiting for the peer.
//
// # Errors
//
// Err says why the connection ended. A close handshake, complete or not,
// gives a *CloseError: with the peer's code when its close frame arrived
// (Err field nil: the handshake completed), with the code we sent and a
// cause otherwise. A protocol violation by the peer (RFC 6455 §7.1.7) sends
// the close code of the *frame.ProtocolError (1002, 1007, 1009) and gives a
// *CloseError with that code whose Unwrap is the *frame.ProtocolError, so
// errors.As works with both types. The close frame waits until the user
// calls Close, at most WithFailLinger, so that replies to the messages
// received before the violation go out first; Incoming is closed behind
// those messages. Without any close frame it is ErrPongTimeout or a wrapped
// I/O error. CloseStatus maps any of these to a close code.
//
// # Not here
//
// The HTTP handshake (package handshake), reconnecting (package reconnect)
// and permessage-deflate's codec (frame/deflate; pass it WithExtension).
package actor
