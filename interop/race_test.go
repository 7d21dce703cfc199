//go:build race

package interop

// slow scales the deadlines of the heavy tests (8 MiB compressed messages):
// the race detector makes compress/flate several times slower.
const slow = 4
