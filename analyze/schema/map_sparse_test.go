package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// Map keys chosen by users, as Meilisearch's settings have them (index
// and embedder names, header names, synonym words): plain words in
// snake_case or kebab-case, with versions and years, drawn from a large
// vocabulary. isDataKey says that only those with a year are data.
var (
	resourceWords = strings.Fields("movies books products users orders songs articles recipes hotels games " +
		"tickets customers courses jobs events listings podcasts cars flights invoices")
	qualifiers = strings.Fields("blue green red bright wild calm bold ancient eastern brave silver golden")
	regions    = strings.Fields("eu us staging prod dev archive")
)

func wordKey(r *rand.Rand) string {
	w := resourceWords[r.IntN(len(resourceWords))]
	switch r.IntN(6) {
	case 0:
		return qualifiers[r.IntN(len(qualifiers))] + "_" + w
	case 1:
		return fmt.Sprintf("%s_v%d", w, 2+r.IntN(5))
	case 2:
		return w + "-" + regions[r.IntN(len(regions))]
	case 3:
		return fmt.Sprintf("%s_%d", w, 2015+r.IntN(11))
	}
	return w
}

// wordMap writes an object of 1–5 distinct word keys, each value written
// by val.
func wordMap(r *rand.Rand, b *bytes.Buffer, val func(*bytes.Buffer)) {
	n := 1 + r.IntN(5)
	var keys []string
	for len(keys) < n {
		if k := wordKey(r); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(b, "%q:", k)
		val(b)
	}
	b.WriteByte('}')
}

// settingsDoc is a Meilisearch-like settings response: embedders (a map
// of embedder settings, each with a map of headers), synonyms (a map of
// word lists), sortFacetValuesBy (a map of an enum) next to records that
// must stay records (faceting, pagination, distribution).
// With noEmbedders, embedders is null.
func settingsDoc(r *rand.Rand, noEmbedders bool) []byte {
	var b bytes.Buffer
	b.WriteString(`{"displayedAttributes":["*"],"rankingRules":["words","typo"],"embedders":`)
	if noEmbedders {
		b.WriteString("null")
	} else {
		wordMap(r, &b, func(b *bytes.Buffer) {
			b.WriteString(`{"inner":{"source":`)
			fmt.Fprintf(b, "%q", []string{"openAi", "huggingFace", "ollama", "rest", "userProvided"}[r.IntN(5)])
			if r.IntN(10) < 8 {
				fmt.Fprintf(b, `,"model":"model-%d"`, r.IntN(50))
			}
			fmt.Fprintf(b, `,"dimensions":%d,"url":"https://embed.example.com/v%d"`, 256<<r.IntN(3), 1+r.IntN(3))
			b.WriteString(`,"headers":`)
			wordMap(r, b, func(b *bytes.Buffer) { fmt.Fprintf(b, `"value %d"`, r.IntN(1000)) })
			fmt.Fprintf(b, `,"distribution":{"current_mean":0.%d,"current_sigma":0.%d}`, 1+r.IntN(9), 1+r.IntN(9))
			// The composite embedder's two halves: about 60 schema
			// nodes per embedder, so that a record of embedders would
			// fill MaxNodes before reaching MapMinKeys keys.
			for _, half := range []string{"indexingEmbedder", "searchEmbedder"} {
				fmt.Fprintf(b, `,%q:{"source":"rest","model":"m%d","revision":"r%d","pooling":"useModel",`+
					`"apiKey":"k","dimensions":%d,"documentTemplate":"{{doc.title}}","documentTemplateMaxBytes":400,`+
					`"url":"https://embed.example.com","binaryQuantized":false,`+
					`"request":{"model":"m","input":["{{text}}"],"options":{"truncate":true,"user":"u"}},`+
					`"response":{"data":[{"embedding":"{{embedding}}","index":0}],"usage":{"tokens":1}}}`,
					half, r.IntN(9), r.IntN(9), 256<<r.IntN(3))
			}
			b.WriteString("}}")
		})
	}
	b.WriteString(`,"synonyms":`)
	wordMap(r, &b, func(b *bytes.Buffer) {
		fmt.Fprintf(b, `["%s","%s"]`, resourceWords[r.IntN(len(resourceWords))], qualifiers[r.IntN(len(qualifiers))])
	})
	b.WriteString(`,"faceting":{"maxValuesPerFacet":100,"sortFacetValuesBy":`)
	wordMap(r, &b, func(b *bytes.Buffer) { fmt.Fprintf(b, "%q", []string{"alpha", "count"}[r.IntN(2)]) })
	fmt.Fprintf(&b, `},"pagination":{"maxTotalHits":%d}}`, 100*(1+r.IntN(10)))
	return b.Bytes()
}

func settingsDocs(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, 7))
	docs := make([]string, n)
	for i := range docs {
		docs[i] = string(settingsDoc(r, i%10 == 7))
	}
	return docs
}

// at returns the schema at a pointer: property names, "*" for array
// items, "{}" for map values; nil when there is none.
func at(s *openapi3.Schema, ptr string) *openapi3.Schema {
	for _, tok := range strings.Split(strings.Trim(ptr, "/"), "/") {
		if s == nil || tok == "" {
			return s
		}
		var ref *openapi3.SchemaRef
		switch tok {
		case "*":
			ref = s.Items
		case "{}":
			ref = s.AdditionalProperties.Schema
		default:
			ref = s.Properties[tok]
		}
		if ref == nil {
			return nil
		}
		s = ref.Value
	}
	return s
}

// mapPointers lists the pointers of the schema's maps, sorted.
func mapPointers(s *openapi3.Schema) []string {
	var out []string
	var walk func(s *openapi3.Schema, ptr string)
	walk = func(s *openapi3.Schema, ptr string) {
		if s == nil {
			return
		}
		if s.AdditionalProperties.Schema != nil {
			out = append(out, ptr)
			walk(s.AdditionalProperties.Schema.Value, ptr+"/{}")
		}
		for name, p := range s.Properties {
			walk(p.Value, ptr+"/"+name)
		}
		if s.Items != nil {
			walk(s.Items.Value, ptr+"/*")
		}
		for _, o := range s.OneOf {
			walk(o.Value, ptr)
		}
	}
	walk(s, "")
	slices.Sort(out)
	return out
}

func TestWordKeyMaps(t *testing.T) {
	docs := settingsDocs(1, 40)
	for _, k := range []string{"blue_cars", "tickets", "books_v2", "jobs-eu"} {
		if isDataKey([]byte(k)) {
			t.Fatalf("%q looks like data: the test would not exercise the sparse rule", k)
		}
	}
	for _, d := range docs[:3] {
		if !json.Valid([]byte(d)) {
			t.Fatalf("generated document is not JSON: %s", d)
		}
	}
	l := learnJSON(t, &noExamples, docs...)
	s := l.Schema()
	schemaJSON(t, l) // validates
	got := mapPointers(s)
	want := []string{"/embedders", "/embedders/{}/inner/headers", "/faceting/sortFacetValuesBy", "/synonyms"}
	if !slices.Equal(got, want) {
		t.Fatalf("maps at %v, want %v\n%s", got, want, schemaJSON(t, l))
	}
	tests := []struct {
		ptr  string
		want string // the schema at ptr, canonical JSON
	}{
		{"/embedders/{}/inner/headers/{}", `{"type":"string"}`},
		{"/embedders/{}/inner/distribution", `{"type":"object","required":["current_mean","current_sigma"],
			"properties":{"current_mean":{"type":"number"},"current_sigma":{"type":"number"}}}`},
		{"/synonyms/{}", `{"type":"array","items":{"type":"string"}}`},
		{"/faceting/sortFacetValuesBy/{}", `{"type":"string","enum":["alpha","count"]}`},
		{"/pagination", `{"type":"object","required":["maxTotalHits"],"properties":{"maxTotalHits":{"type":"integer","format":"int32"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.ptr, func(t *testing.T) {
			v := at(s, tt.ptr)
			if v == nil {
				t.Fatalf("no schema at %s", tt.ptr)
			}
			b, _ := json.Marshal(v)
			if string(b) != canon(t, tt.want) {
				t.Errorf("got %s\nwant %s", b, canon(t, tt.want))
			}
		})
	}
	inner := at(s, "/embedders/{}/inner")
	if inner == nil {
		t.Fatalf("no embedder value schema")
	}
	var props []string
	for p := range inner.Properties {
		props = append(props, p)
	}
	slices.Sort(props)
	if want := []string{"dimensions", "distribution", "headers", "indexingEmbedder", "model", "searchEmbedder", "source", "url"}; !slices.Equal(props, want) {
		t.Errorf("embedder properties %v, want %v", props, want)
	}
	if want := []string{"dimensions", "distribution", "headers", "indexingEmbedder", "searchEmbedder", "source", "url"}; !slices.Equal(inner.Required, want) {
		t.Errorf("embedder required %v, want %v", inner.Required, want)
	}
	if e := at(s, "/embedders"); !e.Nullable {
		t.Errorf("embedders: null was seen, not nullable")
	}
	// The value schema is learned once, not per key: about 75 nodes.
	if l.nodes > 100 || l.Dropped().Nodes != 0 {
		t.Errorf("%d nodes, %d dropped", l.nodes, l.Dropped().Nodes)
	}
}

// sparseCase builds n documents {"m": {...}} from keys(i), the keys of
// object i, and val(i, j), the JSON value of its key j.
type sparseCase struct {
	name string
	cfg  *Config
	n    int
	keys func(r *rand.Rand, i int) []string
	val  func(r *rand.Rand, i, j int) string
	want bool // a map
}

func (c sparseCase) docs() []string {
	r := rand.New(rand.NewPCG(uint64(len(c.name)), 11))
	docs := make([]string, c.n)
	for i := range docs {
		var kv []string
		for j, k := range c.keys(r, i) {
			kv = append(kv, fmt.Sprintf("%q:%s", k, c.val(r, i, j)))
		}
		docs[i] = `{"m":{` + strings.Join(kv, ",") + `}}`
	}
	return docs
}

func TestSparseMapRule(t *testing.T) {
	words := func(r *rand.Rand, _ int) []string {
		n := 1 + r.IntN(5)
		var ks []string
		for len(ks) < n {
			if k := wordKey(r); !slices.Contains(ks, k) {
				ks = append(ks, k)
			}
		}
		return ks
	}
	str := func(r *rand.Rand, _, _ int) string { return fmt.Sprintf(`"v%d"`, r.IntN(100)) }
	// A record: fields in a fixed list, each present with its own
	// probability.
	record := func(fields []string, pct []int) func(*rand.Rand, int) []string {
		return func(r *rand.Rand, _ int) []string {
			var ks []string
			for i, f := range fields {
				if r.IntN(100) < pct[i] {
					ks = append(ks, f)
				}
			}
			return ks
		}
	}
	userFields := strings.Fields("id name email city country phone company title locale timezone")
	rare := strings.Fields("id name nickname website twitter github linkedin fax pager skype bio motto avatar")
	variants := [][]string{
		strings.Fields("street city zip"), strings.Fields("lat lng datum"), strings.Fields("what3words precision locale"),
	}
	tests := []sparseCase{
		{name: "headers: word keys, string values", n: 40, keys: words, val: str, want: true},
		{name: "synonyms: word keys, arrays", n: 40, keys: words, want: true,
			val: func(r *rand.Rand, _, _ int) string { return `["a","b"]` }},
		{name: "embedders: word keys, object values", n: 40, keys: words, want: true,
			val: func(r *rand.Rand, _, _ int) string {
				return fmt.Sprintf(`{"source":"rest","dimensions":%d,"headers":{"x":"y"}}`, r.IntN(1000))
			}},
		{name: "values only null", n: 40, keys: words, want: true,
			val: func(*rand.Rand, int, int) string { return "null" }},
		{name: "numbers and integers are one type", n: 40, keys: words, want: true,
			val: func(r *rand.Rand, i, j int) string { return []string{"1", "2.5"}[(i+j)%2] }},
		{name: "a small vocabulary: 12 header names, 1-3 per object", n: 60, val: str, want: true,
			keys: func(r *rand.Rand, _ int) []string {
				names := strings.Fields("accept_language x_tenant x_region trace_parent api_version user_agent " +
					"x_request_id x_forwarded_for x_client x_team content_language x_debug")
				r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
				return names[:1+r.IntN(3)]
			}},
		{name: "four objects, all keys distinct", n: 4, want: true, val: str,
			keys: func(_ *rand.Rand, i int) []string {
				return [][]string{{"blue_cars", "tickets"}, {"bold_articles", "books_v2"}, {"songs", "jobs-eu"}, {"events", "movies"}}[i]
			}},

		// Records stay records.
		{name: "user: 10 fields, 3 optional at 70-95%", n: 200, val: str, want: false,
			keys: record(userFields, []int{100, 100, 100, 100, 100, 100, 100, 95, 80, 70})},
		{name: "stable core with rare optional fields", n: 200, val: str, want: false,
			keys: record(rare, []int{100, 100, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5})},
		{name: "core at 90% with rare optional fields", n: 200, val: str, want: false,
			keys: record(rare, []int{90, 90, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5})},
		{name: "three variants with disjoint fields", n: 60, val: str, want: false,
			keys: func(_ *rand.Rand, i int) []string { return variants[i%3] }},
		{name: "word keys with values of mixed types", n: 40, keys: words, want: false,
			val: func(_ *rand.Rand, i, j int) string { return []string{`"s"`, "1", "true", "[]"}[(i+j)%4] }},
		{name: "three objects are too few", n: 3, val: str, want: false,
			keys: func(_ *rand.Rand, i int) []string {
				return [][]string{{"blue_cars", "tickets", "books"}, {"bold_articles", "books_v2", "cars"}, {"songs", "jobs-eu", "games"}}[i]
			}},
		{name: "fewer than MapSparseKeys keys", n: 100, val: str, want: false,
			keys: func(r *rand.Rand, _ int) []string {
				return []string{[]string{"en", "fr", "de", "es", "it", "pt"}[r.IntN(6)]}
			}},
		{name: "MapSparseKeys 4", cfg: &Config{MapSparseKeys: 4, MaxExamples: -1}, n: 100, val: str, want: true,
			keys: func(r *rand.Rand, _ int) []string {
				return []string{[]string{"en", "fr", "de", "es", "it", "pt"}[r.IntN(6)]}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg == nil {
				cfg = &noExamples
			}
			l := learnJSON(t, cfg, tt.docs()...)
			s := l.Schema()
			schemaJSON(t, l)
			m := at(s, "/m")
			if m == nil {
				t.Fatalf("no /m in %s", schemaJSON(t, l))
			}
			if isMap := m.AdditionalProperties.Schema != nil; isMap != tt.want {
				t.Errorf("map = %v, want %v\n%s", isMap, tt.want, schemaJSON(t, l))
			}
		})
	}
}

func TestSparseMapOrderIndependent(t *testing.T) {
	docs := settingsDocs(2, 60)
	want := schemaJSON(t, learnJSON(t, &noExamples, docs...))
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			d := slices.Clone(docs)
			r := rand.New(rand.NewPCG(seed, 3))
			r.Shuffle(len(d), func(i, j int) { d[i], d[j] = d[j], d[i] })
			if got := schemaJSON(t, learnJSON(t, &noExamples, d...)); got != want {
				t.Errorf("order changed the schema\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestSparseMapMergeEquivalence(t *testing.T) {
	docs := settingsDocs(3, 60)
	want := schemaJSON(t, learnJSON(t, &noExamples, docs...))
	wantMaps := mapPointers(learnJSON(t, &noExamples, docs...).Schema())
	for _, split := range []int{0, 1, 2, 3, 5, 17, 30, 59, 60} {
		t.Run(fmt.Sprint("split ", split), func(t *testing.T) {
			a := learnJSON(t, &noExamples, docs[:split]...)
			a.Merge(learnJSON(t, &noExamples, docs[split:]...))
			if got := schemaJSON(t, a); got != want {
				t.Errorf("merged\n got %s\nwant %s", got, want)
			}
		})
	}
	// Learners too small to decide on their own (fewer objects each than
	// mapSparseMinObjects): the merge sees all the counts and decides.
	for _, size := range []int{1, 2, 3} {
		t.Run(fmt.Sprint("chunks of ", size), func(t *testing.T) {
			m := New(&noExamples)
			decided := 0
			for i := 0; i < len(docs); i += size {
				c := learnJSON(t, &noExamples, docs[i:min(i+size, len(docs))]...)
				if e := at(c.Schema(), "/embedders"); e != nil && e.AdditionalProperties.Schema != nil {
					decided++ // only by the data-key rule: keys with years
				}
				m.Merge(c)
			}
			if chunks := (len(docs) + size - 1) / size; decided*2 > chunks {
				t.Fatalf("%d of %d learners found /embedders a map on their own", decided, chunks)
			}
			if got := mapPointers(m.Schema()); !slices.Equal(got, wantMaps) {
				t.Errorf("maps %v, want %v", got, wantMaps)
			}
			if got := schemaJSON(t, m); got != want {
				t.Errorf("merged\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestSparseMapBounds(t *testing.T) {
	// 10 MB of documents whose maps have ever new word keys and nested
	// maps: the learner stays at the size of one value schema per map.
	r := rand.New(rand.NewPCG(9, 9))
	base := heapInUse()
	l := New(nil)
	total := 0
	for total < 10<<20 {
		d := settingsDoc(r, total%7 == 0)
		total += len(d)
		if err := l.ObserveJSON(d); err != nil {
			t.Fatal(err)
		}
	}
	grown := int64(heapInUse()) - int64(base)
	runtime.KeepAlive(l)
	if l.nodes > 100 || countNodes(l.root) != l.nodes {
		t.Errorf("%d nodes (tree %d)", l.nodes, countNodes(l.root))
	}
	// The first documents may fill MaxNodes before the maps are known
	// (values of about 60 nodes, up to 5 keys per object); the values cut
	// short are left out of the value schemas, which come out whole.
	want := learnJSON(t, &noExamples, settingsDocs(1, 40)...)
	if got, want := mapPointers(l.Schema()), mapPointers(want.Schema()); !slices.Equal(got, want) {
		t.Errorf("maps %v, want %v", got, want)
	}
	if inner := at(l.Schema(), "/embedders/{}/inner/searchEmbedder"); inner == nil || len(inner.Required) != 12 {
		t.Errorf("embedder value schema cut short: %v", inner)
	}
	if grown > 256<<10 {
		t.Errorf("learner holds %d bytes", grown)
	}
	schemaJSON(t, l)

	// One 10 MB body: an array of objects with random word keys, sparse
	// across the items.
	var b bytes.Buffer
	b.WriteByte('[')
	for i := 0; b.Len() < 10<<20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"%s_%x":{"v":%d},"%s_%x":{"v":%d}}`, wordKey(r), r.Uint32(), i, wordKey(r), r.Uint32(), i)
	}
	b.WriteByte(']')
	doc := b.Bytes()
	base = heapInUse()
	h := New(&Config{MaxArrayItems: 1 << 30})
	if err := h.ObserveJSON(doc); err != nil {
		t.Fatal(err)
	}
	grown = int64(heapInUse()) - int64(base)
	runtime.KeepAlive(h)
	runtime.KeepAlive(doc)
	if v := at(h.Schema(), "/*/{}/v"); v == nil {
		t.Errorf("items are not maps: %.300s", schemaJSON(t, h))
	}
	if grown > 1<<20 {
		t.Errorf("learner holds %d bytes after a 10 MB body", grown)
	}
	t.Logf("%d bytes of documents: %d nodes, %d dropped; 10 MB body: learner %d bytes, %d nodes",
		total, l.nodes, l.Dropped().Nodes, grown, h.nodes)
}

func TestSparseMapSteadyStateAllocations(t *testing.T) {
	// Once the maps are known, documents with keys never seen before
	// allocate nothing.
	r := rand.New(rand.NewPCG(4, 4))
	docs := make([][]byte, 64)
	for i := range docs {
		docs[i] = settingsDoc(r, i%10 == 7)
	}
	l := New(nil)
	for _, d := range settingsDocs(5, 200) { // warm up on other documents
		if err := l.ObserveJSON([]byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range docs[:1] { // enum values, examples
		l.ObserveJSON(d)
	}
	i := 0
	if a := testing.AllocsPerRun(200, func() {
		l.ObserveJSON(docs[i%len(docs)])
		i++
	}); a != 0 {
		t.Errorf("ObserveJSON of maps with new keys: %v allocations per call", a)
	}
}

func TestSparseMapAfterMaxNodes(t *testing.T) {
	// MaxNodes is reached before the fourth object shows the map: the
	// values cut short are left out of the value schema, which comes out
	// whole (no property made optional by the cut), and the freed nodes
	// learn the rest.
	cfg := Config{MaxNodes: 60, MaxExamples: -1}
	var docs []string
	for i := 0; i < 12; i++ {
		var kv []string
		for j := 0; j < 5; j++ {
			n := i*5 + j
			kv = append(kv, fmt.Sprintf(`"%s_%c":{"a":1,"b":"text %d","c":{"d":1,"e":2},"f":[{"g":true}]}`,
				resourceWords[n%len(resourceWords)], 'a'+n/len(resourceWords), n))
		}
		docs = append(docs, `{"m":{`+strings.Join(kv, ",")+`}}`)
	}
	l := learnJSON(t, &cfg, docs...)
	if l.Dropped().Nodes == 0 {
		t.Fatalf("MaxNodes was not reached: the test does not test the cut")
	}
	want := `{"type":"object","required":["a","b","c","f"],"properties":{"a":{"type":"integer","format":"int32"},"b":{"type":"string"},` +
		`"c":{"type":"object","required":["d","e"],"properties":{"d":{"type":"integer","format":"int32"},"e":{"type":"integer","format":"int32"}}},` +
		`"f":{"type":"array","items":{"type":"object","required":["g"],"properties":{"g":{"type":"boolean"}}}}}}`
	if got := mapSchema(t, l, "m"); got != canon(t, want) {
		t.Errorf("value schema\n got %s\nwant %s", got, canon(t, want))
	}
	if c := countNodes(l.root); c != l.nodes || l.nodes > 20 {
		t.Errorf("%d nodes, tree %d", l.nodes, c)
	}
}
