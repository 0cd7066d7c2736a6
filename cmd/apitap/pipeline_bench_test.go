package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/apitap/apitap/capture"
	"github.com/apitap/apitap/internal/synth"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkPipeline runs what `apitap analyze FILE --transactions OUT`
// runs, file to file, on a synthesized capture of keep-alive JSON API
// traffic; internal/perf's apitap-bench does the same on 1 GB with the
// built binary and compares it with tshark.
func BenchmarkPipeline(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "bulk.pcap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	st, err := synth.WriteBulkAPI(f, synth.BulkConfig{Size: 32 << 20, Seed: 1})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(st.Bytes)
			b.ReportAllocs()
			for b.Loop() {
				var cfg pipelineConfig
				cfg.Engine.Workers = workers
				cfg.Engine.Block, cfg.Queue.Block = true, true
				cfg.Transactions = filepath.Join(dir, "tx.jsonl")
				src, err := capture.OpenFiles([]string{path}, capture.FileConfig{})
				if err != nil {
					b.Fatal(err)
				}
				p, err := newPipeline(cfg, logger, prometheus.NewRegistry(), io.Discard)
				if err != nil {
					b.Fatal(err)
				}
				if err := p.run(context.Background(), src); err != nil {
					b.Fatal(err)
				}
				src.Close()
				if s := p.summary(); s.Written != uint64(st.Exchanges) {
					b.Fatalf("%d transactions written, want %d", s.Written, st.Exchanges)
				}
			}
			b.ReportMetric(float64(st.Exchanges)*float64(b.N)/b.Elapsed().Seconds(), "tx/s")
		})
	}
}
