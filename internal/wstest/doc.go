// Package wstest holds the test helpers shared by wsactor's packages: a
// loopback TCP pair, a bounded test context, and the interop peers — the npm
// ws server and client and a headless Chromium — run as child processes from
// the node package in internal/wstest/node.
//
// The peers need node (20 or later), `npm ci` in internal/wstest/node and
// /usr/bin/chromium; `make deps` installs them. A test calls RequirePeer
// first: a missing peer skips the test, except under CI=true, where it fails
// it.
//
// Every process a helper starts is bounded by a context and waited for in a
// t.Cleanup, so none outlives its test. wstest imports no package of this
// module above frame and handshake.
package wstest
