package interop

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPeerMissingSkips runs the bodies of interop tests that keep a peer
// running while they act, with node gone from PATH and CI unset: each must
// skip (one line saying what is missing), not wait for a peer that never
// started and fail.
func TestPeerMissingSkips(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", "")
	for name, body := range map[string]func(*testing.T){
		"OurServerShutdownNodeClient": ourServerShutdownNodeClient,
	} {
		var sub *testing.T
		ok := t.Run(name, func(t *testing.T) {
			sub = t
			body(t)
		})
		require.True(t, ok, "%s failed without its peer instead of skipping", name)
		require.True(t, sub.Skipped(), "%s did not skip without its peer", name)
	}
}
