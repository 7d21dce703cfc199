// Package interop tests wsactor against independent implementations run as
// child processes on 127.0.0.1: the npm ws server and client (node) and
// headless Chromium. The peers come from internal/wstest; without them the
// tests skip, except under CI=true where they fail.
package interop

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
