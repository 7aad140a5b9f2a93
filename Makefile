# Dancecard developer tasks. `make` alone lists them.
#
# Variables:
#   TESTFLAGS   extra flags for go test, e.g. make test TESTFLAGS='-run TestLogin -v'
#   CONFIG      config file for make run, e.g. make run CONFIG=configs/dancecard.yaml
#   BENCHFLAGS  flags for the load driver, e.g. make bench BENCHFLAGS='-duration 30s'

GO         ?= go
TEMPL      := $(GO) tool templ
WITH_PG    := scripts/with-postgres.sh
TESTFLAGS  ?=
BENCHFLAGS ?=
CONFIG     ?=

.DEFAULT_GOAL := help

.PHONY: help build generate check-generated lint test run bench bench-micro fuzz

help: ## List the targets.
	@echo 'Usage: make TARGET [VAR=value ...]'
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build the server into bin/server.
	$(GO) build -o bin/server ./cmd/server

generate: ## Regenerate the templ components (*_templ.go).
	$(TEMPL) generate

check-generated: ## Fail when the committed *_templ.go files differ from templ's output.
	$(TEMPL) generate
	@if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		echo 'check-generated: not a git checkout, skipping the comparison' >&2; \
	elif ! git diff --exit-code -- '*_templ.go' || \
		[ -n "$$(git ls-files --others --exclude-standard -- '*_templ.go')" ]; then \
		git ls-files --others --exclude-standard -- '*_templ.go' | sed 's/^/untracked: /' >&2; \
		echo 'generated templ files are stale: run make generate and commit' >&2; \
		exit 1; \
	fi

lint: ## gofmt, go vet, staticcheck and go mod tidy -diff.
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then \
		echo 'gofmt -l found unformatted files (run gofmt -w on them):' >&2; \
		echo "$$unformatted" >&2; \
		exit 1; \
	fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) mod tidy -diff

test: check-generated lint ## Run every test with -race against a real PostgreSQL (TESTFLAGS adds flags).
	$(WITH_PG) --db dancecard_test -- $(GO) test -race -count=1 -timeout 15m $(TESTFLAGS) ./...
	@scripts/browser-check.sh

# The public URL is http://localhost:8080 (listening on 127.0.0.1:8080): browsers refuse an
# IP address as a passkey's RP ID, so passkeys need a host name.
run: build ## Build and serve on http://localhost:8080 in dev mode (CONFIG=file optional).
	$(WITH_PG) --db dancecard -- env DANCECARD_DEV=true DANCECARD_BASE_URL=$${DANCECARD_BASE_URL:-http://localhost:8080} \
		./bin/server serve $(if $(CONFIG),-config $(CONFIG))

bench: ## Run the load driver against PostgreSQL (BENCHFLAGS passes flags).
	$(WITH_PG) --db dancecard_bench -- $(GO) run ./bench/loaddriver $(BENCHFLAGS)

bench-micro: ## Run the Go benchmarks of per-request work, each beside its baseline (bench/micro).
	$(GO) test -run '^$$' -bench . -benchmem -count 3 ./bench/micro

# More fuzz targets get added here, one line each, as packages grow Fuzz* tests.
fuzz: ## Run each Fuzz* test for a short time.
	$(GO) test -run='^$$' -fuzz=FuzzLoad -fuzztime=20s ./internal/config/
	$(GO) test -run='^$$' -fuzz=FuzzNormalizeEmail -fuzztime=20s ./internal/accounts/
	$(GO) test -run='^$$' -fuzz=FuzzSafeNext -fuzztime=20s ./internal/httpserver/
	$(GO) test -run='^$$' -fuzz=FuzzConnectionParam -fuzztime=20s ./internal/httpserver/
	$(GO) test -run='^$$' -fuzz=FuzzListInput -fuzztime=20s ./internal/admin/
	$(GO) test -run='^$$' -fuzz=FuzzMapJSON -fuzztime=20s ./internal/oauth/
	$(GO) test -run='^$$' -fuzz=FuzzAPIURL -fuzztime=20s ./internal/oauth/
