package analyze

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/apitap/apitap/analyze/pathtmpl"
	"github.com/apitap/apitap/analyze/schema"
	"github.com/apitap/apitap/reassembly"
	"github.com/prometheus/client_golang/prometheus"
)

// Config tunes the Analyzer. The zero value is usable.
type Config struct {
	// Templates configures path templating (pathtmpl.Config documents its
	// zero values). Literal turns templating off.
	Templates pathtmpl.Config
	// Schema bounds schema learning (schema.Config documents its zero
	// values, except StableAfter: 0 means DefaultStableAfter here).
	Schema schema.Config
	// MaxEndpoints caps the endpoints one worker tracks (0: 10000). A call
	// of a new endpoint past the cap is counted (Inventory.Merged,
	// Stats.Overflow) and not attributed.
	MaxEndpoints int
	// SampleEvery is the sampling period once an endpoint's schemas are
	// stable: one call in SampleEvery (chosen by a hash of the call, not by
	// arrival order) still has its parameters and bodies parsed (0: 128;
	// 1: every call).
	SampleEvery int
	// MaxParams caps the query and header parameters tracked per endpoint
	// (0: 64); more names are counted in Stats.ParamsDropped.
	MaxParams int
	// MaxResponses caps the (status, content type) pairs tracked per
	// endpoint (0: 32).
	MaxResponses int
	// MaxSchemaBytes caps the memory of one worker's schema learners, at
	// schema.NodeBytes per schema node (0: 64 MiB). Past it, the worker
	// stops parsing bodies and parameters for schemas (counted in
	// Stats.SchemaBudget); the endpoints' statistics go on.
	MaxSchemaBytes int64
}

// Defaults of Config's zero values.
const (
	DefaultMaxEndpoints = 10000
	DefaultSampleEvery  = 128
	DefaultMaxParams    = 64
	DefaultMaxResponses = 32
	// DefaultStableAfter is the number of samples without a change after
	// which an endpoint's schema counts as stable and its sampling drops to
	// one call in SampleEvery. Every endpoint of every worker pays this
	// many parsed calls at least, so it is kept small; a change (a
	// property, type or format not seen before) makes the schema unstable
	// again, and a response of a new status or content type is always
	// parsed.
	DefaultStableAfter = 16
	// DefaultMaxSchemaBytes is MaxSchemaBytes' zero value.
	DefaultMaxSchemaBytes = 64 << 20
)

// EndpointBytes is what one tracked endpoint costs a worker besides its
// schema learners (the distinct-client sketch, the latency sketch, the
// status, credential, parameter and response tables), measured by
// TestEndpointBytes: MaxEndpoints × EndpointBytes + MaxSchemaBytes bounds
// a worker's analysis memory.
const EndpointBytes = 16 << 10

func (c Config) withDefaults() (Config, error) {
	if c.MaxEndpoints < 0 || c.SampleEvery < 0 || c.MaxParams < 0 || c.MaxResponses < 0 || c.MaxSchemaBytes < 0 {
		return c, errors.New("analyze: MaxEndpoints, SampleEvery, MaxParams, MaxResponses and MaxSchemaBytes must not be negative")
	}
	if c.MaxSchemaBytes == 0 {
		c.MaxSchemaBytes = DefaultMaxSchemaBytes
	}
	if c.Schema.StableAfter == 0 {
		c.Schema.StableAfter = DefaultStableAfter
	}
	if c.MaxEndpoints == 0 {
		c.MaxEndpoints = DefaultMaxEndpoints
	}
	if c.SampleEvery == 0 {
		c.SampleEvery = DefaultSampleEvery
	}
	if c.MaxParams == 0 {
		c.MaxParams = DefaultMaxParams
	}
	if c.MaxResponses == 0 {
		c.MaxResponses = DefaultMaxResponses
	}
	return c, nil
}

// Analyzer builds the inventory from the transactions of every worker.
//
// Each reassembly worker gets its own Worker (NewWorker): its own path
// templater and endpoint table, so the hot path takes no lock another
// worker contends for, and what a worker learns depends only on the
// transactions it sees, in their order. Connections are sharded to workers
// by a hash of their addresses, so the same capture read with the same
// number of workers gives the same inventory and the same spec. Snapshot
// merges the workers: their templaters' evidence first (templates settle
// on the evidence of all workers), then their endpoints re-keyed to the
// settled templates.
type Analyzer struct {
	cfg    Config
	pinned []pin

	mu      sync.Mutex // guards workers
	workers []*Worker
}

type pin struct {
	host      string
	origin    pathtmpl.Origin
	templates []string
}

// New returns an Analyzer. reg may be nil.
func New(cfg Config, reg prometheus.Registerer) (*Analyzer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if _, err := pathtmpl.New(cfg.Templates); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	a := &Analyzer{cfg: cfg}
	if err := a.registerMetrics(reg); err != nil {
		return nil, err
	}
	return a, nil
}

// Pin adds templates for host ("" for every host) that win over learning:
// from configuration (pathtmpl.Pinned) or from a given spec
// (pathtmpl.Spec). Call it before NewWorker.
func (a *Analyzer) Pin(host string, origin pathtmpl.Origin, templates ...string) error {
	// Check them now, so that the error names the template.
	t, _ := pathtmpl.New(a.cfg.Templates)
	if err := t.Pin(host, origin, templates...); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pinned = append(a.pinned, pin{host, origin, append([]string(nil), templates...)})
	return nil
}

// newTemplater makes a templater with the pinned templates.
func (a *Analyzer) newTemplater() *pathtmpl.Templater {
	t, err := pathtmpl.New(a.cfg.Templates)
	if err != nil {
		panic(err) // checked by New
	}
	for _, p := range a.pinned {
		if err := t.Pin(p.host, p.origin, p.templates...); err != nil {
			panic(err) // checked by Pin
		}
	}
	return t
}

// NewWorker returns the observer of one reassembly worker. It hands every
// transaction on to next (may be nil) after setting its Endpoint.
func (a *Analyzer) NewWorker(next reassembly.TransactionSink) *Worker {
	a.mu.Lock()
	defer a.mu.Unlock()
	w := &Worker{
		a:    a,
		next: next,
		tmpl: a.newTemplater(),
		eps:  make(map[epKey]*endpoint),
	}
	a.workers = append(a.workers, w)
	return w
}

// Stats are the Analyzer's counters.
type Stats struct {
	Transactions  int64 // observed
	Unattributed  int64 // without a request: no endpoint
	Overflow      int64 // not attributed: the worker's endpoint table was full (MaxEndpoints)
	Sampled       int64 // whose parameters and bodies were parsed
	BadBodies     int64 // bodies that claimed JSON or a form and did not parse
	ParamsDropped int64 // parameters not tracked: MaxParams reached
	RespDropped   int64 // responses not tracked: MaxResponses reached
	SchemaBudget  int64 // sampled calls not learned from: the worker's MaxSchemaBytes was reached
}

// Stats sums the counters of every worker (each paused for the moment
// its counters are read).
func (a *Analyzer) Stats() Stats {
	a.mu.Lock()
	workers := slices.Clone(a.workers)
	a.mu.Unlock()
	var s Stats
	for _, w := range workers {
		w.mu.Lock()
		s.add(w.st)
		w.mu.Unlock()
	}
	return s
}

func (s *Stats) add(o Stats) {
	s.Transactions += o.Transactions
	s.Unattributed += o.Unattributed
	s.Overflow += o.Overflow
	s.Sampled += o.Sampled
	s.BadBodies += o.BadBodies
	s.ParamsDropped += o.ParamsDropped
	s.RespDropped += o.RespDropped
	s.SchemaBudget += o.SchemaBudget
}

// registerMetrics exports the counters to Prometheus, read from Stats when
// scraped.
func (a *Analyzer) registerMetrics(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	for _, c := range []struct {
		name, help string
		v          func(Stats) int64
	}{
		{"transactions_total", "Transactions observed by the analyzer.", func(s Stats) int64 { return s.Transactions }},
		{"unattributed_total", "Transactions without a request, attributed to no endpoint.", func(s Stats) int64 { return s.Unattributed }},
		{"endpoint_overflow_total", "Transactions not attributed because the endpoint table was full (max endpoints).", func(s Stats) int64 { return s.Overflow }},
		{"sampled_total", "Transactions whose parameters and bodies were parsed for schema learning.", func(s Stats) int64 { return s.Sampled }},
		{"bad_bodies_total", "Bodies labelled JSON or form-encoded that did not parse.", func(s Stats) int64 { return s.BadBodies }},
		{"params_dropped_total", "Parameters not tracked because an endpoint reached its parameter cap.", func(s Stats) int64 { return s.ParamsDropped }},
		{"responses_dropped_total", "Responses not tracked because an endpoint reached its (status, content type) cap.", func(s Stats) int64 { return s.RespDropped }},
		{"schema_budget_total", "Sampled calls not learned from because the worker's schema memory budget was reached.", func(s Stats) int64 { return s.SchemaBudget }},
	} {
		if err := reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "apitap", Subsystem: "analyze", Name: c.name, Help: c.help,
		}, func() float64 { return float64(c.v(a.Stats())) })); err != nil {
			return fmt.Errorf("analyze: registering metrics: %w", err)
		}
	}
	return nil
}
