package frame

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLayering checks for frame/ and its subpackages, like dnsmessage's
// TestNoFmt, that the codec imports nothing above it (nor
// net/http) and starts no goroutine. It reads the source, so it also
// catches code behind build tags.
func TestLayering(t *testing.T) {
	checkLayering(t, ".", []string{
		"net/http",
		"github.com/wsactor/ws",
		"github.com/wsactor/ws/handshake",
		"github.com/wsactor/ws/actor",
		"github.com/wsactor/ws/reconnect",
	}, true)
}

// checkLayering parses every non-test .go file under dir (skipping testdata)
// and fails on an import of a forbidden path or of a package below one
// ("a/b" also forbids "a/b/c"; the module root github.com/wsactor/ws is
// matched exactly, since every layer lives below it), and, if noGo, on any
// go statement. It is self-contained so that another layer (handshake/) can
// copy it as it is.
func checkLayering(t *testing.T, dir string, forbidden []string, noGo bool) {
	t.Helper()
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" || (path != dir && strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			for _, bad := range forbidden {
				if p == bad || (bad != "github.com/wsactor/ws" && strings.HasPrefix(p, bad+"/")) {
					t.Errorf("%s: imports %q, a higher layer or a forbidden package", fset.Position(imp.Pos()), p)
				}
			}
		}
		if noGo {
			ast.Inspect(f, func(n ast.Node) bool {
				if g, ok := n.(*ast.GoStmt); ok {
					t.Errorf("%s: go statement; this layer runs on the caller's goroutine", fset.Position(g.Pos()))
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("no Go files found under %s", dir)
	}
}
