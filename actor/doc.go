// Package actor runs one WebSocket connection (RFC 6455) after its
// handshake: a supervisor goroutine owns all connection state, a reader
// goroutine reads frames and a writer goroutine writes them, and the user
// talks to it through channels and context-aware calls.
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
// New starts three goroutines: the supervisor, which starts the reader and
// writer in an errgroup. The supervisor owns every
// piece of mutable state (close handshake, pings in flight, the pong to
// send, a held message) and is the only one that decides how the
// connection ends; the reader and writer do I/O and report to it over
// channels. When the supervisor returns it closes the socket, which ends the
// reader and writer; Done is closed once all three have returned, and
// Incoming is closed right after it.
//
// # Control frames (RFC 6455 §5.5)
//
// The connection answers control frames itself: every PING with a PONG,
// in order, and before any message sent in reply to a data frame that
// followed the ping (the reader reads on only once the pong is with the
// writer, so a flood of pings costs no memory and is slowed to the pace at
// which we can write), a CLOSE by echoing its code and closing (§5.5.1). The user never reads control frames; OnPing and
// OnPong observe them.
//
// # Backpressure
//
// Incoming is bounded. When it is full the reader hands one more message to
// the supervisor, which holds it until there is room, and the reader stops
// reading data frames: TCP flow control then slows the peer. While paused
// the reader still peeks at the next frame and reads it if it is a control
// frame, so a PING or CLOSE sent right behind the data is still answered;
// one queued behind further data frames is not seen until the user reads
// (bytes on a stream cannot be skipped without buffering them). The paused
// reader also reads ahead into its read buffer's free space (WithReadBufferSize),
// so a peer that closes or resets the socket ends the connection with that I/O
// error even if nobody reads Incoming; messages already in Incoming stay
// readable, the held one is lost. Only once that buffer is full does the
// reader stop reading the socket altogether. A closing
// connection stops waiting for the user: once a close frame has been sent or
// received, messages that find Incoming full are dropped so the reader can
// reach the peer's close frame, and the grace period bounds the rest. The
// keepalive pong deadline is suspended while the reader is paused, so a slow
// consumer is not mistaken for a dead peer.
//
// Outgoing is bounded too (and Send calls share the bound): a full queue
// blocks senders. The writer writes everything queued, then flushes once.
// A Send that finds the writer idle writes its message itself, on the
// caller's goroutine, while the writer waits (no goroutine hand-off).
//
// # Buffers
//
// Sending allocates nothing per message. Each received message gets a new
// buffer, which the user keeps; with WithRecycledBuffers the user gives it
// back with Message.Release and receiving allocates nothing either.
//
// # Cancellation
//
// Cancelling the ctx of Send, Ping, Receive or Close ends that call only.
// A cancelled Send either never started its message or waits for the
// writer to finish it, so the stream is never left with half a message and
// the caller's slice is no longer read when Send returns. Close's ctx is the
// exception by design: when it ends the socket is closed without waiting
// for the peer.
//
// # Errors
//
// Err says why the connection ended. A close handshake, complete or not,
// gives a *CloseError: with the peer's code when its close frame arrived
// (Err field nil: the handshake completed), with the code we sent and a
// cause otherwise. A protocol violation by the peer (RFC 6455 §7.1.7) sends
// the close code of the *frame.ProtocolError (1002, 1007, 1009) and gives a
// *CloseError with that code whose Unwrap is the *frame.ProtocolError, so
// errors.As works with both types. Without any close frame it is
// ErrPongTimeout or a wrapped I/O error. CloseStatus maps any of these to a
// close code.
//
// # Not here
//
// The HTTP handshake (package handshake), reconnecting (package reconnect)
// and permessage-deflate's codec (frame/deflate; pass it WithExtension).
package actor
