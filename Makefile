# apitap — see README.md. `make demo` and `make test` work on a fresh machine.
GO      ?= go
BIN     ?= bin/apitap
PKGS    ?= ./...
BENCHTIME ?= 1s

.PHONY: all build setup demo test conformance bench fuzz vet clean

all: build

setup:
	@.ci/setup.sh

build:
	$(GO) build -o $(BIN) ./cmd/apitap

# The README's first command: analyze the capture the project recorded itself.
demo: setup build
	$(BIN) analyze cmd/apitap/testdata/demo/demo.pcap --transactions demo.jsonl
	@echo "transactions written to demo.jsonl (first 3 below)"
	@head -n 3 demo.jsonl

vet:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

# The README's second command: every test, self-contained (no ../shared).
test: setup vet
	$(GO) test -count=1 $(PKGS)

# Agreement with Zeek's http.log and libhtp's parses on ../shared/data.
conformance: setup
	$(GO) test -tags conformance -count=1 -run Conformance ./cmd/apitap/ ./capture/ ./reassembly/ ./reassembly/http1/ ./internal/zeeklog/ ./internal/conformance/

bench: setup
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) $(PKGS)

clean:
	rm -rf bin demo.jsonl
