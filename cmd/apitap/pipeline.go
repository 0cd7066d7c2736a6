package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/apitap/apitap/analyze"
	"github.com/apitap/apitap/capture"
	"github.com/apitap/apitap/reassembly"
	"github.com/apitap/apitap/reassembly/http1"
	"github.com/apitap/apitap/storage"
	"github.com/apitap/apitap/storage/jsonl"
	"github.com/prometheus/client_golang/prometheus"
)

// pipelineConfig is everything the stages need, read from the configuration.
type pipelineConfig struct {
	Engine     capture.EngineConfig
	Reassembly reassembly.Config
	HTTP       http1.Config
	Queue      storage.QueueConfig
	JSONL      jsonl.Config
	// Transactions is the JSONL output path ("-" is stdout, "" none).
	Transactions string
	// Memory is the memory budget the settings were derived from (memory.go).
	Memory memoryPlan
	// Analysis configures the analyze stage (inventory.go).
	Analysis analysisConfig
}

// pipeline is capture → reassembly (TCP + HTTP) → analyze → storage, wired
// for one run. Each worker's transactions pass through its analyze.Worker
// (which sets their endpoint) on their way to the storage queue.
type pipeline struct {
	engine     *capture.Engine
	analyzer   *analyze.Analyzer // nil with --analyze=false
	assemblers []*reassembly.Assembler
	factories  []*http1.Factory
	producers  []*storage.Producer
	queue      *storage.Queue
	start      time.Time
	memory     memoryPlan
}

// newPipeline builds the stages. stdout is where "-" writes.
func newPipeline(cfg pipelineConfig, logger *slog.Logger, reg prometheus.Registerer, stdout io.Writer) (*pipeline, error) {
	workers := cfg.Engine.Workers
	if workers <= 0 {
		workers = 1
		cfg.Engine.Workers = 1
	}
	sink, err := openTransactionSink(cfg.Transactions, cfg.JSONL, stdout)
	if err != nil {
		return nil, err
	}
	q, err := storage.NewQueue(cfg.Queue, sink, logger, reg)
	if err != nil {
		sink.Close()
		return nil, err
	}
	p := &pipeline{queue: q, start: time.Now(), memory: cfg.Memory}
	if cfg.Analysis.Enabled {
		if p.analyzer, err = newAnalyzer(cfg.Analysis, reg); err != nil {
			q.Close()
			return nil, err
		}
	}
	logger.Debug("memory budget", "component", "memory", "plan", cfg.Memory)
	handlers := make([]capture.Handler, workers)
	for i := range workers {
		wreg := prometheus.WrapRegistererWith(prometheus.Labels{"worker": strconv.Itoa(i)}, reg)
		prod := q.Producer()
		var sink reassembly.TransactionSink = prod
		if p.analyzer != nil {
			sink = p.analyzer.NewWorker(prod)
		}
		f, err := http1.NewFactory(cfg.HTTP, sink, wreg)
		if err != nil {
			q.Close()
			return nil, usageError{err}
		}
		a, err := reassembly.NewAssembler(cfg.Reassembly, f, wreg)
		if err != nil {
			q.Close()
			return nil, usageError{err}
		}
		p.producers = append(p.producers, prod)
		p.factories = append(p.factories, f)
		p.assemblers = append(p.assemblers, a)
		handlers[i] = flushingHandler{a, prod}
	}
	p.engine, err = capture.NewEngine(cfg.Engine, handlers, reg)
	if err != nil {
		q.Close()
		return nil, usageError{err}
	}
	return p, nil
}

// flushingHandler hands a worker's partial batch of transactions to the
// storage queue on every tick of live capture (capture.Ticker), after the
// assembler's own tick, so that a quiet link's transactions are written at
// once; and a last time once its assembler has flushed.
type flushingHandler struct {
	*reassembly.Assembler
	prod *storage.Producer
}

func (h flushingHandler) Flush(now time.Time) {
	h.Assembler.Flush(now)
	h.prod.Flush()
}

func (h flushingHandler) Tick(now time.Time) {
	h.Assembler.Tick(now)
	h.prod.Flush()
}

// run reads the sources to their end (or until ctx is done), flushes every
// stage in order and closes the storage queue.
func (p *pipeline) run(ctx context.Context, sources ...capture.Source) error {
	defer applyMemoryLimit(p.memory)()
	runErr := p.engine.Run(ctx, sources...)
	closeErr := p.queue.Close()
	if runErr != nil {
		return runErr
	}
	return closeErr
}

func openTransactionSink(path string, cfg jsonl.Config, stdout io.Writer) (storage.Sink, error) {
	switch path {
	case "":
		return discardSink{}, nil
	case "-":
		return jsonl.New(nopCloser{stdout}, cfg), nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("transactions output: %w", err)
	}
	return jsonl.New(f, cfg), nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// discardSink counts nothing and keeps nothing: used when no output is asked
// for (the summary still counts the transactions).
type discardSink struct{}

func (discardSink) WriteTransactions(context.Context, []*reassembly.Transaction) error { return nil }
func (discardSink) Close() error                                                       { return nil }

// summary sums every stage's counters. Call it after run has returned.
func (p *pipeline) summary() summary {
	es := p.engine.Stats()
	var as reassembly.Stats
	for _, a := range p.assemblers {
		as.Add(a.Stats())
	}
	var hs http1.Stats
	for _, f := range p.factories {
		hs.Add(f.Stats())
	}
	qs := p.queue.Stats()
	d := es.Decoder
	return summary{
		Elapsed:      time.Since(p.start),
		Frames:       es.Frames,
		Bytes:        es.Bytes,
		Packets:      d.TCP,
		NotTCP:       d.NonTCP + d.UnknownLinkType,
		Malformed:    d.Malformed,
		Connections:  as.ConnectionsOpened,
		Transactions: hs.Transactions,
		ParseErrors:  hs.BadStartLines + hs.Malformed + hs.Smuggling + hs.BadChunks,
		Gaps:         as.Gaps,
		LimitsHit: map[string]uint64{
			"max-header-bytes":      hs.HeaderBytesLimit,
			"max-headers":           hs.HeaderCountLimit,
			"max-body-bytes":        hs.BodyLimit,
			"max-pending-requests":  hs.PendingLimit,
			"max-decoded-bytes":     hs.DecodedSizeLimit,
			"max-decode-ratio":      hs.DecodeRatioLimit,
			"max-connections":       as.ClosedEvicted,
			"max-reassembly-memory": as.TotalBufferLimitHits,
			"conn-buffer":           as.ConnBufferLimitHits,
			"fragments":             d.FragmentsDropped,
			"queue":                 es.DroppedPackets,
		},
		Written:     qs.Written,
		Dropped:     qs.Dropped + qs.Failed,
		FirstPacket: es.First,
		LastPacket:  es.Last,
		PeakRSS:     peakRSS(),
		MemoryLimit: p.memory.Limit,
	}
}
