# ecsd's developer commands. `make check` is the one command that runs every
# test and check; CI (.ci/run) runs exactly that.

GO ?= go
PKGS := ./...

.PHONY: check test test/race test/postgres lint verify build run fuzz bench bench/smoke

# PG_PKGS are the packages whose tests start whole nodes, run again by
# test/postgres with every node on PostgreSQL.
PG_PKGS := ./e2e ./ecsdtest ./console ./cmd/ecsctl

## check: formatting, vet and every test with the race detector, then the
## node tests again on PostgreSQL when TEST_DATABASE_URL is set.
check: lint test/race
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		$(MAKE) --no-print-directory test/postgres; \
	else \
		echo "check: test/postgres SKIPPED: TEST_DATABASE_URL is unset (export TEST_DATABASE_URL=\$$(.ci/postgres) to run it)"; \
	fi

## test: every test, without the race detector (faster).
test:
	$(GO) test -count=1 $(PKGS)

## test/race: every test with the race detector.
test/race:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

## test/postgres: the tests of PG_PKGS with the race detector and every
## node on its own PostgreSQL database (ECSD_TEST_ENGINE=postgres; needs
## TEST_DATABASE_URL, e.g. from .ci/postgres). Their nodes mostly wait on
## jobs and on the server, so four tests run at a time rather than one per
## core.
test/postgres:
	@if [ -z "$$TEST_DATABASE_URL" ]; then \
		echo "test/postgres: TEST_DATABASE_URL is unset (export TEST_DATABASE_URL=\$$(.ci/postgres))"; exit 1; \
	fi
	ECSD_TEST_ENGINE=postgres $(GO) test -race -count=1 -parallel 4 -timeout 20m $(PG_PKGS)

## lint: gofmt and go vet.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## verify: the module graph is tidy and builds without cgo.
verify:
	$(GO) mod verify
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/ecsd

## build: the ecsd binary in ./bin.
build:
	$(GO) build -o bin/ecsd ./cmd/ecsd

## run: ecsd with its defaults (127.0.0.1:8787, ./ecsd-data).
run:
	$(GO) run ./cmd/ecsd

## fuzz: a short run of each fuzz target.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzVerify -fuzztime 20s ./signature/
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 20s ./httpapi/
	$(GO) test -run '^$$' -fuzz FuzzParseQuery -fuzztime 20s ./httpapi/

## bench: the Go benchmarks of the hot functions, with allocations.
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## bench/smoke: every ecsbench scenario for about a second (CI; asserts no speed).
bench/smoke:
	$(GO) run ./cmd/ecsbench --smoke
