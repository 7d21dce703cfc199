package actor

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/wsactor/ws/frame"
)

// PreparedMessage is a data message encoded once for many connections: a
// broadcast. Sending a Message to N connections frames it N times and,
// with permessage-deflate, compresses it N times; a PreparedMessage keeps
// each form the connections need (server or client role, fragment size,
// compressed at some level or not) the first time one of them needs it,
// and every later connection writes those bytes as they are.
//
//   - Server connections write identical bytes (RFC 6455 §5.1: a server
//     does not mask), so their frames are built once, header and all.
//   - Client connections must mask every frame with a fresh key (§5.3),
//     so they share only the (compressed) payload and each masks it into
//     its own write buffer, as for any message; a key shared by all of them
//     would be predictable.
//   - A compressed form comes from a fresh compressor, so it refers to no
//     connection's earlier messages and any peer can inflate it. On a
//     connection that keeps its compression context, the peer's window
//     then holds the message and ours does not: the connection's next
//     compressed message starts a fresh compressor (see
//     deflate.Extension.SharedSent), which keeps both sides in step.
//   - An extension that cannot encode for many connections at once (not a
//     frame.SharedEncoder) encodes the message per connection, as Send
//     does.
//
// A PreparedMessage is safe for concurrent use by any number of
// goroutines and connections; the forms it builds live as long as it
// does.
type PreparedMessage struct {
	typ          MessageType
	data         []byte // our copy of the payload, inside plain.frames
	uncompressed bool

	plain   preparedForm // server role, one frame, not encoded: built by Prepare
	direct  preparedForm // client role, not encoded: data masked per connection
	perConn preparedForm // an extension without SharedEncoder: encoded per connection

	mu    sync.Mutex                   // serialises building forms
	forms atomic.Pointer[preparedForm] // the other forms built, newest first
}

// preparedForm is a prepared message as one kind of connection writes it.
type preparedForm struct {
	key     formKey
	rsv     uint8         // reserved bits of the encoding (frame.Rsv1: compressed)
	payload []byte        // the message's payload as sent: encoded or the data
	frames  []byte        // server role: the whole frames, headers and payload
	ends    []int         // where each frame ends in frames when there are several
	perConn bool          // the connection's extension encodes payload, as for Send
	next    *preparedForm // the form built before this one; fixed once published
}

// formKey is what makes two connections write different bytes.
type formKey struct {
	server   bool
	fragment int          // server role: WithFragmentSize, 0 when the message fits one frame
	encoded  bool         // by a frame.SharedEncoder ...
	extType  reflect.Type // ... of this type (keys of two types mean nothing to each other)
	extKey   int          // ... and key (deflate: the level)
}

// Prepare returns m prepared for SendPrepared on any number of
// connections. It copies m.Data, so the caller may reuse it at once, and
// frames it for server connections (the common broadcaster); every other
// form is made when a connection first needs it. m.Uncompressed makes
// every connection send it uncompressed. A Message whose Type is not text
// or binary is refused with ErrInvalidMessageType.
func Prepare(m Message) (*PreparedMessage, error) {
	if m.Type != frame.OpText && m.Type != frame.OpBinary {
		return nil, ErrInvalidMessageType
	}
	pm := &PreparedMessage{typ: m.Type, uncompressed: m.Uncompressed}
	pm.plain.key = formKey{server: true}
	pm.plain.frames, _ = buildFrames(m.Type, 0, m.Data, 0)
	n := len(pm.plain.frames)
	pm.data = pm.plain.frames[n-len(m.Data) : n : n]
	pm.plain.payload = pm.data
	pm.direct.payload = pm.data
	pm.perConn = preparedForm{payload: pm.data, perConn: true}
	return pm, nil
}

// Type returns the message's type.
func (pm *PreparedMessage) Type() MessageType { return pm.typ }

// Len returns the length of the message's payload, before any encoding.
func (pm *PreparedMessage) Len() int { return len(pm.data) }

// SendPrepared is Send of a prepared message: it writes pm and returns once
// it has been written to the socket, with Send's rules for ordering behind
// Outgoing and queued Sends, for ctx and for the errors it returns. The
// form pm takes on c is made first if no connection like c has needed it
// yet (compressing it, with permessage-deflate); an error doing so is
// returned and nothing is sent. The connection never modifies pm.
func (c *Conn) SendPrepared(ctx context.Context, pm *PreparedMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := pm.formFor(c)
	if err != nil {
		return err
	}
	return c.send(ctx, Message{Type: pm.typ, Data: pm.data}, f)
}

// formFor returns the form of pm that c writes, building it if needed.
func (pm *PreparedMessage) formFor(c *Conn) (*preparedForm, error) {
	k := formKey{server: c.role == frame.Server}
	if k.server && c.cfg.fragment > 0 && c.cfg.fragment < len(pm.data) {
		// An encoded payload is shorter than the data or declined, so it
		// too fits one frame when the data does.
		k.fragment = c.cfg.fragment
	}
	var se frame.SharedEncoder
	if ext := c.cfg.extension; ext != nil && !pm.uncompressed {
		var ok bool
		if se, ok = ext.(frame.SharedEncoder); !ok {
			return &pm.perConn, nil
		}
		if key, ok := se.SharedKey(len(pm.data)); ok {
			k.encoded, k.extType, k.extKey = true, reflect.TypeOf(se), key
		}
	}
	switch k {
	case pm.plain.key:
		return &pm.plain, nil
	case formKey{}:
		return &pm.direct, nil
	}
	if f := pm.lookup(k); f != nil {
		return f, nil
	}
	pm.mu.Lock()
	defer pm.mu.Unlock()
	if f := pm.lookup(k); f != nil {
		return f, nil // built while we waited for mu
	}
	f, err := pm.build(k, se)
	if err != nil {
		return nil, err // not kept: the next connection tries again
	}
	f.next = pm.forms.Load()
	pm.forms.Store(f)
	return f, nil
}

// lookup finds a built form without taking mu.
func (pm *PreparedMessage) lookup(k formKey) *preparedForm {
	for f := pm.forms.Load(); f != nil; f = f.next {
		if f.key == k {
			return f
		}
	}
	return nil
}

// build makes the form for k: compressed by se if k says so, then framed
// for the server role.
func (pm *PreparedMessage) build(k formKey, se frame.SharedEncoder) (*preparedForm, error) {
	f := &preparedForm{key: k, payload: pm.data}
	if k.encoded {
		// Room for any output that is kept, with deflate's 4-byte flush
		// tail: an output longer than the message is declined.
		out, rsv, err := se.EncodeShared(make([]byte, 0, len(pm.data)+8), pm.data, pm.typ)
		if err != nil {
			return nil, fmt.Errorf("ws: prepare: %w", err)
		}
		if rsv != 0 {
			f.payload, f.rsv = out, rsv
		}
	}
	if k.server {
		f.frames, f.ends = buildFrames(pm.typ, f.rsv, f.payload, k.fragment)
		f.payload = nil // in frames now; the compressor's output can go
	}
	return f, nil
}

// buildFrames frames an unmasked message: one frame, or fragments of at
// most fragment bytes with rsv on the first (RFC 6455 §5.4). ends is nil
// for one frame, else where each frame ends.
func buildFrames(op MessageType, rsv uint8, payload []byte, fragment int) (b []byte, ends []int) {
	if fragment <= 0 || len(payload) <= fragment {
		h := frame.Header{Fin: true, Rsv: rsv, Opcode: op, Length: int64(len(payload))}
		b = make([]byte, 0, h.Size()+len(payload))
		b = frame.AppendHeader(b, h)
		return append(b, payload...), nil
	}
	n := (len(payload) + fragment - 1) / fragment
	b = make([]byte, 0, len(payload)+n*frame.MaxHeaderSize)
	ends = make([]int, 0, n)
	for first := true; len(payload) > 0; first = false {
		chunk := payload[:min(len(payload), fragment)]
		payload = payload[len(chunk):]
		h := frame.Header{Fin: len(payload) == 0, Opcode: frame.OpContinuation, Length: int64(len(chunk))}
		if first {
			h.Opcode, h.Rsv = op, rsv
		}
		b = frame.AppendHeader(b, h)
		b = append(b, chunk...)
		ends = append(ends, len(b))
	}
	return b, ends
}

// writeSpecial writes one data message (not flushed) for whoever holds
// the write right, when it is not a plain Message: the form f of a
// prepared message that m names, or m marked Uncompressed. Callers test
// for those themselves, so that a plain message costs Send and Outgoing no
// call more than before.
func (c *Conn) writeSpecial(m Message, f *preparedForm) error {
	if f != nil {
		return c.writePrepared(m.Type, f)
	}
	return c.fw.WriteMessageUnencoded(m.Type, m.Data)
}

// writePrepared writes a prepared message's form (not flushed). Control
// frames waiting go out between fragments, as for any message.
func (c *Conn) writePrepared(op MessageType, f *preparedForm) error {
	if f.perConn {
		return c.fw.WriteMessage(op, f.payload)
	}
	if f.rsv != 0 {
		// Before the first byte: whether the write then fails or not, the
		// stream's compression context is no longer the one we had.
		c.cfg.extension.(frame.SharedEncoder).SharedSent(f.rsv)
	}
	if f.frames == nil {
		return c.fw.WriteEncodedMessage(op, f.rsv, f.payload) // client: masked per frame
	}
	if f.ends == nil {
		return c.fw.WriteRaw(f.frames)
	}
	start := 0
	for i, end := range f.ends {
		if i > 0 {
			if err := c.betweenFragments(); err != nil {
				return err
			}
		}
		if err := c.fw.WriteRaw(f.frames[start:end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}
