# ecsd's developer commands. `make check` is the one command that runs every
# test and check; CI (.ci/run) runs exactly that.

GO ?= go
PKGS := ./...

.PHONY: check test test/race lint verify build run fuzz bench bench/smoke

## check: formatting, vet and every test with the race detector.
check: lint test/race

## test: every test, without the race detector (faster).
test:
	$(GO) test -count=1 $(PKGS)

## test/race: every test with the race detector.
test/race:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

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
