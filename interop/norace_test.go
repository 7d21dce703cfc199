//go:build !race

package interop

// slow scales the deadlines of the heavy tests; see race_test.go.
const slow = 1
