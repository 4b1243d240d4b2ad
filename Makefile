# gomck build. `make` builds bin/*; `make test` runs the test suite (needs
# root for the LWK tests); `make bench` prints the benchmark figures.
GO      ?= go
BIN     := bin
CMDS    := mckernel mcreboot mcstop ihkosctl ihkconfig mcps mcinspect mcgcore ihkmond eclair mccrash mcperf mcdash
export CGO_ENABLED ?= 1

.PHONY: all deps test bench bench-ab clean vet demo conformance

all: $(addprefix $(BIN)/,$(CMDS)) $(BIN)/mcexec $(BIN)/libgomck_sde.so

# The daemon keeps DWARF (no -s -w): mcinspect reads its state with it.
$(BIN)/%: FORCE
	$(GO) build -o $@ ./cmd/$*

# mcexec must be a PIE with cgo: its C constructor reserves the app window.
$(BIN)/mcexec: FORCE
	$(GO) build -buildmode=pie -o $@ ./cmd/mcexec

# mcperf runs itself under mcexec (its noise workers): a static binary
# needs no loader or libc on the LWK.
$(BIN)/mcperf: FORCE
	CGO_ENABLED=0 $(GO) build -o $@ ./cmd/mcperf

# mcdash is one static binary, its assets embedded: it runs where it is copied.
$(BIN)/mcdash: FORCE
	CGO_ENABLED=0 $(GO) build -o $@ ./cmd/mcdash

# PAPI's sde:::lwk:: events (perf/sde), preloaded by mcexec; needs
# libpapi-dev (scripts/deps.sh).
$(BIN)/libgomck_sde.so: perf/sde/lib/lwk_sde.c perf/sde/lib/lwk_events.h
	gcc -O2 -Wall -fPIC -shared -o $@ $< -lsde

FORCE:

deps:
	./scripts/deps.sh

vet:
	$(GO) vet ./...
	test -z "$$(gofmt -l . | grep -v '^testdata/')"
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# -p 1: packages that boot instances or isolate CPUs must not overlap.
test: all
	$(GO) test -p 1 -count=1 -timeout 30m ./...

# Every CPython regrtest module of internal/lwktest/regrtest_test.go, not
# only the CI subset, natively and under mcexec, case by case; writes
# README's Conformance table to conformance.md.
conformance: all
	GOMCK_CONFORMANCE=all GOMCK_CONFORMANCE_TABLE=$(CURDIR)/conformance.md \
		$(GO) test -count=1 -timeout 60m -v -run 'TestRegrtest$$' ./internal/lwktest/

bench: all
	$(GO) run ./bench/cmd/lwkbench

# A/B of this tree against revision BASE, in the same rounds:
# make bench-ab BASE=main [ONLY=local_syscall,offloaded_syscall,fork_wait]
bench-ab: all
	./scripts/bench-ab.sh "$(BASE)" "$(ONLY)"

clean:
	rm -rf $(BIN)

demo:
	./scripts/demo.sh
