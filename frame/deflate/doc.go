// Package deflate implements the permessage-deflate WebSocket extension
// (RFC 7692) for the frame codec: per-message compression and bounded
// decompression. Negotiation of Params lives in package handshake.
package deflate
