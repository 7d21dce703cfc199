package wstest

import (
	"context"
	"net"
	"testing"
	"time"
)

// DefaultTimeout bounds a test's context in Deadline.
const DefaultTimeout = 30 * time.Second

// TCPPair returns the two ends of a TCP connection over 127.0.0.1. A
// t.Cleanup closes both.
func TCPPair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("wstest: listen: %v", err)
	}
	defer ln.Close()
	// The kernel completes the connection into the listen backlog, so
	// dialling before accepting needs no goroutine.
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("wstest: dial: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	server, err = ln.Accept()
	if err != nil {
		t.Fatalf("wstest: accept: %v", err)
	}
	t.Cleanup(func() { server.Close() })
	return client, server
}

// Deadline returns a context that ends after DefaultTimeout, or a second
// before the test binary's -timeout if that comes first, and is cancelled
// when the test ends. Use it to bound every blocking call in a test.
func Deadline(t testing.TB) context.Context {
	t.Helper()
	return DeadlineAfter(t, DefaultTimeout)
}

// DeadlineAfter is Deadline with timeout d instead of DefaultTimeout.
func DeadlineAfter(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	end := time.Now().Add(d)
	if td, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := td.Deadline(); ok && dl.Add(-time.Second).Before(end) {
			end = dl.Add(-time.Second)
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), end)
	t.Cleanup(cancel)
	return ctx
}
