package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// fuzzCfg uses small bounds so that the fuzzer reaches them.
var fuzzCfg = Config{MaxDepth: 5, MaxProperties: 8, MaxEnum: 4, EnumMinSamples: 2, MapMinKeys: 4,
	StableAfter: 3, MaxArrayItems: 4, MaxNodes: 64}

// FuzzObserveJSON feeds arbitrary bytes to a learner. Invariants: no
// panic; an error exactly when encoding/json rejects the input, and then
// no change; the schema marshals, validates with kin-openapi and stays
// within the bounds; the same observations give the same bytes; merging
// into an empty learner reproduces the schema.
func FuzzObserveJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1,"x",null]`, `{"m":{"u123":{"e":"a@example.com"},"u456":{}}}`, `"2024-01-31"`} {
		f.Add([]byte(s))
	}
	f.Add(typicalResponse(3))
	f.Fuzz(func(t *testing.T, data []byte) {
		l := New(&fuzzCfg)
		if err := l.ObserveJSON([]byte(`{"a":1,"b":[true]}`)); err != nil {
			t.Fatal(err)
		}
		before := marshal(t, l)
		err := l.ObserveJSON(data)
		if valid := json.Valid(data); (err == nil) != valid {
			t.Fatalf("ObserveJSON error %v, encoding/json valid %v", err, valid)
		}
		if err != nil {
			if after := marshal(t, l); !bytes.Equal(before, after) || l.Samples() != 1 {
				t.Fatalf("invalid input changed the learner")
			}
			Shape(data)
			return
		}
		l.ObserveJSON(data) // twice: presence, enums and examples see repeats
		out := marshal(t, l)
		s := l.Schema()
		if err := s.Validate(context.Background(), openapi3.EnableSchemaFormatValidation()); err != nil {
			t.Fatalf("schema does not validate: %v\n%s", err, out)
		}
		if err := lintSchema(s); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if l.nodes > fuzzCfg.MaxNodes+hardMaxDepth || countNodes(l.root) != l.nodes {
			t.Fatalf("%d nodes (tree %d)", l.nodes, countNodes(l.root))
		}
		if len(out) > 64<<10 {
			t.Fatalf("schema is %d bytes", len(out))
		}
		var v any
		if err := json.Unmarshal(out, &v); err != nil || depthOf(v) > 2*fuzzCfg.MaxDepth+4 {
			t.Fatalf("schema depth %d (%v)", depthOf(v), err)
		}
		// Determinism.
		d := New(&fuzzCfg)
		d.ObserveJSON([]byte(`{"a":1,"b":[true]}`))
		d.ObserveJSON(data)
		d.ObserveJSON(data)
		if again := marshal(t, d); !bytes.Equal(out, again) {
			t.Fatalf("not deterministic:\n%s\n%s", out, again)
		}
		// Merge into an empty learner is a copy.
		m := New(&fuzzCfg)
		m.Merge(l)
		if merged := marshal(t, m); !bytes.Equal(out, merged) {
			t.Fatalf("merged copy differs:\n%s\n%s", out, merged)
		}
		if m.Samples() != l.Samples() || m.Stable() != l.Stable() {
			t.Fatalf("merged copy: samples %d/%d stable %v/%v", m.Samples(), l.Samples(), m.Stable(), l.Stable())
		}
		l.Sensitive()
		Shape(data)
	})
}

// FuzzObserveForm checks form bodies the same way.
func FuzzObserveForm(f *testing.F) {
	for _, s := range []string{"a=1&b=x", "a=%41&&=&c", "email=a%40example.com&password=x", "a=%zz"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := New(&fuzzCfg)
		l.ObserveForm([]byte("a=1"))
		before := marshal(t, l)
		if err := l.ObserveForm(data); err != nil {
			if !bytes.Equal(before, marshal(t, l)) {
				t.Fatalf("invalid form changed the learner")
			}
			return
		}
		out := marshal(t, l)
		if err := l.Schema().Validate(context.Background()); err != nil {
			t.Fatalf("schema does not validate: %v\n%s", err, out)
		}
		l.ObserveText(string(data))
		if err := l.Schema().Validate(context.Background()); err != nil {
			t.Fatalf("schema does not validate after text: %v", err)
		}
	})
}

func marshal(t *testing.T, l *Learner) []byte {
	t.Helper()
	b, err := json.Marshal(l.Schema())
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}
