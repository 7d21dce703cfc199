package handshake

import (
	"path"
	"strings"
)

// checkOrigin applies the server's origin policy to a browser's Origin
// header (RFC 6455 §4.2.2 item 4, §10.2): accepted when absent, when its
// host equals Host (case-insensitively), or when it matches one of patterns.
// A pattern is a path.Match pattern on the origin's host ("*.example.com"),
// or on the whole origin when it contains "://" ("https://*.example.com").
func checkOrigin(origin, host string, patterns []string) bool {
	if origin == "" {
		return true
	}
	_, rest, ok := strings.Cut(origin, "://")
	if !ok {
		return matchOrigin(origin, origin, patterns) // e.g. "null"
	}
	h, _, _ := strings.Cut(rest, "/")
	if strings.EqualFold(h, host) {
		return true
	}
	return matchOrigin(origin, h, patterns)
}

func matchOrigin(origin, host string, patterns []string) bool {
	for _, p := range patterns {
		target := host
		if strings.Contains(p, "://") {
			target = origin
		}
		if ok, err := path.Match(strings.ToLower(p), strings.ToLower(target)); err == nil && ok {
			return true
		}
	}
	return false
}
