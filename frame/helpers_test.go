package frame

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// maskBytes is the plain byte loop of RFC 6455 §5.3, the reference Mask is
// tested and benchmarked against.
func maskBytes(key [4]byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

// unhex decodes a hex literal that may contain spaces, as the RFC prints
// its examples ("81 05 48 65 6c 6c 6f").
// It panics on a malformed literal: they are all in the source.
func unhex(_ testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "\n", "", "\t", "").Replace(s))
	if err != nil {
		panic(err)
	}
	return b
}

// requireProtocolError asserts that err is the sentinel want, wrapped in a
// *ProtocolError that carries the close code code.
func requireProtocolError(t testing.TB, err error, want error, code StatusCode) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, want)
	var pe *ProtocolError
	require.True(t, errors.As(err, &pe), "error %v is not a *ProtocolError", err)
	require.Equal(t, code, pe.Code, "close code for %v", err)
}

// keySource returns a deterministic source of masking keys for
// WriterConfig.Rand: key repeated for as many frames as a test writes.
func keySource(key [4]byte) *repeatReader { return &repeatReader{pat: key[:]} }

type repeatReader struct {
	pat   []byte
	i     int
	reads int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	r.reads++
	for n := range p {
		p[n] = r.pat[r.i%len(r.pat)]
		r.i++
	}
	return len(p), nil
}
