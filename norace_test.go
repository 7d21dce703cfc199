//go:build !race && !js

package ws_test

const raceEnabled = false
