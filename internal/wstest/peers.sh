#!/bin/sh
# peers.sh — `make peers` (run by `make test`): install the interop peers
# that are missing and can be installed here, say what it installed, and
# say which peers stay missing (their tests then skip, one line each).
#
# It may install exactly three things:
#   - the npm packages of internal/wstest/node (ws, playwright-core, pinned
#     by package-lock.json), with `npm ci` there, when node_modules lacks
#     them and npm is in $PATH;
#   - Debian's chromium package (`apt-get update`, then
#     `apt-get install -y chromium`), when the browser is missing and this
#     runs as root on a machine with apt-get. It never calls sudo;
#   - Debian's redis-server package, the same way, when redis-server is
#     not in $PATH (the chat cluster's tests start their own on loopback).
# It installs neither node nor npm themselves.
#
# With CI=true a peer still missing afterwards is an error: CI must test
# against every peer, never skip.
#
# Env: NODE_DIR (default: the node directory next to this script),
# CHROMIUM_PATH (default /usr/bin/chromium, as the tests use).
set -u

here=$(cd "$(dirname "$0")" && pwd)
node_dir=${NODE_DIR:-$here/node}
chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
missing=

say() { printf 'make test: %s\n' "$*"; }

npm_ready() {
	[ -f "$node_dir/node_modules/ws/package.json" ] &&
		[ -f "$node_dir/node_modules/playwright-core/package.json" ]
}

# npm packages
if ! command -v node >/dev/null 2>&1; then
	say "node is not in \$PATH: the npm ws and Chromium interop tests will skip (install nodejs 20+ and npm)"
	missing="$missing node"
elif npm_ready; then
	:
elif ! command -v npm >/dev/null 2>&1; then
	say "npm is not in \$PATH, so $node_dir/node_modules stays empty: the interop tests will skip (install npm)"
	missing="$missing npm-packages"
else
	say "installing the npm packages of $node_dir (npm ci)"
	if (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error) && npm_ready; then
		v=$(cd "$node_dir" && node -p 'require("./node_modules/ws/package.json").version + " and playwright-core " + require("./node_modules/playwright-core/package.json").version')
		say "installed npm ws $v into $node_dir/node_modules"
	else
		say "npm ci in $node_dir failed: the interop tests will skip"
		missing="$missing npm-packages"
	fi
fi

# Chromium
if [ -x "$chromium" ] && [ ! -d "$chromium" ]; then
	:
elif [ "$(id -u)" != 0 ]; then
	say "$chromium is missing and this is not root, so it is not installed: the Chromium tests will skip (sudo apt-get install chromium, or make deps)"
	missing="$missing chromium"
elif ! command -v apt-get >/dev/null 2>&1; then
	say "$chromium is missing and there is no apt-get: the Chromium tests will skip"
	missing="$missing chromium"
else
	say "installing Debian's chromium package (apt-get install -y chromium)"
	# The lock timeout waits for another apt or dpkg instead of failing.
	if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq update &&
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq install -y chromium >/dev/null &&
		[ -x "$chromium" ]; then
		say "installed chromium $(dpkg-query -W -f='${Version}' chromium 2>/dev/null) at $chromium"
	else
		say "apt-get install chromium did not provide $chromium: the Chromium tests will skip"
		missing="$missing chromium"
	fi
fi

# redis-server
if command -v redis-server >/dev/null 2>&1; then
	:
elif [ "$(id -u)" != 0 ]; then
	say "redis-server is missing and this is not root, so it is not installed: the chat cluster tests will skip (sudo apt-get install redis-server)"
	missing="$missing redis-server"
elif ! command -v apt-get >/dev/null 2>&1; then
	say "redis-server is missing and there is no apt-get: the chat cluster tests will skip"
	missing="$missing redis-server"
else
	say "installing Debian's redis-server package (apt-get install -y redis-server)"
	if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq update &&
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq install -y redis-server >/dev/null &&
		command -v redis-server >/dev/null 2>&1; then
		say "installed redis-server $(dpkg-query -W -f='${Version}' redis-server 2>/dev/null)"
	else
		say "apt-get install redis-server did not provide redis-server: the chat cluster tests will skip"
		missing="$missing redis-server"
	fi
fi

if [ -n "$missing" ] && [ "${CI:-}" = true ]; then
	say "CI=true and interop peers are missing:$missing"
	exit 1
fi
exit 0
