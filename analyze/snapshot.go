package analyze

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/apitap/apitap/analyze/pathtmpl"
	"github.com/apitap/apitap/analyze/schema"
)

// Snapshot merges what every worker learned into an Inventory. It may run
// while the workers observe (each is paused while its part is merged); the
// result owns its memory.
//
// Templates learned by one worker settle on the evidence of all: the
// workers' templaters are merged first, and each worker endpoint is re-keyed
// to the template its path has now ("/users/alice", seen before the
// evidence turned the segment into a parameter, joins "/users/{userId}").
func (a *Analyzer) Snapshot() *Inventory {
	a.mu.Lock()
	workers := slices.Clone(a.workers)
	a.mu.Unlock()

	settled := a.newTemplater()
	for _, w := range workers {
		w.mu.Lock()
		settled.Merge(w.tmpl)
		w.mu.Unlock()
	}

	inv := &Inventory{}
	merged := make(map[epKey]*endpoint)
	var keys []epKey // first-seen order of merged, for determinism
	for _, w := range workers {
		w.mu.Lock()
		st := w.st
		inv.Transactions += st.Transactions
		inv.Unattributed += st.Unattributed
		inv.Merged += st.Overflow
		wkeys := make([]epKey, 0, len(w.eps))
		for k := range w.eps {
			wkeys = append(wkeys, k)
		}
		slices.SortFunc(wkeys, compareKeys)
		for _, k := range wkeys {
			ep := w.eps[k]
			m := settled.Resolve(k.host, k.template)
			nk := epKey{k.host, k.method, m.Template}
			dst := merged[nk]
			if dst == nil {
				dst = newEndpoint(m.Origin)
				merged[nk] = dst
				keys = append(keys, nk)
			}
			dst.merge(ep, a, k.template, m.Template)
		}
		w.mu.Unlock()
	}
	unifyErrorBodies(merged, keys, a)
	for _, k := range keys {
		e := merged[k].export(k)
		inv.Endpoints = append(inv.Endpoints, e)
		if inv.First.IsZero() || e.First.Before(inv.First) {
			inv.First = e.First
		}
		if e.Last.After(inv.Last) {
			inv.Last = e.Last
		}
	}
	slices.SortFunc(inv.Endpoints, func(x, y Endpoint) int {
		if c := cmp.Compare(y.Calls, x.Calls); c != 0 {
			return c
		}
		return cmp.Or(strings.Compare(x.Host, y.Host), strings.Compare(x.Template, y.Template), strings.Compare(x.Method, y.Method))
	})
	return inv
}

func compareKeys(x, y epKey) int {
	return cmp.Or(strings.Compare(x.host, y.host), strings.Compare(x.template, y.template), strings.Compare(x.method, y.method))
}

// merge folds o (learned under template from) into ep (under template to).
// Path parameters are renamed to the names of to; segments that were
// literal under from and are parameters under to teach the parameter their
// literal value.
func (ep *endpoint) merge(o *endpoint, a *Analyzer, from, to string) {
	if o.origin != pathtmpl.Learned {
		ep.origin = o.origin
	}
	firstCalls := ep.calls == 0
	ep.calls += o.calls
	ep.responded += o.responded
	if !o.first.IsZero() && (ep.first.IsZero() || o.first.Before(ep.first)) {
		ep.first = o.first
	}
	if o.last.After(ep.last) {
		ep.last = o.last
	}
	_ = ep.clients.Merge(o.clients)
	for _, s := range o.status {
		ep.addStatus(s.Code, s.Count)
	}
	_ = ep.latency.MergeWith(o.latency)
	ep.reqSize.merge(o.reqSize, firstCalls)
	if o.responded > 0 {
		ep.respSize.merge(o.respSize, ep.responded == o.responded)
	}
	for _, a := range o.auth {
		ep.addAuth(a.c, a.n)
	}
	ep.samples += o.samples

	rename, literal := pathChanges(from, to)
	for k, p := range o.params {
		if k.in == "path" {
			if n, ok := rename[k.name]; ok {
				k.name = n
			}
		}
		ep.mergeParam(k, p, a)
	}
	for name, value := range literal {
		// The old endpoint's calls all had this literal value: one
		// observation of it stands for them, and they all carried it.
		p := schema.New(&a.cfg.Schema)
		p.ObserveParam(name, value)
		ep.mergeParam(paramKey{"path", name}, &paramState{learner: p, seen: o.samples}, a)
	}
	for ct, b := range o.reqBodies {
		ep.reqBodies[ct] = mergeBody(ep.reqBodies[ct], b, a)
	}
	for rk, r := range o.responses {
		ep.responses[rk] = mergeBody(ep.responses[rk], r, a)
	}
}

func (ep *endpoint) mergeParam(k paramKey, p *paramState, a *Analyzer) {
	d := ep.params[k]
	if d == nil {
		d = &paramState{learner: schema.New(&a.cfg.Schema)}
		ep.params[k] = d
	}
	d.learner.Merge(p.learner)
	d.seen += p.seen
	d.sensitive |= p.sensitive
	d.sensitiveCount += p.sensitiveCount
}

func mergeBody(d, o *bodyState, a *Analyzer) *bodyState {
	if d == nil {
		d = &bodyState{}
		if o.learner != nil {
			d.learner = schema.New(&a.cfg.Schema)
		}
	}
	if d.learner != nil && o.learner != nil {
		d.learner.Merge(o.learner)
	}
	d.count += o.count
	return d
}

// pathChanges compares a template with the one it settled into: path
// parameters renamed (old name → new name), and literal segments that became
// parameters (new name → the literal value).
func pathChanges(from, to string) (rename, literal map[string]string) {
	if from == to {
		return nil, nil
	}
	fs, ts := strings.Split(from, "/"), strings.Split(to, "/")
	if len(fs) != len(ts) {
		return nil, nil // folded into a shorter tail template
	}
	for i := range ts {
		tn, tparam := paramName(ts[i])
		if !tparam {
			continue
		}
		if fn, fparam := paramName(fs[i]); fparam {
			if fn != tn {
				if rename == nil {
					rename = make(map[string]string)
				}
				rename[fn] = tn
			}
			continue
		}
		if literal == nil {
			literal = make(map[string]string)
		}
		literal[tn] = fs[i]
	}
	return rename, literal
}

// paramName returns the name of a template segment "{name}".
func paramName(seg string) (string, bool) {
	if len(seg) >= 2 && seg[0] == '{' && seg[len(seg)-1] == '}' {
		return seg[1 : len(seg)-1], true
	}
	return "", false
}

// export turns the merged state into its snapshot form.
func (ep *endpoint) export(k epKey) Endpoint {
	e := Endpoint{
		Host:          k.host,
		Method:        k.method,
		Template:      k.template,
		Origin:        ep.origin.String(),
		Calls:         ep.calls,
		Clients:       ep.clients.Estimate(),
		First:         ep.first,
		Last:          ep.last,
		Status:        slices.Clone(ep.status),
		RequestBytes:  ep.reqSize,
		ResponseBytes: ep.respSize,
		Samples:       ep.samples,
	}
	slices.SortFunc(e.Status, func(x, y StatusCount) int { return cmp.Compare(x.Code, y.Code) })
	if !ep.latency.IsEmpty() {
		q, err := ep.latency.GetValuesAtQuantiles([]float64{0.5, 0.95, 0.99})
		if err == nil {
			e.LatencyP50, e.LatencyP95, e.LatencyP99 = millis(q[0]), millis(q[1]), millis(q[2])
		}
	}
	for _, a := range ep.auth {
		e.Auth = append(e.Auth, AuthSeen{Scheme: a.c.Scheme.String(), Name: a.c.Name, Count: a.n})
	}
	slices.SortFunc(e.Auth, func(x, y AuthSeen) int {
		return cmp.Or(strings.Compare(x.Scheme, y.Scheme), strings.Compare(x.Name, y.Name))
	})

	order := pathOrder(k.template)
	for pk, p := range ep.params {
		e.Params = append(e.Params, Param{
			Name:     pk.name,
			In:       pk.in,
			Required: pk.in == "path" || p.seen >= ep.samples,
			Schema:   p.learner.Schema(),
		})
		if p.sensitive != 0 {
			e.Sensitive = append(e.Sensitive, SensitiveField{In: pk.in, Pointer: pk.name, Classes: p.sensitive.Names(), Count: p.sensitiveCount})
		}
	}
	inRank := map[string]int{"path": 0, "query": 1, "header": 2}
	slices.SortFunc(e.Params, func(x, y Param) int {
		if c := cmp.Compare(inRank[x.In], inRank[y.In]); c != 0 {
			return c
		}
		if x.In == "path" {
			return cmp.Compare(order[x.Name], order[y.Name])
		}
		return strings.Compare(x.Name, y.Name)
	})

	for ct, b := range ep.reqBodies {
		body := Body{ContentType: ct, Required: b.count >= ep.samples && ep.samples > 0}
		if b.learner != nil && b.learner.Samples() > 0 {
			body.Schema = b.learner.Schema()
			e.Sensitive = appendSensitive(e.Sensitive, "request", b.learner.Sensitive())
		}
		e.RequestBodies = append(e.RequestBodies, body)
	}
	slices.SortFunc(e.RequestBodies, func(x, y Body) int { return strings.Compare(x.ContentType, y.ContentType) })

	for rk, r := range ep.responses {
		resp := Response{Status: rk.status, ContentType: rk.ct, Count: r.count}
		if r.learner != nil && r.learner.Samples() > 0 {
			resp.Schema = r.learner.Schema()
			if r.shared != nil {
				resp.Schema = r.shared.Schema()
			}
			e.Sensitive = appendSensitive(e.Sensitive, "response", r.learner.Sensitive())
		}
		e.Responses = append(e.Responses, resp)
	}
	slices.SortFunc(e.Responses, func(x, y Response) int {
		return cmp.Or(cmp.Compare(x.Status, y.Status), strings.Compare(x.ContentType, y.ContentType))
	})
	e.Sensitive = mergeSensitive(e.Sensitive)
	return e
}

func millis(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// pathOrder maps the parameter names of a template to their position.
func pathOrder(template string) map[string]int {
	order := make(map[string]int)
	for i, seg := range strings.Split(template, "/") {
		if n, ok := paramName(seg); ok {
			order[n] = i
		}
	}
	return order
}

func appendSensitive(dst []SensitiveField, in string, fs []schema.Field) []SensitiveField {
	for _, f := range fs {
		dst = append(dst, SensitiveField{In: in, Pointer: f.Pointer, Classes: f.Classes.Names(), Count: f.Count})
	}
	return dst
}

// mergeSensitive sorts fields by In and Pointer and joins duplicates (the
// same response field under several status codes).
func mergeSensitive(fs []SensitiveField) []SensitiveField {
	slices.SortFunc(fs, func(x, y SensitiveField) int {
		return cmp.Or(strings.Compare(x.In, y.In), strings.Compare(x.Pointer, y.Pointer))
	})
	out := fs[:0]
	for _, f := range fs {
		if n := len(out); n > 0 && out[n-1].In == f.In && out[n-1].Pointer == f.Pointer {
			out[n-1].Count += f.Count
			out[n-1].Classes = unionNames(out[n-1].Classes, f.Classes)
			continue
		}
		out = append(out, f)
	}
	return out
}

func unionNames(a, b []string) []string {
	u := append(slices.Clone(a), b...)
	slices.Sort(u)
	return slices.Compact(u)
}

// minEnvelopeOverlap is how alike (Jaccard index of their top-level
// property names) two JSON error bodies must be to be one envelope.
const minEnvelopeOverlap = 0.5

// unifyErrorBodies joins the JSON error responses (status 400 and up) of a
// host that share an envelope. APIs answer an error status from one
// handler with one shape ({"error", "message", "status_code", "detail"} …),
// but each endpoint sees few errors, so its own schema misses the optional
// fields the others saw. Responses of the same status and content type
// whose top-level property names overlap by at least minEnvelopeOverlap
// are learned together (each keeps its count and sensitive fields);
// unlike ones, and other statuses (a 401 often carries other details than
// a 400), stay apart.
func unifyErrorBodies(merged map[epKey]*endpoint, keys []epKey, a *Analyzer) {
	type envelope struct {
		host   string
		status int
		ct     string
		names  map[string]bool
		parts  []*bodyState
	}
	var envs []*envelope
	for _, k := range keys {
		ep := merged[k]
		rks := make([]respKey, 0, len(ep.responses))
		for rk := range ep.responses {
			rks = append(rks, rk)
		}
		slices.SortFunc(rks, func(x, y respKey) int {
			return cmp.Or(cmp.Compare(x.status, y.status), strings.Compare(x.ct, y.ct))
		})
		for _, rk := range rks {
			r := ep.responses[rk]
			if rk.status < 400 || r.learner == nil || r.learner.Samples() == 0 {
				continue
			}
			names := topLevelNames(r.learner)
			if len(names) == 0 {
				continue
			}
			var env *envelope
			for _, e := range envs {
				if e.host == k.host && e.status == rk.status && e.ct == rk.ct && jaccard(e.names, names) >= minEnvelopeOverlap {
					env = e
					break
				}
			}
			if env == nil {
				env = &envelope{host: k.host, status: rk.status, ct: rk.ct, names: map[string]bool{}}
				envs = append(envs, env)
			}
			for n := range names {
				env.names[n] = true
			}
			env.parts = append(env.parts, r)
		}
	}
	for _, e := range envs {
		if len(e.parts) < 2 {
			continue
		}
		// Each response learns its own values first, so that its
		// examples are its own where it has them.
		for _, r := range e.parts {
			joined := schema.New(&a.cfg.Schema)
			joined.Merge(r.learner)
			for _, o := range e.parts {
				if o != r {
					joined.Merge(o.learner)
				}
			}
			r.shared = joined
		}
	}
}

// topLevelNames returns the property names of an object schema (nil for
// any other).
func topLevelNames(l *schema.Learner) map[string]bool {
	sch := l.Schema()
	if sch == nil || len(sch.Properties) == 0 {
		return nil
	}
	names := make(map[string]bool, len(sch.Properties))
	for n := range sch.Properties {
		names[n] = true
	}
	return names
}

func jaccard(a, b map[string]bool) float64 {
	inter := 0
	for n := range b {
		if a[n] {
			inter++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}
