package accuracy

import (
	"sort"
	"strings"

	"github.com/apitap/apitap/analyze/openapi"
	"github.com/getkin/kin-openapi/openapi3"
)

// Scores is how well an inferred document matches the original one. The
// package documentation says exactly how each number is computed.
type Scores struct {
	Endpoints struct {
		Expected, Inferred, Matched int
		Precision, Recall, F1       float64
		// Split counts unmatched inferred operations that are instances
		// of an original template; Merged counts inferred operations
		// that generalise an unmatched original one.
		Split, Merged int
	}
	// Params is over matched operations. Inferred counts the inferred
	// path, query and non-standard header parameters of those operations.
	Params struct {
		Expected, Found, Inferred int
		Recall                    float64
	}
	// Properties are response properties (JSON pointers) of matched
	// operations.
	Properties struct {
		Expected, Inferred, Matched int
		Recall, Precision           float64
	}
	// Types is over matched properties whose original type is known.
	// IntegerNumber counts the disagreements that are only integer
	// against number.
	Types struct {
		Compared, Agree, IntegerNumber int
		Accuracy                       float64
	}
	// Nullable is over matched properties: Expected are nullable in the
	// original, Found of those also in the inferred document, Extra
	// nullable in the inferred document only. Not part of Types.
	Nullable struct {
		Expected, Found, Extra int
	}
	// Responses is over matched operations: Documented original
	// responses, Compared those at least one inferred status maps to,
	// Undocumented inferred statuses that map to no original response.
	// Sparse counts the compared responses left out of Properties and
	// Types because the traffic held fewer than Options.MinSamples of
	// them, SparseProperties their original pointers.
	Responses struct {
		Documented, Compared, Undocumented int
		Sparse, SparseProperties           int
	}
}

// DefaultMinSamples is Options.MinSamples when zero. With the lab's
// optional properties present in at least 70% of its responses, a
// property is missing from 10 samples with probability 0.3^10 (6e-6),
// and one branch of a two-way oneOf with probability 0.5^10 (0.001);
// from one sample, with 0.3 and 0.5.
const DefaultMinSamples = 10

// SampleKey names the responses of one status code of one operation of
// the original document: Path is the key of its paths ("/users/{id}",
// without the base path).
type SampleKey struct {
	Method string
	Path   string
	Status int
}

// Samples counts the responses the traffic held, per operation and
// status code (the lab knows them: internal/speclab's Result.Log).
type Samples map[SampleKey]int

// Options refine Score.
type Options struct {
	// Samples, when not nil, are the responses the traffic held; an
	// original response (per status code, range or default) with fewer
	// than MinSamples of them is not scored for properties and types: so
	// few samples cannot show every optional property or oneOf branch
	// whatever the learner does. Nil: every compared response is scored.
	Samples Samples
	// MinSamples applies with Samples. Zero: DefaultMinSamples.
	MinSamples int
}

// Score compares the inferred document with the original. basePath is
// where the lab served the original's paths ("" or "/api/v1"); the
// inferred document's paths are taken as full paths, joined to the path
// of its servers' URL when they all have the same one. Neither document
// is modified.
func Score(original, inferred *openapi3.T, basePath string) Scores {
	return ScoreWith(original, inferred, basePath, Options{})
}

// ScoreWith is Score with options.
func ScoreWith(original, inferred *openapi3.T, basePath string, opts Options) Scores {
	var s Scores
	orig := operations(original, basePath)
	inf := operations(inferred, BasePath(inferred))

	s.Endpoints.Expected = len(orig)
	s.Endpoints.Inferred = len(inf)
	var matched []opKey
	for k := range orig {
		if _, ok := inf[k]; ok {
			matched = append(matched, k)
		}
	}
	sort.Slice(matched, func(i, j int) bool { return matched[i].less(matched[j]) })
	s.Endpoints.Matched = len(matched)
	s.Endpoints.Precision = ratio(s.Endpoints.Matched, s.Endpoints.Inferred)
	s.Endpoints.Recall = ratio(s.Endpoints.Matched, s.Endpoints.Expected)
	s.Endpoints.F1 = f1(s.Endpoints.Precision, s.Endpoints.Recall)
	s.Endpoints.Split, s.Endpoints.Merged = splitMerged(orig, inf)

	samples := samplesByOperation(opts.Samples, basePath)
	minSamples := opts.MinSamples
	if minSamples == 0 {
		minSamples = DefaultMinSamples
	}
	for _, k := range matched {
		o, i := orig[k], inf[k]
		scoreParams(&s, original, o, inferred, i)
		var opSamples map[int]int
		if samples != nil {
			opSamples = samples[k]
			if opSamples == nil {
				opSamples = map[int]int{} // none at all: every response is sparse
			}
		}
		scoreResponses(&s, o, i, opSamples, minSamples)
	}
	s.Params.Recall = ratio(s.Params.Found, s.Params.Expected)
	s.Properties.Recall = ratio(s.Properties.Matched, s.Properties.Expected)
	s.Properties.Precision = ratio(s.Properties.Matched, s.Properties.Inferred)
	s.Types.Accuracy = ratio(s.Types.Agree, s.Types.Compared)
	return s
}

// ratio is n/d, and 1 when d is 0.
func ratio(n, d int) float64 {
	if d == 0 {
		return 1
	}
	return float64(n) / float64(d)
}

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// opKey identifies an operation: method and full path with parameter
// names erased.
type opKey struct {
	Method string
	Path   string
}

func (k opKey) less(o opKey) bool {
	if k.Path != o.Path {
		return k.Path < o.Path
	}
	return k.Method < o.Method
}

// samplesByOperation indexes samples by operation key and status; nil
// when samples is nil.
func samplesByOperation(samples Samples, basePath string) map[opKey]map[int]int {
	if samples == nil {
		return nil
	}
	out := make(map[opKey]map[int]int)
	for k, n := range samples {
		key := opKey{Method: strings.ToUpper(k.Method), Path: NormalizeTemplate(JoinPath(basePath, k.Path))}
		if out[key] == nil {
			out[key] = make(map[int]int)
		}
		out[key][k.Status] += n
	}
	return out
}

// operation is one operation of a document with what scoring needs.
type operation struct {
	Template string // full path, parameter names kept
	Item     *openapi3.PathItem
	Op       *openapi3.Operation
}

// operations lists the operations of doc by key. When two paths of doc
// give the same key (they differ only in parameter names), the first in
// sorted path order is kept.
func operations(doc *openapi3.T, basePath string) map[opKey]operation {
	out := make(map[opKey]operation)
	if doc == nil || doc.Paths == nil {
		return out
	}
	paths := doc.Paths.Keys()
	sort.Strings(paths)
	for _, p := range paths {
		item := doc.Paths.Value(p)
		if item == nil {
			continue
		}
		full := JoinPath(basePath, p)
		norm := NormalizeTemplate(full)
		for method, op := range item.Operations() {
			if op == nil {
				continue
			}
			k := opKey{Method: strings.ToUpper(method), Path: norm}
			if _, dup := out[k]; dup {
				continue
			}
			out[k] = operation{Template: full, Item: item, Op: op}
		}
	}
	return out
}

// JoinPath joins a base path ("", "/" or "/api/v1") and a path of a spec
// ("/users/{id}") the way the lab serves it.
func JoinPath(basePath, path string) string {
	basePath = strings.TrimRight(basePath, "/")
	if basePath == "" {
		return path
	}
	if !strings.HasPrefix(basePath, "/") {
		basePath = "/" + basePath
	}
	return basePath + path
}

// NormalizeTemplate replaces every "{…}" of a path template by "{}".
func NormalizeTemplate(p string) string {
	if !strings.Contains(p, "{") {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '{' {
			if j := strings.IndexByte(p[i:], '}'); j >= 0 {
				b.WriteString("{}")
				i += j
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// BasePath returns the path of the document's server URLs ("/api/v1"),
// with server variables replaced by their defaults, when every server
// has the same path; "" otherwise, and for "/" or no servers.
func BasePath(doc *openapi3.T) string {
	if doc == nil || len(doc.Servers) == 0 {
		return ""
	}
	base := ""
	for i, srv := range doc.Servers {
		p := serverPath(srv)
		if i == 0 {
			base = p
		} else if p != base {
			return ""
		}
	}
	return base
}

func serverPath(srv *openapi3.Server) string {
	if srv == nil {
		return ""
	}
	_, base := openapi.ServerHostBase(srv)
	return base
}

// splitMerged counts the inferred operations that split an original
// template (unmatched instances of it) and those that merged original
// operations (generalise an unmatched one).
func splitMerged(orig, inf map[opKey]operation) (split, merged int) {
	byMethod := make(map[string][]string)
	for k := range orig {
		byMethod[k.Method] = append(byMethod[k.Method], k.Path)
	}
	for k := range inf {
		_, exact := orig[k]
		isSplit, isMerged := false, false
		for _, op := range byMethod[k.Method] {
			if op == k.Path {
				continue
			}
			if !exact && instanceOf(k.Path, op) {
				isSplit = true
			}
			if _, found := inf[opKey{k.Method, op}]; !found && instanceOf(op, k.Path) {
				isMerged = true
			}
		}
		if isSplit {
			split++
		}
		if isMerged {
			merged++
		}
	}
	return split, merged
}

// instanceOf reports whether path specific is an instance of template
// general (both normalised): the same number of segments, each equal or
// matched by the general segment, where "{}" stands for one or more
// characters.
func instanceOf(specific, general string) bool {
	s := strings.Split(specific, "/")
	g := strings.Split(general, "/")
	if len(s) != len(g) {
		return false
	}
	for i := range s {
		if s[i] != g[i] && !globSegment(s[i], g[i]) {
			return false
		}
	}
	return true
}

// globSegment matches one path segment against a template segment in
// which each "{}" matches one or more characters.
func globSegment(seg, tmpl string) bool {
	if !strings.Contains(tmpl, "{}") {
		return seg == tmpl
	}
	parts := strings.Split(tmpl, "{}")
	if !strings.HasPrefix(seg, parts[0]) {
		return false
	}
	rest := seg[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		// at least one character for the parameter before mid
		if len(rest) < 1 {
			return false
		}
		j := strings.Index(rest[1:], mid)
		if j < 0 {
			return false
		}
		rest = rest[1+j+len(mid):]
	}
	return len(rest) >= len(last)+1 && strings.HasSuffix(rest, last)
}
