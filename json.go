package ws

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"sync"
)

// DecodeError is a received message that did not decode as JSON into the
// requested type. The connection goes on: ReceiveJSON and JSON report the
// message and leave it to the caller to skip it or end the connection. Find
// it with errors.As; Unwrap gives encoding/json's error (*json.SyntaxError,
// *json.UnmarshalTypeError, ...).
type DecodeError struct {
	Type MessageType // the message's type
	Data []byte      // the message as received; the caller's to keep
	Err  error       // encoding/json's error
}

// Error says what type of message failed to decode, and why.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("ws: decoding a %d-byte %v message as JSON: %v", len(e.Data), e.Type, e.Err)
}

// Unwrap returns encoding/json's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// SendJSON sends v encoded by encoding/json (as json.Marshal does, without
// a trailing newline) as one text message, and returns as Send does: once
// it is written, or with ctx's error, or ErrClosed. A value that does not
// encode returns encoding/json's error and sends nothing.
//
// The encoding goes into a pooled buffer that is reused once Send returns,
// so a steady stream of messages allocates only what encoding/json itself
// does for v.
func SendJSON[T any](ctx context.Context, c *Conn, v T) error {
	b := jsonPool.Get().(*jsonBuf)
	defer b.put()
	if err := b.enc.Encode(v); err != nil {
		return fmt.Errorf("ws: encoding JSON: %w", err)
	}
	p := b.buf.Bytes()
	return c.Send(ctx, Message{Type: TextMessage, Data: p[:len(p)-1]}) // without Encode's '\n'
}

// jsonBuf is a reusable encoding buffer with its encoder.
type jsonBuf struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// maxPooledJSON bounds the buffers kept in jsonPool, so that one big
// message does not pin its buffer.
const maxPooledJSON = 64 << 10

var jsonPool = sync.Pool{New: func() any {
	b := new(jsonBuf)
	b.enc = json.NewEncoder(&b.buf)
	return b
}}

func (b *jsonBuf) put() {
	if b.buf.Cap() > maxPooledJSON {
		return
	}
	b.buf.Reset()
	jsonPool.Put(b)
}

// ReceiveJSON receives the next message and decodes it into a T with
// encoding/json. Text and binary messages are decoded alike. A message that
// does not decode returns a *DecodeError holding it, and the connection
// goes on. Otherwise the errors are Receive's: ctx's error (only this call
// ends), or ErrClosed once no message can come, wrapping Err (a
// *CloseError, found with errors.As, says how the connection ended).
func ReceiveJSON[T any](ctx context.Context, c *Conn) (T, error) {
	var v T
	select {
	case m, ok := <-c.Incoming():
		if !ok {
			return v, closedErr(c)
		}
		return decodeJSON[T](m)
	case <-ctx.Done():
		return v, ctx.Err()
	}
}

// JSON returns an iterator over the messages c receives, each decoded into
// a T with encoding/json, for a range loop:
//
//	for v, err := range ws.JSON[Event](c) {
//		if err != nil { ... }
//	}
//
// A message that does not decode yields the zero T and a *DecodeError, and
// the loop goes on with the next message unless the caller breaks out;
// breaking out leaves the connection open (close it to end it, or read on
// from Incoming). The loop ends when the connection does: after a close
// handshake that completed with 1000 (normal closure), 1001 (going away)
// or no code (1005) it just ends; after any other end it yields a last
// zero T with c's Err (a *CloseError, or the error that ended it).
//
// JSON is an iterator rather than a channel because it needs no goroutine
// of its own: it reads c's Incoming only while the loop asks for the next
// value, so Incoming's bound still slows the peer when the loop body is
// slow, nothing is left running when the loop breaks, and a decode error
// arrives in line with the values. Only one loop (or other reader of
// Incoming) should receive from c at a time: each message goes to one of
// them.
func JSON[T any](c *Conn) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for m := range c.Incoming() {
			if !yield(decodeJSON[T](m)) {
				return
			}
		}
		if err := c.Err(); err != nil && !cleanClose(err) {
			var zero T
			yield(zero, err)
		}
	}
}

// decodeJSON decodes m into a T. m's buffer is released (it goes back to
// a connection that recycles buffers, see actor.WithRecycledBuffers) unless
// a *DecodeError hands it to the caller: encoding/json copies what it keeps.
func decodeJSON[T any](m Message) (T, error) {
	var v T
	if err := json.Unmarshal(m.Data, &v); err != nil {
		return v, &DecodeError{Type: m.Type, Data: m.Data, Err: err}
	}
	m.Release()
	return v, nil
}

// closedErr is ErrClosed wrapping why c ended.
func closedErr(c *Conn) error {
	if err := c.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return ErrClosed
}
