package handshake

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"strconv"
	"strings"
)

// parseResponse parses a response head (without its final empty line)
// into an *http.Response whose Body is http.NoBody. Header keys are
// canonical.
func parseResponse(head string, maxLines int) (*http.Response, error) {
	line, rest := nextLine(head)
	proto, status, ok := strings.Cut(line, " ")
	major, minor, okp := parseProto(proto)
	if !ok || !okp || major != 1 {
		return nil, ErrMalformedResponse
	}
	codeStr, reason, _ := strings.Cut(status, " ")
	if len(codeStr) != 3 || !isDigit(codeStr[0]) || !isDigit(codeStr[1]) || !isDigit(codeStr[2]) || codeStr[0] == '0' || !validFieldValue(reason) {
		return nil, ErrMalformedResponse
	}
	code, _ := strconv.Atoi(codeStr)
	resp := &http.Response{
		Status:     status,
		StatusCode: code,
		Proto:      proto,
		ProtoMajor: major,
		ProtoMinor: minor,
		Header:     make(http.Header),
		Body:       http.NoBody,
	}
	n := 0
	for rest != "" {
		line, rest = nextLine(rest)
		if n++; n > maxLines {
			return nil, ErrTooManyHeaders
		}
		name, value, ok := parseField(line)
		if !ok {
			return nil, ErrMalformedResponse
		}
		key := textproto.CanonicalMIMEHeaderKey(name)
		resp.Header[key] = append(resp.Header[key], value)
	}
	return resp, nil
}

// formatResponseHead formats resp's status line and headers, the inverse
// of parseResponse (used by the fuzz round trip).
func formatResponseHead(resp *http.Response) string {
	var b strings.Builder
	b.WriteString(resp.Proto)
	b.WriteByte(' ')
	b.WriteString(resp.Status)
	for k, vs := range resp.Header {
		for _, v := range vs {
			b.WriteString("\r\n" + k + ": " + v)
		}
	}
	return b.String()
}

// readRejectBody reads up to MaxRejectBody bytes of a refusal's body,
// following its framing (RFC 9112 §6.3). Errors are ignored: the body is
// only for the error message.
func readRejectBody(br *bufio.Reader, resp *http.Response) []byte {
	if resp.StatusCode < 200 || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
		return nil
	}
	var r io.Reader = br
	switch {
	case hasToken(strings.Join(resp.Header.Values("Transfer-Encoding"), ","), "chunked"):
		r = httputil.NewChunkedReader(br)
	case resp.Header.Get("Content-Length") != "":
		n, err := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64)
		if err != nil || n < 0 {
			return nil
		}
		r = io.LimitReader(br, n)
	}
	b, _ := io.ReadAll(io.LimitReader(r, MaxRejectBody))
	if len(b) == 0 {
		return nil
	}
	return b
}
