package pathtmpl

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

const host = "api.example.com"

func newT(t testing.TB, cfg Config) *Templater {
	t.Helper()
	tp, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// obs observes path (with shape) and returns its template.
func obs(tp *Templater, path string, shape uint64) string {
	m, _ := tp.Observe(host, path, shape, nil)
	return m.Template
}

var (
	userShape = Shape("GET", 200, nil, []byte(`{"id":1,"username":"a","email":"e@x.io","name":"n"}`))
	listShape = Shape("GET", 200, nil, []byte(`{"data":[{"id":1}],"total":1}`))
)

func TestTypedSegmentsAtOnce(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/users/42", "/users/{userId}"},
		{"/users/43/orders", "/users/{userId}/orders"},
		{"/orders/1929186d-8b67-4163-a208-de52a41f7301", "/orders/{orderId}"},
		{"/orders/1929186D-8B67-4163-A208-DE52A41F7301/items/7", "/orders/{orderId}/items/{itemId}"},
		{"/blobs/d41d8cd98f00b204e9800998ecf8427e", "/blobs/{blobId}"},
		{"/docs/507f1f77bcf86cd799439011", "/docs/{docId}"},
		{"/reports/2024-01-31", "/reports/{date}"},
		{"/reports/20240131/summary", "/reports/{date}/summary"},
		{"/members/john.doe@example.com", "/members/{memberId}"},
		{"/charges/tr_8f3aK2", "/charges/{chargeId}"},
		{"/customers/cus_NffrFeUfNV2Hib", "/customers/{customerId}"},
		{"/events/01ARZ3NDEKTSV4RRFFQ69G5FAV", "/events/{eventId}"},
		{"/categories/17", "/categories/{categoryId}"},
		{"/addresses/8f3aK2xQ", "/addresses/{addressId}"},
		{"/status/200", "/status/{statusId}"},
		{"/api/v2/things/99", "/api/v2/things/{thingId}"},
		{"/v2/12", "/v2/{id}"},
		{"/77", "/{id}"},
		{"/a/1/2", "/a/{aId}/{id}"},
		{"/hosts/10.0.0.1", "/hosts/{hostId}"},
		// Words that look technical stay literal.
		{"/api/v2/oauth2/token", "/api/v2/oauth2/token"},
		{"/s3/utf8/md5/x86_64/ipv4", "/s3/utf8/md5/x86_64/ipv4"},
		{"/users/me", "/users/me"},
	}
	tp := newT(t, Config{})
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := obs(tp, tt.path, 0); got != tt.want {
				t.Errorf("Observe(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestParamsAppended(t *testing.T) {
	tp := newT(t, Config{})
	path := "/users/42/orders/1929186d-8b67-4163-a208-de52a41f7301"
	params := make([]PathParam, 1, 8)
	params[0] = PathParam{Name: "keep", Value: "me"}
	m, params := tp.Observe(host, path, 0, params)
	want := []PathParam{{"keep", "me"}, {"userId", "42"}, {"orderId", "1929186d-8b67-4163-a208-de52a41f7301"}}
	if m.Template != "/users/{userId}/orders/{orderId}" || !slices.Equal(params, want) {
		t.Fatalf("got %q %v, want %v", m.Template, params, want)
	}
	// The values alias the path passed in.
	if strings.Index(path, params[1].Value) != 7 || unsafe.StringData(params[1].Value) != unsafe.StringData(path[7:]) {
		t.Fatal("value does not alias the path")
	}
	// Known now: the read path gives the same.
	m2, p2 := tp.Observe(host, path, 0, params[:1])
	if m2 != m || !slices.Equal(p2, want) {
		t.Fatalf("second observe: %v %v", m2, p2)
	}
}

// TestDockerEngine: the Docker Engine API (as in the zeek trace
// http/docker-http-upgrade.pcap): container ids are parameters, versions
// and actions literal.
func TestDockerEngine(t *testing.T) {
	long := "cc4fc8e49cadbb8bc41437dc2f9979a72293eabc3f0ea5ce48b77f43cb1f1d5e"
	tests := []struct{ path, want string }{
		{"/_ping", "/_ping"},
		{"/v1.41/containers/create", "/v1.41/containers/create"},
		{"/v1.41/containers/" + long + "/start", "/v1.41/containers/{containerId}/start"},
		{"/v1.41/containers/" + long + "/resize", "/v1.41/containers/{containerId}/resize"},
		{"/v1.41/containers/" + long + "/wait", "/v1.41/containers/{containerId}/wait"},
		{"/v1.41/containers/" + long + "/attach", "/v1.41/containers/{containerId}/attach"},
		{"/v1.41/containers/3f1e2a9b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f/json", "/v1.41/containers/{containerId}/json"},
		{"/v1.41/containers/json", "/v1.41/containers/json"},
		{"/containers/a1b2c3d4e5f6/logs", "/containers/{containerId}/logs"},
		{"/containers/0123456789ab/logs", "/containers/{containerId}/logs"},
		{"/containers/json", "/containers/json"},
		{"/v1.24/images/ubuntu:22.04/json", "/v1.24/images/ubuntu:22.04/json"},
		{"/v1.24/images/json", "/v1.24/images/json"},
		{"/v1.41/containers/" + long + "/json", "/v1.41/containers/{containerId}/json"},
		{"/v1.41/exec/" + long + "/start", "/v1.41/exec/{execId}/start"},
		{"/v1.41/version", "/v1.41/version"},
	}
	tp := newT(t, Config{})
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := obs(tp, tt.path, 0); got != tt.want {
				t.Errorf("Observe(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
	if got := tp.Resolve(host, "/v1.41/containers/json"); got.Template != "/v1.41/containers/json" {
		t.Errorf("Resolve /v1.41/containers/json = %q", got.Template)
	}
}

func words(n int, prefix string) []string {
	out := make([]string, n)
	syll := []string{"ka", "lo", "mi", "ra", "to", "ve", "zu", "ne", "po", "si"}
	for i := range out {
		out[i] = prefix + syll[i%10] + syll[(i/10)%10] + syll[(i/100)%10] + "n"
	}
	return out
}

func TestEvidencePromotion(t *testing.T) {
	for _, minValues := range []int{5, 8} {
		t.Run(fmt.Sprint(minValues), func(t *testing.T) {
			tp := newT(t, Config{MinValues: minValues})
			names := words(minValues+3, "")
			for i, name := range names {
				got := obs(tp, "/people/"+name, userShape)
				want := "/people/" + name
				if i >= minValues-1 {
					want = "/people/{personId}"
				}
				if got != want {
					t.Fatalf("value %d %q: got %q, want %q", i+1, name, got, want)
				}
			}
			// Earlier literal templates resolve to the parameter.
			if got := tp.Resolve(host, "/people/"+names[0]).Template; got != "/people/{personId}" {
				t.Errorf("Resolve = %q", got)
			}
			if s := tp.Stats(); s.Promoted != 1 || s.Templates != 1 || s.Merged != int64(minValues-1) {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestEvidenceThresholds(t *testing.T) {
	tests := []struct {
		name   string
		prefix string // values go at the position after prefix
		need   int    // distinct values needed with MinValues 4
	}{
		{"after a literal", "/things/", 4},
		{"first segment", "/", 8},
		{"after a parameter", "/things/42/", 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := newT(t, Config{MinValues: 4})
			obs(tp, "/things/42", 0)
			for i, w := range words(tt.need, "w") {
				got := obs(tp, tt.prefix+w, 0)
				if promoted := strings.Contains(got[len(tt.prefix)-1:], "{"); promoted != (i == tt.need-1) {
					t.Fatalf("value %d: %q", i+1, got)
				}
			}
		})
	}
}

func TestFixedWordsNeverParameters(t *testing.T) {
	tp := newT(t, Config{MinValues: 3})
	fixed := []string{"me", "self", "search", "login", "logout", "auth", "health", "status", "settings", "stats", "v1", "api"}
	for _, w := range fixed {
		if got := obs(tp, "/users/"+w, userShape); got != "/users/"+w {
			t.Fatalf("%s: %q", w, got)
		}
	}
	if s := tp.Stats(); s.Promoted != 0 || s.Templates != len(fixed) {
		t.Fatalf("stats %+v", s)
	}
}

func TestLiteralSiblingBeatsParameter(t *testing.T) {
	tp := newT(t, Config{MinValues: 4})
	obs(tp, "/users/me", userShape)
	obs(tp, "/users/search", listShape)
	obs(tp, "/users/_debug", listShape)
	// A plain word whose calls clearly differ from the others' (a list
	// where users answer with a user) stays literal at promotion.
	obs(tp, "/users/recent-signups", listShape)
	for _, n := range words(5, "") {
		obs(tp, "/users/"+n, userShape)
	}
	tests := []struct{ path, want string }{
		{"/users/me", "/users/me"},
		{"/users/search", "/users/search"},
		{"/users/_debug", "/users/_debug"},
		{"/users/recent-signups", "/users/recent-signups"},
		{"/users/somebody", "/users/{userId}"},
		{"/users/42", "/users/{userId}"},
		// A fixed word seen for the first time after the promotion is
		// literal too.
		{"/users/self", "/users/self"},
		{"/users/self", "/users/self"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := obs(tp, tt.path, userShape); got != tt.want {
				t.Errorf("Observe(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

// TestChildrenOfParameterStayLiteral: the Meilisearch layout. Index names
// become a parameter; the resources under them, each a position of its
// own under the parameter, stay literal; 21 settings whose GETs answer
// with different kinds of bodies stay literal too.
func TestChildrenOfParameterStayLiteral(t *testing.T) {
	settings := []struct {
		name string
		get  string
		put  string
	}{
		{"chat", `{"description":"x","documentTemplate":"y"}`, `{"description":"x"}`},
		{"dictionary", `["a","b"]`, `["a"]`},
		{"displayed-attributes", `["title"]`, `["title"]`},
		{"distinct-attribute", `"sku"`, `"sku"`},
		{"embedders", `{"default":{"source":"openAi"}}`, `{"default":{}}`},
		{"facet-search", `true`, `false`},
		{"faceting", `{"maxValuesPerFacet":100,"sortFacetValuesBy":{}}`, `{"maxValuesPerFacet":10}`},
		{"filterable-attributes", `["genre"]`, `["genre"]`},
		{"localized-attributes", `[{"locales":["en"]}]`, `[]`},
		{"non-separator-tokens", `["@"]`, `["@"]`},
		{"pagination", `{"maxTotalHits":1000}`, `{"maxTotalHits":10}`},
		{"prefix-search", `"indexingTime"`, `"disabled"`},
		{"proximity-precision", `"byWord"`, `"byAttribute"`},
		{"ranking-rules", `["words","typo"]`, `["words"]`},
		{"search-cutoff-ms", `150`, `100`},
		{"searchable-attributes", `["*"]`, `["title"]`},
		{"separator-tokens", `["|"]`, `["|"]`},
		{"sortable-attributes", `["price"]`, `["price"]`},
		{"stop-words", `["the"]`, `["a"]`},
		{"synonyms", `{"great":["fantastic"]}`, `{"wow":["amazing"]}`},
		{"typo-tolerance", `{"enabled":true,"minWordSizeForTypos":{"oneTypo":5}}`, `{"enabled":false}`},
	}
	task := []byte(`{"taskUid":1,"indexUid":"x","status":"enqueued","type":"settingsUpdate","enqueuedAt":"t"}`)
	index := Shape("GET", 200, nil, []byte(`{"uid":"movies","primaryKey":"id","createdAt":"t","updatedAt":"t"}`))
	tp := newT(t, Config{})
	indexes := words(12, "ix")
	for round := range 3 {
		for i, ix := range indexes {
			obs(tp, "/indexes/"+ix, index)
			obs(tp, "/indexes/"+ix+"/documents", Shape("GET", 200, nil, []byte(`{"results":[{"id":1}],"total":1}`)))
			obs(tp, "/indexes/"+ix+"/search", Shape("POST", 200, []byte(`{"q":"x"}`), []byte(`{"hits":[{"id":1}]}`)))
			obs(tp, "/indexes/"+ix+"/stats", Shape("GET", 200, nil, []byte(`{"numberOfDocuments":1}`)))
			for j, s := range settings {
				if (i+j+round)%3 != 0 {
					continue
				}
				p := "/indexes/" + ix + "/settings/" + s.name
				obs(tp, p, Shape("GET", 200, nil, []byte(s.get)))
				obs(tp, p, Shape("PUT", 202, []byte(s.put), task))
				obs(tp, p, Shape("DELETE", 202, nil, task))
			}
		}
	}
	want := []string{"/indexes/{indexId}", "/indexes/{indexId}/documents", "/indexes/{indexId}/search", "/indexes/{indexId}/stats"}
	for _, s := range settings {
		want = append(want, "/indexes/{indexId}/settings/"+s.name)
	}
	slices.Sort(want)
	var got []string
	for _, m := range tp.Templates(host) {
		got = append(got, m.Template)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("templates:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The same 21 children answering alike would be one parameter.
	tp = newT(t, Config{})
	for _, s := range settings {
		obs(tp, "/indexes/movies/things/"+s.name, Shape("GET", 200, nil, []byte(`{"id":1,"title":"t"}`)))
	}
	if got := tp.Resolve(host, "/indexes/movies/things/chat").Template; got != "/indexes/movies/things/{thingId}" {
		t.Fatalf("alike children: %q", got)
	}
}

// TestCollectionsStayLiteral: resource names with ids under them are not
// values, however alike their list responses are (Apideck's /crm/*).
func TestCollectionsStayLiteral(t *testing.T) {
	tp := newT(t, Config{MinValues: 4})
	resources := []string{"companies", "contacts", "opportunities", "leads", "pipelines", "lists", "notes", "activities", "widgets", "gadgets"}
	for _, r := range resources {
		obs(tp, "/crm/"+r+"/cus_NffrFeUfNV2Hib", userShape)
		obs(tp, "/crm/"+r, listShape)
		obs(tp, "/crm/"+r, Shape("POST", 201, []byte(`{"name":"x"}`), []byte(`{"data":{"id":"x"}}`)))
	}
	for _, r := range resources {
		if got := obs(tp, "/crm/"+r, listShape); got != "/crm/"+r {
			t.Errorf("%s: %q", r, got)
		}
	}
}

func TestStyleJoinsTypedParameter(t *testing.T) {
	tp := newT(t, Config{})
	// Not typed alone (no digit, few capitals) but in the style of the
	// typed ids around it, before and after.
	early := obs(tp, "/crm/companies/cus_wzkdfwvopWqwxy", 0)
	if early != "/crm/companies/cus_wzkdfwvopWqwxy" {
		t.Fatalf("alone: %q", early)
	}
	if got := obs(tp, "/crm/companies/cus_q7QkgQvludceAp", 0); got != "/crm/companies/{companyId}" {
		t.Fatalf("typed: %q", got)
	}
	if got := tp.Resolve(host, early).Template; got != "/crm/companies/{companyId}" {
		t.Fatalf("earlier value not absorbed: %q", got)
	}
	tests := []struct{ seg, want string }{
		{"cus_abcdefGhijklmn", "/crm/companies/{companyId}"},
		{"all", "/crm/companies/all"},
		{"cus_recent", "/crm/companies/cus_recent"},
		{"export_csv_data_now", "/crm/companies/export_csv_data_now"},
	}
	for _, tt := range tests {
		t.Run(tt.seg, func(t *testing.T) {
			if got := obs(tp, "/crm/companies/"+tt.seg, 0); got != tt.want {
				t.Errorf("%q: %q, want %q", tt.seg, got, tt.want)
			}
		})
	}
}

func TestNames(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/users/42/friends/43", "/users/{userId}/friends/{friendId}"},
		{"/users/42/users/43", "/users/{userId}/users/{userId2}"},
		{"/x/1/2/3", "/x/{xId}/{id}/{id2}"},
		{"/api/v1/categories/5", "/api/v1/categories/{categoryId}"},
		{"/books/v1/99", "/books/v1/{bookId}"},
		{"/api/12", "/api/{id}"},
		{"/custom-objects/obj_D8GOUcqQLEQR/cus_HauaySaFhnvwp0", "/custom-objects/{customObjectId}/{id}"},
		{"/calendar/2024-01-31/events/7", "/calendar/{date}/events/{eventId}"},
		{"/indexes/42", "/indexes/{indexId}"},
		{"/people/42", "/people/{personId}"},
	}
	tp := newT(t, Config{})
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			m, params := tp.Observe(host, tt.path, 0, nil)
			if m.Template != tt.want {
				t.Fatalf("got %q, want %q", m.Template, tt.want)
			}
			var names []string
			for _, p := range params {
				names = append(names, "{"+p.Name+"}")
			}
			for _, n := range names {
				if !strings.Contains(m.Template, n) {
					t.Errorf("param %s not in %s", n, m.Template)
				}
			}
		})
	}
}

func TestPin(t *testing.T) {
	tp := newT(t, Config{})
	if err := tp.Pin(host, Spec, "/v1/users/{user_id}", "/v1/users/me", "/files/{name}.{ext}", "/v1/reports/{year}-{month}"); err != nil {
		t.Fatal(err)
	}
	if err := tp.Pin("", Pinned, "/shared/{thing}"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host, path string
		want       Match
		params     []PathParam
	}{
		{host, "/v1/users/42", Match{"/v1/users/{user_id}", Spec}, []PathParam{{"user_id", "42"}}},
		{host, "/v1/users/alice", Match{"/v1/users/{user_id}", Spec}, []PathParam{{"user_id", "alice"}}},
		{host, "/v1/users/search", Match{"/v1/users/{user_id}", Spec}, []PathParam{{"user_id", "search"}}},
		{host, "/v1/users/me", Match{"/v1/users/me", Spec}, nil},
		{host, "/v1/users/42/orders", Match{"/v1/users/{user_id}/orders", Learned}, []PathParam{{"user_id", "42"}}},
		{host, "/v1/users/42/orders/7", Match{"/v1/users/{user_id}/orders/{orderId}", Learned}, []PathParam{{"user_id", "42"}, {"orderId", "7"}}},
		{host, "/files/report.tar.gz", Match{"/files/{name}.{ext}", Spec}, []PathParam{{"name", "report"}, {"ext", "tar.gz"}}},
		{host, "/files/README", Match{"/files/README", Learned}, nil},
		{host, "/v1/reports/2024-01", Match{"/v1/reports/{year}-{month}", Spec}, []PathParam{{"year", "2024"}, {"month", "01"}}},
		{host, "/shared/x", Match{"/shared/{thing}", Pinned}, []PathParam{{"thing", "x"}}},
		{"other.example.com", "/shared/y", Match{"/shared/{thing}", Pinned}, []PathParam{{"thing", "y"}}},
		{"other.example.com", "/v1/users/42", Match{"/v1/users/{userId}", Learned}, []PathParam{{"userId", "42"}}},
		{host, "/other/99", Match{"/other/{otherId}", Learned}, []PathParam{{"otherId", "99"}}},
	}
	for _, tt := range tests {
		t.Run(tt.host+tt.path, func(t *testing.T) {
			m, params := tp.Observe(tt.host, tt.path, 0, nil)
			if m != tt.want || !slices.Equal(params, tt.params) {
				t.Errorf("got %v %v, want %v %v", m, params, tt.want, tt.params)
			}
		})
	}
	if got := tp.Resolve(host, "/v1/users/{user_id}"); got != (Match{"/v1/users/{user_id}", Spec}) {
		t.Errorf("Resolve template: %v", got)
	}
}

func TestPinAfterLearning(t *testing.T) {
	tp := newT(t, Config{})
	before := []string{obs(tp, "/v1/users/alice", 0), obs(tp, "/v1/users/bob/orders", 0), obs(tp, "/v1/users/42", 0)}
	// A host pinned later (also through the global pins) takes them.
	if err := tp.Pin("", Spec, "/v1/users/{user_id}", "/v1/users/{user_id}/orders"); err != nil {
		t.Fatal(err)
	}
	want := []string{"/v1/users/{user_id}", "/v1/users/{user_id}/orders", "/v1/users/{user_id}"}
	for i, b := range before {
		if got := tp.Resolve(host, b); got.Template != want[i] || got.Origin != Spec {
			t.Errorf("Resolve(%q) = %v, want %q (spec)", b, got, want[i])
		}
	}
	if s := tp.Stats(); s.Templates != 0 || s.Pinned != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestPinErrors(t *testing.T) {
	tests := []struct {
		tmpl string
		want string
	}{
		{"", "start with '/'"},
		{"users/{id}", "start with '/'"},
		{"/users/{id", "unbalanced"},
		{"/users/id}", "unbalanced"},
		{"/users/{}", "empty parameter name"},
		{"/users/{a}{b}", "no literal text between"},
		{"/users/{id}/x/{id}", "used twice"},
		{"/users/{a{b}}", "unbalanced"},
	}
	tp := newT(t, Config{})
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			err := tp.Pin(host, Pinned, "/ok", tt.tmpl)
			if !errors.Is(err, ErrBadTemplate) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.tmpl)) ||
				!strings.HasPrefix(err.Error(), "pathtmpl: ") {
				t.Errorf("Pin(%q) error %v, want one naming it and saying %q", tt.tmpl, err, tt.want)
			}
		})
	}
	if err := tp.Pin(host, Learned, "/x"); err == nil {
		t.Error("Pin with origin Learned: no error")
	}
}

func TestResolve(t *testing.T) {
	tp := newT(t, Config{MinValues: 4})
	alice := obs(tp, "/users/alice", userShape)
	aliceOrders := obs(tp, "/users/alice/orders", 0)
	if alice != "/users/alice" || aliceOrders != "/users/alice/orders" {
		t.Fatalf("before: %q %q", alice, aliceOrders)
	}
	for _, n := range []string{"bob", "carol", "dave"} {
		obs(tp, "/users/"+n, userShape)
	}
	tests := []struct{ in, want string }{
		{"/users/alice", "/users/{userId}"},
		{"/users/alice/orders", "/users/{userId}/orders"},
		{"/users/zed/orders", "/users/{userId}/orders"},
		{"/users/{userId}", "/users/{userId}"},
		{"/users/{whatever}/orders", "/users/{userId}/orders"},
		{"/nowhere", ""},
		{"/users/alice/unknown", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := tp.Resolve(host, tt.in).Template; got != tt.want {
				t.Errorf("Resolve(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if got := tp.Resolve("unknown.example.com", "/users/alice"); got != (Match{}) {
		t.Errorf("unknown host: %v", got)
	}
	before := tp.Stats()
	tp.Resolve(host, "/brand/new/path")
	if after := tp.Stats(); after.Templates != before.Templates {
		t.Error("Resolve learned")
	}
	if n := testing.AllocsPerRun(100, func() { tp.Resolve(host, "/users/alice/orders") }); n != 0 {
		t.Errorf("Resolve allocates %v times", n)
	}
}

func TestLiteralMode(t *testing.T) {
	tp := newT(t, Config{Literal: true, MinValues: 2})
	if err := tp.Pin(host, Pinned, "/pinned/{id}"); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{"/users/42", "/users/42"},
		{"/users/43", "/users/43"},
		{"/users/alice", "/users/alice"},
		{"/users/bob", "/users/bob"},
		{"/users/carol", "/users/carol"},
		{"/pinned/7", "/pinned/{id}"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := obs(tp, tt.path, 0); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if s := tp.Stats(); s.Templates != 5 || s.Promoted != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestFoldPastCap(t *testing.T) {
	tp := newT(t, Config{MaxTemplates: 3})
	for _, p := range []string{"/a/one", "/a/two", "/b"} {
		obs(tp, p, 0)
	}
	tests := []struct {
		path, want string
		params     []PathParam
	}{
		{"/a/three", "/a/{tail}", []PathParam{{"tail", "three"}}},
		{"/a/three/four", "/a/{tail}", []PathParam{{"tail", "three/four"}}},
		{"/a/one", "/a/one", nil},
		{"/c/d", "/{tail}", []PathParam{{"tail", "c/d"}}},
		{"/a", "/a/{tail}", []PathParam{{"tail", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			m, params := tp.Observe(host, tt.path, 0, nil)
			if m.Template != tt.want || !slices.Equal(params, tt.params) {
				t.Errorf("got %q %v, want %q %v", m.Template, params, tt.want, tt.params)
			}
			if r := tp.Resolve(host, m.Template); r != m {
				t.Errorf("Resolve(%q) = %v", m.Template, r)
			}
		})
	}
	s := tp.Stats()
	if s.Templates != 3 || s.Tails != 2 || s.Folded != 4 {
		t.Errorf("stats %+v", s)
	}
}

func TestMaxDepthAndHosts(t *testing.T) {
	tp := newT(t, Config{MaxDepth: 4, MaxHosts: 2})
	if got := obs(tp, "/a/b/c/d/e/f", 0); got != "/a/b/c/{tail}" {
		t.Errorf("deep path: %q", got)
	}
	for i := range 5 {
		h := fmt.Sprintf("h%d.example.com", i)
		if m, _ := tp.Observe(h, "/users/1", 0, nil); m.Template != "/users/{userId}" {
			t.Errorf("%s: %v", h, m)
		}
		if tp.Resolve(h, "/users/2").Template != "/users/{userId}" {
			t.Errorf("%s: resolve", h)
		}
	}
	s := tp.Stats()
	if s.Hosts != 3 || s.OverflowPaths == 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		cfg Config
		ok  bool
	}{
		{Config{}, true},
		{Config{MinValues: 2, MaxTemplates: 1, MaxHosts: 1, MaxDepth: 1}, true},
		{Config{MinValues: 1}, false},
		{Config{MinValues: -1}, false},
		{Config{MaxTemplates: -1}, false},
		{Config{MaxHosts: -1}, false},
		{Config{MaxDepth: -1}, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%+v", tt.cfg), func(t *testing.T) {
			_, err := New(tt.cfg)
			if (err == nil) != tt.ok || err != nil && !strings.HasPrefix(err.Error(), "pathtmpl: ") {
				t.Errorf("New: %v", err)
			}
		})
	}
	if Learned.String() != "learned" || Pinned.String() != "pinned" || Spec.String() != "spec" || Origin(9).String() != "unknown" {
		t.Error("Origin.String")
	}
}

// TestFloodBounded: 1e5 distinct random words under /x/ end as one
// parameter; when their shapes disagree (no promotion), as the folded
// tail. Memory stays bounded either way.
func TestFloodBounded(t *testing.T) {
	for _, mode := range []string{"alike", "disagreeing"} {
		t.Run(mode, func(t *testing.T) {
			const cap = 500
			tp := newT(t, Config{MaxTemplates: cap})
			rng := rand.New(rand.NewPCG(1, 2))
			buf := make([]byte, 0, 32)
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			heap0 := ms.HeapAlloc
			for i := range 100_000 {
				buf = append(buf[:0], "/x/"...)
				for range 6 + rng.IntN(6) {
					buf = append(buf, byte('a'+rng.IntN(26)))
				}
				shape := userShape
				if mode == "disagreeing" {
					shape = Shape("GET", 200, nil, []byte(fmt.Sprintf(`{"k%d":1,"q%d":2,"z%d":3}`, i, i*7, i*13)))
					if i%2 == 1 {
						shape = Shape("GET", 200, nil, []byte(`[1]`))
					}
				}
				tp.Observe(host, string(buf), shape, nil)
			}
			runtime.GC()
			runtime.ReadMemStats(&ms)
			growth := int64(ms.HeapAlloc) - int64(heap0)
			s := tp.Stats()
			t.Logf("%s: heap growth %d bytes (%d per template); stats %+v", mode, growth, growth/int64(max(1, s.Templates)), s)
			if s.MaxHostTemplates > cap {
				t.Errorf("%d templates > cap %d", s.MaxHostTemplates, cap)
			}
			if growth > 1<<20 {
				t.Errorf("heap grew %d bytes for %d templates", growth, s.Templates)
			}
			got := tp.Resolve(host, "/x/anotherword").Template
			if want := map[string]string{"alike": "/x/{xId}", "disagreeing": "/x/{tail}"}[mode]; got != want {
				t.Errorf("flood ends as %q, want %q", got, want)
			}
		})
	}
}

func TestConcurrentObserve(t *testing.T) {
	tp := newT(t, Config{MinValues: 4})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			params := make([]PathParam, 0, 4)
			for i := range 2000 {
				h := fmt.Sprintf("h%d", i%3)
				var m Match
				switch i % 4 {
				case 0:
					m, params = tp.Observe(h, fmt.Sprintf("/users/%d/orders", i), 0, params[:0])
				case 1:
					m, params = tp.Observe(h, "/people/"+words(60, "")[(i+g)%60], userShape, params[:0])
				case 2:
					m, params = tp.Observe(h, "/users/me", 0, params[:0])
				case 3:
					tp.Resolve(h, "/people/kaloka n")
					tp.Stats()
					continue
				}
				if m.Template == "" {
					t.Errorf("empty template")
					return
				}
			}
		}()
	}
	wg.Wait()
	for i := range 3 {
		h := fmt.Sprintf("h%d", i)
		for _, p := range []string{"/people/kakakan", "/users/5/orders"} {
			if got := tp.Resolve(h, p).Template; !strings.Contains(got, "{") {
				t.Errorf("%s %s: %q", h, p, got)
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var paths []string
	for range 3000 {
		w := words(40, "")[rng.IntN(40)]
		switch rng.IntN(4) {
		case 0:
			paths = append(paths, "/p/"+w)
		case 1:
			paths = append(paths, "/p/"+w+"/items/"+fmt.Sprint(rng.IntN(100)))
		case 2:
			paths = append(paths, "/q/"+w+"/"+words(40, "z")[rng.IntN(40)])
		default:
			paths = append(paths, fmt.Sprintf("/r/%d/%s", rng.IntN(9), w))
		}
	}
	run := func() ([]Match, []string) {
		tp := newT(t, Config{MinValues: 5, MaxTemplates: 100})
		var seq []string
		for i, p := range paths {
			seq = append(seq, obs(tp, p, uint64(i%3)))
		}
		return tp.Templates(host), seq
	}
	a, sa := run()
	b, sb := run()
	if !slices.Equal(a, b) || !slices.Equal(sa, sb) {
		t.Fatal("same input, different templates")
	}
}

// TestObserveAllocs: a path whose template is known is attributed
// without allocating, typed parameters, pinned parameters, promoted
// parameters and literals alike.
func TestObserveAllocs(t *testing.T) {
	tp := newT(t, Config{MinValues: 4})
	if err := tp.Pin(host, Spec, "/v1/things/{thing_id}"); err != nil {
		t.Fatal(err)
	}
	for _, n := range words(5, "") {
		obs(tp, "/people/"+n, userShape)
	}
	paths := []string{
		"/users/42/orders/1929186d-8b67-4163-a208-de52a41f7301",
		"/users/43/orders/1929186d-8b67-4163-a208-de52a41f7302",
		"/v1/things/alice",
		"/people/someone-new",
		"/users/me",
		"/v1.41/containers/cc4fc8e49cadbb8bc41437dc2f9979a72293eabc3f0ea5ce48b77f43cb1f1d5e/json",
	}
	for _, p := range paths {
		obs(tp, p, userShape)
	}
	params := make([]PathParam, 0, 8)
	if n := testing.AllocsPerRun(1000, func() {
		for _, p := range paths {
			_, params = tp.Observe(host, p, userShape, params[:0])
		}
	}); n != 0 {
		t.Fatalf("Observe allocates %v times per run", n)
	}
}

// countingShaper counts the shapes asked for.
type countingShaper struct {
	shape uint64
	calls int
}

func (c *countingShaper) Shape() uint64 { c.calls++; return c.shape }

func TestObserveLazy(t *testing.T) {
	lazy, eager := newT(t, Config{}), newT(t, Config{})
	s := &countingShaper{shape: Shape("GET", 200, nil, []byte(`{"name":"x","size":1}`))}
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo"}
	for round := range 3 {
		for _, w := range words {
			p := "/things/" + w
			lm, _ := lazy.ObserveLazy("h", p, s, nil)
			em, _ := eager.Observe("h", p, s.shape, nil)
			if lm != em {
				t.Fatalf("round %d %s: lazy %+v, eager %+v", round, p, lm, em)
			}
		}
	}
	asked := s.calls
	for range 100 {
		lazy.ObserveLazy("h", "/things/alpha", s, nil)
	}
	if s.calls != asked {
		t.Errorf("a settled template asked for %d more shapes", s.calls-asked)
	}
	if asked == 0 || asked >= 3*len(words) {
		t.Errorf("shapes asked while learning: %d of %d calls", asked, 3*len(words))
	}
}

// TestMaxTotalTemplates: a flood of hosts, each under its own MaxTemplates,
// stops at the total cap; further paths fold into tail templates.
func TestMaxTotalTemplates(t *testing.T) {
	tp := newT(t, Config{MaxTotalTemplates: 300, MaxTemplates: 50, Literal: true})
	for h := range 100 {
		host := fmt.Sprintf("h%d.example", h)
		for i := range 20 {
			tp.Observe(host, fmt.Sprintf("/static/page-%c%c-%d", 'a'+h%26, 'a'+i%26, i), 0, nil)
		}
	}
	st := tp.Stats()
	if st.Templates > 300+100 { // at most one tail per host past the cap
		t.Errorf("%d templates learned, cap 300", st.Templates)
	}
	if st.Folded == 0 {
		t.Errorf("nothing folded: %+v", st)
	}
	if _, err := New(Config{MaxTotalTemplates: -1}); err == nil {
		t.Error("a negative MaxTotalTemplates was accepted")
	}
}
