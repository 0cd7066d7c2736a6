package pathtmpl

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// call is one observed call of the structural tests.
type scall struct {
	path  string
	shape uint64
}

// indexNames are the lab's Meilisearch index names: all of them fixed
// words (Classify says KindFixed), fewer than MinValues.
var indexNames = []string{"articles", "users", "events", "jobs", "orders", "customers", "products"}

// meiliSettings are some of Meilisearch's settings sub-resources.
var meiliSettings = []string{"displayed-attributes", "filterable-attributes", "ranking-rules", "stop-words", "synonyms", "typo-tolerance"}

// meiliCalls returns the calls of the Meilisearch index operations on
// each of the indexes, rounds times, in spec order.
func meiliCalls(indexes []string, rounds int) []scall {
	task := []byte(`{"taskUid":1,"indexUid":"x","status":"enqueued","type":"x","enqueuedAt":"t"}`)
	index := Shape("GET", 200, nil, []byte(`{"uid":"movies","primaryKey":"id","createdAt":"t","updatedAt":"t"}`))
	search := Shape("POST", 200, []byte(`{"q":"x","limit":10}`), []byte(`{"hits":[{"id":1}],"query":"x","processingTimeMs":1}`))
	var out []scall
	for r := range rounds {
		for _, ix := range indexes {
			b := "/indexes/" + ix
			out = append(out,
				scall{b, index},
				scall{b, Shape("DELETE", 202, nil, task)},
				scall{b + "/documents", Shape("GET", 200, nil, []byte(`{"results":[{"id":1}],"total":1,"limit":20}`))},
				scall{b + "/documents", Shape("POST", 202, []byte(`[{"id":1}]`), task)},
				scall{b + fmt.Sprintf("/documents/%d", 17+r), Shape("GET", 200, nil, []byte(`{"id":1,"title":"t"}`))},
				scall{b + "/documents/fetch", Shape("POST", 200, []byte(`{"limit":2}`), []byte(`{"results":[{"id":1}],"total":1}`))},
				scall{b + "/search", search},
				scall{b + "/similar", Shape("POST", 200, []byte(`{"id":1}`), []byte(`{"hits":[{"id":1}],"id":"1"}`))},
				scall{b + "/facet-search", Shape("POST", 200, []byte(`{"facetName":"g"}`), []byte(`{"facetHits":[],"facetQuery":"x"}`))},
				scall{b + "/delete-batch", Shape("POST", 202, []byte(`[1,2]`), task)},
				scall{b + "/stats", Shape("GET", 200, nil, []byte(`{"numberOfDocuments":1,"isIndexing":false}`))},
				scall{b + "/settings", Shape("GET", 200, nil, []byte(`{"rankingRules":[],"stopWords":[]}`))},
			)
			for _, s := range meiliSettings {
				out = append(out,
					scall{b + "/settings/" + s, Shape("GET", 200, nil, []byte(`["a"]`))},
					scall{b + "/settings/" + s, Shape("PUT", 202, []byte(`["a"]`), task)},
				)
			}
		}
	}
	return out
}

// meiliWant are the templates of meiliCalls once the index names are one
// parameter.
func meiliWant() []string {
	want := []string{"/indexes/{indexId}", "/indexes/{indexId}/delete-batch", "/indexes/{indexId}/documents",
		"/indexes/{indexId}/documents/fetch", "/indexes/{indexId}/documents/{documentId}", "/indexes/{indexId}/facet-search",
		"/indexes/{indexId}/search", "/indexes/{indexId}/settings", "/indexes/{indexId}/similar", "/indexes/{indexId}/stats"}
	for _, s := range meiliSettings {
		want = append(want, "/indexes/{indexId}/settings/"+s)
	}
	slices.Sort(want)
	return want
}

func templateStrings(tp *Templater, h string) []string {
	var out []string
	for _, m := range tp.Templates(h) {
		out = append(out, m.Template)
	}
	return out
}

func shuffled(calls []scall, seed uint64) []scall {
	out := slices.Clone(calls)
	rng := rand.New(rand.NewPCG(seed, 99))
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// TestStructuralMeilisearch: 3 to 7 index names, all fixed words, each
// with the same sub-resources: one parameter, in any call order; the
// templates returned before the promotion resolve to it, and the index
// names are attributed to it from then on without learning.
func TestStructuralMeilisearch(t *testing.T) {
	for n := 3; n <= len(indexNames); n++ {
		for _, order := range []string{"spec", "shuffled", "shuffled-2"} {
			t.Run(fmt.Sprintf("%d-%s", n, order), func(t *testing.T) {
				calls := meiliCalls(indexNames[:n], 2)
				switch order {
				case "shuffled":
					calls = shuffled(calls, uint64(n))
				case "shuffled-2":
					calls = shuffled(calls, uint64(100+n))
				}
				tp := newT(t, Config{})
				var seen []string
				for _, c := range calls {
					seen = append(seen, obs(tp, c.path, c.shape))
				}
				if got, want := templateStrings(tp, host), meiliWant(); !slices.Equal(got, want) {
					t.Fatalf("templates:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
				}
				for _, s := range seen {
					if r := tp.Resolve(host, s).Template; !strings.HasPrefix(r, "/indexes/{indexId}") {
						t.Errorf("Resolve(%q) = %q", s, r)
					}
				}
				s := tp.Stats()
				if s.Promoted != 1 || s.Structural < 3 || s.Templates != len(meiliWant()) {
					t.Errorf("stats %+v", s)
				}
				// Settled: the same traffic again learns nothing.
				for _, c := range calls[:min(200, len(calls))] {
					if got := obs(tp, c.path, c.shape); !strings.HasPrefix(got, "/indexes/{indexId}") {
						t.Fatalf("again: %s → %q", c.path, got)
					}
				}
				if after := tp.Stats(); after.Learning != s.Learning {
					t.Errorf("settled traffic learned %d times", after.Learning-s.Learning)
				}
			})
		}
	}
}

// TestStructuralLaterValues: after the promotion a plain word joins the
// parameter at once; a fixed word first seen later is a literal sibling
// until its own subtree is the parameter's; "me" never joins.
func TestStructuralLaterValues(t *testing.T) {
	tp := newT(t, Config{})
	for _, c := range meiliCalls(indexNames[:3], 1) {
		obs(tp, c.path, c.shape)
	}
	if got := obs(tp, "/indexes/movies-2024/search", 0); got != "/indexes/{indexId}/search" {
		t.Errorf("plain word after promotion: %q", got)
	}
	steps := []struct{ path, want string }{
		{"/indexes/products/stats", "/indexes/products/stats"},
		{"/indexes/products/search", "/indexes/products/search"},
		{"/indexes/products/settings", "/indexes/{indexId}/settings"}, // third shared child: joins
		{"/indexes/products/stats", "/indexes/{indexId}/stats"},
		// Seen in few calls, most of them under "settings/": the paths
		// below it are the parameter's.
		{"/indexes/customers/settings/stop-words", "/indexes/customers/settings/stop-words"},
		{"/indexes/customers/settings/synonyms", "/indexes/{indexId}/settings/synonyms"},
		// Mostly unknown below: stays.
		{"/indexes/tasks/alpha", "/indexes/tasks/alpha"},
		{"/indexes/tasks/bravo", "/indexes/tasks/bravo"},
		{"/indexes/tasks/charlie", "/indexes/tasks/charlie"},
		{"/indexes/tasks/search", "/indexes/tasks/search"},
		{"/indexes/tasks/stats", "/indexes/tasks/stats"},
		{"/indexes/tasks/documents", "/indexes/tasks/documents"},
		{"/indexes/me/stats", "/indexes/me/stats"},
		{"/indexes/me/search", "/indexes/me/search"},
		{"/indexes/me/settings", "/indexes/me/settings"},
		{"/indexes/me/documents", "/indexes/me/documents"},
	}
	for _, st := range steps {
		if got := obs(tp, st.path, 0); got != st.want {
			t.Errorf("Observe(%q) = %q, want %q", st.path, got, st.want)
		}
	}
	if got := tp.Resolve(host, "/indexes/products/stats").Template; got != "/indexes/{indexId}/stats" {
		t.Errorf("Resolve = %q", got)
	}
}

// TestStructuralNegative: siblings that are different resources stay
// literal, however many calls.
func TestStructuralNegative(t *testing.T) {
	sub := func(prefix string, names []string, children ...string) []string {
		var out []string
		for _, n := range names {
			for _, c := range children {
				out = append(out, prefix+n+c)
			}
		}
		return out
	}
	tests := []struct {
		name    string
		paths   []string
		want    []string // templates that must exist
		ordered bool     // observed in this order (else shuffled)
	}{
		{
			"collections with ids",
			sub("/api/", []string{"users", "orders", "products", "invoices"}, "", "/42", "/43/notes", "/44/history", "/45/tags", "/search", "/export", "/count"),
			[]string{"/api/users/{userId}/notes", "/api/orders/{orderId}/history", "/api/products/search", "/api/invoices/count"},
			false,
		},
		{
			"crm collections",
			sub("/crm/", []string{"companies", "contacts", "leads", "notes", "opportunities"}, "", "/cus_NffrFeUfNV2Hib", "/cus_q7QkgQ3ludceAp"),
			[]string{"/crm/companies", "/crm/contacts/{contactId}", "/crm/leads"},
			false,
		},
		{
			"one shared literal child",
			append(sub("/", []string{"users", "books", "authors", "films"}, "/v1", "/v1/alice", "/v1/bob", "/v1/carol.x", "/v1/42"),
				"/users/v1/login", "/users/v1/register", "/users/v1/_debug"),
			[]string{"/users/v1/login", "/books/v1/{bookId}", "/authors/v1", "/films/v1/alice"},
			false,
		},
		{
			"two shared literal children",
			append(sub("/shop/", []string{"cart", "wishlist", "saved", "compare"}, "/items", "/total"),
				"/shop/cart/checkout", "/shop/wishlist/share", "/shop/saved/restore", "/shop/compare/chart"),
			[]string{"/shop/cart/items", "/shop/wishlist/total", "/shop/saved/items", "/shop/compare/chart"},
			false,
		},
		{
			// The own children first: a sibling judged before them
			// would look alike (the evidence then).
			"three shared among many: Jaccard under 0.5",
			slices.Concat(sub("/svc/billing/", []string{"a1", "b1", "c1", "d1"}, ""),
				sub("/svc/shipping/", []string{"e1", "f1", "g1", "h1"}, ""),
				sub("/svc/catalog/", []string{"i1", "j1", "k1", "l1"}, ""),
				sub("/svc/", []string{"billing", "shipping", "catalog"}, "/health", "/metrics", "/config")),
			[]string{"/svc/billing/health", "/svc/shipping/config", "/svc/catalog/metrics", "/svc/billing/a1"},
			true,
		},
		{
			"two alike siblings",
			sub("/x/", []string{"left", "right"}, "/a", "/b", "/c", "/d"),
			[]string{"/x/left/a", "/x/right/d"},
			false,
		},
		{
			"first segment needs six",
			sub("/", []string{"alpha", "bravo", "charlie", "delta", "echo"}, "/a", "/b", "/c", "/d"),
			[]string{"/alpha/a", "/echo/d"},
			false,
		},
		{
			"me next to a parameter",
			sub("/users/", []string{"42", "43", "me", "self", "current"}, "/orders", "/profile", "/settings", "/friends"),
			[]string{"/users/me/orders", "/users/self/profile", "/users/current/settings", "/users/{userId}/friends"},
			false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := newT(t, Config{})
			for round := range 3 {
				calls := toCalls(tt.paths)
				if !tt.ordered {
					calls = shuffled(calls, uint64(round))
				}
				for _, p := range calls {
					obs(tp, p.path, userShape)
				}
			}
			got := templateStrings(tp, host)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("%s missing; templates:\n  %s", w, strings.Join(got, "\n  "))
				}
			}
			if s := tp.Stats(); s.Structural != 0 {
				t.Errorf("structural merges: %+v", s)
			}
		})
	}
}

func toCalls(paths []string) []scall {
	out := make([]scall, len(paths))
	for i, p := range paths {
		out[i] = scall{path: p}
	}
	return out
}

// TestStructuralFirstSegment: six alike first segments are values
// ("/{tenant}/…").
func TestStructuralFirstSegment(t *testing.T) {
	tp := newT(t, Config{})
	for _, tenant := range []string{"acme", "globex", "initech", "umbrella", "hooli", "stark"} {
		for _, c := range []string{"/a", "/b", "/c", "/d"} {
			obs(tp, "/"+tenant+c, 0)
		}
	}
	want := []string{"/{id}/a", "/{id}/b", "/{id}/c", "/{id}/d"}
	if got := templateStrings(tp, host); !slices.Equal(got, want) {
		t.Errorf("templates %q, want %q", got, want)
	}
}

// TestStructuralMerge: the Meilisearch traffic split over two or three
// workers' templaters (by index, and call by call), merged, gives the
// templates one templater seeing everything gives, and every template a
// worker returned resolves in the merged templater as the path does in
// the single one.
func TestStructuralMerge(t *testing.T) {
	lab := append(slices.Clone(indexNames), "articles_v2", "books-dev", "ancient_songs", "blue_cars", "movies_2019",
		"hotels-eu", "tickets_v6", "recipes", "podcasts-us")
	tests := []struct {
		name    string
		indexes []string
		workers int
		split   string
	}{
		{"3 fixed, by index", indexNames[:3], 2, "index"},
		{"7 fixed, by call", indexNames, 2, "call"},
		{"7 fixed, 3 workers by index", indexNames, 3, "index"},
		{"lab mix, by call", lab, 3, "call"},
		{"lab mix, by index", lab, 2, "index"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := shuffled(meiliCalls(tt.indexes, 2), 7)
			single := newT(t, Config{})
			workers := make([]*Templater, tt.workers)
			for i := range workers {
				workers[i] = newT(t, Config{})
			}
			type seenT struct{ path, tmpl string }
			var seen []seenT
			for i, c := range calls {
				obs(single, c.path, c.shape)
				w := i % tt.workers
				if tt.split == "index" {
					h := fnv.New32a()
					h.Write([]byte(strings.Split(c.path, "/")[2]))
					w = int(h.Sum32()) % tt.workers
				}
				seen = append(seen, seenT{c.path, obs(workers[w], c.path, c.shape)})
			}
			merged := newT(t, Config{})
			for _, w := range workers {
				merged.Merge(w)
			}
			got, want := templateStrings(merged, host), templateStrings(single, host)
			if !slices.Equal(got, want) {
				t.Fatalf("merged:\n  %s\nsingle:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			if !slices.Equal(want, meiliWant()) {
				t.Fatalf("single templater:\n  %s", strings.Join(want, "\n  "))
			}
			for _, s := range seen {
				wantT := single.Resolve(host, s.path).Template
				if r := merged.Resolve(host, s.tmpl).Template; r != wantT {
					t.Errorf("Resolve(%q) in merged = %q, want %q", s.tmpl, r, wantT)
				}
			}
			// Merging again (or a templater into itself) changes nothing.
			merged.Merge(workers[0])
			if again := templateStrings(merged, host); !slices.Equal(again, got) {
				t.Errorf("merged twice: %q", again)
			}
		})
	}
}

// TestStructuralMergeIntoLiterals: a templater that promoted the index
// names merged into one that saw too few of them: its literals join the
// parameter, and its fixed-word index names match it from then on.
func TestStructuralMergeIntoLiterals(t *testing.T) {
	a, b := newT(t, Config{}), newT(t, Config{})
	for _, c := range meiliCalls(indexNames[:4], 1) {
		obs(a, c.path, c.shape)
	}
	for _, c := range meiliCalls(indexNames[4:6], 1) { // two: not enough alone
		obs(b, c.path, c.shape)
	}
	if got := b.Resolve(host, "/indexes/customers/search").Template; got != "/indexes/customers/search" {
		t.Fatalf("b alone: %q", got)
	}
	b.Merge(a)
	if got, want := templateStrings(b, host), meiliWant(); !slices.Equal(got, want) {
		t.Fatalf("templates:\n  %s", strings.Join(got, "\n  "))
	}
	before := b.Stats().Learning
	for _, ix := range indexNames[:6] {
		if got := obs(b, "/indexes/"+ix+"/search", 0); got != "/indexes/{indexId}/search" {
			t.Errorf("%s: %q", ix, got)
		}
	}
	if after := b.Stats().Learning; after != before {
		t.Errorf("learned %d times after the merge", after-before)
	}
}

// TestStructuralAllocs: the index names merged on structural evidence
// (fixed words) are attributed without allocating, Observe and
// ObserveLazy alike.
func TestStructuralAllocs(t *testing.T) {
	tp := newT(t, Config{})
	for _, c := range meiliCalls(indexNames, 1) {
		obs(tp, c.path, c.shape)
	}
	paths := []string{"/indexes/users/search", "/indexes/articles/settings/stop-words", "/indexes/jobs", "/indexes/orders/documents/77"}
	for _, p := range paths {
		obs(tp, p, userShape)
	}
	params := make([]PathParam, 0, 8)
	s := &countingShaper{shape: userShape}
	if n := testing.AllocsPerRun(1000, func() {
		for _, p := range paths {
			_, params = tp.Observe(host, p, userShape, params[:0])
			_, params = tp.ObserveLazy(host, p, s, params[:0])
		}
	}); n != 0 {
		t.Fatalf("Observe allocates %v times per run", n)
	}
	_, params = tp.Observe(host, "/indexes/users/search", 0, params[:0])
	if len(params) != 1 || params[0] != (PathParam{"indexId", "users"}) {
		t.Errorf("params %v", params)
	}
}

// TestStructuralBounded: fixed words merged into one parameter are
// bounded (maxFixedVals); past the bound they stay literal siblings.
func TestStructuralBounded(t *testing.T) {
	tp := newT(t, Config{})
	for i := range maxFixedVals + 20 {
		for _, c := range []string{"/a", "/b", "/c"} {
			obs(tp, fmt.Sprintf("/x/_w%03d%s", i, c), 0)
		}
	}
	s := tp.Stats()
	if s.Structural != maxFixedVals {
		t.Errorf("structural merges %d, want %d", s.Structural, maxFixedVals)
	}
	if got := tp.Resolve(host, "/x/_w000/a").Template; got != "/x/{xId}/a" {
		t.Errorf("merged: %q", got)
	}
	last := fmt.Sprintf("/x/_w%03d/a", maxFixedVals+19)
	if got := obs(tp, last, 0); got != last {
		t.Errorf("past the bound: %q", got)
	}
	if s.Templates != 3+20*3 {
		t.Errorf("stats %+v", s)
	}
}
