package handshake

import "strings"

// isTokenChar reports whether c is a tchar (RFC 9110 §5.6.2, the token of
// RFC 2616 that RFC 6455 §9.1 refers to).
func isTokenChar(c byte) bool {
	return c < 0x80 && tokenTable[c]
}

var tokenTable = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// isToken reports whether s is a non-empty token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// trimOWS trims optional whitespace (SP, HTAB) from both ends.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// hasToken reports whether the comma-separated list s contains token,
// compared case-insensitively, as for Upgrade and Connection (RFC 6455
// §4.2.1 items 3 and 4; RFC 9110 §7.6.1, §7.8).
func hasToken(s, token string) bool {
	for s != "" {
		var elem string
		elem, s, _ = strings.Cut(s, ",")
		elem = trimOWS(elem)
		// Upgrade elements may carry a version: "websocket/13" is not
		// "websocket", so compare the whole element.
		if strings.EqualFold(elem, token) {
			return true
		}
	}
	return false
}

// appendTokenList parses the comma-separated list of tokens in s (as in
// Sec-WebSocket-Protocol, RFC 6455 §4.1 item 10) and appends them to dst.
// Empty elements are skipped, as RFC 9110 §5.6.1 requires of recipients.
func appendTokenList(dst []string, s string) ([]string, bool) {
	for s != "" {
		var elem string
		elem, s, _ = strings.Cut(s, ",")
		elem = trimOWS(elem)
		if elem == "" {
			continue
		}
		if !isToken(elem) {
			return dst, false
		}
		dst = append(dst, elem)
	}
	return dst, true
}
