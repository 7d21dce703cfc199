package handshake

import (
	"fmt"
	"strings"
)

// Negotiator negotiates one extension (RFC 6455 §9). The server calls
// Negotiate; the client calls Offers and then Verify. PerMessageDeflate is
// the one this package provides.
//
// A Negotiator must be safe for concurrent use when its Server or Client is
// shared: the methods are called from many handshakes at once.
type Negotiator interface {
	// Name is the extension's registered token, e.g. "permessage-deflate".
	Name() string
	// Offers returns the client's offer elements, most preferred first;
	// each must be named Name. Client side.
	Offers() []Extension
	// Negotiate returns the response element for one of the client's
	// offers (all named Name, in the client's order of preference), or
	// false to decline them all. Server side.
	Negotiate(offers []Extension) (Extension, bool)
	// Verify checks the server's response element, which answers one of
	// Offers. An error fails the handshake (RFC 6455 §9.1: the client
	// must fail the connection on a response it did not ask for). Client
	// side.
	Verify(response Extension) error
}

// negotiateExtensions runs each negotiator, in the server's order, over the
// client's offers for its name and returns the accepted response elements.
func negotiateExtensions(negs []Negotiator, offers []Extension) []Extension {
	if len(offers) == 0 {
		return nil
	}
	var out []Extension
	for _, n := range negs {
		of := offersFor(offers, n.Name())
		if len(of) == 0 {
			continue
		}
		if resp, ok := n.Negotiate(of); ok {
			out = append(out, resp)
		}
	}
	return out
}

// verifyExtensions checks the server's Sec-WebSocket-Extensions response
// against the offers (RFC 6455 §4.1 item 6 of the response checks, §9.1):
// each element must name an offered extension, at most once.
func verifyExtensions(negs []Negotiator, resp []Extension) error {
	for i, e := range resp {
		for _, prev := range resp[:i] {
			if strings.EqualFold(prev.Name, e.Name) {
				return fmt.Errorf("%w: %s accepted twice", ErrExtensionParams, e.Name)
			}
		}
		var n Negotiator
		for _, c := range negs {
			if strings.EqualFold(c.Name(), e.Name) {
				n = c
				break
			}
		}
		if n == nil {
			return fmt.Errorf("%w: %s", ErrExtensionNotOffered, e.Name)
		}
		if err := n.Verify(e); err != nil {
			return err
		}
	}
	return nil
}

// selectSubprotocol returns the first of the server's preferences that the
// client offered (RFC 6455 §4.2.2 item 5.4: the server picks one of the
// client's values, or none).
func selectSubprotocol(server, offered []string) string {
	for _, s := range server {
		for _, o := range offered {
			if s == o {
				return s
			}
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
