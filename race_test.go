//go:build race

package ws_test

// raceEnabled: the race detector instruments allocations, which changes the
// heap figures TestIdleMemory asserts and makes it far slower.
const raceEnabled = true
