# apitap — see README.md. `make demo` and `make test` work on a fresh machine.
GO      ?= go
BIN     ?= bin/apitap
PKGS    ?= ./...
BENCHTIME ?= 1s

.PHONY: all build setup demo test conformance accuracy bench fuzz vet clean

all: build

setup:
	@.ci/setup.sh

build:
	$(GO) build -o $(BIN) ./cmd/apitap

# The README's first command: analyze the capture the project recorded itself.
demo: setup build
	$(BIN) analyze cmd/apitap/testdata/demo/demo.pcap --transactions demo.jsonl --openapi demo.openapi.yaml
	@echo "transactions written to demo.jsonl (first 3 below), the inferred spec to demo.openapi.yaml"
	@head -n 3 demo.jsonl

vet:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

# The README's second command: every test, self-contained (no ../shared).
test: setup vet
	$(GO) test -count=1 $(PKGS)

# Agreement with Zeek's http.log and libhtp's parses on ../shared/data.
conformance: setup
	$(GO) test -tags conformance -count=1 -run 'Conformance|Libhtp|AgainstPcapgo' ./cmd/apitap/ ./capture/ ./reassembly/ ./reassembly/http1/ ./internal/zeeklog/ ./internal/conformance/ ./internal/accuracy/ ./internal/speclab/ ./analyze/...

# The accuracy benchmark of docs/ACCURACY.md: the spec-driven lab records
# traffic for each spec in ../shared/data/specs, apitap infers a spec from it
# (learned templates, and the literal baseline) and the scores are checked
# against their targets. ACCURACY_FLAGS="-update docs/ACCURACY.md" rewrites
# the table there.
ACCURACY_FLAGS ?=
accuracy: setup
	$(GO) run ./internal/accuracy/cmd/apitap-accuracy -check $(ACCURACY_FLAGS)

# Go microbenchmarks, then the end-to-end run of docs/PERFORMANCE.md: apitap
# with 1 and 2 workers (with the analyze stage, and extraction only) against
# tshark on a synthesized 1 GB capture (kept in the user cache directory),
# medians of interleaved runs; it fails when apitap -w1 is not 50x faster
# than tshark, -w2 not 1.7x faster than -w1, or the analyze stage keeps less
# than 70% of the extraction throughput. About 20 minutes, most of it tshark.
# BENCH_FLAGS="-update docs/PERFORMANCE.md" rewrites the figures there.
BENCH_SIZE ?= 1GB
BENCH_ROUNDS ?= 7
BENCH_TSHARK_RUNS ?= 1
BENCH_FLAGS ?=
bench: setup
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) $(PKGS)
	$(GO) run ./internal/perf/cmd/apitap-bench -size $(BENCH_SIZE) -rounds $(BENCH_ROUNDS) -tshark-runs $(BENCH_TSHARK_RUNS) $(BENCH_FLAGS)

# Each fuzz target for FUZZTIME; what the fuzzers find lands in the Go build
# cache (copy new inputs into the package's testdata/fuzz/ to keep them).
FUZZTIME ?= 10m
fuzz:
	$(GO) test ./capture -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./capture -run '^$$' -fuzz '^FuzzReadFile$$' -fuzztime $(FUZZTIME)
	$(GO) test ./reassembly -run '^$$' -fuzz '^FuzzAssembler$$' -fuzztime $(FUZZTIME)
	$(GO) test ./reassembly/http1 -run '^$$' -fuzz '^FuzzParser$$' -fuzztime $(FUZZTIME)
	$(GO) test ./analyze/pathtmpl -run '^$$' -fuzz '^FuzzObserve$$' -fuzztime $(FUZZTIME)
	$(GO) test ./analyze/schema -run '^$$' -fuzz '^FuzzObserveJSON$$' -fuzztime $(FUZZTIME)
	$(GO) test ./analyze/schema -run '^$$' -fuzz '^FuzzObserveForm$$' -fuzztime $(FUZZTIME)
	$(GO) test ./analyze/sensitive -run '^$$' -fuzz '^FuzzValue$$' -fuzztime $(FUZZTIME)
	$(GO) test ./analyze/openapi -run '^$$' -fuzz '^FuzzBuild$$' -fuzztime $(FUZZTIME)

clean:
	rm -rf bin demo.jsonl demo.openapi.yaml
