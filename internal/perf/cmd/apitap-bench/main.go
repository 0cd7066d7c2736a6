// Command apitap-bench is apitap's end-to-end throughput benchmark: it
// times `apitap analyze` with one and with two workers, with analysis on
// (the default) and with --analyze=false (transaction extraction only),
// against tshark on a synthesized capture of keep-alive JSON API traffic
// (see package perf), prints the figures as Markdown and exits with
// status 1 when a judged ratio misses its target, 2 when the benchmark
// cannot run. The judged ratios: apitap -w1 at least 50 times faster than
// tshark and -w2 at least 1.7 times faster than -w1 (both with analysis
// on), and apitap -w2 with analysis keeping at least 70 % of the
// throughput of apitap -w2 --analyze=false.
//
//	go run ./internal/perf/cmd/apitap-bench -size 1GB -rounds 7 -tshark-runs 1 -update docs/PERFORMANCE.md
//
// The capture is kept in -cache and reused while -size and -seed are
// unchanged. Run it on a quiet machine: it reports the load average before
// and after.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/apitap/apitap/internal/docgen"
	"github.com/apitap/apitap/internal/perf"
	"github.com/apitap/apitap/internal/synth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("apitap-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg perf.Config
	fs.StringVar(&cfg.CacheDir, "cache", "", "directory for the capture, the apitap binary and the outputs (default: apitap/bench in the user cache directory)")
	size := fs.String("size", "1GB", "capture size: bytes with an optional KB, MB, GB (powers of 1000) or KiB, MiB, GiB suffix")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "synthesizer seed")
	fs.StringVar(&cfg.Apitap, "apitap", "", "apitap binary to time (default: build ./cmd/apitap into -cache)")
	fs.StringVar(&cfg.Tshark, "tshark", "tshark", "tshark binary")
	fs.IntVar(&cfg.Rounds, "rounds", perf.DefaultRounds, "timed runs of each of the four apitap commands")
	fs.IntVar(&cfg.TsharkRuns, "tshark-runs", perf.DefaultTsharkRuns, "timed tshark runs (at most -rounds)")
	fs.Float64Var(&cfg.MinTsharkRatio, "min-tshark-ratio", perf.DefaultMinTsharkRatio, "target of tshark's median over apitap -w1's (analysis on)")
	fs.Float64Var(&cfg.MinWorkerRatio, "min-worker-ratio", perf.DefaultMinWorkerRatio, "target of apitap -w1's median over -w2's (analysis on)")
	fs.Float64Var(&cfg.MinAnalysisRatio, "min-analysis-ratio", perf.DefaultMinAnalysisRatio,
		"target of the median of apitap -w2 --analyze=false over apitap -w2's (the extraction throughput kept with analysis on)")
	report := fs.String("report", "", "also write the Markdown to this file")
	update := fs.String("update", "", "replace the generated section of this Markdown file (docs/PERFORMANCE.md)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "apitap-bench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if cfg.Rounds < 1 || cfg.TsharkRuns < 1 || cfg.MinTsharkRatio <= 0 || cfg.MinWorkerRatio <= 0 || cfg.MinAnalysisRatio <= 0 {
		fmt.Fprintln(stderr, "apitap-bench: -rounds, -tshark-runs and the ratios must be positive")
		return 2
	}
	n, err := synth.ParseSize(*size)
	if err != nil {
		fmt.Fprintln(stderr, "apitap-bench: invalid -size:", err)
		return 2
	}
	cfg.Size = n
	cfg.Log = stderr

	res, err := perf.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "apitap-bench:", err)
		return 2
	}
	var md bytes.Buffer
	if err := res.WriteMarkdown(&md); err != nil {
		fmt.Fprintln(stderr, "apitap-bench:", err)
		return 2
	}
	stdout.Write(md.Bytes())
	if *report != "" {
		if err := os.WriteFile(*report, md.Bytes(), 0o644); err != nil {
			fmt.Fprintln(stderr, "apitap-bench:", err)
			return 2
		}
	}
	if *update != "" {
		if err := updateDoc(*update, md.Bytes()); err != nil {
			fmt.Fprintln(stderr, "apitap-bench:", err)
			return 2
		}
	}
	if !res.Passed() {
		for _, c := range res.Checks {
			if !c.Pass && !c.Info {
				fmt.Fprintf(stderr, "apitap-bench: %s is %.2f×, below the target of %g×\n", c.Name, c.Ratio, c.Target)
			}
		}
		return 1
	}
	return 0
}

func updateDoc(path string, section []byte) error {
	return docgen.UpdateFile(path, section, perf.BeginMarker, perf.EndMarker)
}
