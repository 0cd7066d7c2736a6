package analyze

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"sync"

	"github.com/apitap/apitap/analyze/pathtmpl"
	"github.com/apitap/apitap/analyze/schema"
	"github.com/apitap/apitap/analyze/sensitive"
	"github.com/apitap/apitap/reassembly"
)

// Worker observes the transactions of one reassembly worker. It is a
// reassembly.TransactionSink: HandleTransaction sets the transaction's
// Endpoint, learns from it and hands it on. Its methods are called from that
// worker's goroutine only; Snapshot (on the Analyzer) may run concurrently
// and takes the Worker's lock, which the worker alone otherwise takes.
type Worker struct {
	a    *Analyzer
	next reassembly.TransactionSink

	mu   sync.Mutex // guards everything below
	tmpl *pathtmpl.Templater
	eps  map[epKey]*endpoint
	st   Stats
	// schemaBytes is the memory of the worker's schema learners, at
	// schema.NodeBytes per node (bounded by Config.MaxSchemaBytes).
	schemaBytes int64

	// Scratch reused per call.
	shaper txShaper
	params []pathtmpl.PathParam
	creds  []sensitive.Credential
}

type epKey struct {
	host, method, template string
}

// HandleTransaction attributes t to an endpoint (setting t.Endpoint), learns
// from it and hands it on to the next sink. It does not keep t.
func (w *Worker) HandleTransaction(t *reassembly.Transaction) {
	w.observe(t)
	if w.next != nil {
		w.next.HandleTransaction(t)
	}
}

func (w *Worker) observe(t *reassembly.Transaction) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.st.Transactions++
	if t.Method == "" || t.Path == "" {
		w.st.Unattributed++
		return
	}
	host := strings.ToLower(t.Host) // no copy when already lower case
	var m pathtmpl.Match
	w.shaper.t = t
	m, w.params = w.tmpl.ObserveLazy(host, t.Path, &w.shaper, w.params[:0])
	w.shaper.t = nil
	t.Endpoint = m.Template
	k := epKey{host, t.Method, m.Template}
	ep := w.eps[k]
	if ep == nil {
		if len(w.eps) >= w.a.cfg.MaxEndpoints {
			w.st.Overflow++
			t.Endpoint = ""
			return
		}
		k = epKey{strings.Clone(host), strings.Clone(t.Method), m.Template}
		ep = newEndpoint(m.Origin)
		w.eps[k] = ep
	}
	w.observeEndpoint(ep, t)
}

// txShaper fingerprints the transaction being observed, when the templater
// asks for it (pathtmpl.Shaper).
type txShaper struct{ t *reassembly.Transaction }

func (s *txShaper) Shape() uint64 {
	return pathtmpl.Shape(s.t.Method, s.t.Status, s.t.RequestBody, s.t.ResponseBody)
}

func (w *Worker) observeEndpoint(ep *endpoint, t *reassembly.Transaction) {
	ep.count(t)
	_, rawQuery, _ := strings.Cut(t.URI, "?")
	rawQuery, _, _ = strings.Cut(rawQuery, "#")
	w.creds = sensitive.Credentials(w.creds[:0], t.RequestHeaders, rawQuery)
	for _, c := range w.creds {
		ep.addAuth(c, 1)
	}
	respType := ""
	if t.Status != 0 && (len(t.ResponseBody) > 0 || t.ResponseBodyLen > 0) {
		respType = mediaType(t.ResponseHeaders)
	}
	if !w.sample(ep, t, respType) {
		return
	}
	if w.schemaBytes >= w.a.cfg.MaxSchemaBytes {
		w.st.SchemaBudget++
		return
	}
	w.st.Sampled++
	ep.samples++
	cfg := &w.a.cfg
	for _, p := range w.params {
		w.param(ep, "path", p.Name, p.Value)
	}
	forEachQuery(rawQuery, func(name, value string) {
		w.param(ep, "query", name, value)
	})
	for _, h := range t.RequestHeaders {
		if isParamHeader(h.Name, w.creds) {
			w.param(ep, "header", h.Name, h.Value)
		}
	}

	if len(t.RequestBody) > 0 || t.RequestBodyLen > 0 {
		ct := mediaType(t.RequestHeaders)
		b := ep.reqBodies[ct]
		if b == nil {
			b = &bodyState{learner: newLearner(ct, &cfg.Schema)}
			ep.reqBodies[strings.Clone(ct)] = b
		}
		b.count++
		if !w.learn(b.learner, ct, t.RequestBody, t.Flags) {
			w.st.BadBodies++
		}
	}
	if t.Status != 0 {
		ct := respType
		rk := respKey{t.Status, ct}
		r := ep.responses[rk]
		if r == nil {
			if len(ep.responses) >= cfg.MaxResponses {
				w.st.RespDropped++
				return
			}
			r = &bodyState{learner: newLearner(ct, &cfg.Schema)}
			ep.responses[respKey{t.Status, strings.Clone(ct)}] = r
		}
		if !w.learn(r.learner, ct, t.ResponseBody, t.Flags) {
			w.st.BadBodies++
		}
	}
	if ep.samples%4 == 0 {
		ep.stable = ep.allStable()
	}
}

// warmupSamples is how many calls of an endpoint are all sampled before the
// sampling period starts to grow.
const warmupSamples = 16

// sample says whether t's parameters and bodies are parsed. A response of
// a kind the endpoint has not seen yet always is. Otherwise the endpoint's
// first warmupSamples calls are, then one in samples/warmupSamples while
// its schemas still change (the period grows with the evidence), and one
// in SampleEvery once they are stable. The calls are picked by a hash of
// the call, not by arrival order.
func (w *Worker) sample(ep *endpoint, t *reassembly.Transaction, respType string) bool {
	if rk := (respKey{t.Status, respType}); t.Status != 0 && rk != ep.lastResp {
		if _, ok := ep.responses[rk]; !ok {
			return true
		}
		ep.lastResp = rk
	}
	n := uint64(w.a.cfg.SampleEvery)
	if !ep.stable {
		n = min(n, uint64(ep.samples/warmupSamples))
	}
	return n <= 1 || callHash(t)%n == 0
}

// callHash identifies a call by its client address, port and request time,
// with a fixed hash (the same capture samples the same calls every run).
func callHash(t *reassembly.Transaction) uint64 {
	h := addrHash(t.Client.Addr())
	h = schema.Mix64(h ^ uint64(t.Client.Port()))
	return schema.Mix64(h ^ uint64(t.Time().UnixNano()))
}

// addrHash hashes an address with a fixed function (for the distinct
// client sketch, whose estimate must not change from run to run).
func addrHash(a netip.Addr) uint64 {
	b := a.As16()
	return schema.Mix64(schema.Mix64(binary.BigEndian.Uint64(b[:8])) ^ binary.BigEndian.Uint64(b[8:]))
}

// learn feeds a body to its learner. It reports false when the body claimed
// a structured type and did not parse. Bodies cut by a limit or that failed
// to decode are not learned from (they would parse as broken).
func (w *Worker) learn(l *schema.Learner, ct string, body []byte, f reassembly.Flags) bool {
	if l == nil || len(body) == 0 || f&(reassembly.FlagBodyTruncated|reassembly.FlagDecodeError|reassembly.FlagGap) != 0 {
		return true
	}
	before := l.Nodes()
	var err error
	if isForm(ct) {
		err = l.ObserveForm(body)
	} else {
		err = l.ObserveJSON(body)
	}
	w.schemaBytes += int64(l.Nodes()-before) * schema.NodeBytes
	return err == nil
}

// param records one parameter value of a sampled call.
func (w *Worker) param(ep *endpoint, in, name, value string) {
	k := paramKey{in, name}
	p := ep.params[k]
	if p == nil {
		if len(ep.params) >= w.a.cfg.MaxParams {
			w.st.ParamsDropped++
			return
		}
		p = &paramState{learner: schema.New(&w.a.cfg.Schema)}
		ep.params[paramKey{in, strings.Clone(name)}] = p
	}
	if p.lastSample != ep.samples {
		p.lastSample = ep.samples
		p.seen++
	}
	before := p.learner.Nodes()
	p.learner.ObserveParam(name, value)
	w.schemaBytes += int64(p.learner.Nodes()-before) * schema.NodeBytes
	if c := sensitive.Field(name, value); c != 0 {
		p.sensitive |= c
		p.sensitiveCount++
	}
}

// newLearner returns a learner for bodies of a media type, or nil when the
// type is not one whose schema is learned (JSON and form-encoded).
func newLearner(ct string, cfg *schema.Config) *schema.Learner {
	if isJSON(ct) || isForm(ct) {
		return schema.New(cfg)
	}
	return nil
}
