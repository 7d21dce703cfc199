// Package frame is the RFC 6455 codec: frame headers (§5.2), masking (§5.3),
// fragmentation (§5.4), control frames (§5.5), close payloads (§5.5.1, §7.4),
// UTF-8 validation of text (§8.1) and the size limits a receiver needs.
//
// It has no goroutines and no net/http: a Reader turns a *bufio.Reader into
// whole messages and a Writer turns messages into frames on any io.Writer, so
// it can be used alone by someone with their own concurrency model:
//
//	r := frame.NewReader(bufio.NewReader(conn), frame.Server, frame.ReaderConfig{})
//	w := frame.NewWriter(conn, frame.Server, frame.WriterConfig{})
//	op, msg, err := r.ReadMessage(nil)   // data message, or a control frame
//	err = w.WriteMessage(op, msg)        // echo it
//	err = w.Flush()
//
// Every protocol violation is a *ProtocolError carrying the close code the
// RFC asks the receiver to send (1002, 1007 or 1009) and wrapping one of the
// sentinel errors in errors.go, so callers use errors.As and errors.Is rather
// than matching text.
//
// Extensions (permessage-deflate, RFC 7692, in package frame/deflate) plug in
// through the Extension interface: they claim reserved bits and transform
// whole message payloads.
//
// What it does not do: the opening handshake (package handshake), answering
// pings or running the close handshake (package actor), or any I/O on its
// own schedule.
package frame
