// Package wstest holds the test helpers shared by wsactor's packages: a
// loopback TCP pair, a bounded test context, and the interop peers — the npm
// ws server and client and a headless Chromium — run as child processes from
// the node package in internal/wstest/node.
//
// The peers need node (20 or later), `npm ci` in internal/wstest/node and
// /usr/bin/chromium. `make test` installs the npm packages and, as root
// with apt, Chromium (internal/wstest/peers.sh); `make deps` installs them
// with sudo. A test calls RequirePeer first: a missing peer skips the test,
// except under CI=true, where it fails it.
//
// Every process a helper starts is bounded by a context and waited for in a
// t.Cleanup, so none outlives its test. The helpers that start a peer may
// skip or fail the test, so they run on the test's goroutine (t.Skip and
// t.Fatal stop only the goroutine that calls them); to keep a peer running
// while the test acts, start it with StartNodeClient or StartChromium and
// call Wait, which never stops the test, from wherever it is needed. wstest imports no package of this
// module above frame and handshake.
package wstest
