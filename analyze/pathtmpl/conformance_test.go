//go:build conformance

package pathtmpl

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// sharedSpecs is ../shared/data/specs seen from this package directory
// (the repository is checked out at X/main, the shared data at X/shared).
var sharedSpecs = filepath.Join("..", "..", "..", "shared", "data", "specs")

// specFiles are the real specs the accuracy benchmark runs on.
var specFiles = []string{
	"vampi/openapi3.yml",
	"crapi/crapi-openapi-spec.json",
	"meilisearch/open-api.json",
	"apideck-crm/crm.yml",
}

// TestConformanceSpecTraffic replays synthetic traffic shaped after each
// real spec (every operation called with varied identifiers in the styles
// the spec suggests, response bodies with the documented top-level
// properties, optional ones missing now and then) through a Templater and
// scores the learned templates against the spec's: endpoint F1 (method +
// template, parameter names ignored) must reach 0.97 in every call order.
// The same traffic pinned with the spec's templates must attribute every
// call to its own template.
func TestConformanceSpecTraffic(t *testing.T) {
	for _, f := range specFiles {
		t.Run(strings.Split(f, "/")[0], func(t *testing.T) {
			doc := loadSpec(t, filepath.Join(sharedSpecs, f))
			for _, order := range []string{"spec", "shuffled", "round-robin"} {
				t.Run(order, func(t *testing.T) {
					calls := specCalls(doc, 40, 1, order)
					tp, err := New(Config{})
					if err != nil {
						t.Fatal(err)
					}
					got := map[string]bool{}
					var seen []call
					for _, c := range calls {
						m, _ := tp.Observe("api.example.com", c.path, c.shape, nil)
						seen = append(seen, call{method: c.method, tmpl: m.Template})
					}
					for _, c := range seen {
						r := tp.Resolve("api.example.com", c.tmpl)
						got[c.method+" "+normTemplate(r.Template)] = true
					}
					want := map[string]bool{}
					for _, c := range calls {
						want[c.method+" "+normTemplate(c.tmpl)] = true
					}
					p, r, f1, missing, extra := score(want, got)
					t.Logf("%s: endpoints expected %d inferred %d precision %.3f recall %.3f F1 %.3f; stats %+v",
						order, len(want), len(got), p, r, f1, tp.Stats())
					if f1 < 0.97 {
						t.Errorf("F1 %.3f < 0.97\nmissing: %s\nextra: %s", f1, strings.Join(missing, "\n  "), strings.Join(extra, "\n  "))
					}
				})
			}
			t.Run("pinned", func(t *testing.T) {
				calls := specCalls(doc, 10, 2, "shuffled")
				tp, _ := New(Config{})
				var tmpls []string
				for _, c := range calls {
					if !slices.Contains(tmpls, c.tmpl) {
						tmpls = append(tmpls, c.tmpl)
					}
				}
				if err := tp.Pin("", Spec, tmpls...); err != nil {
					t.Fatal(err)
				}
				for _, c := range calls {
					m, _ := tp.Observe("api.example.com", c.path, c.shape, nil)
					if m.Template != c.tmpl || m.Origin != Spec {
						t.Fatalf("%s %s: got %q (%v), want %q (spec)", c.method, c.path, m.Template, m.Origin, c.tmpl)
					}
				}
			})
		})
	}
}

type call struct {
	method, path, tmpl string
	shape              uint64
}

func loadSpec(t *testing.T, path string) *openapi3.T {
	t.Helper()
	l := openapi3.NewLoader()
	doc, err := l.LoadFromFile(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return doc
}

func score(want, got map[string]bool) (p, r, f1 float64, missing, extra []string) {
	match := 0
	for k := range got {
		if want[k] {
			match++
		} else {
			extra = append(extra, k)
		}
	}
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	p = float64(match) / float64(len(got))
	r = float64(match) / float64(len(want))
	if p+r > 0 {
		f1 = 2 * p * r / (p + r)
	}
	return
}

var braceRE = regexp.MustCompile(`\{[^}]*\}`)

func normTemplate(s string) string { return braceRE.ReplaceAllString(s, "{}") }

// specCalls makes n calls of every operation of doc, in the order asked.
func specCalls(doc *openapi3.T, n int, seed uint64, order string) []call {
	return specCallsWith(doc, n, seed, order, identifier)
}

// identFunc returns the value of path parameter name.
type identFunc func(rng *rand.Rand, name string, p *openapi3.Parameter) string

// specCallsWith is specCalls with the path parameter values from ident.
func specCallsWith(doc *openapi3.T, n int, seed uint64, order string, ident identFunc) []call {
	rng := rand.New(rand.NewPCG(seed, 7))
	base := ""
	if len(doc.Servers) > 0 {
		if u, err := url.Parse(doc.Servers[0].URL); err == nil {
			base = strings.TrimSuffix(u.Path, "/")
		}
	}
	var ops [][]call
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, p := range paths {
		item := doc.Paths.Value(p)
		methods := item.Operations()
		var ms []string
		for m := range methods {
			ms = append(ms, m)
		}
		sort.Strings(ms)
		for _, m := range ms {
			op := methods[m]
			var cs []call
			for range n {
				path := base + fillPath(rng, p, item, op, ident)
				status, body := pickResponse(rng, op)
				var req []byte
				if op.RequestBody != nil && op.RequestBody.Value != nil {
					if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
						req = sampleBody(rng, mt.Schema.Value)
					}
				}
				cs = append(cs, call{method: m, path: path, tmpl: base + p, shape: Shape(m, status, req, body)})
			}
			ops = append(ops, cs)
		}
	}
	var out []call
	switch order {
	case "spec":
		for _, cs := range ops {
			out = append(out, cs...)
		}
	case "round-robin":
		for i := range n {
			for _, cs := range ops {
				out = append(out, cs[i])
			}
		}
	default:
		for _, cs := range ops {
			out = append(out, cs...)
		}
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	return out
}

var paramRE = regexp.MustCompile(`\{([^}]+)\}`)

func fillPath(rng *rand.Rand, p string, item *openapi3.PathItem, op *openapi3.Operation, ident identFunc) string {
	params := map[string]*openapi3.Parameter{}
	for _, ps := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, pr := range ps {
			if pr.Value != nil && pr.Value.In == "path" {
				params[pr.Value.Name] = pr.Value
			}
		}
	}
	return paramRE.ReplaceAllStringFunc(p, func(m string) string {
		name := m[1 : len(m)-1]
		return ident(rng, name, params[name])
	})
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func randString(rng *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

var wordPool = []string{"alpha", "breeze", "cobalt", "delta", "ember", "fjord", "garnet", "harbor", "indigo", "juniper",
	"kestrel", "lumen", "marble", "nectar", "onyx", "pepper", "quartz", "raven", "saffron", "tundra", "umber",
	"velvet", "willow", "xenon", "yarrow", "zephyr", "movies", "songs", "recipes", "wines"}

// identifier returns a value for a path parameter in the style a real API
// uses for it, as the lab does: the spec's format and example first.
func identifier(rng *rand.Rand, name string, p *openapi3.Parameter) string {
	var s *openapi3.Schema
	var example any
	if p != nil {
		example = p.Example
		if p.Schema != nil {
			s = p.Schema.Value
			if example == nil {
				example = s.Example
			}
		}
	}
	ln := strings.ToLower(name)
	switch {
	case s != nil && s.Format == "uuid", strings.Contains(ln, "key"):
		return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), rng.IntN(1<<12), rng.Uint64()&(1<<48-1))
	case s != nil && s.Type.Is("integer"), fmt.Sprint(example) != "" && isAllDigits(fmt.Sprint(example)):
		return fmt.Sprint(1 + rng.IntN(99999))
	case strings.Contains(ln, "username"):
		return fmt.Sprintf("%s.%s%d", wordPool[rng.IntN(len(wordPool))], wordPool[rng.IntN(len(wordPool))], rng.IntN(100))
	case strings.Contains(ln, "title"):
		return fmt.Sprintf("bookTitle%d", rng.IntN(1000))
	case ln == "indexuid":
		return wordPool[rng.IntN(len(wordPool))] + "-" + fmt.Sprint(rng.IntN(10))
	case ln == "postid":
		return randString(rng, base62, 22)
	case ln == "object_id":
		return "obj_" + randString(rng, base62, 12)
	}
	return "cus_" + randString(rng, base62, 14)
}

func isAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// pickResponse answers mostly with the first 2xx, one call in ten with a
// documented 4xx.
func pickResponse(rng *rand.Rand, op *openapi3.Operation) (int, []byte) {
	var ok, bad []string
	for code := range op.Responses.Map() {
		switch {
		case strings.HasPrefix(code, "2"):
			ok = append(ok, code)
		case strings.HasPrefix(code, "4"):
			bad = append(bad, code)
		}
	}
	sort.Strings(ok)
	sort.Strings(bad)
	code := "200"
	if len(ok) > 0 {
		code = ok[0]
	}
	if len(bad) > 0 && rng.IntN(10) == 0 {
		code = bad[rng.IntN(len(bad))]
	}
	status := 200
	fmt.Sscan(code, &status)
	r := op.Responses.Value(code)
	if r == nil || r.Value == nil {
		return status, nil
	}
	for _, ct := range slices.Sorted(maps.Keys(r.Value.Content)) {
		if mt := r.Value.Content[ct]; strings.Contains(ct, "json") && mt.Schema != nil {
			return status, sampleBody(rng, mt.Schema.Value)
		}
	}
	return status, nil
}

func sampleBody(rng *rand.Rand, s *openapi3.Schema) []byte {
	b, _ := json.Marshal(sampleValue(rng, s, 0))
	return b
}

func sampleValue(rng *rand.Rand, s *openapi3.Schema, depth int) any {
	if s == nil || depth > 4 {
		return "x"
	}
	if len(s.AllOf) > 0 {
		m := map[string]any{}
		for _, a := range s.AllOf {
			if v, ok := sampleValue(rng, a.Value, depth).(map[string]any); ok {
				for k, x := range v {
					m[k] = x
				}
			}
		}
		return m
	}
	if alts := append(slices.Clone(s.OneOf), s.AnyOf...); len(alts) > 0 {
		return sampleValue(rng, alts[rng.IntN(len(alts))].Value, depth)
	}
	if s.Nullable && rng.IntN(10) == 0 {
		return nil
	}
	switch {
	case s.Type.Is("array"):
		var item *openapi3.Schema
		if s.Items != nil {
			item = s.Items.Value
		}
		out := []any{}
		for range 1 + rng.IntN(3) {
			out = append(out, sampleValue(rng, item, depth+1))
		}
		return out
	case s.Type.Is("object") || len(s.Properties) > 0:
		m := map[string]any{}
		for _, k := range slices.Sorted(maps.Keys(s.Properties)) { // sorted: the rng's draws must not follow map order
			if !slices.Contains(s.Required, k) && rng.IntN(10) < 3 {
				continue
			}
			m[k] = sampleValue(rng, s.Properties[k].Value, depth+1)
		}
		if len(s.Properties) == 0 && s.AdditionalProperties.Schema != nil {
			for range 1 + rng.IntN(3) {
				m[wordPool[rng.IntN(len(wordPool))]] = sampleValue(rng, s.AdditionalProperties.Schema.Value, depth+1)
			}
		}
		return m
	case s.Type.Is("integer"):
		return rng.IntN(1000)
	case s.Type.Is("number"):
		return rng.Float64()
	case s.Type.Is("boolean"):
		return rng.IntN(2) == 0
	}
	return "x"
}

// TestConformanceVariants scores fewer calls per operation, and the same
// traffic without shape fingerprints (shape 0), to show what the evidence
// needs: with 10 calls per operation and shapes, F1 must reach 0.97.
func TestConformanceVariants(t *testing.T) {
	for _, f := range specFiles {
		doc := loadSpec(t, filepath.Join(sharedSpecs, f))
		for _, n := range []int{5, 10, 40} {
			for _, zero := range []bool{false, true} {
				calls := specCalls(doc, n, 1, "shuffled")
				tp, _ := New(Config{})
				var seen []call
				for _, c := range calls {
					sh := c.shape
					if zero {
						sh = 0
					}
					m, _ := tp.Observe("h", c.path, sh, nil)
					seen = append(seen, call{method: c.method, tmpl: m.Template})
				}
				got, want := map[string]bool{}, map[string]bool{}
				for _, c := range seen {
					got[c.method+" "+normTemplate(tp.Resolve("h", c.tmpl).Template)] = true
				}
				for _, c := range calls {
					want[c.method+" "+normTemplate(c.tmpl)] = true
				}
				p, r, f1, _, _ := score(want, got)
				t.Logf("%-30s calls/op %2d zero-shape %-5v: P %.3f R %.3f F1 %.3f", f, n, zero, p, r, f1)
				if !zero && n >= 10 && f1 < 0.97 {
					t.Errorf("%s, %d calls per operation: F1 %.3f < 0.97", f, n, f1)
				}
			}
		}
	}
}

// TestConformanceFewIndexes: the Meilisearch spec's traffic on a real
// deployment's handful of indexes, named with fixed words (the lab's
// "articles", "users", …): fewer than MinValues and never evidence by
// themselves, they are one parameter on structural evidence (their
// subtrees alike), in every call order, and when two workers' templaters
// that each saw half the calls are merged.
func TestConformanceFewIndexes(t *testing.T) {
	doc := loadSpec(t, filepath.Join(sharedSpecs, "meilisearch/open-api.json"))
	all := []string{"articles", "users", "events", "jobs", "orders", "customers", "products"}
	for _, k := range []int{3, 5, 7} {
		ident := func(rng *rand.Rand, name string, p *openapi3.Parameter) string {
			if strings.EqualFold(name, "indexUid") {
				return all[rng.IntN(k)]
			}
			return identifier(rng, name, p)
		}
		for _, order := range []string{"spec", "shuffled", "round-robin", "merged"} {
			t.Run(fmt.Sprintf("%d-%s", k, order), func(t *testing.T) {
				o := order
				if o == "merged" {
					o = "shuffled"
				}
				calls := specCallsWith(doc, 40, 3, o, ident)
				tp, _ := New(Config{})
				workers := []*Templater{tp}
				if order == "merged" {
					a, _ := New(Config{})
					b, _ := New(Config{})
					workers = []*Templater{a, b}
				}
				var seen []call
				for i, c := range calls {
					m, _ := workers[i%len(workers)].Observe("h", c.path, c.shape, nil)
					seen = append(seen, call{method: c.method, tmpl: m.Template})
				}
				if order == "merged" {
					for _, w := range workers {
						tp.Merge(w)
					}
				}
				got, want := map[string]bool{}, map[string]bool{}
				for _, c := range seen {
					got[c.method+" "+normTemplate(tp.Resolve("h", c.tmpl).Template)] = true
				}
				for _, c := range calls {
					want[c.method+" "+normTemplate(c.tmpl)] = true
				}
				p, r, f1, missing, extra := score(want, got)
				t.Logf("P %.3f R %.3f F1 %.3f; stats %+v", p, r, f1, tp.Stats())
				if f1 < 0.97 {
					t.Errorf("F1 %.3f < 0.97\nmissing: %s\nextra: %s", f1, strings.Join(missing, "\n  "), strings.Join(extra, "\n  "))
				}
			})
		}
	}
}

// TestConformanceDockerTrace: the request targets Zeek extracted from the
// Docker Engine API trace (http/docker-http-upgrade.pcap) give templates
// with the container id as a parameter, not one endpoint per container.
func TestConformanceDockerTrace(t *testing.T) {
	p := filepath.Join(sharedSpecs, "..", "zeek", "baselines", "scripts.base.protocols.http.upgrade-to-tcp", "http.log.cut")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	tp, _ := New(Config{})
	got := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 || !strings.HasPrefix(f[3], "/") {
			continue
		}
		path, _, _ := strings.Cut(f[3], "?")
		m, params := tp.Observe("docker", path, 0, nil)
		got[f[2]+" "+m.Template] = true
		for _, pp := range params {
			if pp.Name != "containerId" || len(pp.Value) != 64 {
				t.Errorf("%s: param %v", path, pp)
			}
		}
	}
	want := map[string]bool{
		"HEAD /_ping":                                 true,
		"POST /v1.41/containers/create":               true,
		"POST /v1.41/containers/{containerId}/start":  true,
		"POST /v1.41/containers/{containerId}/resize": true,
		"POST /v1.41/containers/{containerId}/wait":   true,
		"POST /v1.41/containers/{containerId}/attach": true,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("endpoints %v, want %v", got, want)
	}
}
