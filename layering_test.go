package ws

import (
	"go/build"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLayering enforces that each layer imports only the ones below it:
// frame ← handshake ← actor ← ws ← reconnect ← session. It reads the import lists
// of every library package (tests included, since a test importing a higher
// layer would hide a cycle the library itself does not have).
func TestLayering(t *testing.T) {
	const mod = "github.com/wsactor/ws"
	rank := map[string]int{
		mod + "/frame":         0,
		mod + "/frame/deflate": 0,
		mod + "/handshake":     1,
		mod + "/actor":         2,
		mod:                    3,
		mod + "/reconnect":     4,
		mod + "/session":       5,
	}
	for pkg, r := range rank {
		dir := "." + strings.TrimPrefix(pkg, mod)
		p, err := build.ImportDir(dir, 0)
		require.NoError(t, err, pkg)
		imports := append(append(p.Imports, p.TestImports...), p.XTestImports...)
		for _, imp := range imports {
			if imp == pkg || !strings.HasPrefix(imp, mod) {
				continue
			}
			if strings.HasPrefix(imp, mod+"/internal/") {
				continue // test helpers; library code is checked below
			}
			ir, known := rank[imp]
			require.True(t, known, "%s imports %s, which has no layer", pkg, imp)
			if ir > r {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports only go down", path.Base(pkg), r, imp, ir)
			}
		}
		for _, imp := range p.Imports {
			require.False(t, strings.HasPrefix(imp, mod+"/internal/"), "%s: library code imports test helpers %s", pkg, imp)
		}
	}
}
