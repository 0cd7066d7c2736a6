package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// randomDoc writes a random JSON document: random keys (many distinct),
// random types, nesting up to depth levels.
func randomDoc(r *rand.Rand, b *bytes.Buffer, depth int) {
	switch k := r.IntN(10); {
	case depth > 0 && k < 3:
		b.WriteByte('{')
		n := r.IntN(8)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(b, `"k%x":`, r.Uint32()%50000)
			randomDoc(r, b, depth-1)
		}
		b.WriteByte('}')
	case depth > 0 && k < 5:
		b.WriteByte('[')
		n := r.IntN(6)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			randomDoc(r, b, depth-1)
		}
		b.WriteByte(']')
	case k < 7:
		s := make([]byte, r.IntN(40))
		for i := range s {
			s[i] = byte('a' + r.IntN(26))
		}
		fmt.Fprintf(b, `"%s"`, s)
	case k < 8:
		fmt.Fprint(b, r.Int64N(1<<40)-1<<39)
	case k < 9:
		fmt.Fprint(b, r.Float64()*1e6)
	default:
		b.WriteString([]string{"true", "false", "null"}[r.IntN(3)])
	}
}

// depthOf returns the nesting depth of a schema (a leaf is 1).
func depthOf(v any) int {
	d := 0
	switch x := v.(type) {
	case map[string]any:
		for _, c := range x {
			d = max(d, depthOf(c))
		}
		return d + 1
	case []any:
		for _, c := range x {
			d = max(d, depthOf(c))
		}
		return d + 1
	}
	return 0
}

func nested(open, close string, n int, leaf string) []byte {
	return []byte(strings.Repeat(open, n) + leaf + strings.Repeat(close, n))
}

func TestMaxDepth(t *testing.T) {
	cfg := Config{MaxDepth: 3, MaxExamples: -1}
	l := New(&cfg)
	if err := l.ObserveJSON(nested(`{"a":`, `}`, 10, `1`)); err != nil {
		t.Fatal(err)
	}
	want := `{"type":"object","required":["a"],"properties":{"a":{"type":"object","required":["a"],"properties":{"a":{"type":"object","required":["a"],"properties":{"a":{}}}}}}}`
	if got := schemaJSON(t, l); got != canon(t, want) {
		t.Errorf("got %s\nwant %s", got, canon(t, want))
	}
	if d := l.Dropped().Depth; d != 1 {
		t.Errorf("Dropped().Depth = %d, want 1", d)
	}
	// Scalars at the last level are still typed.
	s := New(&cfg)
	if err := s.ObserveJSON(nested(`[`, `]`, 3, `"x"`)); err != nil {
		t.Fatal(err)
	}
	if got := schemaJSON(t, s); got != `{"items":{"items":{"items":{"type":"string"},"type":"array"},"type":"array"},"type":"array"}` {
		t.Errorf("got %s", got)
	}
}

func TestDeepDocuments(t *testing.T) {
	for _, n := range []int{10_000, 1_000_000} {
		for _, kind := range []string{"array", "object", "mixed"} {
			t.Run(fmt.Sprint(kind, n), func(t *testing.T) {
				var doc []byte
				switch kind {
				case "array":
					doc = nested(`[`, `]`, n, `1`)
				case "object":
					doc = nested(`{"a":`, `}`, n, `null`)
				default:
					doc = nested(`{"a":[`, `]}`, n/2, `"x"`)
				}
				l := New(nil)
				if err := l.ObserveJSON(doc); err != nil {
					t.Fatal(err)
				}
				var v any
				if err := json.Unmarshal([]byte(schemaJSON(t, l)), &v); err != nil {
					t.Fatal(err)
				}
				// 10 levels, each at most two JSON levels (properties/a or items).
				if d := depthOf(v); d > 2*10+2 {
					t.Errorf("schema depth %d", d)
				}
				// An unbalanced deep document is rejected, not crashed on.
				if err := l.ObserveJSON(doc[:len(doc)-1]); err == nil {
					t.Errorf("truncated deep document accepted")
				}
			})
		}
	}
}

func TestMaxProperties(t *testing.T) {
	var kv []string
	for i := 0; i < 300; i++ { // mixed value types: not a map
		v := []string{`1`, `"s"`, `true`, `{}`}[i%4]
		kv = append(kv, fmt.Sprintf(`"field_%c%c":%s`, 'a'+i%26, 'a'+i/26, v))
	}
	cfg := Config{MaxProperties: 50}
	l := learnJSON(t, &cfg, `{`+strings.Join(kv, ",")+`}`)
	if n := len(l.Schema().Properties); n != 50 {
		t.Errorf("%d properties kept, want 50", n)
	}
	if d := l.Dropped().Properties; d != 250 {
		t.Errorf("Dropped().Properties = %d, want 250", d)
	}
	schemaJSON(t, l)
	long := `{"` + strings.Repeat("k", maxKeyLen+1) + `":1,"ok":1}`
	k := learnJSON(t, nil, long)
	if n := len(k.Schema().Properties); n != 1 || k.Dropped().Properties != 1 {
		t.Errorf("long key: %d properties, %d dropped", n, k.Dropped().Properties)
	}
}

func TestMaxArrayItems(t *testing.T) {
	items := make([]string, 100)
	for i := range items {
		items[i] = "1"
		if i >= 32 {
			items[i] = `"late"`
		}
	}
	l := learnJSON(t, &noExamples, `[`+strings.Join(items, ",")+`]`)
	if got := schemaJSON(t, l); got != `{"items":{"format":"int32","type":"integer"},"type":"array"}` {
		t.Errorf("got %s", got)
	}
	if d := l.Dropped().ArrayItems; d != 68 {
		t.Errorf("Dropped().ArrayItems = %d, want 68", d)
	}
}

func TestMaxNodes(t *testing.T) {
	cfg := Config{MaxNodes: 100}
	l := New(&cfg)
	r := rand.New(rand.NewPCG(3, 4))
	var b bytes.Buffer
	for i := 0; i < 500; i++ {
		b.Reset()
		randomDoc(r, &b, 6)
		if err := l.ObserveJSON(b.Bytes()); err != nil {
			t.Fatal(err)
		}
		if l.nodes > 100+hardMaxDepth {
			t.Fatalf("%d nodes with MaxNodes 100", l.nodes)
		}
		if c := countNodes(l.root); c != l.nodes {
			t.Fatalf("node count %d, tree has %d", l.nodes, c)
		}
	}
	if l.Dropped().Nodes == 0 {
		t.Errorf("no node was dropped")
	}
	schemaJSON(t, l)
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestHugeDocuments(t *testing.T) {
	// 10 MB bodies with 1e5 distinct keys, of mixed types (stays an object,
	// capped by MaxProperties) and of one type (becomes a map).
	for _, mixed := range []bool{true, false} {
		t.Run(fmt.Sprint("mixed=", mixed), func(t *testing.T) {
			var b bytes.Buffer
			b.WriteByte('{')
			for i := 0; b.Len() < 10<<20; i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				v := `"` + strings.Repeat("v", 60) + `"`
				if mixed && i%2 == 1 {
					v = `[1,2,3,{"x":[true,false,null]}]`
				}
				fmt.Fprintf(&b, `"key_%c%c%c%c":%s`, 'a'+i%26, 'a'+i/26%26, 'a'+i/676%26, 'a'+i/17576%26, v)
			}
			b.WriteByte('}')
			doc := bytes.Clone(b.Bytes())
			b = bytes.Buffer{}
			base := heapInUse()
			l := New(nil)
			if err := l.ObserveJSON(doc); err != nil {
				t.Fatal(err)
			}
			grown := int64(heapInUse()) - int64(base)
			runtime.KeepAlive(l)
			runtime.KeepAlive(doc)
			if grown > 1<<20 {
				t.Errorf("learner holds %d bytes after a 10 MB body", grown)
			}
			s := l.Schema()
			if n := len(s.Properties); mixed && (n != 200 || l.Dropped().Properties == 0) {
				t.Errorf("mixed values: %d properties, %d dropped; want 200 kept, the rest dropped", n, l.Dropped().Properties)
			}
			if !mixed && s.AdditionalProperties.Schema == nil {
				t.Errorf("values of one type: not a map")
			}
			schemaJSON(t, l)
			t.Logf("%d bytes, learner %d bytes, %d nodes, dropped %+v", len(doc), grown, l.nodes, l.Dropped())
		})
	}
}

func TestMemoryBounded(t *testing.T) {
	// Random documents with ever new keys: memory must level off at the
	// configured bounds rather than grow with the input.
	r := rand.New(rand.NewPCG(5, 6))
	var b bytes.Buffer
	base := heapInUse()
	l := New(nil)
	var mid int64
	for i := 1; i <= 4000; i++ {
		b.Reset()
		randomDoc(r, &b, 8)
		if err := l.ObserveJSON(b.Bytes()); err != nil {
			t.Fatal(err)
		}
		if i == 2000 {
			mid = int64(heapInUse()) - int64(base)
		}
	}
	end := int64(heapInUse()) - int64(base)
	runtime.KeepAlive(l)
	t.Logf("learner: %d bytes after 2000 documents, %d after 4000; %d nodes", mid, end, l.nodes)
	if end > 4<<20 {
		t.Errorf("learner holds %d bytes", end)
	}
	if l.nodes > 1024+hardMaxDepth {
		t.Errorf("%d nodes", l.nodes)
	}
	if end > mid+mid/4+64<<10 {
		t.Errorf("memory still growing: %d -> %d bytes", mid, end)
	}
	schemaJSON(t, l)
}
