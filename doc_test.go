//go:build !js

package ws_test

import (
	"go/ast"
	"go/build"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGodocIsComplete holds the promise that package ws's godoc page is the
// whole story: every exported identifier has a doc comment, and every
// exported function and method appears in a runnable Example (one named
// after it, or one that calls it).
func TestGodocIsComplete(t *testing.T) {
	bp, err := build.Default.ImportDir(".", 0)
	require.NoError(t, err)
	fset := token.NewFileSet()
	parse := func(names []string) []*ast.File {
		var files []*ast.File
		for _, n := range names {
			f, err := parser.ParseFile(fset, n, nil, parser.ParseComments)
			require.NoError(t, err)
			files = append(files, f)
		}
		return files
	}
	pkg, err := doc.NewFromFiles(fset, parse(bp.GoFiles), "github.com/wsactor/ws")
	require.NoError(t, err)

	// The source of every Example function, to look for calls in.
	var examples strings.Builder
	exampleNames := map[string]bool{}
	for _, f := range parse(append(bp.TestGoFiles, bp.XTestGoFiles...)) {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !strings.HasPrefix(fd.Name.Name, "Example") {
				continue
			}
			exampleNames[fd.Name.Name] = true
			src, err := os.ReadFile(fset.File(fd.Pos()).Name())
			require.NoError(t, err)
			examples.Write(src[fset.Position(fd.Pos()).Offset:fset.Position(fd.End()).Offset])
		}
	}
	used := func(pattern string) bool {
		return regexp.MustCompile(pattern).MatchString(examples.String())
	}

	undocumented := func(what, name, text string) {
		assert.NotEmpty(t, strings.TrimSpace(text), "%s %s has no doc comment", what, name)
	}
	noExample := func(name, example, call string) {
		assert.True(t, exampleNames[example] || used(call), "%s is in no Example (want %s, or a call in one)", name, example)
	}
	for _, v := range append(pkg.Consts, pkg.Vars...) {
		for _, n := range v.Names {
			if token.IsExported(n) {
				undocumented("value", n, v.Doc+specDoc(v.Decl, n))
			}
		}
	}
	for _, f := range pkg.Funcs {
		undocumented("func", f.Name, f.Doc)
		noExample(f.Name, "Example"+f.Name, `\bws\.`+f.Name+`\b`)
	}
	for _, typ := range pkg.Types {
		undocumented("type", typ.Name, typ.Doc)
		for _, v := range append(typ.Consts, typ.Vars...) {
			for _, n := range v.Names {
				undocumented("value", n, v.Doc+specDoc(v.Decl, n))
			}
		}
		for _, f := range typ.Funcs {
			undocumented("func", f.Name, f.Doc)
			noExample(f.Name, "Example"+f.Name, `\bws\.`+f.Name+`\b`)
		}
		for _, m := range typ.Methods {
			undocumented("method", typ.Name+"."+m.Name, m.Doc)
			if interfaceMethod[m.Name] {
				continue // called by errors.Is, fmt and the like, not by users
			}
			noExample(typ.Name+"."+m.Name, "Example"+typ.Name+"_"+m.Name, `\.`+m.Name+`\b`)
		}
	}
	assert.NotEmpty(t, pkg.Doc, "package doc")

	// Docs name only identifiers a ws user can reach: an unqualified
	// option, hook or error name must be one of ws's own.
	exported := map[string]bool{}
	var docs strings.Builder
	docs.WriteString(pkg.Doc)
	add := func(name, text string) { exported[name] = true; docs.WriteString(text) }
	for _, v := range append(pkg.Consts, pkg.Vars...) {
		for _, n := range v.Names {
			add(n, v.Doc+specDoc(v.Decl, n))
		}
	}
	for _, f := range pkg.Funcs {
		add(f.Name, f.Doc)
	}
	for _, typ := range pkg.Types {
		add(typ.Name, typ.Doc)
		for _, f := range typ.Funcs {
			add(f.Name, f.Doc)
		}
		for _, m := range typ.Methods {
			docs.WriteString(m.Doc)
		}
		for _, v := range append(typ.Consts, typ.Vars...) {
			for _, n := range v.Names {
				add(n, v.Doc+specDoc(v.Decl, n))
			}
		}
	}
	for _, m := range regexp.MustCompile(`(^|[^.\w])((With|On|Err)[A-Z]\w*)`).FindAllStringSubmatch(docs.String(), -1) {
		assert.True(t, exported[m[2]], "ws's docs name %s, which ws does not export", m[2])
	}
}

// interfaceMethod names the methods that exist to satisfy the standard
// library's interfaces.
var interfaceMethod = map[string]bool{"Error": true, "Unwrap": true, "String": true, "Timeout": true, "Temporary": true}

// specDoc returns the doc or line comment of the spec declaring name in a
// const or var group, which documents that name when the group has none.
func specDoc(decl *ast.GenDecl, name string) string {
	for _, s := range decl.Specs {
		vs, ok := s.(*ast.ValueSpec)
		if !ok {
			continue
		}
		for _, n := range vs.Names {
			if n.Name == name {
				return vs.Doc.Text() + vs.Comment.Text()
			}
		}
	}
	return ""
}
