// Package deflate implements the permessage-deflate WebSocket extension
// (RFC 7692 §6, §7) for the frame codec: per-message compression with RSV1
// on a message's first frame (§6.1), the sync-flush tail stripped on send
// and put back on receipt (§7.2.1, §7.2.2), context takeover kept or reset
// as negotiated (§7.1.1), window bits obeyed (§7.1.2), and decompression
// bounded by the message size limit.
//
// DEFLATE itself is github.com/klauspost/compress/flate, which has
// compress/flate's API: at BestSpeed it compresses about twice as fast,
// holds a 0.8 MiB rather than 1.2 MiB compressor, and inflates without
// allocating, where compress/flate allocates Huffman tables for every
// dynamic block (7–8 allocations per 64 KiB message).
//
// An *Extension is a frame.Extension for one connection; the handshake
// (package handshake) negotiates its Params:
//
//	ext, err := deflate.New(params, frame.Server, deflate.Config{})
//	defer ext.Close()
//	r := frame.NewReader(br, frame.Server, frame.ReaderConfig{Extension: ext})
//	w := frame.NewWriter(conn, frame.Server, frame.WriterConfig{Extension: ext})
//
// Errors from a peer are *frame.ProtocolError: 1009 (frame.ErrMessageTooLarge)
// when a message inflates past the limit, 1007 (ErrCorrupt) for data that is
// not DEFLATE.
//
// Memory, per connection between messages: nothing but the Extension
// (under 200 bytes) without context takeover; the peer's window (2^w bytes,
// 32 KiB by default) when the peer keeps its context; one flate writer
// (about 0.8 MiB at BestSpeed) when we keep ours. Compressors and inflaters are
// otherwise pooled and held only for the length of one message.
//
// What it does not do: negotiation (package handshake); compression within
// a window smaller than 32 KiB, which the encoder cannot do (such
// messages are sent uncompressed, see New); or any I/O — it transforms
// byte slices on the caller's goroutine.
package deflate
