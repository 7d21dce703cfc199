package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
)

// smallHead is the buffer a client starts reading a response head with.
const smallHead = 4096

// errBufferFull: see readHead.
var errBufferFull = errors.New("handshake: head larger than the read buffer")

// readHead reads an HTTP/1.1 message head (start line and header fields, up
// to and including the empty line) from br and returns it, without the
// final empty line, as one string: every field parsed from it is a
// substring, so the head costs one allocation. Lines may end in CRLF or LF.
//
// A head longer than max bytes yields ErrHeaderTooLarge. If br's buffer is
// smaller than max and fills before the head ends, readHead returns
// errBufferFull with everything read still buffered, so that the caller
// can go on with a bigger buffer (see frame.Rebuffer). Bytes after the head stay
// buffered in br.
func readHead(br *bufio.Reader, max int) (string, error) {
	scanned := 0
	for {
		buf, _ := br.Peek(br.Buffered())
		if end, next := headEnd(buf, scanned); end >= 0 {
			if next > max {
				return "", ErrHeaderTooLarge
			}
			head := string(buf[:end])
			_, _ = br.Discard(next)
			return head, nil
		}
		if len(buf) >= max {
			return "", ErrHeaderTooLarge
		}
		if len(buf) > 3 {
			scanned = len(buf) - 3
		}
		if _, err := br.Peek(len(buf) + 1); err != nil {
			switch {
			case errors.Is(err, bufio.ErrBufferFull) && br.Size() < max:
				return "", errBufferFull
			case errors.Is(err, bufio.ErrBufferFull):
				return "", ErrHeaderTooLarge
			case err == io.EOF && len(buf) > 0:
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
	}
}

// headEnd finds the empty line that ends a head in buf, searching from
// offset from. It returns the length of the head without its last line
// terminator and the offset just past the empty line, or -1, -1.
func headEnd(buf []byte, from int) (end, next int) {
	for i := from; ; {
		j := bytes.IndexByte(buf[i:], '\n')
		if j < 0 {
			return -1, -1
		}
		i += j + 1 // just past an LF
		switch {
		case i < len(buf) && buf[i] == '\n':
			return trimCR(buf, i), i + 1
		case i+1 < len(buf) && buf[i] == '\r' && buf[i+1] == '\n':
			return trimCR(buf, i), i + 2
		case i >= len(buf):
			return -1, -1
		}
	}
}

// trimCR returns the end of the line that ends just before offset i (which
// follows an LF), excluding the LF and an optional CR.
func trimCR(buf []byte, i int) int {
	i--
	if i > 0 && buf[i-1] == '\r' {
		i--
	}
	return i
}

// nextLine splits off the first line of s, without its CRLF or LF.
func nextLine(s string) (line, rest string) {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		line, rest = s, ""
	} else {
		line, rest = s[:i], s[i+1:]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

// parseField splits a header field line "Name: value" (RFC 9112 §5). The
// name must be a token immediately followed by a colon; optional whitespace
// around the value is removed; obsolete line folding and control characters
// other than HTAB are refused.
func parseField(line string) (name, value string, ok bool) {
	colon := strings.IndexByte(line, ':')
	if colon <= 0 {
		return "", "", false
	}
	name = line[:colon]
	if !isToken(name) {
		return "", "", false
	}
	value = trimOWS(line[colon+1:])
	if !validFieldValue(value) {
		return "", "", false
	}
	return name, value, true
}

// validFieldValue reports whether v holds only VCHAR, obs-text, SP and HTAB.
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// parseProto parses "HTTP/x.y" (RFC 9112 §2.3).
func parseProto(s string) (major, minor int, ok bool) {
	if len(s) != 8 || s[:5] != "HTTP/" || s[6] != '.' || !isDigit(s[5]) || !isDigit(s[7]) {
		return 0, 0, false
	}
	return int(s[5] - '0'), int(s[7] - '0'), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
