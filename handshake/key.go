package handshake

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"io"
)

// keyGUID is the GUID of RFC 6455 §1.3 and §4.2.2, appended to the key
// before hashing.
const keyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// NewKey returns a fresh Sec-WebSocket-Key: base64 of 16 random bytes
// (RFC 6455 §4.1, item 7). It reads from r, or crypto/rand when r is nil.
func NewKey(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}

// AcceptKey returns the Sec-WebSocket-Accept value for key: base64 of the
// SHA-1 of key followed by the RFC's GUID (RFC 6455 §4.2.2, item 5.4).
func AcceptKey(key string) string {
	var buf [28]byte
	return string(appendAccept(buf[:0], key))
}

// appendAccept appends the accept value for key to dst without allocating
// when dst has room for 28 bytes.
func appendAccept(dst []byte, key string) []byte {
	var in [96]byte
	sum := sha1.Sum(append(append(in[:0], key...), keyGUID...))
	n := base64.StdEncoding.EncodedLen(sha1.Size)
	dst = append(dst, make([]byte, n)...)
	base64.StdEncoding.Encode(dst[len(dst)-n:], sum[:])
	return dst
}

// validKey reports whether key is base64 of exactly 16 bytes (RFC 6455
// §4.2.1, item 5).
func validKey(key string) bool {
	if len(key) != 24 || key[22] != '=' || key[23] != '=' {
		return false
	}
	var b [18]byte
	n, err := base64.StdEncoding.Decode(b[:], []byte(key))
	return err == nil && n == 16
}
