# wsactor — build, test and lint targets. `make help` lists them.
# `make test` installs the interop peers it can (see peers); .ci/run
# bootstraps the toolchain on a fresh Debian machine, then runs lint and test.

GO          ?= go
FUZZTIME    ?= 3s
FUZZ_LONG   ?= 60s
# The fuzz targets run on Go 1.27.3, whatever Go runs the rest: before 1.27 the
# fuzz coordinator can report the end of -fuzztime itself as a failure
# ("context deadline exceeded", no crasher written — go.dev/issue/75804, a
# race between its deadline and its workers' context). CI hit it. The go
# command fetches that toolchain from the module proxy once (about 76 MB).
NEXT_GO     ?= GOTOOLCHAIN=go1.27.3 $(GO)
FUZZ_GO     ?= $(NEXT_GO)
TESTFLAGS   ?=
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
NODE_DIR    := internal/wstest/node
CHROMIUM    ?= /usr/bin/chromium
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.DEFAULT_GOAL := test
.PHONY: help test test-unit test-mem test-h2-next test-cluster bench-quick test-fuzz fuzz lint fmt-check vet staticcheck fmt bench bench-go peers deps deps-node deps-chromium

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

test: test-unit test-mem test-h2-next test-fuzz test-cluster ## race tests of every package, memory-bound tests without -race, the HTTP/2 tests on the next Go, every fuzz target for FUZZTIME (3s), the chat cluster's tests

# examples/chatcluster is a module of its own (it needs go-redis), so
# `go test ./...` above does not reach it; its tests start redis-server.
test-cluster: peers ## race tests of examples/chatcluster (chat nodes + redis-server)
	cd examples/chatcluster && $(GO) test -race -count=1 $(TESTFLAGS) ./...

test-unit: peers ## go test -race -count=1 ./... (after peers)
	$(GO) test -race -count=1 $(TESTFLAGS) ./...

# What it may install, and when, is in the script's header (and the README).
# Outside CI a peer it cannot install makes its tests skip, one line each;
# with CI=true it fails.
peers: ## install missing interop peers when possible: npm ci in internal/wstest/node; chromium and redis-server via apt-get as root
	@sh internal/wstest/peers.sh

# Tests that measure heap or count allocations skip themselves under -race
# (the detector changes heap figures, and sync.Pool drops items under it);
# run them once more without it.
test-mem: ## heap- and allocation-bound tests (idle heap per connection, a 1 GiB streamed message, allocs per call) without -race
	$(GO) test -count=1 -run='IdleMemory|Allocs|GiB' $(TESTFLAGS) ./...

# WebSocket over HTTP/2 leans on net/http's HTTP/2 server, whose extended
# CONNECT support changes between releases (see docs/design.md): run those
# tests on the next Go as well as on this one.
test-h2-next: ## the HTTP/2 (RFC 8441) tests again on Go 1.27.3
	$(NEXT_GO) test -race -count=1 -run='HTTP2|Http2|Connect|H2' . ./handshake/ ./reconnect/ ./actor/ ./interop/

# Every `func FuzzX(f *testing.F)` in a _test.go file of this module's
# packages (go list skips bench/, a module of its own, and node_modules), one
# run per target: -fuzz accepts one target per package per run.
test-fuzz: ## run each fuzz target for FUZZTIME
	@set -e; n=0; pkgs=$$($(GO) list -f '{{.ImportPath}}={{.Dir}}' ./...); \
	for pkg in $$pkgs; do \
		path=$${pkg%%=*}; dir=$${pkg#*=}; \
		for name in $$(cat "$$dir"/*_test.go 2>/dev/null | sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*\*testing\.F).*/\1/p' | sort -u); do \
			echo "fuzz $$path $$name ($(FUZZTIME))"; \
			$(FUZZ_GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) "$$path"; \
			n=$$((n+1)); \
		done; \
	done; \
	echo "fuzzed $$n targets for $(FUZZTIME) each"

fuzz: ## longer fuzzing: every target for FUZZ_LONG (60s)
	$(MAKE) --no-print-directory test-fuzz FUZZTIME=$(FUZZ_LONG)

lint: fmt-check vet staticcheck ## gofmt check, go vet, staticcheck

fmt-check:
	@out=$$(find . -name '*.go' -not -path './.git/*' -not -path '*/node_modules/*' -print0 | xargs -0 gofmt -l); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# The root package also builds for browsers and Node (GOOS=js): vet it there
# too, with the packages it imports.
vet:
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet . ./actor/ ./frame/... ./handshake/

staticcheck:
	$(STATICCHECK) ./...

fmt: ## gofmt -w every Go file
	find . -name '*.go' -not -path './.git/*' -not -path '*/node_modules/*' -print0 | xargs -0 gofmt -w

bench: ## the comparison suite in bench/ (its own module): every figure, ~7 minutes on 2 cores
	cd bench && $(GO) run .

bench-go: ## go test benchmarks of every package
	$(GO) test -run='^$$' -bench=. -benchmem ./...

bench-quick: ## the comparison suite, short run (under 2 minutes), into bench/results/quick
	cd bench && $(GO) run . -quick -out results/quick

deps: deps-node deps-chromium ## install the interop peers: npm packages and Chromium

deps-node: ## npm ci in internal/wstest/node (npm ws, playwright-core)
	cd $(NODE_DIR) && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

deps-chromium: ## apt-get install chromium unless $(CHROMIUM) exists
	@if [ -x $(CHROMIUM) ]; then echo "$(CHROMIUM) present"; \
	else $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; fi
