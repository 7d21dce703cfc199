package wstest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Peer names for RequirePeer.
const (
	// PeerNode is node with the npm ws package: ws-server.js, ws-client.js.
	PeerNode = "node"
	// PeerChromium is Debian's Chromium driven by playwright-core through
	// chromium.js; it needs PeerNode too.
	PeerChromium = "chromium"
)

// DefaultChromiumPath is where Debian's chromium package puts the browser.
// CHROMIUM_PATH overrides it.
const DefaultChromiumPath = "/usr/bin/chromium"

// NodeDir returns the absolute path of internal/wstest/node, the npm package
// holding the peer scripts, located from this source file.
func NodeDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("wstest: runtime.Caller failed")
	}
	return filepath.Join(filepath.Dir(file), "node")
}

// ChromiumPath returns CHROMIUM_PATH if set, else DefaultChromiumPath.
func ChromiumPath() string {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	return DefaultChromiumPath
}

var nodeVersion = sync.OnceValues(func() (int, error) {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return 0, err
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, _, _ := strings.Cut(v, ".")
	return strconv.Atoi(major)
})

// missingPeer lists what name lacks on this machine; empty means ready.
func missingPeer(name string) []string {
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node in $PATH (apt-get install nodejs)")
	} else if name == PeerChromium {
		// playwright-core wants node 20 or later.
		if major, err := nodeVersion(); err != nil || major < 20 {
			missing = append(missing, fmt.Sprintf("node 20 or later (have major %d, err %v)", major, err))
		}
	}
	pkgs := []string{"ws"}
	if name == PeerChromium {
		pkgs = append(pkgs, "playwright-core")
	}
	for _, p := range pkgs {
		if _, err := os.Stat(filepath.Join(NodeDir(), "node_modules", p, "package.json")); err != nil {
			missing = append(missing, "npm package "+p+" in "+filepath.Join(NodeDir(), "node_modules"))
		}
	}
	if name == PeerChromium {
		if fi, err := os.Stat(ChromiumPath()); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			missing = append(missing, ChromiumPath()+" (apt-get install chromium)")
		}
	}
	return missing
}

// RequirePeer checks that the interop peer name (PeerNode or PeerChromium)
// can run here. If it cannot, the test is skipped with a message saying how
// to install it — or, when CI=true, failed: under CI a missing peer is a
// broken machine, never a reason to skip. Like t.Skip itself, it must be
// called on the test's goroutine.
func RequirePeer(t testing.TB, name string) {
	t.Helper()
	if name != PeerNode && name != PeerChromium {
		t.Fatalf("wstest: unknown peer %q (want %q or %q)", name, PeerNode, PeerChromium)
	}
	missing := missingPeer(name)
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("interop peer %s unavailable: missing %s; `make test` installs what it can (npm ci in internal/wstest/node; apt-get install chromium as root), `make deps` all of it",
		name, strings.Join(missing, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s [CI=true: a missing peer fails]", msg)
	}
	t.Skip(msg)
}
