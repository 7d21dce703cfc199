package wstest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws/internal/wstest"
)

// TestMissingPeerSkipsTest: with node gone from PATH and CI unset, every
// helper that starts a peer skips its test, and the skip stops the test
// right there, because the helper runs on the test's goroutine: nothing
// after the call runs. Each helper runs in a subtest of its own so the
// skip can be observed from outside.
func TestMissingPeerSkipsTest(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", "")
	for _, tc := range []struct {
		name  string
		start func(t *testing.T)
	}{
		{"RequirePeer node", func(t *testing.T) { wstest.RequirePeer(t, wstest.PeerNode) }},
		{"RequirePeer chromium", func(t *testing.T) { wstest.RequirePeer(t, wstest.PeerChromium) }},
		{"StartNodeServer", func(t *testing.T) { wstest.StartNodeServer(t, "echo") }},
		{"StartNodeClient", func(t *testing.T) {
			wstest.StartNodeClient(t, wstest.Deadline(t), "ws://127.0.0.1:9/", nil)
		}},
		{"RunNodeClient", func(t *testing.T) {
			_, _ = wstest.RunNodeClient(t, wstest.Deadline(t), "ws://127.0.0.1:9/", nil)
		}},
		{"StartChromium", func(t *testing.T) {
			wstest.StartChromium(t, wstest.Deadline(t), "about:blank", wstest.ArtifactPath(t, "x.png"), "")
		}},
		{"RunChromium", func(t *testing.T) {
			_, _ = wstest.RunChromium(t, wstest.Deadline(t), "about:blank", wstest.ArtifactPath(t, "x.png"))
		}},
		{"RunChromiumEval", func(t *testing.T) {
			_, _ = wstest.RunChromiumEval(t, wstest.Deadline(t), "about:blank", wstest.ArtifactPath(t, "x.png"), "")
		}},
	} {
		var (
			sub     *testing.T
			reached bool
		)
		t.Run(tc.name, func(t *testing.T) {
			sub = t
			tc.start(t)
			reached = true
		})
		require.True(t, sub.Skipped(), "%s did not skip without node", tc.name)
		require.False(t, reached, "%s skipped, but the test went on past it", tc.name)
	}
}
