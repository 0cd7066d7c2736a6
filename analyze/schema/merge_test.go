package schema

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// corpus is a set of documents exercising every part of the learner.
func corpus() []string {
	var docs []string
	statuses := []string{"active", "inactive", "pending"}
	for i := 0; i < 120; i++ {
		d := fmt.Sprintf(`{"id":%d,"uuid":"123e4567-e89b-12d3-a456-4266141740%02d","status":"%s","score":%d.5,`+
			`"tags":["t%d"],"users":{"u%d":{"n":"x"}},"opt":%s,"when":"2024-01-%02dT10:00:00Z","big":%d}`,
			i, i%100, statuses[i%3], i, i%4, 100+i%7, []string{"null", `"a"`, "1"}[i%3], 1+i%28, int64(i)<<(i%40))
		if i%5 == 0 {
			d = fmt.Sprintf(`{"id":%d,"extra":{"deep":[{"k":%d}]},"status":"%s"}`, i, i, statuses[i%3])
		}
		docs = append(docs, d)
	}
	return docs
}

func TestMergeEqualsSequential(t *testing.T) {
	docs := corpus()
	all := learnJSON(t, nil, docs...)
	want := schemaJSON(t, all)
	for _, split := range []int{0, 1, 37, 60, 119, 120} {
		t.Run(fmt.Sprint(split), func(t *testing.T) {
			a := learnJSON(t, nil, docs[:split]...)
			b := learnJSON(t, nil, docs[split:]...)
			bBefore := schemaJSON(t, b)
			a.Merge(b)
			if got := schemaJSON(t, a); got != want {
				t.Errorf("merged schema differs from sequential\n got %s\nwant %s", got, want)
			}
			if a.Samples() != int64(len(docs)) {
				t.Errorf("Samples = %d, want %d", a.Samples(), len(docs))
			}
			if schemaJSON(t, b) != bBefore {
				t.Errorf("Merge changed its argument")
			}
		})
	}
}

func TestMergeJoins(t *testing.T) {
	tests := []struct {
		name string
		a, b []string
		want string
	}{
		{"integer and number", []string{`1`}, []string{`1.5`}, `{"type":"number"}`},
		{"null", []string{`"a"`}, []string{`null`}, `{"type":"string","nullable":true}`},
		{"conflict", []string{`"a"`}, []string{`1`}, `{"oneOf":[{"type":"string"},{"type":"integer","format":"int32"}]}`},
		{"properties become optional", []string{`{"a":1,"b":1}`}, []string{`{"a":2}`},
			`{"type":"object","required":["a"],"properties":{"a":{"type":"integer","format":"int32"},"b":{"type":"integer","format":"int32"}}}`},
		{"map and object", []string{`{"m":{"1":{"x":1},"2":{"x":2}}}`}, []string{`{"m":{"3":{"x":3,"y":true}}}`},
			`{"type":"object","required":["m"],"properties":{"m":{"type":"object","additionalProperties":{"type":"object","required":["x"],"properties":{"x":{"type":"integer","format":"int32"},"y":{"type":"boolean"}}}}}}`},
		{"object and map", []string{`{"m":{"3":{"x":3}}}`}, []string{`{"m":{"1":{"x":1},"2":{"x":2}}}`},
			`{"type":"object","required":["m"],"properties":{"m":{"type":"object","additionalProperties":{"type":"object","required":["x"],"properties":{"x":{"type":"integer","format":"int32"}}}}}}`},
		{"formats differ", []string{`"2024-01-01"`}, []string{`"10.0.0.1"`}, `{"type":"string"}`},
		{"format kept", []string{`"2024-01-01"`}, []string{`"2024-01-02"`}, `{"type":"string","format":"date"}`},
		{"arrays", []string{`[]`}, []string{`[1]`}, `{"type":"array","items":{"type":"integer","format":"int32"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := learnJSON(t, &noExamples, tt.a...)
			a.Merge(learnJSON(t, &noExamples, tt.b...))
			if got, want := schemaJSON(t, a), canon(t, tt.want); got != want {
				t.Errorf("got %s\nwant %s", got, want)
			}
		})
	}
}

func TestMergeEnums(t *testing.T) {
	a := New(nil)
	b := New(nil)
	for i := 0; i < 50; i++ {
		a.ObserveText([]string{"red", "green"}[i%2])
		b.ObserveText([]string{"green", "blue"}[i%2])
	}
	a.Merge(b)
	if got := fmt.Sprint(a.Schema().Enum); got != "[blue green red]" {
		t.Errorf("merged enum %s", got)
	}
	c := New(nil)
	for i := 0; i < 50; i++ {
		c.ObserveText(fmt.Sprintf("v%c", 'a'+i%20))
	}
	a.Merge(c)
	if e := a.Schema().Enum; e != nil {
		t.Errorf("merging a non-enum kept enum %v", e)
	}
}

func TestMergeSelfAndEmpty(t *testing.T) {
	docs := corpus()[:10]
	a := learnJSON(t, nil, docs...)
	want := schemaJSON(t, learnJSON(t, nil, append(append([]string{}, docs...), docs...)...))
	a.Merge(a)
	if got := schemaJSON(t, a); got != want {
		t.Errorf("self merge\n got %s\nwant %s", got, want)
	}
	e := New(nil)
	e.Merge(New(nil))
	e.Merge(nil)
	if schemaJSON(t, e) != `{}` || e.Samples() != 0 {
		t.Errorf("merging empties is not empty")
	}
}

func TestStable(t *testing.T) {
	cfg := Config{StableAfter: 10}
	l := New(&cfg)
	doc := `{"id":1,"name":"x"}`
	for i := 1; i <= 10; i++ {
		if err := l.ObserveJSON([]byte(doc)); err != nil {
			t.Fatal(err)
		}
		if l.Stable() {
			t.Fatalf("stable after %d samples, the first changed the schema", i)
		}
	}
	l.ObserveJSON([]byte(doc))
	if !l.Stable() {
		t.Fatalf("not stable after 10 unchanged samples")
	}
	// Examples and counts are not changes.
	l.ObserveJSON([]byte(`{"id":2,"name":"y"}`))
	if !l.Stable() {
		t.Errorf("a new example value made the learner unstable")
	}
	// A property going optional is.
	l.ObserveJSON([]byte(`{"id":3}`))
	if l.Stable() {
		t.Errorf("stable right after a property became optional")
	}
	for i := 0; i < 10; i++ {
		l.ObserveJSON([]byte(doc))
	}
	if !l.Stable() {
		t.Errorf("not stable again")
	}
	// A new type is a change.
	l.ObserveJSON([]byte(`{"id":null}`))
	if l.Stable() {
		t.Errorf("stable right after null appeared")
	}
	// Invalid bodies do not count.
	for i := 0; i < 20; i++ {
		l.ObserveJSON([]byte(`{`))
	}
	if l.Stable() {
		t.Errorf("invalid bodies counted as samples")
	}
}

func TestStableEnum(t *testing.T) {
	// The enum appears at EnumMinSamples; Stable must account for it.
	cfg := Config{StableAfter: 5, EnumMinSamples: 20, MaxExamples: -1}
	l := New(&cfg)
	var lastChange int
	prev := ""
	for i := 1; i <= 40; i++ {
		l.ObserveText([]string{"on", "off"}[i%2])
		if s := schemaJSON(t, l); s != prev {
			prev, lastChange = s, i
		}
		if want := i-lastChange >= 5; l.Stable() != want {
			t.Fatalf("sample %d: Stable() = %v, schema last changed at %d", i, l.Stable(), lastChange)
		}
	}
}

func TestDeterminism(t *testing.T) {
	docs := corpus()
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
	a := schemaJSON(t, learnJSON(t, nil, docs...))
	for i := 0; i < 3; i++ {
		if b := schemaJSON(t, learnJSON(t, nil, docs...)); b != a {
			t.Fatalf("run %d differs:\n%s\n%s", i, a, b)
		}
	}
}
