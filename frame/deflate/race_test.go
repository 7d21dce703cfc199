//go:build race

package deflate_test

// raceEnabled: the race detector instruments allocations, which changes the
// heap figures TestIdleMemory asserts and makes it ~100× slower.
const raceEnabled = true
