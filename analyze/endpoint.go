package analyze

import (
	"time"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/store"
	"github.com/apitap/apitap/analyze/pathtmpl"
	"github.com/apitap/apitap/analyze/schema"
	"github.com/apitap/apitap/analyze/sensitive"
	"github.com/apitap/apitap/reassembly"
	"github.com/axiomhq/hyperloglog"
)

// Latency sketch: 1% relative accuracy, at most latencyBins bins (the
// lowest collapse first, so high quantiles stay exact to 1%): a few KiB per
// endpoint whatever the traffic.
const (
	latencyAccuracy = 0.01
	latencyBins     = 1024
)

// endpoint is what one worker learned about one (host, method, template).
type endpoint struct {
	origin pathtmpl.Origin

	calls       int64
	responded   int64 // calls with a response
	clients     *hyperloglog.Sketch
	lastClient  uint64 // hash of the last client inserted into clients
	first, last time.Time
	status      []StatusCount // unsorted, small
	latency     *ddsketch.DDSketch
	reqSize     Sizes
	respSize    Sizes
	auth        []credCount // few per endpoint: a slice beats a map

	samples   int64   // calls whose parameters and bodies were parsed
	lastResp  respKey // the last response kind known to be in responses
	stable    bool
	params    map[paramKey]*paramState
	reqBodies map[string]*bodyState // by media type ("" when none was given)
	responses map[respKey]*bodyState
}

type paramKey struct{ in, name string }

type credCount struct {
	c sensitive.Credential
	n int64
}

func (ep *endpoint) addAuth(c sensitive.Credential, n int64) {
	for i := range ep.auth {
		if ep.auth[i].c == c {
			ep.auth[i].n += n
			return
		}
	}
	ep.auth = append(ep.auth, credCount{c, n})
}

type paramState struct {
	learner        *schema.Learner
	seen           int64 // sampled calls that carried the parameter
	lastSample     int64 // the endpoint's sample number that last counted in seen
	sensitive      sensitive.Class
	sensitiveCount int64
}

type respKey struct {
	status int
	ct     string
}

// bodyState is a request body of one media type, or a response of one
// (status, media type). learner is nil when the media type's schema is not
// learned.
type bodyState struct {
	learner *schema.Learner
	count   int64
	// shared is set at snapshot time for an error response learned
	// together with its host's other responses of the same envelope
	// (unifyErrorBodies): its schema is exported instead of learner's.
	shared *schema.Learner
}

// clientPrecision is the HyperLogLog precision of the distinct-client
// estimate: 2^12 registers, a 4 KiB sketch once dense (sparse and smaller
// until an endpoint has seen a few hundred clients), 1.6% standard error.
const clientPrecision = 12

func newClientSketch() *hyperloglog.Sketch {
	s, err := hyperloglog.NewSketch(clientPrecision, true)
	if err != nil {
		panic(err) // constant precision
	}
	return s
}

func newEndpoint(origin pathtmpl.Origin) *endpoint {
	// The cubically interpolated mapping costs half the logarithmic one
	// per value, for the same accuracy guarantee.
	m, err := mapping.NewCubicallyInterpolatedMapping(latencyAccuracy)
	if err != nil {
		panic(err) // constant arguments
	}
	lat := ddsketch.NewDDSketch(m, store.NewCollapsingLowestDenseStore(latencyBins), store.NewCollapsingLowestDenseStore(latencyBins))
	return &endpoint{
		origin:    origin,
		clients:   newClientSketch(),
		latency:   lat,
		params:    make(map[paramKey]*paramState),
		reqBodies: make(map[string]*bodyState),
		responses: make(map[respKey]*bodyState),
	}
}

// count updates the statistics every call feeds, sampled or not.
func (ep *endpoint) count(t *reassembly.Transaction) {
	ep.calls++
	if ts := t.Time(); !ts.IsZero() {
		if ep.first.IsZero() || ts.Before(ep.first) {
			ep.first = ts
		}
		if ts.After(ep.last) {
			ep.last = ts
		}
	}
	// Keep-alive clients call the same endpoint again and again: the
	// sketch needs each client once.
	if h := addrHash(t.Client.Addr()); h != ep.lastClient {
		ep.clients.InsertHash(h)
		ep.lastClient = h
	}
	ep.addStatus(t.Status, 1)
	if d := t.Duration(); d > 0 && t.Status != 0 {
		_ = ep.latency.Add(float64(d) / float64(time.Millisecond))
	}
	ep.reqSize.add(t.RequestBodyLen, ep.calls == 1)
	if t.Status != 0 {
		ep.responded++
		ep.respSize.add(t.ResponseBodyLen, ep.responded == 1)
	}
}

func (ep *endpoint) addStatus(code int, n int64) {
	for i := range ep.status {
		if ep.status[i].Code == code {
			ep.status[i].Count += n
			return
		}
	}
	ep.status = append(ep.status, StatusCount{code, n})
}

func (s *Sizes) add(n int64, first bool) {
	if first || n < s.Min {
		s.Min = n
	}
	if n > s.Max {
		s.Max = n
	}
	s.Total += n
}

func (s *Sizes) merge(o Sizes, first bool) {
	if first || o.Min < s.Min {
		s.Min = o.Min
	}
	if o.Max > s.Max {
		s.Max = o.Max
	}
	s.Total += o.Total
}

// allStable reports whether every schema the endpoint learns has settled.
func (ep *endpoint) allStable() bool {
	for _, p := range ep.params {
		if !p.learner.Stable() {
			return false
		}
	}
	for _, b := range ep.reqBodies {
		if b.learner != nil && !b.learner.Stable() {
			return false
		}
	}
	for _, r := range ep.responses {
		if r.learner != nil && !r.learner.Stable() {
			return false
		}
	}
	return true
}
