package http1

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/apitap/apitap/reassembly"
)

// Pools of recycled per-connection state are capped so that a burst of
// connections does not pin memory for ever.
const (
	maxFreeBuffers = 256
	maxFreeEntries = 256
	maxKeptBuf     = 16 << 10 // header buffers larger than this are not recycled
)

// Factory creates the HTTP/1.x handler of each connection and collects
// their statistics. It is a reassembly.StreamFactory for one worker: it
// and its handlers must be used from a single goroutine.
type Factory struct {
	cfg   Config
	sink  reassembly.TransactionSink
	stats Stats

	metrics       *metrics
	lastPublished time.Time

	dec     decoders
	scratch []byte // short-lived joins while resynchronising

	freeBufs    []dirBuffers
	freeEntries []*entry
	freeQueues  [][]*entry
}

// dirBuffers are the reusable buffers of one direction.
type dirBuffers struct {
	buf, scratch, lineWin, statWin, fold []byte
	hdrs                                 []hspan
}

// NewFactory returns a Factory handing the transactions it builds to sink.
// Metrics are registered on reg (namespace apitap, subsystem http) when it
// is not nil; factories sharing a registerer share the series.
func NewFactory(cfg Config, sink reassembly.TransactionSink, reg prometheus.Registerer) (*Factory, error) {
	if sink == nil {
		return nil, errors.New("http1: nil transaction sink")
	}
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Factory{cfg: cfg, sink: sink, metrics: m}, nil
}

// New implements reassembly.StreamFactory.
func (f *Factory) New(info reassembly.ConnInfo, ts time.Time) reassembly.StreamHandler {
	f.stats.Connections++
	c := &conn{}
	c.init(f, info)
	return c
}

// Stats returns the counters so far. It also publishes them to the
// metrics, if any.
func (f *Factory) Stats() Stats {
	if f.metrics != nil {
		f.metrics.publish(&f.stats)
	}
	return f.stats
}

// Config returns the configuration in use, defaults applied.
func (f *Factory) Config() Config { return f.cfg }

// maybePublish publishes the metrics at most once a second of packet time.
func (f *Factory) maybePublish(ts time.Time) {
	if f.metrics == nil || ts.Sub(f.lastPublished) < time.Second {
		return
	}
	f.lastPublished = ts
	f.metrics.publish(&f.stats)
}

func (f *Factory) takeBuffers(d *dir) {
	if n := len(f.freeBufs); n > 0 {
		b := f.freeBufs[n-1]
		f.freeBufs[n-1] = dirBuffers{}
		f.freeBufs = f.freeBufs[:n-1]
		d.buf, d.bodyScratch, d.lineWin, d.statWin, d.fold, d.hdrs = b.buf, b.scratch, b.lineWin, b.statWin, b.fold, b.hdrs
	}
}

func (f *Factory) releaseBuffers(d *dir) {
	b := dirBuffers{
		buf: d.buf[:0], scratch: d.bodyScratch[:0], lineWin: d.lineWin[:0],
		statWin: d.statWin[:0], fold: d.fold[:0], hdrs: d.hdrs[:0],
	}
	if cap(b.buf) > maxKeptBuf {
		b.buf = nil
	}
	if cap(b.fold) > maxKeptBuf {
		b.fold = nil
	}
	if cap(b.lineWin) > maxKeptBuf {
		b.lineWin = nil
	}
	if cap(b.scratch) > maxKeptBuf {
		b.scratch = nil
	}
	if len(f.freeBufs) < maxFreeBuffers {
		f.freeBufs = append(f.freeBufs, b)
	}
	d.buf, d.bodyScratch, d.lineWin, d.statWin, d.fold, d.hdrs = nil, nil, nil, nil, nil, nil
	d.bodyBuf = nil
	d.cur = nil
}

func (f *Factory) takeQueue() []*entry {
	if n := len(f.freeQueues); n > 0 {
		q := f.freeQueues[n-1]
		f.freeQueues = f.freeQueues[:n-1]
		return q
	}
	return nil
}

func (f *Factory) releaseQueue(q []*entry) {
	if q != nil && len(f.freeQueues) < maxFreeBuffers {
		f.freeQueues = append(f.freeQueues, q[:0])
	}
}

func (f *Factory) takeEntry() *entry {
	if n := len(f.freeEntries); n > 0 {
		e := f.freeEntries[n-1]
		f.freeEntries = f.freeEntries[:n-1]
		return e
	}
	return new(entry)
}

// putEntry recycles e. Its transaction value is left as is: newEntry
// overwrites it whole.
func (f *Factory) putEntry(e *entry) {
	if len(f.freeEntries) >= maxFreeEntries {
		return
	}
	e.reqHead.reset()
	e.respHead.reset()
	e.req, e.resp, e.method, e.http09, e.expect100, e.noRequest, e.afterGap = notSeen, notSeen, methodOther, false, false, false, false
	f.freeEntries = append(f.freeEntries, e)
}
