package openapi

import (
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Drift kinds.
const (
	DriftParameter   = "parameter"    // a parameter observed, not documented
	DriftProperty    = "property"     // a body property observed, not documented
	DriftStatus      = "status"       // a response status observed, not documented
	DriftContentType = "content-type" // a request or response media type observed, not documented
	DriftType        = "type"         // a parameter or property whose observed type the documented one does not allow
)

// Report is what Diff found. Its slices are sorted (operations by
// template, method and host; drift by operation, kind and where) and hold
// no duplicates, so the same documents always give the same report.
type Report struct {
	// Shadow are the observed operations no documented operation matches.
	Shadow []Operation
	// Zombie are the documented operations that were not observed (one
	// entry per server the operation applies to; an operation observed
	// under any of its servers is no zombie).
	Zombie []Operation
	// Drift are the differences within operations both documents have.
	Drift []Drift
}

// Drift is one difference between an observed operation and the documented
// one it matches.
type Drift struct {
	// Operation is the observed operation (when it is observed on several
	// hosts, the first of them).
	Operation Operation
	// Kind is DriftParameter, DriftProperty, DriftStatus, DriftContentType
	// or DriftType.
	Kind string
	// Where locates the difference: "query:limit", "header:X-Trace",
	// "path:userId" (observed names); "request application/json /items/*/id",
	// "response 200 application/json /items/*/price" (a JSON pointer into
	// the body, "*" standing for any array item or map value; no pointer
	// for the body itself); "request", "response 404".
	Where string
	// Observed and Documented describe both sides: types ("integer",
	// "string|null", "any"), a status code and the documented ones ("404"
	// vs "200, 400"), media types. Documented is "" when nothing is
	// documented there.
	Observed, Documented string
}

// Empty reports whether the documents agree.
func (r Report) Empty() bool {
	return len(r.Shadow) == 0 && len(r.Zombie) == 0 && len(r.Drift) == 0
}

// Diff compares a reference document (what is documented: a published
// spec, or last week's inferred one) with an observed one (usually Build's
// output, or a second spec). Operations match on method and full path
// template (server base path included) with parameter names ignored:
// "/users/{id}" matches "/users/{userId}"; hosts do not take part, so a
// spec whose server is a development host still matches the production
// traffic. Observed operations no reference operation matches are shadow,
// reference operations with no observed match are zombie. For each match
// Diff lists the drift:
//   - parameter: a query, header or cookie parameter the reference does not
//     document (headers compared case-insensitively; a parameter named by
//     one of the reference's apiKey security schemes counts as documented);
//   - status: a response status the reference documents neither as such,
//     nor as a range ("2XX"), nor by a "default" response (an observed
//     "default" without content, Build's "no response was observed", is
//     not compared);
//   - content-type: a request or response media type the reference does
//     not document (media ranges such as "application/*" match);
//   - property: a JSON property of a body the reference schema does not
//     have; only the outermost undocumented property of a branch is
//     listed, and nothing below a free-form reference object ({type:
//     object} without properties, additionalProperties: true, {}) counts;
//   - type: a parameter, body or property whose observed types the
//     reference's types do not allow (integer fits number; null counts, so
//     an observed nullable property that is documented non-nullable
//     drifts). Formats are not compared.
//
// allOf, oneOf and anyOf branches of the reference are all searched.
// Diff only reads both documents.
func Diff(reference, observed *openapi3.T) Report {
	refOps, obsOps := collect(reference), collect(observed)
	refByKey := make(map[string][]docOp)
	for _, o := range refOps {
		refByKey[o.key] = append(refByKey[o.key], o)
	}
	obsKeys := make(map[string]bool, len(obsOps))
	for _, o := range obsOps {
		obsKeys[o.key] = true
	}
	var r Report
	// A reference operation seen under any of its servers is no zombie.
	seenRef := make(map[*openapi3.Operation]bool)
	for _, o := range refOps {
		if obsKeys[o.key] {
			seenRef[o.op] = true
		}
	}
	for _, o := range refOps {
		if !seenRef[o.op] {
			r.Zombie = append(r.Zombie, o.Operation)
		}
	}
	keys := apiKeyParams(reference)
	type pair struct{ ref, obs *openapi3.Operation }
	done := make(map[pair]bool)
	for _, o := range obsOps {
		refs := refByKey[o.key]
		if len(refs) == 0 {
			r.Shadow = append(r.Shadow, o.Operation)
			continue
		}
		ref := refs[0]
		p := pair{ref.op, o.op}
		if done[p] {
			continue
		}
		done[p] = true
		d := differ{op: o.Operation, apiKeys: keys}
		d.operation(ref, o)
		r.Drift = append(r.Drift, d.out...)
	}
	sortDrift(r.Drift)
	r.Drift = slices.Compact(r.Drift)
	return r
}

func sortDrift(ds []Drift) {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.Operation != b.Operation {
			return lessOp(a.Operation, b.Operation)
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Where != b.Where {
			return a.Where < b.Where
		}
		if a.Observed != b.Observed {
			return a.Observed < b.Observed
		}
		return a.Documented < b.Documented
	})
}

// apiKeyParams lists the parameters ("in:name", header names lower-cased)
// the document's apiKey security schemes describe.
func apiKeyParams(doc *openapi3.T) map[string]bool {
	out := make(map[string]bool)
	if doc == nil || doc.Components == nil {
		return out
	}
	for _, s := range doc.Components.SecuritySchemes {
		if s == nil || s.Value == nil || s.Value.Type != "apiKey" {
			continue
		}
		out[paramKey(s.Value.In, s.Value.Name)] = true
	}
	return out
}

func paramKey(in, name string) string {
	if in == "header" {
		name = strings.ToLower(name)
	}
	return in + ":" + name
}

// differ collects the drift of one observed operation.
type differ struct {
	op      Operation
	apiKeys map[string]bool
	out     []Drift
}

func (d *differ) add(kind, where, observed, documented string) {
	d.out = append(d.out, Drift{Operation: d.op, Kind: kind, Where: where, Observed: observed, Documented: documented})
}

func (d *differ) operation(ref, obs docOp) {
	d.parameters(ref, obs)
	d.requestBody(ref.op.RequestBody, obs.op.RequestBody)
	d.responses(ref.op.Responses, obs.op.Responses)
}

// params lists an operation's parameters with the path item's, the
// operation's own winning.
func params(item *openapi3.PathItem, op *openapi3.Operation) []*openapi3.Parameter {
	var out []*openapi3.Parameter
	have := make(map[string]bool)
	for _, list := range []openapi3.Parameters{op.Parameters, item.Parameters} {
		for _, r := range list {
			if r == nil || r.Value == nil {
				continue
			}
			k := paramKey(r.Value.In, r.Value.Name)
			if !have[k] {
				have[k] = true
				out = append(out, r.Value)
			}
		}
	}
	return out
}

func (d *differ) parameters(ref, obs docOp) {
	refParams := make(map[string]*openapi3.Parameter)
	for _, p := range params(ref.item, ref.op) {
		refParams[paramKey(p.In, p.Name)] = p
	}
	for _, p := range params(obs.item, obs.op) {
		where := p.In + ":" + p.Name
		var doc *openapi3.Parameter
		if p.In == "path" {
			// Path parameters match by position: names may differ.
			i := slices.Index(obs.tmpl.names, p.Name)
			if i < 0 || i >= len(ref.tmpl.names) {
				continue
			}
			if doc = refParams[paramKey("path", ref.tmpl.names[i])]; doc == nil {
				continue
			}
		} else if doc = refParams[paramKey(p.In, p.Name)]; doc == nil {
			if !d.apiKeys[paramKey(p.In, p.Name)] {
				d.add(DriftParameter, where, typeString(paramSchema(p)), "")
			}
			continue
		}
		os, rs := paramSchema(p), paramSchema(doc)
		if !typesAllowed(typeSet(os), typeSet(rs)) {
			d.add(DriftType, where, typeString(os), typeString(rs))
		}
	}
}

func paramSchema(p *openapi3.Parameter) *openapi3.Schema {
	if p.Schema != nil {
		return p.Schema.Value
	}
	for _, ct := range sortedKeys(p.Content) {
		if mt := p.Content[ct]; mt != nil && mt.Schema != nil {
			return mt.Schema.Value
		}
	}
	return nil
}

func (d *differ) requestBody(ref, obs *openapi3.RequestBodyRef) {
	if obs == nil || obs.Value == nil {
		return
	}
	var refContent openapi3.Content
	if ref != nil && ref.Value != nil {
		refContent = ref.Value.Content
	}
	d.content("request", refContent, obs.Value.Content)
}

// content compares the media types of a request or response body.
func (d *differ) content(where string, ref, obs openapi3.Content) {
	for _, ct := range sortedKeys(obs) {
		mt := obs[ct]
		refMT := matchMedia(ref, ct)
		if refMT == nil {
			d.add(DriftContentType, where, mediaType(ct), mediaTypes(ref))
			continue
		}
		var os, rs *openapi3.Schema
		if mt != nil && mt.Schema != nil {
			os = mt.Schema.Value
		}
		if refMT.Schema != nil {
			rs = refMT.Schema.Value
		}
		d.schema(where+" "+mediaType(ct), os, rs)
	}
}

// mediaType is a content key without parameters, lower-cased.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

func mediaTypes(c openapi3.Content) string {
	var out []string
	for _, ct := range sortedKeys(c) {
		out = append(out, mediaType(ct))
	}
	return strings.Join(out, ", ")
}

// matchMedia finds the reference media type for an observed one: the same
// type, else a range ("application/*", "*/*").
func matchMedia(ref openapi3.Content, ct string) *openapi3.MediaType {
	want := mediaType(ct)
	var ranged *openapi3.MediaType
	for _, k := range sortedKeys(ref) {
		for _, part := range strings.Split(k, ",") {
			m := mediaType(part)
			switch {
			case m == want:
				if mt := ref[k]; mt != nil {
					return mt
				}
				return &openapi3.MediaType{}
			case m == "*/*", strings.HasSuffix(m, "/*") && strings.HasPrefix(want, strings.TrimSuffix(m, "*")):
				if ranged == nil {
					ranged = ref[k]
					if ranged == nil {
						ranged = &openapi3.MediaType{}
					}
				}
			}
		}
	}
	return ranged
}

func (d *differ) responses(ref, obs *openapi3.Responses) {
	if obs == nil {
		return
	}
	for _, code := range obs.Keys() {
		or := obs.Value(code)
		if or == nil || or.Value == nil {
			continue
		}
		if code == "default" && len(or.Value.Content) == 0 {
			continue
		}
		rr := matchStatus(ref, code)
		if rr == nil {
			var documented []string
			if ref != nil {
				documented = ref.Keys()
			}
			d.add(DriftStatus, "response "+code, code, strings.Join(documented, ", "))
			continue
		}
		d.content("response "+code, rr.Content, or.Value.Content)
	}
}

// matchStatus finds the reference response for an observed status key:
// the same key, else its range ("4XX"), else "default".
func matchStatus(ref *openapi3.Responses, code string) *openapi3.Response {
	if ref == nil {
		return nil
	}
	candidates := []string{code}
	if len(code) == 3 && code[0] >= '1' && code[0] <= '5' {
		candidates = append(candidates, code[:1]+"XX", code[:1]+"xx")
	}
	candidates = append(candidates, "default")
	for _, c := range candidates {
		if r := ref.Value(c); r != nil && r.Value != nil {
			return r.Value
		}
	}
	return nil
}

// maxSchemaDepth bounds the walk of (possibly recursive) schemas.
const maxSchemaDepth = 48

// schema compares an observed body schema with the documented one.
func (d *differ) schema(where string, obs, ref *openapi3.Schema) {
	d.node(where, nil, obs, ref, make(map[*openapi3.Schema]bool))
}

// node compares the observed schema at pointer tokens with what the
// reference documents there, then descends into the observed children.
func (d *differ) node(where string, tokens []string, obs, ref *openapi3.Schema, onPath map[*openapi3.Schema]bool) {
	if obs == nil || onPath[obs] || len(tokens) > maxSchemaDepth {
		return
	}
	found, open := lookup(ref, tokens, 0)
	if open {
		return
	}
	loc := where
	if len(tokens) > 0 {
		loc += " " + pointer(tokens)
	}
	if len(found) == 0 {
		d.add(DriftProperty, loc, typeString(obs), "")
		return
	}
	var refTypes []string
	anyType := false
	for _, f := range found {
		ts := typeSet(f)
		if ts == nil {
			anyType = true
			break
		}
		refTypes = union(refTypes, ts)
	}
	if !anyType && !typesAllowed(typeSet(obs), refTypes) {
		documented := strings.Join(refTypes, "|")
		d.add(DriftType, loc, typeString(obs), documented)
		return
	}
	onPath[obs] = true
	defer delete(onPath, obs)
	for _, v := range variants(obs) {
		for _, name := range sortedKeys(v.Properties) {
			if p := v.Properties[name]; p != nil {
				d.node(where, append(slices.Clip(tokens), name), p.Value, ref, onPath)
			}
		}
		if v.Items != nil {
			d.node(where, append(slices.Clip(tokens), "*"), v.Items.Value, ref, onPath)
		}
		if ap := v.AdditionalProperties.Schema; ap != nil {
			d.node(where, append(slices.Clip(tokens), "*"), ap.Value, ref, onPath)
		}
	}
}

// variants lists s and, recursively, the branches of its allOf, oneOf and
// anyOf: the schemas whose properties apply at s's place.
func variants(s *openapi3.Schema) []*openapi3.Schema {
	var out []*openapi3.Schema
	var walk func(*openapi3.Schema, int)
	walk = func(s *openapi3.Schema, depth int) {
		if s == nil || depth > 16 || slices.Contains(out, s) {
			return
		}
		out = append(out, s)
		for _, list := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
			for _, r := range list {
				if r != nil {
					walk(r.Value, depth+1)
				}
			}
		}
	}
	walk(s, 0)
	return out
}

// lookup finds the reference schemas at a pointer. open is true when the
// reference leaves that place free-form (a missing schema, {}, an object
// without properties, additionalProperties: true, an array without items):
// anything there is documented. Where some branches of an allOf, oneOf or
// anyOf describe members and others are free-form, the described ones
// decide.
func lookup(s *openapi3.Schema, tokens []string, depth int) (found []*openapi3.Schema, open bool) {
	if s == nil || depth > maxSchemaDepth {
		return nil, true
	}
	if len(tokens) == 0 {
		return []*openapi3.Schema{s}, false
	}
	tok, rest := tokens[0], tokens[1:]
	var next []*openapi3.Schema
	structured, free := false, false
	for _, v := range variants(s) {
		if ap := v.AdditionalProperties.Has; ap != nil && *ap && (tok == "*" || v.Properties[tok] == nil) {
			return nil, true // additionalProperties: true documents any member
		}
		if tok == "*" && v.Items != nil {
			next = append(next, v.Items.Value)
		}
		if p := v.Properties[tok]; tok != "*" && p != nil {
			next = append(next, p.Value)
		}
		if ap := v.AdditionalProperties.Schema; ap != nil {
			next = append(next, ap.Value)
		}
		if len(v.Properties) > 0 || v.Items != nil || v.AdditionalProperties.Schema != nil {
			structured = true
		} else if freeForm(v) {
			free = true
		}
	}
	if !structured && free {
		return nil, true
	}
	for _, n := range next {
		f, o := lookup(n, rest, depth+1)
		if o {
			return nil, true
		}
		found = append(found, f...)
	}
	return found, false
}

// freeForm reports whether a schema allows any members or items it does
// not describe.
func freeForm(s *openapi3.Schema) bool {
	if s.AdditionalProperties.Has != nil && *s.AdditionalProperties.Has {
		return true
	}
	if len(s.PatternProperties) > 0 {
		return true
	}
	if len(s.AllOf)+len(s.OneOf)+len(s.AnyOf) > 0 {
		return false // the branches decide
	}
	ts := typeSet(s)
	switch {
	case ts == nil:
		return len(s.Properties) == 0 && s.Items == nil && !(s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has)
	case slices.Contains(ts, "object") && len(s.Properties) == 0 && s.AdditionalProperties.Has == nil:
		return true
	case slices.Contains(ts, "array") && s.Items == nil:
		return true
	}
	return false
}

// typeSet lists the JSON types a schema allows, sorted ("null" when
// nullable or in a 3.1 type list); nil when it allows any type.
func typeSet(s *openapi3.Schema) []string {
	if s == nil {
		return nil
	}
	var out []string
	if s.Type != nil && len(*s.Type) > 0 {
		out = union(out, *s.Type)
	} else {
		branches := s.OneOf
		if len(branches) == 0 {
			branches = s.AnyOf
		}
		if len(branches) == 0 {
			for _, r := range s.AllOf {
				if r != nil && r.Value != nil {
					if ts := typeSet(r.Value); ts != nil {
						return ts
					}
				}
			}
			return nil
		}
		for _, r := range branches {
			if r == nil || r.Value == nil {
				return nil
			}
			ts := typeSet(r.Value)
			if ts == nil {
				return nil
			}
			out = union(out, ts)
		}
	}
	if s.Nullable {
		out = union(out, []string{"null"})
	}
	return out
}

func union(a, b []string) []string {
	for _, t := range b {
		if !slices.Contains(a, t) {
			a = append(a, t)
		}
	}
	sort.Strings(a)
	return a
}

// typesAllowed reports whether every observed type is allowed by the
// documented ones (nil: any; integer fits number).
func typesAllowed(observed, documented []string) bool {
	if documented == nil || observed == nil {
		return true // either side allows or shows any type: nothing to compare
	}
	for _, t := range observed {
		if slices.Contains(documented, t) || t == "integer" && slices.Contains(documented, "number") {
			continue
		}
		return false
	}
	return true
}

// typeString renders a schema's types: "integer", "string|null", "any".
func typeString(s *openapi3.Schema) string {
	ts := typeSet(s)
	if ts == nil {
		return "any"
	}
	return strings.Join(ts, "|")
}

// pointer renders reference tokens as a JSON pointer.
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		if t != "*" {
			t = strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
		}
		b.WriteString(t)
	}
	return b.String()
}
