package frame

import (
	"bufio"
	"bytes"
	"io"
)

// Rebuffer returns a reader of r with a buffer of size bytes (or of
// br.Buffered(), if that is more) that first yields the bytes br has
// buffered and then reads r. A handshake reads through a buffered reader and
// may read past its own end into the first frames; Rebuffer moves the frame
// layer onto a buffer of the size it wants without losing those bytes.
// br must not be used afterwards.
func Rebuffer(r io.Reader, br *bufio.Reader, size int) *bufio.Reader {
	n := br.Buffered()
	if n == 0 {
		return bufio.NewReaderSize(r, size)
	}
	rest, _ := br.Peek(n)
	// io.MultiReader lets go of the copy once it is read.
	return bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(rest)), r), max(size, n))
}
