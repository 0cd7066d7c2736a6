// Command apitap-speclab records the spec-driven traffic lab: a server that
// answers every operation of an OpenAPI document with schema-valid, varied
// responses and a client that calls each operation with varied valid
// requests, captured with tcpdump on lo.
//
//	go run ./internal/speclab/cmd/apitap-speclab -spec FILE -out DIR [-seed N] [-calls N] [-host NAME] [-check]
//
// It prints the Result as JSON (without the per-call log, which is in
// DIR/calls.jsonl). Capturing needs root or CAP_NET_RAW and tcpdump.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/apitap/apitap/internal/speclab"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("apitap-speclab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	spec := fs.String("spec", "", "OpenAPI document (required)")
	out := fs.String("out", "", "output directory for capture.pcap and calls.jsonl (required)")
	seed := fs.Uint64("seed", 1, "seed of every random choice")
	calls := fs.Int("calls", 40, "calls per operation")
	host := fs.String("host", "", "Host header (default: derived from the spec)")
	base := fs.String("base", "", `base path (default: the spec's server path; "/" for none)`)
	check := fs.Bool("check", false, "validate every request and response against the spec")
	verbose := fs.Bool("v", false, "log progress on stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *spec == "" || *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: apitap-speclab -spec FILE -out DIR [-seed N] [-calls N] [-host NAME] [-base PATH] [-check]")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := speclab.Config{Spec: *spec, Dir: *out, Seed: *seed, CallsPerOperation: *calls, Host: *host, BasePath: *base, Check: *check}
	if *verbose {
		cfg.Logf = func(f string, a ...any) { fmt.Fprintf(stderr, f+"\n", a...) }
	}
	res, err := speclab.Record(ctx, cfg)
	res.Log = nil
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.Encode(res)
	if err != nil {
		fmt.Fprintln(stderr, "apitap-speclab:", err)
		return 1
	}
	return 0
}
