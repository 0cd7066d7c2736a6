package accuracy

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/apitap/apitap/analyze/openapi"
	"github.com/getkin/kin-openapi/openapi3"
)

// loadTestdata loads a spec of testdata/; a missing file fails the test.
func loadTestdata(t *testing.T, name string) *openapi3.T {
	t.Helper()
	doc, err := openapi.Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func mustOp(t *testing.T, doc *openapi3.T, path, method string) *openapi3.Operation {
	t.Helper()
	item := doc.Paths.Value(path)
	if item == nil || item.GetOperation(method) == nil {
		t.Fatalf("no %s %s in the test document", method, path)
	}
	return item.GetOperation(method)
}

// respSchema returns the application/json schema of a response.
func respSchema(t *testing.T, doc *openapi3.T, path, method, status string) *openapi3.Schema {
	t.Helper()
	r := mustOp(t, doc, path, method).Responses.Value(status)
	if r == nil || r.Value.Content["application/json"] == nil {
		t.Fatalf("no %s response with JSON for %s %s", status, method, path)
	}
	return r.Value.Content["application/json"].Schema.Value
}

func stringSchema() *openapi3.SchemaRef { return openapi3.NewStringSchema().NewRef() }

// roundScores rounds every ratio to 6 decimals so that tables can state
// them as literals.
func roundScores(s Scores) Scores {
	r := func(f *float64) { *f = math.Round(*f*1e6) / 1e6 }
	r(&s.Endpoints.Precision)
	r(&s.Endpoints.Recall)
	r(&s.Endpoints.F1)
	r(&s.Params.Recall)
	r(&s.Properties.Recall)
	r(&s.Properties.Precision)
	r(&s.Types.Accuracy)
	return s
}

// perfectScores are the scores of testdata/inferred.yaml against
// testdata/original.yaml: 4 operations; parameters limit, X-Tenant and
// the id of both /users/{id} operations (Accept is standard, sid a
// cookie); 28 response pointers (10 for the array of GET /users, 9 for
// each user; the 404 was never produced, "/meta/plan" is below the
// free-form meta object).
func perfectScores() Scores {
	var s Scores
	s.Endpoints.Expected, s.Endpoints.Inferred, s.Endpoints.Matched = 4, 4, 4
	s.Endpoints.Precision, s.Endpoints.Recall, s.Endpoints.F1 = 1, 1, 1
	s.Params.Expected, s.Params.Found, s.Params.Inferred, s.Params.Recall = 4, 4, 4, 1
	s.Properties.Expected, s.Properties.Inferred, s.Properties.Matched = 28, 28, 28
	s.Properties.Recall, s.Properties.Precision = 1, 1
	s.Types.Compared, s.Types.Agree, s.Types.Accuracy = 28, 28, 1
	s.Responses.Documented, s.Responses.Compared = 5, 4
	return s
}

func TestScore(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *testing.T, inf *openapi3.T)
		want   func(s *Scores)
	}{
		{"as inferred", nil, nil},
		{"missing endpoint", func(t *testing.T, inf *openapi3.T) {
			inf.Paths.Value("/v1/users/{userId}").Delete = nil
		}, func(s *Scores) {
			s.Endpoints.Inferred, s.Endpoints.Matched = 3, 3
			s.Endpoints.Recall, s.Endpoints.F1 = 0.75, 0.857143
			s.Params.Expected, s.Params.Found, s.Params.Inferred = 3, 3, 3
			s.Responses.Documented, s.Responses.Compared = 4, 3
		}},
		{"extra endpoint", func(t *testing.T, inf *openapi3.T) {
			op := openapi3.NewOperation()
			op.AddResponse(200, openapi3.NewResponse().WithDescription("seen").
				WithJSONSchema(openapi3.NewObjectSchema().WithProperty("status", openapi3.NewStringSchema())))
			inf.AddOperation("/v1/health", "GET", op)
		}, func(s *Scores) {
			s.Endpoints.Inferred = 5
			s.Endpoints.Precision, s.Endpoints.F1 = 0.8, 0.888889
		}},
		{"split template", func(t *testing.T, inf *openapi3.T) {
			item := inf.Paths.Value("/v1/users/{userId}")
			get := *item.Get
			get.Parameters = nil
			for _, p := range []string{"/v1/users/1", "/v1/users/2"} {
				g := get
				inf.AddOperation(p, "GET", &g)
			}
			item.Get = nil
		}, func(s *Scores) {
			s.Endpoints.Inferred, s.Endpoints.Matched, s.Endpoints.Split = 5, 3, 2
			s.Endpoints.Precision, s.Endpoints.Recall, s.Endpoints.F1 = 0.6, 0.75, 0.666667
			s.Params.Expected, s.Params.Found, s.Params.Inferred = 3, 3, 3
			s.Properties.Expected, s.Properties.Inferred, s.Properties.Matched = 19, 19, 19
			s.Types.Compared, s.Types.Agree = 19, 19
			s.Responses.Documented, s.Responses.Compared = 4, 3
		}},
		{"merged template", func(t *testing.T, inf *openapi3.T) {
			inf.Paths.Delete("/v1/users/me")
		}, func(s *Scores) {
			s.Endpoints.Inferred, s.Endpoints.Matched, s.Endpoints.Merged = 3, 3, 1
			s.Endpoints.Recall, s.Endpoints.F1 = 0.75, 0.857143
			s.Properties.Expected, s.Properties.Inferred, s.Properties.Matched = 19, 19, 19
			s.Types.Compared, s.Types.Agree = 19, 19
			s.Responses.Documented, s.Responses.Compared = 4, 3
		}},
		{"literal paths (the naive baseline)", func(t *testing.T, inf *openapi3.T) {
			item := inf.Paths.Value("/v1/users/{userId}")
			for _, id := range []string{"1", "2"} {
				get, del := *item.Get, *item.Delete
				get.Parameters, del.Parameters = nil, nil
				inf.AddOperation("/v1/users/"+id, "GET", &get)
				inf.AddOperation("/v1/users/"+id, "DELETE", &del)
			}
			inf.Paths.Delete("/v1/users/{userId}")
		}, func(s *Scores) {
			s.Endpoints.Inferred, s.Endpoints.Matched, s.Endpoints.Split = 6, 2, 4
			s.Endpoints.Precision, s.Endpoints.Recall, s.Endpoints.F1 = 0.333333, 0.5, 0.4
			s.Params.Expected, s.Params.Found, s.Params.Inferred = 2, 2, 2
			s.Properties.Expected, s.Properties.Inferred, s.Properties.Matched = 19, 19, 19
			s.Types.Compared, s.Types.Agree = 19, 19
			s.Responses.Documented, s.Responses.Compared = 3, 2
		}},
		{"server base path", func(t *testing.T, inf *openapi3.T) {
			paths := openapi3.NewPaths()
			for _, p := range inf.Paths.Keys() {
				paths.Set(p[len("/v1"):], inf.Paths.Value(p))
			}
			inf.Paths = paths
			inf.Servers = openapi3.Servers{{URL: "http://api.example.com/v1/"}}
		}, nil},
		{"path parameter not declared", func(t *testing.T, inf *openapi3.T) {
			mustOp(t, inf, "/v1/users/{userId}", "GET").Parameters = nil
		}, func(s *Scores) {
			s.Params.Found, s.Params.Inferred, s.Params.Recall = 3, 3, 0.75
		}},
		{"missing query parameter", func(t *testing.T, inf *openapi3.T) {
			op := mustOp(t, inf, "/v1/users", "GET")
			op.Parameters = op.Parameters[1:]
		}, func(s *Scores) {
			s.Params.Found, s.Params.Inferred, s.Params.Recall = 3, 3, 0.75
		}},
		{"missing properties", func(t *testing.T, inf *openapi3.T) {
			delete(respSchema(t, inf, "/v1/users/{userId}", "GET", "200").Properties, "score")
			delete(respSchema(t, inf, "/v1/users/me", "GET", "200").Properties, "tags") // and /tags/*
		}, func(s *Scores) {
			s.Properties.Inferred, s.Properties.Matched, s.Properties.Recall = 25, 25, 0.892857
			s.Types.Compared, s.Types.Agree = 25, 25
		}},
		{"extra properties", func(t *testing.T, inf *openapi3.T) {
			me := respSchema(t, inf, "/v1/users/me", "GET", "200")
			me.Properties["nickname"] = stringSchema()
			me.Properties["meta"].Value.Properties["extra"] = stringSchema() // below free-form meta: not counted
		}, func(s *Scores) {
			s.Properties.Inferred, s.Properties.Precision = 29, 0.965517
		}},
		{"type mismatches", func(t *testing.T, inf *openapi3.T) {
			respSchema(t, inf, "/v1/users/{userId}", "GET", "200").Properties["id"] = stringSchema()
			respSchema(t, inf, "/v1/users/me", "GET", "200").Properties["score"] = openapi3.NewIntegerSchema().NewRef()
		}, func(s *Scores) {
			s.Types.Agree, s.Types.IntegerNumber, s.Types.Accuracy = 26, 1, 0.928571
		}},
		{"undocumented status", func(t *testing.T, inf *openapi3.T) {
			mustOp(t, inf, "/v1/users/me", "GET").AddResponse(500, openapi3.NewResponse().WithDescription("seen").
				WithJSONSchema(openapi3.NewObjectSchema().WithProperty("error", openapi3.NewStringSchema())))
		}, func(s *Scores) {
			s.Responses.Undocumented = 1
			s.Properties.Inferred, s.Properties.Precision = 29, 0.965517
		}},
		{"nullable", func(t *testing.T, inf *openapi3.T) {
			respSchema(t, inf, "/v1/users/me", "GET", "200").Properties["name"].Value.Nullable = true
		}, func(s *Scores) {
			s.Nullable.Extra = 1
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := loadTestdata(t, "original.yaml")
			inf := loadTestdata(t, "inferred.yaml")
			if tt.mutate != nil {
				tt.mutate(t, inf)
			}
			want := perfectScores()
			if tt.want != nil {
				tt.want(&want)
			}
			got := roundScores(Score(orig, inf, "/v1"))
			if got != want {
				t.Errorf("Score:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestScoreIdentical(t *testing.T) {
	orig := loadTestdata(t, "original.yaml")
	got := Score(orig, orig, BasePath(orig))
	var want Scores
	want.Endpoints.Expected, want.Endpoints.Inferred, want.Endpoints.Matched = 4, 4, 4
	want.Endpoints.Precision, want.Endpoints.Recall, want.Endpoints.F1 = 1, 1, 1
	want.Params.Expected, want.Params.Found, want.Params.Inferred, want.Params.Recall = 4, 4, 4, 1
	want.Properties.Expected, want.Properties.Inferred, want.Properties.Matched = 29, 29, 29
	want.Properties.Recall, want.Properties.Precision = 1, 1
	want.Types.Compared, want.Types.Agree, want.Types.Accuracy = 29, 29, 1
	want.Responses.Documented, want.Responses.Compared = 5, 5
	if got != want {
		t.Errorf("Score(orig, orig):\n got %+v\nwant %+v", got, want)
	}
}

func TestScoreEmpty(t *testing.T) {
	orig := loadTestdata(t, "original.yaml")
	empty := &openapi3.T{OpenAPI: "3.0.3", Paths: openapi3.NewPaths()}
	got := Score(orig, empty, "/v1")
	if got.Endpoints.Expected != 4 || got.Endpoints.Inferred != 0 || got.Endpoints.Recall != 0 ||
		got.Endpoints.Precision != 1 || got.Endpoints.F1 != 0 {
		t.Errorf("against an empty document: %+v", got.Endpoints)
	}
	if got.Params.Recall != 1 || got.Properties.Recall != 1 || got.Types.Accuracy != 1 {
		t.Errorf("with nothing matched the ratios must be vacuous (1): %+v", got)
	}
	if got := Score(nil, nil, ""); got.Endpoints.Expected != 0 || got.Endpoints.F1 != 1 {
		t.Errorf("Score(nil, nil): %+v", got.Endpoints)
	}
}

// TestScoreSparse scores documents with the parts a loader may leave nil
// (no responses, responses without a value, content without a schema).
func TestScoreSparse(t *testing.T) {
	doc := &openapi3.T{OpenAPI: "3.0.3", Paths: openapi3.NewPaths()}
	bare := openapi3.NewOperation()
	bare.Responses = nil
	doc.AddOperation("/a", "GET", bare)
	holey := openapi3.NewOperation()
	holey.Responses = openapi3.NewResponses()
	holey.Responses.Set("200", &openapi3.ResponseRef{})
	holey.Responses.Set("201", &openapi3.ResponseRef{Value: &openapi3.Response{Content: openapi3.Content{
		"application/json": &openapi3.MediaType{}}}})
	holey.Parameters = openapi3.Parameters{nil, &openapi3.ParameterRef{}, {Value: &openapi3.Parameter{Name: "q", In: "query"}}}
	doc.AddOperation("/b", "GET", holey)
	doc.Paths.Set("/c", &openapi3.PathItem{})
	s := Score(doc, doc, "")
	if s.Endpoints.Matched != 2 || s.Params.Expected != 1 || s.Params.Found != 1 || s.Properties.Expected != 0 {
		t.Errorf("sparse document scored %+v", s)
	}
}

func TestScoreWithSamples(t *testing.T) {
	full := Samples{
		{"GET", "/users", 200}: 20, {"GET", "/users/{id}", 200}: 20,
		{"DELETE", "/users/{id}", 204}: 20, {"GET", "/users/me", 200}: 20,
	}
	with := func(k SampleKey, n int) Samples {
		s := Samples{}
		for kk, v := range full {
			s[kk] = v
		}
		if n < 0 {
			delete(s, k)
		} else {
			s[k] = n
		}
		return s
	}
	me := SampleKey{"GET", "/users/me", 200}
	tests := []struct {
		name   string
		opts   Options
		mutate bool // drop tags from GET /users/me's inferred response
		want   func(s *Scores)
	}{
		{"no samples given", Options{}, false, nil},
		{"every response sampled enough", Options{Samples: full}, false, nil},
		{"a sparse response", Options{Samples: with(me, 3)}, false, func(s *Scores) {
			s.Responses.Sparse, s.Responses.SparseProperties = 1, 9
			s.Properties.Expected, s.Properties.Inferred, s.Properties.Matched = 19, 19, 19
			s.Types.Compared, s.Types.Agree = 19, 19
		}},
		{"a sparse response hides its misses", Options{Samples: with(me, 3)}, true, func(s *Scores) {
			s.Responses.Sparse, s.Responses.SparseProperties = 1, 9
			s.Properties.Expected, s.Properties.Inferred, s.Properties.Matched = 19, 19, 19
			s.Types.Compared, s.Types.Agree = 19, 19
		}},
		{"misses of a response sampled enough count", Options{Samples: full}, true, func(s *Scores) {
			s.Properties.Inferred, s.Properties.Matched, s.Properties.Recall = 26, 26, 0.928571
			s.Types.Compared, s.Types.Agree = 26, 26
		}},
		{"lower threshold", Options{Samples: with(me, 3), MinSamples: 3}, false, nil},
		{"operation without samples", Options{Samples: with(me, -1)}, false, func(s *Scores) {
			s.Responses.Sparse, s.Responses.SparseProperties = 1, 9
			s.Properties.Expected, s.Properties.Inferred, s.Properties.Matched = 19, 19, 19
			s.Types.Compared, s.Types.Agree = 19, 19
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := loadTestdata(t, "original.yaml")
			inf := loadTestdata(t, "inferred.yaml")
			if tt.mutate {
				delete(respSchema(t, inf, "/v1/users/me", "GET", "200").Properties, "tags")
			}
			want := perfectScores()
			if tt.want != nil {
				tt.want(&want)
			}
			if got := roundScores(ScoreWith(orig, inf, "/v1", tt.opts)); got != want {
				t.Errorf("ScoreWith:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestScoreSamplesByRange checks that the samples of every status that
// falls under a range or default response are added up.
func TestScoreSamplesByRange(t *testing.T) {
	const doc = `
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /x:
    get:
      responses:
        "4XX":
          description: error
          content: {application/json: {schema: {type: object, properties: {error: {type: string}}}}}
        default:
          description: other
          content: {application/json: {schema: {type: object, properties: {message: {type: string}}}}}
`
	orig := loadData(t, doc)
	inf := loadData(t, `
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /x:
    get:
      responses:
        "400": {description: seen, content: {application/json: {schema: {type: object, properties: {error: {type: string}}}}}}
        "404": {description: seen, content: {application/json: {schema: {type: object, properties: {error: {type: string}}}}}}
        "500": {description: seen, content: {application/json: {schema: {type: object, properties: {message: {type: string}}}}}}
`)
	samples := Samples{{"GET", "/x", 400}: 6, {"GET", "/x", 404}: 4, {"GET", "/x", 500}: 9}
	s := ScoreWith(orig, inf, "", Options{Samples: samples})
	if s.Responses.Compared != 2 || s.Responses.Sparse != 1 || s.Responses.SparseProperties != 1 ||
		s.Properties.Expected != 1 || s.Properties.Matched != 1 {
		t.Errorf("4XX from 6+4 samples scored, default from 9 not: %+v %+v", s.Responses, s.Properties)
	}
}

// TestScoreNoBody checks that content a spec documents for a 204 is not
// expected: HTTP sends none.
func TestScoreNoBody(t *testing.T) {
	orig := loadData(t, `
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /x:
    delete:
      responses:
        "204":
          description: gone
          content: {application/json: {schema: {type: object, properties: {message: {type: string}}}}}
        "2XX":
          description: other
          content: {application/json: {schema: {type: object, properties: {status: {type: string}}}}}
`)
	inf := loadData(t, `
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /x:
    delete:
      responses:
        "204": {description: seen}
        "200": {description: seen, content: {application/json: {schema: {type: object, properties: {status: {type: string}}}}}}
`)
	s := Score(orig, inf, "")
	if s.Responses.Compared != 2 || s.Properties.Expected != 1 || s.Properties.Matched != 1 {
		t.Errorf("responses %+v, properties %+v; want the 204's content not expected", s.Responses, s.Properties)
	}
}
