package speclab

import (
	"errors"
	"path/filepath"
	"testing"
)

var testSpecs = []string{"petstore30.yaml", "search31.json"}

func loadTestdata(t testing.TB, name string) *Spec {
	t.Helper()
	s, err := LoadSpec(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGeneratorTestdata: values of 1000 seeds validate against every
// schema of the hand-written specs (OpenAPI 3.1 also with the JSON Schema
// 2020-12 validator).
func TestGeneratorTestdata(t *testing.T) {
	for _, name := range testSpecs {
		t.Run(name, func(t *testing.T) {
			s := loadTestdata(t, name)
			cases := schemaCases(s)
			if len(cases) < 10 {
				t.Fatalf("only %d schemas", len(cases))
			}
			for _, c := range cases {
				for seed := range uint64(1000) {
					v, err := NewGenerator(s, seed, c.dir).Value(c.schema, "")
					if err != nil {
						t.Fatalf("%s seed %d: %v", c.name, seed, err)
					}
					if err := validateValue(c.schema, v, c.dir, s.V31 && seed%10 == 0); err != nil {
						t.Fatalf("%s seed %d: %v", c.name, seed, err)
					}
				}
			}
		})
	}
}

// walk calls f for every value in v with its JSON-pointer-like path
// ("/data/[]/owner/kind").
func walk(v any, path string, f func(path string, v any)) {
	f(path, v)
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			walk(e, path+"/"+k, f)
		}
	case []any:
		for _, e := range x {
			walk(e, path+"/[]", f)
		}
	}
}

// TestGeneratorVariety checks the promises about what values look like:
// optional properties present most of the time, nullable values null
// sometimes, arrays mostly 1..5 items, every enum value and oneOf branch
// used, integers for integer and non-integral numbers for number, maps
// with varying data-like keys, readOnly left out of requests.
func TestGeneratorVariety(t *testing.T) {
	s := loadTestdata(t, "petstore30.yaml")
	pet := s.Doc.Components.Schemas["Pet"].Value
	const n = 2000
	present := map[string]int{}
	nulls := map[string]int{}
	values := map[string]map[string]bool{}
	arrayLens := map[int]int{}
	mapKeys := map[string]bool{}
	distinctNames := map[string]bool{}
	for seed := range uint64(n) {
		v, err := NewGenerator(s, seed, ForResponse).Value(pet, "pet")
		if err != nil {
			t.Fatal(err)
		}
		walk(v, "", func(path string, x any) {
			present[path]++
			if x == nil {
				nulls[path]++
			}
			if values[path] == nil {
				values[path] = map[string]bool{}
			}
			if str, ok := x.(string); ok {
				values[path][str] = true
			}
			if path == "/ratings" {
				arrayLens[len(x.([]any))]++
			}
			if path == "/stock" {
				for k, e := range x.(map[string]any) {
					mapKeys[k] = true
					if _, ok := e.(int64); !ok {
						t.Fatalf("stock[%s]: %T %v, want an integer", k, e, e)
					}
				}
			}
			switch path {
			case "/ratings/[]":
				if _, ok := x.(int64); !ok {
					t.Fatalf("%s: %T %v, want an integer", path, x, x)
				}
			case "/weight":
				f, ok := x.(float64)
				if !ok || f == float64(int64(f)) {
					t.Fatalf("weight %v (%T): want a non-integral number", x, x)
				}
			case "/name":
				distinctNames[x.(string)] = true
			}
		})
	}
	for _, p := range []string{"/tag", "/birthday", "/weight", "/chip", "/owner", "/stock", "/ratings", "/website", "/last_ip", "/price"} {
		if r := float64(present[p]) / n; r < 0.7 || r > 0.95 {
			t.Errorf("optional %s present in %.2f of values, want 0.7..0.95", p, r)
		}
	}
	for _, p := range []string{"/id", "/created_at", "/name", "/species"} {
		if present[p] != n {
			t.Errorf("required %s present in %d of %d values", p, present[p], n)
		}
	}
	if present["/secret_note"] != 0 {
		t.Error("writeOnly property in a response")
	}
	if r := float64(nulls["/tag"]) / float64(present["/tag"]); r < 0.03 || r > 0.15 {
		t.Errorf("nullable tag null in %.3f of values, want about 0.08", r)
	}
	if nulls["/name"] > 0 || nulls["/owner/vat"] == 0 {
		t.Errorf("nulls: name %d (want 0), owner/vat %d (want some)", nulls["/name"], nulls["/owner/vat"])
	}
	for _, want := range []string{"dog", "cat", "bird", "fish"} {
		if !values["/species"][want] {
			t.Errorf("enum value %q never generated", want)
		}
	}
	if !values["/owner/kind"]["person"] || !values["/owner/kind"]["org"] {
		t.Errorf("oneOf branches used: %v", values["/owner/kind"])
	}
	nonEmpty := 0
	for l, c := range arrayLens {
		if l > 5 {
			t.Errorf("array of %d items", l)
		}
		if l > 0 {
			nonEmpty += c
		}
	}
	if r := float64(nonEmpty) / float64(present["/ratings"]); r < 0.85 {
		t.Errorf("arrays non-empty in %.2f of values", r)
	}
	if len(mapKeys) < 500 || len(distinctNames) < 200 {
		t.Errorf("%d distinct map keys, %d distinct names: not varied enough", len(mapKeys), len(distinctNames))
	}

	// Requests leave readOnly properties out and keep writeOnly ones.
	sawNote := false
	for seed := range uint64(200) {
		v, err := NewGenerator(s, seed, ForRequest).Value(pet, "pet")
		if err != nil {
			t.Fatal(err)
		}
		m := v.(map[string]any)
		if _, ok := m["id"]; ok {
			t.Fatal("readOnly id in a request")
		}
		_, ok := m["secret_note"]
		sawNote = sawNote || ok
	}
	if !sawNote {
		t.Error("writeOnly property never in a request")
	}
}

// TestGeneratorDeterministic: a seed gives one value; seeds give many.
func TestGeneratorDeterministic(t *testing.T) {
	s := loadTestdata(t, "search31.json")
	res := s.Doc.Components.Schemas["Result"].Value
	seen := map[string]bool{}
	for seed := range uint64(100) {
		a, errA := NewGenerator(s, seed, ForResponse).Value(res, "")
		b, errB := NewGenerator(s, seed, ForResponse).Value(res, "")
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		ja, _ := marshalJSON(a)
		jb, _ := marshalJSON(b)
		if string(ja) != string(jb) {
			t.Fatalf("seed %d: %s != %s", seed, ja, jb)
		}
		seen[string(ja)] = true
	}
	if len(seen) != 100 {
		t.Fatalf("100 seeds gave %d distinct values", len(seen))
	}
}

// TestGeneratorUnsatisfiable: contradictory schemas fail with
// ErrUnsatisfiable instead of producing invalid values.
func TestGeneratorUnsatisfiable(t *testing.T) {
	s, err := LoadSpecData([]byte(`{"openapi": "3.1.0", "info": {"title": "x", "version": "1"}, "paths": {},
	"components": {"schemas": {
	  "types": {"allOf": [{"type": "string"}, {"type": "integer"}]},
	  "range": {"type": "integer", "minimum": 10, "maximum": 5},
	  "items": {"type": "array", "minItems": 4, "maxItems": 2},
	  "enum": {"type": "integer", "enum": ["a", "b"]},
	  "never": false
	}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"types", "range", "items", "enum", "never"} {
		t.Run(name, func(t *testing.T) {
			_, err := NewGenerator(s, 1, ForResponse).Value(s.Doc.Components.Schemas[name].Value, name)
			if !errors.Is(err, ErrUnsatisfiable) {
				t.Fatalf("err = %v, want ErrUnsatisfiable", err)
			}
		})
	}
}
