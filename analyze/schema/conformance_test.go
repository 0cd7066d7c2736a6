//go:build conformance

package schema

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// sharedData is ../shared/data seen from the repository root, which is
// two levels above this package.
var sharedData = filepath.Join("..", "..", "..", "shared", "data")

// TestConformanceRealSpecs generates varied instances of every JSON
// response and request body schema of the real specs, learns a schema from
// them and scores it against the original: property recall and precision
// (JSON-pointer paths, array items and map values as "*") and type
// accuracy, with the targets of the accuracy benchmark.
func TestConformanceRealSpecs(t *testing.T) {
	dir := filepath.Join(sharedData, "specs")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("real specs: %v", err)
	}
	var files []string
	for _, e := range entries {
		fs, _ := filepath.Glob(filepath.Join(dir, e.Name(), "*.y*ml"))
		js, _ := filepath.Glob(filepath.Join(dir, e.Name(), "*.json"))
		files = append(files, append(fs, js...)...)
	}
	if len(files) < 4 {
		t.Fatalf("found %d spec files in %s, want 4", len(files), dir)
	}
	for _, file := range files {
		t.Run(filepath.Base(filepath.Dir(file)), func(t *testing.T) {
			loader := openapi3.NewLoader()
			loader.IsExternalRefsAllowed = true
			doc, err := loader.LoadFromFile(file)
			if err != nil {
				t.Fatalf("load %s: %v", file, err)
			}
			var total score
			for _, s := range bodySchemas(doc) {
				sc := scoreSchema(t, s.schema, s.name)
				total.add(sc)
				if sc.recall() < 0.9 || sc.precision() < 0.9 || sc.typeAcc() < 0.9 {
					t.Logf("%s: recall %.2f precision %.2f types %.2f missing %v extra %v wrongType %v",
						s.name, sc.recall(), sc.precision(), sc.typeAcc(), first(sc.missing, 5), first(sc.extra, 5), first(sc.wrong, 5))
				}
			}
			t.Logf("largest learner: %d nodes (Config.MaxNodes default %d)", total.nodes, New(nil).lim.maxNodes)
			t.Logf("%d schemas: expected %d, inferred %d, matched %d: recall %.3f precision %.3f types %.3f",
				total.schemas, total.expected, total.inferred, total.matched, total.recall(), total.precision(), total.typeAcc())
			if total.recall() < 0.95 || total.precision() < 0.95 || total.typeAcc() < 0.98 {
				t.Errorf("below target: recall %.3f (0.95) precision %.3f (0.95) types %.3f (0.98)",
					total.recall(), total.precision(), total.typeAcc())
			}
		})
	}
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

type namedSchema struct {
	name   string
	schema *openapi3.Schema
}

func bodySchemas(doc *openapi3.T) []namedSchema {
	var out []namedSchema
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, p := range paths {
		item := doc.Paths.Value(p)
		ops := item.Operations()
		methods := make([]string, 0, len(ops))
		for m := range ops {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, m := range methods {
			op := ops[m]
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for ct, mt := range op.RequestBody.Value.Content {
					if strings.Contains(ct, "json") && mt.Schema != nil && mt.Schema.Value != nil {
						out = append(out, namedSchema{m + " " + p + " request", mt.Schema.Value})
					}
				}
			}
			if op.Responses == nil {
				continue
			}
			for code, r := range op.Responses.Map() {
				if r.Value == nil {
					continue
				}
				for ct, mt := range r.Value.Content {
					if strings.Contains(ct, "json") && mt.Schema != nil && mt.Schema.Value != nil {
						out = append(out, namedSchema{m + " " + p + " " + code, mt.Schema.Value})
					}
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

type score struct {
	schemas                     int
	expected, inferred, matched int
	typed, typeOK               int
	nodes                       int // largest learner, in nodes
	missing, extra, wrong       []string
}

func (s *score) add(o score) {
	s.schemas++
	s.expected += o.expected
	s.inferred += o.inferred
	s.matched += o.matched
	s.typed += o.typed
	s.typeOK += o.typeOK
	s.nodes = max(s.nodes, o.nodes)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}
func (s score) recall() float64    { return ratio(s.matched, s.expected) }
func (s score) precision() float64 { return ratio(s.matched, s.inferred) }
func (s score) typeAcc() float64   { return ratio(s.typeOK, s.typed) }

// scoreSchema generates instances of orig, learns from them and compares.
func scoreSchema(t *testing.T, orig *openapi3.Schema, name string) score {
	r := rand.New(rand.NewPCG(uint64(len(name)), 42))
	g := &gen{r: r, seen: map[string]map[string]bool{}}
	l := New(nil)
	for i := 0; i < 40; i++ {
		v := g.value(orig, "", 0)
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: marshal instance: %v", name, err)
		}
		if err := l.ObserveJSON(b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	inferred := l.Schema()
	if err := inferred.Validate(context.Background()); err != nil {
		t.Fatalf("%s: inferred schema does not validate: %v", name, err)
	}
	got := map[string]map[string]bool{}
	flatten(inferred, "", got, 0)
	sc := score{nodes: l.nodes}
	for p, types := range g.seen {
		sc.expected++
		gt, ok := got[p]
		if !ok {
			sc.missing = append(sc.missing, p)
			continue
		}
		sc.matched++
		if len(types) == 0 || len(gt) == 0 {
			continue
		}
		sc.typed++
		if sameTypes(types, gt) {
			sc.typeOK++
		} else {
			sc.wrong = append(sc.wrong, fmt.Sprintf("%s %v/%v", p, keys(types), keys(gt)))
		}
	}
	for p := range got {
		sc.inferred++
		if _, ok := g.seen[p]; !ok {
			sc.extra = append(sc.extra, p)
		}
	}
	sort.Strings(sc.missing)
	sort.Strings(sc.extra)
	sort.Strings(sc.wrong)
	return sc
}

func keys(m map[string]bool) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// sameTypes compares the types generated at a path with the inferred ones;
// integer values generated for a number field may be inferred as integer.
func sameTypes(gen, inf map[string]bool) bool {
	norm := func(m map[string]bool) []string {
		var out []string
		for k := range m {
			if k == "integer" {
				k = "number"
			}
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
		sort.Strings(out)
		return out
	}
	return slices.Equal(norm(gen), norm(inf))
}

// flatten lists the paths of a schema with their types; "" is the root.
func flatten(s *openapi3.Schema, p string, out map[string]map[string]bool, depth int) {
	if s == nil || depth > 30 {
		return
	}
	if out[p] == nil {
		out[p] = map[string]bool{}
	}
	for _, b := range s.OneOf {
		flatten(b.Value, p, out, depth+1)
	}
	for _, tp := range s.Type.Slice() {
		if tp != "null" {
			out[p][tp] = true
		}
	}
	for name, ps := range s.Properties {
		flatten(ps.Value, p+"/"+name, out, depth+1)
	}
	if s.Items != nil {
		flatten(s.Items.Value, p+"/*", out, depth+1)
	}
	if s.AdditionalProperties.Schema != nil {
		flatten(s.AdditionalProperties.Schema.Value, p+"/*", out, depth+1)
	}
}

// gen makes instances of a schema and records the paths and types it
// produced.
type gen struct {
	r    *rand.Rand
	seen map[string]map[string]bool
}

func (g *gen) note(p, typ string) {
	if g.seen[p] == nil {
		g.seen[p] = map[string]bool{}
	}
	if typ != "" {
		g.seen[p][typ] = true
	}
}

var words = strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango")

func (g *gen) value(s *openapi3.Schema, p string, depth int) any {
	if s == nil || depth > 8 {
		g.note(p, "")
		return nil
	}
	if len(s.AllOf) > 0 {
		obj := map[string]any{}
		for _, a := range s.AllOf {
			if m, ok := g.value(a.Value, p, depth+1).(map[string]any); ok {
				for k, v := range m {
					obj[k] = v
				}
			}
		}
		if len(s.Properties) > 0 {
			if m, ok := g.object(s, p, depth).(map[string]any); ok {
				for k, v := range m {
					obj[k] = v
				}
			}
		}
		return obj
	}
	if alts := append(append(openapi3.SchemaRefs{}, s.OneOf...), s.AnyOf...); len(alts) > 0 {
		return g.value(alts[g.r.IntN(len(alts))].Value, p, depth+1)
	}
	types := s.Type.Slice()
	var nonNull []string
	for _, t := range types {
		if t != "null" {
			nonNull = append(nonNull, t)
		}
	}
	if (s.Nullable || len(nonNull) < len(types)) && g.r.IntN(10) == 0 {
		g.note(p, "")
		return nil
	}
	typ := ""
	if len(nonNull) > 0 {
		typ = nonNull[g.r.IntN(len(nonNull))]
	} else if len(s.Properties) > 0 || s.AdditionalProperties.Schema != nil {
		typ = "object"
	} else if s.Items != nil {
		typ = "array"
	} else if len(s.Enum) > 0 {
		v := s.Enum[g.r.IntN(len(s.Enum))]
		g.note(p, jsonType(v))
		return v
	} else {
		typ = "string"
	}
	if len(s.Enum) > 0 {
		v := s.Enum[g.r.IntN(len(s.Enum))]
		g.note(p, jsonType(v))
		return v
	}
	switch typ {
	case "object":
		g.note(p, "object")
		return g.object(s, p, depth)
	case "array":
		g.note(p, "array")
		n := g.r.IntN(4)
		out := make([]any, n)
		var items *openapi3.Schema
		if s.Items != nil {
			items = s.Items.Value
		}
		for i := range out {
			out[i] = g.value(items, p+"/*", depth+1)
		}
		return out
	case "integer":
		g.note(p, "integer")
		lo, hi := int64(0), int64(100000)
		if s.Min != nil {
			lo = int64(*s.Min)
		}
		if s.Max != nil && int64(*s.Max) > lo {
			hi = int64(*s.Max)
		}
		if hi <= lo {
			hi = lo + 1000
		}
		return lo + g.r.Int64N(hi-lo+1)
	case "number":
		g.note(p, "number")
		return float64(g.r.IntN(100000)) / 100
	case "boolean":
		g.note(p, "boolean")
		return g.r.IntN(2) == 0
	}
	g.note(p, "string")
	switch s.Format {
	case "uuid":
		return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", g.r.Uint32(), g.r.IntN(1<<16), g.r.IntN(1<<12), g.r.IntN(1<<12), g.r.Int64N(1<<48))
	case "date-time":
		return fmt.Sprintf("2024-%02d-%02dT%02d:%02d:00Z", 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60))
	case "date":
		return fmt.Sprintf("2024-%02d-%02d", 1+g.r.IntN(12), 1+g.r.IntN(28))
	case "email":
		return words[g.r.IntN(len(words))] + fmt.Sprint(g.r.IntN(100)) + "@example.com"
	case "uri", "url":
		return "https://example.com/" + words[g.r.IntN(len(words))]
	}
	return words[g.r.IntN(len(words))] + " " + words[g.r.IntN(len(words))] + fmt.Sprint(g.r.IntN(1000))
}

func (g *gen) object(s *openapi3.Schema, p string, depth int) any {
	obj := map[string]any{}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ps := s.Properties[n]
		if !slices.Contains(s.Required, n) && g.r.IntN(10) < 3 {
			continue
		}
		obj[n] = g.value(ps.Value, p+"/"+escapePointer(n), depth+1)
	}
	if ap := s.AdditionalProperties.Schema; ap != nil && len(s.Properties) == 0 {
		style := len(p) % 5
		for i := 0; i < 1+g.r.IntN(5); i++ {
			obj[g.mapKey(style)] = g.value(ap.Value, p+"/*", depth+1)
		}
	}
	return obj
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64, int64, int:
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return ""
}

// mapKey makes a data-like map key in one of the styles real maps use
// (the styles of the spec-driven traffic lab).
func (g *gen) mapKey(style int) string {
	r := g.r
	switch style {
	case 0: // words naming resources, with variations
		w := []string{"movies", "books", "products", "users", "orders", "songs", "articles", "recipes", "hotels", "games"}[r.IntN(10)]
		switch r.IntN(6) {
		case 0:
			return words[r.IntN(len(words))] + "_" + w
		case 1:
			return fmt.Sprintf("%s_v%d", w, 2+r.IntN(5))
		case 2:
			return w + "-" + []string{"eu", "us", "staging", "prod"}[r.IntN(4)]
		case 3:
			return fmt.Sprintf("%s_%d", w, 2015+r.IntN(11))
		}
		return w
	case 1:
		const b62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		b := make([]byte, 8)
		for i := range b {
			b[i] = b62[r.IntN(len(b62))]
		}
		return "usr_" + string(b)
	case 2:
		return fmt.Sprintf("2024-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28))
	case 3:
		return fmt.Sprintf("%s-%d", []string{"en-US", "fr-FR", "de-DE", "ja-JP"}[r.IntN(4)], 10+r.IntN(90))
	}
	return fmt.Sprintf("%s_%d", words[r.IntN(len(words))], 100+r.IntN(900))
}
