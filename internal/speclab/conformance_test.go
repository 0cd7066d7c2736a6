//go:build conformance

package speclab

import (
	"sort"

	"github.com/getkin/kin-openapi/openapi3"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// specsDir is the real-world specs, relative to this package.
var specsDir = filepath.Join("..", "..", "..", "shared", "data", "specs")

var realSpecs = []string{
	"vampi/openapi3.yml",
	"crapi/crapi-openapi-spec.json",
	"meilisearch/open-api.json",
	"apideck-crm/crm.yml",
}

func loadReal(t *testing.T, rel string) *Spec {
	t.Helper()
	s, err := LoadSpec(filepath.Join(specsDir, rel))
	if err != nil {
		t.Fatalf("real spec missing or unreadable (the conformance suite needs ../shared/data): %v", err)
	}
	return s
}

// TestGeneratorRealSpecs: for every schema of the four real specs, values
// of 1000 seeds validate against it (every 50th seed also with the JSON
// Schema 2020-12 validator for OpenAPI 3.1 documents).
func TestGeneratorRealSpecs(t *testing.T) {
	seeds := seedCount(1000)
	for _, rel := range realSpecs {
		t.Run(filepath.Dir(rel), func(t *testing.T) {
			s := loadReal(t, rel)
			cases := schemaCases(s)
			if len(cases) == 0 {
				t.Fatal("no schemas")
			}
			failed := 0
			for _, c := range cases {
				for seed := range seeds {
					g := NewGenerator(s, seed, c.dir)
					v, err := g.Value(c.schema, "")
					if err != nil {
						t.Errorf("%s seed %d: %v", c.name, seed, err)
						failed++
						break
					}
					if err := validateValue(c.schema, v, c.dir, s.V31 && seed%50 == 0); err != nil {
						t.Errorf("%s seed %d: %v", c.name, seed, firstLines(err, 3))
						failed++
						break
					}
				}
				if failed > 20 {
					t.Fatal("too many failures")
				}
			}
			t.Logf("%d schemas × %d seeds", len(cases), seeds)
		})
	}
}

func firstLines(err error, n int) string {
	lines := strings.SplitN(err.Error(), "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}

// seedCount is n, or SPECLAB_SEEDS when set (for quick local runs).
func seedCount(n uint64) uint64 {
	if v, err := strconv.ParseUint(os.Getenv("SPECLAB_SEEDS"), 10, 64); err == nil && v > 0 {
		return v
	}
	return n
}

// schemaPaths lists property paths (a/b/[]/c) of a schema up to depth.
func schemaPaths(s *openapi3.Schema, prefix string, depth int, out map[string]bool, stack []*openapi3.Schema) {
	if s == nil || depth > 12 {
		return
	}
	for _, x := range stack {
		if x == s {
			return
		}
	}
	stack = append(stack, s)
	for name, p := range s.Properties {
		if p.Value == nil || p.Value.WriteOnly {
			continue
		}
		out[prefix+"/"+name] = true
		schemaPaths(p.Value, prefix+"/"+name, depth+1, out, stack)
	}
	if s.Items != nil {
		schemaPaths(s.Items.Value, prefix+"/[]", depth+1, out, stack)
	}
	for _, x := range append(append(append(openapi3.SchemaRefs{}, s.AllOf...), s.OneOf...), s.AnyOf...) {
		schemaPaths(x.Value, prefix, depth, out, stack)
	}
}

func valuePaths(v any, prefix string, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			out[prefix+"/"+k] = true
			valuePaths(e, prefix+"/"+k, out)
		}
	case []any:
		for _, e := range x {
			valuePaths(e, prefix+"/[]", out)
		}
	}
}

// TestResponsePropertyCoverage: over 35 responses (about what an
// operation's successes are at 40 calls), every property path of each
// operation's first 2xx response schema appears. The only exceptions are
// meilisearch's DetailsView properties: DetailsView is
// allOf[oneOf[null, Settings_Unchecked], {receivedDocuments, …}] and
// Settings_Unchecked has additionalProperties: false, so no valid value
// carries them.
func TestResponsePropertyCoverage(t *testing.T) {
	for _, rel := range realSpecs {
		s := loadReal(t, rel)
		total, seen := 0, 0
		var missing []string
		for _, o := range s.Operations {
			for _, r := range o.Responses {
				if r.Code[0] != '2' {
					continue
				}
				_, mt := pickMedia(r.Value.Content)
				if mt == nil || mt.Schema == nil {
					continue
				}
				want := map[string]bool{}
				schemaPaths(mt.Schema.Value, "", 0, want, nil)
				got := map[string]bool{}
				for seed := range uint64(35) {
					g := NewGenerator(s, seed+uint64(len(o.Template)), ForResponse)
					v, err := g.Value(mt.Schema.Value, "")
					if err != nil {
						t.Fatal(err)
					}
					valuePaths(v, "", got)
				}
				for p := range want {
					total++
					if got[p] {
						seen++
					} else {
						missing = append(missing, o.ID()+" "+r.Code+" "+p)
					}
				}
				break
			}
		}
		sort.Strings(missing)
		t.Logf("%s: %d of %d response property paths seen", rel, seen, total)
		for _, m := range missing {
			if !strings.HasPrefix(rel, "meilisearch/") || !strings.Contains(m, "/details/") {
				t.Errorf("%s: never generated: %s", rel, m)
			}
		}
	}
}

// TestRecordRealSpecs records each real spec (5 calls per operation, every
// request and response validated) and checks the capture against the
// ground truth: nothing skipped, every operation called, statuses
// documented.
func TestRecordRealSpecs(t *testing.T) {
	for _, rel := range realSpecs {
		t.Run(filepath.Dir(rel), func(t *testing.T) {
			s := loadReal(t, rel)
			res := record(t, Config{Spec: filepath.Join(specsDir, rel), Seed: 1, CallsPerOperation: 5, Check: true})
			if strings.Contains(res.Host, "localhost") || !strings.Contains(res.Host, ".") {
				t.Errorf("host %q is not realistic", res.Host)
			}
			checkResult(t, s, res, 5)
			t.Logf("%s: %d operations, %d calls, %d succeeded, host %s", rel, res.Operations, res.Calls, res.Succeeded, res.Host)
		})
	}
}
