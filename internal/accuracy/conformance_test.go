//go:build conformance

package accuracy

import (
	"regexp"
	"testing"

	"github.com/apitap/apitap/analyze/openapi"
	"github.com/getkin/kin-openapi/openapi3"
)

// specsDir is ../shared/data/specs seen from this package's directory (the
// repository is checked out at X/main, the shared data at X/shared).
const specsDir = "../../../shared/data/specs"

// TestConformanceScoreIdentity scores each real spec against itself: every
// score must be 1, and every count must be what the spec holds.
func TestConformanceScoreIdentity(t *testing.T) {
	specs, err := FindSpecs(specsDir)
	if err != nil {
		t.Fatalf("%v: the conformance suite needs ../shared/data/specs beside the repository", err)
	}
	operations := map[string]int{"apideck-crm": 53, "crapi": 44, "meilisearch": 113, "vampi": 14}
	if len(specs) != len(operations) {
		t.Errorf("found %d specs, want %d: %v", len(specs), len(operations), specs)
	}
	for _, spec := range specs {
		t.Run(spec.Name, func(t *testing.T) {
			doc, err := openapi.Load(spec.Path)
			if err != nil {
				t.Fatal(err)
			}
			s := Score(doc, doc, BasePath(doc))
			t.Logf("%+v", s)
			if want, ok := operations[spec.Name]; !ok || s.Endpoints.Expected != want {
				t.Errorf("%d operations, want %d", s.Endpoints.Expected, want)
			}
			for name, v := range map[string]float64{
				"endpoint precision": s.Endpoints.Precision, "endpoint recall": s.Endpoints.Recall,
				"endpoint F1": s.Endpoints.F1, "parameter recall": s.Params.Recall,
				"property recall": s.Properties.Recall, "property precision": s.Properties.Precision,
				"type accuracy": s.Types.Accuracy,
			} {
				if v != 1 {
					t.Errorf("%s = %v, want 1", name, v)
				}
			}
			if s.Endpoints.Matched != s.Endpoints.Expected || s.Endpoints.Split != 0 || s.Endpoints.Merged != 0 {
				t.Errorf("endpoints %+v", s.Endpoints)
			}
			if s.Responses.Compared != s.Responses.Documented || s.Responses.Undocumented != 0 {
				t.Errorf("responses %+v", s.Responses)
			}
			if s.Properties.Expected == 0 || s.Types.Compared == 0 || s.Params.Expected == 0 {
				t.Errorf("nothing scored: %+v", s)
			}
		})
	}
}

// TestConformanceScoreRebased scores each real spec against a copy in the
// form apitap writes: full paths under another base path, a server with
// a host only, path parameters renamed. Every score must be 1.
func TestConformanceScoreRebased(t *testing.T) {
	specs, err := FindSpecs(specsDir)
	if err != nil {
		t.Fatalf("%v: the conformance suite needs ../shared/data/specs beside the repository", err)
	}
	const base = "/lab/v1"
	param := regexp.MustCompile(`\{([^}]*)\}`)
	for _, spec := range specs {
		t.Run(spec.Name, func(t *testing.T) {
			orig, err := openapi.Load(spec.Path)
			if err != nil {
				t.Fatal(err)
			}
			rebased, err := openapi.Load(spec.Path)
			if err != nil {
				t.Fatal(err)
			}
			renamed := make(map[*openapi3.Parameter]bool)
			rename := func(refs openapi3.Parameters) {
				for _, ref := range refs {
					if p := ref.Value; p != nil && p.In == openapi3.ParameterInPath && !renamed[p] {
						p.Name = "p_" + p.Name
						renamed[p] = true
					}
				}
			}
			paths := openapi3.NewPaths()
			for _, p := range rebased.Paths.Keys() {
				item := rebased.Paths.Value(p)
				rename(item.Parameters)
				for _, op := range item.Operations() {
					rename(op.Parameters)
				}
				paths.Set(JoinPath(base, param.ReplaceAllString(p, "{p_$1}")), item)
			}
			rebased.Paths = paths
			rebased.Servers = openapi3.Servers{{URL: "http://" + spec.Name + ".example.com"}}

			want := Score(orig, orig, BasePath(orig))
			if got := Score(orig, rebased, base); got != want {
				t.Errorf("rebased copy:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}
