// Command apitap-accuracy is apitap's accuracy benchmark (see package
// accuracy and docs/ACCURACY.md): for each spec in -specs the spec-driven
// lab (internal/speclab) records a capture, `apitap analyze` infers an
// OpenAPI document from it with learned path templates and again with
// literal paths (the naive baseline), and each document is scored
// against the spec. It prints the scores as Markdown, and exits with
// status 1 under -check when a learned score misses its target (endpoint
// F1 0.97, property recall 0.95, property precision 0.95, type accuracy
// 0.98), 2 when the benchmark cannot run.
//
//	go run ./internal/accuracy/cmd/apitap-accuracy -update docs/ACCURACY.md -check
//
// Run it from the repository root, as root (the lab records with tcpdump
// on the loopback interface).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/apitap/apitap/internal/accuracy"
	"github.com/apitap/apitap/internal/docgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, record)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, rec accuracy.RecordFunc) int {
	fs := flag.NewFlagSet("apitap-accuracy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := accuracy.Config{Record: rec, Log: stderr}
	fs.StringVar(&cfg.Specs, "specs", "../shared/data/specs", "directory of specs, one subdirectory each")
	fs.IntVar(&cfg.Calls, "calls", accuracy.DefaultCalls, "calls of each operation")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "lab seed")
	fs.IntVar(&cfg.MinSamples, "min-samples", accuracy.DefaultMinSamples, "score properties and types of responses the lab produced at least this many times")
	fs.StringVar(&cfg.Apitap, "apitap", "", "apitap binary (default: build ./cmd/apitap)")
	fs.StringVar(&cfg.WorkDir, "work", "", "keep the captures and inferred documents in this directory (default: a temporary directory, removed)")
	only := fs.String("only", "", "comma-separated spec names to run (default: all)")
	update := fs.String("update", "", "replace the generated section of this Markdown file (docs/ACCURACY.md)")
	check := fs.Bool("check", false, "exit 1 when a learned score misses its target")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "apitap-accuracy: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if cfg.Calls < 1 || cfg.MinSamples < 1 {
		fmt.Fprintln(stderr, "apitap-accuracy: -calls and -min-samples must be positive")
		return 2
	}
	if *only != "" {
		cfg.Only = strings.Split(*only, ",")
	}
	if *update != "" {
		// Fail before the long run, not after it.
		doc, err := os.ReadFile(*update)
		if err == nil {
			_, err = accuracy.Splice(doc, nil)
		}
		if err != nil {
			fmt.Fprintf(stderr, "apitap-accuracy: -update %s: %v\n", *update, err)
			return 2
		}
	}

	res, err := accuracy.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "apitap-accuracy:", err)
		return 2
	}
	targets := accuracy.DefaultTargets()
	var md bytes.Buffer
	if err := res.WriteMarkdown(&md, targets); err != nil {
		fmt.Fprintln(stderr, "apitap-accuracy:", err)
		return 2
	}
	stdout.Write(md.Bytes())
	if *update != "" {
		if err := updateDoc(*update, md.Bytes()); err != nil {
			fmt.Fprintln(stderr, "apitap-accuracy:", err)
			return 2
		}
	}
	if *check {
		failures := res.Failures(targets)
		for _, f := range failures {
			fmt.Fprintln(stderr, "apitap-accuracy:", f)
		}
		if len(failures) > 0 {
			return 1
		}
	}
	return 0
}

func updateDoc(path string, section []byte) error {
	return docgen.UpdateFile(path, section, accuracy.BeginMarker, accuracy.EndMarker)
}
