package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/apitap/apitap/analyze"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var versions = []string{Version30, Version31}

// goldenCases are the documents kept as golden files (and linted by
// Redocly): the fixture inventory in both versions and both formats.
var goldenCases = []struct {
	name, version, format string
}{
	{"fixture.3.0.golden.yaml", Version30, "yaml"},
	{"fixture.3.0.golden.json", Version30, "json"},
	{"fixture.3.1.golden.yaml", Version31, "yaml"},
	{"fixture.3.1.golden.json", Version31, "json"},
}

func TestBuildGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := Build(fixtureInventory(), Options{Version: c.version})
			if err != nil {
				t.Fatal(err)
			}
			got, err := Marshal(doc, c.format)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", c.name)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("golden file missing (run go test -update): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the build (run go test -update to accept):\n%s", path, firstDiff(string(want), string(got)))
			}
		})
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + a + "\n  got:  " + b
		}
	}
	return "(no line differs)"
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// inventories are hand-made inventories, each stressing a part of Build.
func inventories() map[string]*analyze.Inventory {
	one := func(ep analyze.Endpoint) *analyze.Inventory {
		return &analyze.Inventory{First: t0, Last: t0.Add(time.Hour), Endpoints: []analyze.Endpoint{ep}}
	}
	return map[string]*analyze.Inventory{
		"fixture": fixtureInventory(),
		"empty":   {},
		"root path and no host": one(analyze.Endpoint{Method: "GET", Template: "/", Calls: 1,
			Status: []analyze.StatusCount{{Code: 200, Count: 1}}}),
		"path parameter missing from params": one(analyze.Endpoint{Host: "h", Method: "GET", Template: "/a/{aId}/b/{bId}", Calls: 1,
			Params: []analyze.Param{{Name: "bId", In: "path", Required: true, Schema: integer()}, {Name: "stray", In: "path", Schema: str()}}}),
		"duplicate parameter names": one(analyze.Endpoint{Host: "h", Method: "GET", Template: "/a/{id}/b/{id}", Calls: 1}),
		"status outside 100-599 and only no-response": one(analyze.Endpoint{Host: "h", Method: "GET", Template: "/x", Calls: 3,
			Status: []analyze.StatusCount{{Code: 0, Count: 1}, {Code: 99, Count: 1}, {Code: 999, Count: 1}}}),
		"hostile host and template": {Endpoints: []analyze.Endpoint{
			{Host: "a{b}c d", Method: "GET", Template: "/ok", Calls: 1},
			{Host: "h", Method: "GET", Template: "/bad{", Calls: 1},
			{Host: "h", Method: "GET", Template: "no-slash", Calls: 1},
			{Host: "h", Method: "GET", Template: "/q?x=1", Calls: 1},
			{Host: "h", Method: "CONNECT", Template: "/tunnel", Calls: 1},
			{Host: "h", Method: "get", Template: "/lower", Calls: 1},
		}},
		"operation ids that collide": {Endpoints: []analyze.Endpoint{
			{Host: "h", Method: "GET", Template: "/users/{id}", Calls: 1, Params: []analyze.Param{{Name: "id", In: "path", Required: true}}},
			{Host: "h", Method: "GET", Template: "/users/id", Calls: 1},
			{Host: "h", Method: "GET", Template: "/users-id", Calls: 1},
			{Host: "h", Method: "GET", Template: "/users/id2", Calls: 1},
		}},
		"bodies of unknown shape": one(analyze.Endpoint{Host: "h", Method: "POST", Template: "/upload", Calls: 2,
			RequestBodies: []analyze.Body{{ContentType: "multipart/form-data"}, {ContentType: "application/json; charset=utf-8"}},
			Status:        []analyze.StatusCount{{Code: 200, Count: 2}},
			Responses: []analyze.Response{{Status: 200, ContentType: "image/png", Count: 1},
				{Status: 200, ContentType: "application/vnd.api+json", Count: 1}}}),
		"schemas in 3.1 form and bad examples": one(analyze.Endpoint{Host: "h", Method: "GET", Template: "/v", Calls: 1,
			Status: []analyze.StatusCount{{Code: 200, Count: 1}},
			Responses: []analyze.Response{{Status: 200, ContentType: "application/json", Count: 1, Schema: object(nil,
				"a", &openapi3.Schema{Type: &openapi3.Types{"string", "null"}, Examples: []any{"x"}},
				"b", &openapi3.Schema{Type: &openapi3.Types{"integer", "string"}},
				"c", withExample(str().WithEnum("on", "off"), "maybe"),
				"d", withExample(integer(), "not a number"),
				"e", nullable(str().WithEnum("on", "off")),
				"f", &openapi3.Schema{Type: &openapi3.Types{"integer"}, Min: new(1.0), ExclusiveMin: openapi3.ExclusiveBound{Bool: new(true)}},
				"g", &openapi3.Schema{Type: &openapi3.Types{"integer"}, ExclusiveMax: openapi3.ExclusiveBound{Value: new(10.0)}},
				"h", &openapi3.Schema{Const: "fixed", Type: &openapi3.Types{"string"}},
				"i", nullable(&openapi3.Schema{}),
				"j", withExample(openapi3.NewInt64Schema(), int64(7)),
				"k", openapi3.NewArraySchema(),
				"l", &openapi3.Schema{Type: &openapi3.Types{"object"}, AdditionalProperties: openapi3.AdditionalProperties{Has: new(true)}},
			)}}}),
	}
}

func TestBuildValidatesInBothVersions(t *testing.T) {
	for name, inv := range inventories() {
		for _, v := range versions {
			t.Run(name+"/"+v, func(t *testing.T) {
				doc, err := Build(inv, Options{Version: v})
				if err != nil {
					t.Fatal(err)
				}
				if doc.OpenAPI != v {
					t.Errorf("openapi = %q, want %q", doc.OpenAPI, v)
				}
				if err := Validate(doc); err != nil {
					t.Fatalf("Validate: %v", err)
				}
				// What Marshal writes loads and validates again, in both formats.
				for _, format := range []string{"yaml", "json"} {
					b, err := Marshal(doc, format)
					if err != nil {
						t.Fatal(err)
					}
					back, err := openapi3.NewLoader().LoadFromData(b)
					if err != nil {
						t.Fatalf("%s does not load: %v", format, err)
					}
					if err := back.Validate(context.Background()); err != nil {
						t.Fatalf("%s reloaded does not validate: %v", format, err)
					}
					if d := Diff(doc, back); !d.Empty() {
						t.Errorf("%s reloaded differs: %+v", format, d)
					}
				}
				assertVersionForm(t, doc, v == Version31)
			})
		}
	}
}

// assertVersionForm checks that no schema of doc uses the other version's
// forms: 3.1 has no nullable and no example; 3.0 no type lists, no
// examples arrays, no const, no numeric exclusive bounds, and nullable only
// beside a type.
func assertVersionForm(t *testing.T, doc *openapi3.T, v31 bool) {
	t.Helper()
	seen := map[*openapi3.Schema]bool{}
	for _, root := range docSchemas(doc) {
		walkSchema(root, seen, func(s *openapi3.Schema) {
			if v31 {
				if s.Nullable || s.Example != nil || s.ExclusiveMin.Bool != nil || s.ExclusiveMax.Bool != nil {
					t.Errorf("3.1 schema has 3.0 forms: %s", jsonString(s))
				}
				return
			}
			if s.Type != nil && len(*s.Type) > 1 || s.Examples != nil || s.Const != nil ||
				s.ExclusiveMin.Value != nil || s.ExclusiveMax.Value != nil || s.Nullable && (s.Type == nil || len(*s.Type) == 0) {
				t.Errorf("3.0 schema has 3.1 forms: %s", jsonString(s))
			}
		})
	}
}

func TestBuildOptions(t *testing.T) {
	inv := fixtureInventory()
	tests := []struct {
		opts             Options
		wantErr          string
		openapi, title   string
		infoVersion      string
		descriptionParts []string
	}{
		{opts: Options{}, openapi: "3.0.3", title: DefaultTitle, infoVersion: "2024-01-31T10:00:00Z/2024-01-31T11:00:00Z",
			descriptionParts: []string{"319 calls to 9 operations on 3 hosts", "Not described: 1 endpoint", "Folded into catch-all templates: 2 endpoints"}},
		{opts: Options{Version: "3.1"}, openapi: "3.1.0", title: DefaultTitle},
		{opts: Options{Version: "3.0"}, openapi: "3.0.3", title: DefaultTitle},
		{opts: Options{Version: "3.1.0", Title: "Shop", InfoVersion: "7"}, openapi: "3.1.0", title: "Shop", infoVersion: "7"},
		{opts: Options{Version: "2.0"}, wantErr: `"2.0"`},
		{opts: Options{Version: "3.2.0"}, wantErr: `"3.2.0"`},
	}
	for _, tt := range tests {
		t.Run(tt.opts.Version+"/"+tt.opts.Title, func(t *testing.T) {
			doc, err := Build(inv, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "openapi: ") {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if doc.OpenAPI != tt.openapi || doc.Info.Title != tt.title {
				t.Errorf("openapi %q title %q, want %q %q", doc.OpenAPI, doc.Info.Title, tt.openapi, tt.title)
			}
			if tt.infoVersion != "" && doc.Info.Version != tt.infoVersion {
				t.Errorf("info.version = %q, want %q", doc.Info.Version, tt.infoVersion)
			}
			for _, p := range tt.descriptionParts {
				if !strings.Contains(doc.Info.Description, p) {
					t.Errorf("description %q lacks %q", doc.Info.Description, p)
				}
			}
		})
	}
	if _, err := Build(nil, Options{}); err == nil {
		t.Error("Build(nil) succeeded")
	}
	doc, err := Build(&analyze.Inventory{}, Options{})
	if err != nil || doc.Info.Version != "unobserved" {
		t.Errorf("empty inventory: version %q, err %v", doc.Info.Version, err)
	}
}

// op returns the operation of a built document, failing when absent.
func op(t *testing.T, doc *openapi3.T, method, path string) *openapi3.Operation {
	t.Helper()
	item := doc.Paths.Value(path)
	if item == nil {
		t.Fatalf("no path %s; have %v", path, doc.Paths.Keys())
	}
	o := item.GetOperation(method)
	if o == nil {
		t.Fatalf("no %s %s", method, path)
	}
	return o
}

func param(o *openapi3.Operation, in, name string) *openapi3.Parameter {
	for _, p := range o.Parameters {
		if p.Value.In == in && p.Value.Name == name {
			return p.Value
		}
	}
	return nil
}

func urls(ss openapi3.Servers) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.URL)
	}
	return out
}

func securityNames(o *openapi3.Operation) []string {
	var out []string
	for _, req := range *o.Security {
		if len(req) == 0 {
			out = append(out, "{}")
		}
		for name := range req {
			out = append(out, name)
		}
	}
	return out
}

func TestBuildDescribesTheInventory(t *testing.T) {
	for _, v := range versions {
		doc, err := Build(fixtureInventory(), Options{Version: v})
		if err != nil {
			t.Fatal(err)
		}
		t.Run(v+"/servers", func(t *testing.T) {
			want := []string{"http://admin.example.com:8443", "http://api.example.com", "https://files.example.com:443"}
			if got := urls(doc.Servers); !slices.Equal(got, want) {
				t.Errorf("servers = %v, want %v", got, want)
			}
			if got := urls(doc.Paths.Value("/users/{userId}").Servers); !slices.Equal(got, want[:2]) {
				t.Errorf("path servers of /users/{userId} = %v", got)
			}
			if got := urls(doc.Paths.Value("/admin/sessions/{sessionId}").Servers); !slices.Equal(got, want[:1]) {
				t.Errorf("path servers of /admin/sessions = %v", got)
			}
		})
		t.Run(v+"/paths and operation ids", func(t *testing.T) {
			want := []string{"/admin/sessions/{sessionId}", "/events", "/files/{fileId}/download", "/health",
				"/orders/{orderId}/items/{itemId}", "/search", "/users", "/users/me", "/users/{userId}"}
			if got := doc.Paths.Keys(); !slices.Equal(got, want) {
				t.Errorf("paths = %v, want %v (PROPFIND /dav left out, /users/{id} merged)", got, want)
			}
			if id := op(t, doc, "GET", "/users/{userId}").OperationID; id != "getUsersUserId" {
				t.Errorf("operationId = %q", id)
			}
			if id := op(t, doc, "PUT", "/orders/{orderId}/items/{itemId}").OperationID; id != "putOrdersOrderIdItemsItemId" {
				t.Errorf("operationId = %q", id)
			}
		})
		t.Run(v+"/one operation on two hosts", func(t *testing.T) {
			o := op(t, doc, "GET", "/users/{userId}")
			if o.Extensions["x-apitap-calls"] != int64(135) || o.Extensions["x-apitap-clients"] != uint64(8) {
				t.Errorf("calls %v clients %v, want 135 and 8", o.Extensions["x-apitap-calls"], o.Extensions["x-apitap-clients"])
			}
			hosts := o.Extensions["x-apitap-hosts"].(map[string]any)
			if hosts["api.example.com"] != int64(120) || hosts["admin.example.com:8443"] != int64(15) {
				t.Errorf("x-apitap-hosts = %v", hosts)
			}
			lat := o.Extensions["x-apitap-latency-ms"].(map[string]any)
			if lat["p50"] != 12.3 || lat["p95"] != 60.0 || lat["p99"] != 101.5 {
				t.Errorf("latency = %v (max of the hosts' quantiles)", lat)
			}
			if o.Extensions["x-apitap-first-seen"] != "2024-01-31T10:01:00Z" || o.Extensions["x-apitap-last-seen"] != "2024-01-31T10:59:00Z" {
				t.Errorf("first/last = %v %v", o.Extensions["x-apitap-first-seen"], o.Extensions["x-apitap-last-seen"])
			}
			// The admin host named the parameter {id}: it is the path's {userId}.
			if p := param(o, "path", "userId"); p == nil || !p.Required {
				t.Errorf("path parameter userId = %+v", p)
			}
			if param(o, "path", "id") != nil {
				t.Error("the admin host's {id} kept its own name")
			}
			// verbose was required on one host only, X-Request-Id seen on one only.
			for _, name := range []string{"verbose", "fields"} {
				if p := param(o, "query", name); p == nil || p.Required {
					t.Errorf("query %s = %+v, want optional", name, p)
				}
			}
			if p := param(o, "header", "X-Request-Id"); p == nil || p.Required || p.Schema.Value.Format != "uuid" {
				t.Errorf("header X-Request-Id = %+v", p)
			}
			resp := o.Responses.Value("200").Value
			s := resp.Content["application/json"].Schema.Value
			if !slices.Equal(s.Required, []string{"id"}) || s.Properties["lastLogin"] == nil || s.Properties["email"] == nil {
				t.Errorf("joined 200 schema: required %v, properties %v", s.Required, sortedKeys(s.Properties))
			}
			if resp.Extensions["x-apitap-calls"] != int64(114) {
				t.Errorf("200 calls = %v", resp.Extensions["x-apitap-calls"])
			}
			if got := sortedKeys(o.Responses.Value("500").Value.Content); !slices.Equal(got, []string{"text/html"}) {
				t.Errorf("500 content = %v", got)
			}
		})
		t.Run(v+"/parameters", func(t *testing.T) {
			o := op(t, doc, "GET", "/search")
			var names []string
			for _, p := range o.Parameters {
				names = append(names, p.Value.In+":"+p.Value.Name)
			}
			if want := []string{"query:limit", "query:q", "query:sort"}; !slices.Equal(names, want) {
				t.Errorf("parameters = %v, want %v", names, want)
			}
			if !param(o, "query", "q").Required || param(o, "query", "limit").Required {
				t.Error("required flags lost")
			}
			put := op(t, doc, "PUT", "/orders/{orderId}/items/{itemId}")
			if put.Parameters[0].Value.Name != "orderId" || put.Parameters[1].Value.Name != "itemId" {
				t.Error("path parameters not in template order")
			}
			// API keys are security schemes, not parameters.
			if param(op(t, doc, "GET", "/users/me"), "header", "X-Api-Key") != nil {
				t.Error("the API key header is also a parameter")
			}
			f := op(t, doc, "GET", "/files/{fileId}/download")
			if param(f, "query", "api_key") != nil || param(f, "query", "inline") == nil {
				t.Error("query api_key should be the security scheme, inline a parameter")
			}
		})
		t.Run(v+"/bodies and responses", func(t *testing.T) {
			post := op(t, doc, "POST", "/users")
			rb := post.RequestBody.Value
			if !rb.Required || rb.Content["application/json"] == nil || rb.Content["application/x-www-form-urlencoded"] == nil {
				t.Errorf("request body: required %v content %v", rb.Required, sortedKeys(rb.Content))
			}
			if got := post.Responses.Keys(); !slices.Equal(got, []string{"201", "400", "422"}) {
				t.Errorf("statuses = %v", got)
			}
			if post.Responses.Value("422").Value.Content["application/problem+json"] == nil {
				t.Error("422 lost its media type")
			}
			get := op(t, doc, "GET", "/users/{userId}")
			if c := get.Responses.Value("304").Value.Content; len(c) != 0 {
				t.Errorf("304 has content %v", sortedKeys(c))
			}
			ev := op(t, doc, "POST", "/events")
			if ev.Responses.Len() != 1 || ev.Responses.Default() == nil {
				t.Errorf("never-answered operation: responses %v, want default", ev.Responses.Keys())
			}
			dl := op(t, doc, "GET", "/files/{fileId}/download").Responses.Value("200").Value.Content["application/octet-stream"].Schema.Value
			if !dl.Type.Is("string") {
				t.Errorf("binary body schema = %s", jsonString(dl))
			}
		})
		t.Run(v+"/security", func(t *testing.T) {
			schemes := doc.Components.SecuritySchemes
			checks := map[string]openapi3.SecurityScheme{
				"basicAuth":                {Type: "http", Scheme: "basic"},
				"bearerAuth":               {Type: "http", Scheme: "bearer"},
				"bearerJWT":                {Type: "http", Scheme: "bearer", BearerFormat: "JWT"},
				"apiKeyHeader_X-API-Key":   {Type: "apiKey", In: "header", Name: "X-API-Key"},
				"apiKeyQuery_api_key":      {Type: "apiKey", In: "query", Name: "api_key"},
				"apiKeyCookie_token":       {Type: "apiKey", In: "cookie", Name: "token"},
				"sessionCookie_JSESSIONID": {Type: "apiKey", In: "cookie", Name: "JSESSIONID"},
			}
			if len(schemes) != len(checks) {
				t.Errorf("schemes = %v", sortedKeys(schemes))
			}
			for name, want := range checks {
				got := schemes[name]
				if got == nil || got.Value.Type != want.Type || got.Value.Scheme != want.Scheme ||
					got.Value.BearerFormat != want.BearerFormat || got.Value.In != want.In || got.Value.Name != want.Name {
					t.Errorf("scheme %s = %+v, want %+v", name, got, want)
				}
			}
			ops := map[string][]string{
				"GET /users/{userId}":                {"bearerJWT", "sessionCookie_JSESSIONID", "{}"},
				"POST /users":                        {"basicAuth"},
				"GET /users/me":                      {"apiKeyHeader_X-API-Key"},
				"GET /search":                        {"bearerAuth"},
				"GET /files/{fileId}/download":       {"apiKeyQuery_api_key"},
				"DELETE /admin/sessions/{sessionId}": {"apiKeyCookie_token"},
				"GET /health":                        nil,
				"POST /events":                       nil,
			}
			for k, want := range ops {
				method, path, _ := strings.Cut(k, " ")
				o := op(t, doc, method, path)
				if o.Security == nil {
					t.Errorf("%s: no security field (want an explicit list)", k)
					continue
				}
				if got := securityNames(o); !slices.Equal(got, want) {
					t.Errorf("%s security = %v, want %v", k, got, want)
				}
			}
		})
		t.Run(v+"/sensitive", func(t *testing.T) {
			get := op(t, doc, "GET", "/users/{userId}")
			list := get.Extensions[extSensitive].([]any)
			if len(list) != 3 {
				t.Fatalf("operation lists %d sensitive fields: %v", len(list), list)
			}
			first := list[0].(map[string]any)
			if first["in"] != "header" || first["pointer"] != "X-Forwarded-Email" || !slices.Equal(first["classes"].([]string), []string{"email"}) {
				t.Errorf("first sensitive field = %v", first)
			}
			s := get.Responses.Value("200").Value.Content["application/json"].Schema.Value
			if got := s.Properties["email"].Value.Extensions[extSensitive]; !slices.Equal(got.([]string), []string{"email"}) {
				t.Errorf("email property classes = %v", got)
			}
			card := s.Properties["payment"].Value.Properties["card"].Value
			if got := card.Extensions[extSensitive]; !slices.Equal(got.([]string), []string{"card"}) {
				t.Errorf("card property classes = %v", got)
			}
			if s.Properties["name"].Value.Extensions[extSensitive] != nil {
				t.Error("name is marked sensitive")
			}
			if got := param(get, "header", "X-Forwarded-Email").Extensions[extSensitive]; !slices.Equal(got.([]string), []string{"email"}) {
				t.Errorf("header parameter classes = %v", got)
			}
			post := op(t, doc, "POST", "/users")
			for _, ct := range []string{"application/json", "application/x-www-form-urlencoded"} {
				pw := post.RequestBody.Value.Content[ct].Schema.Value.Properties["password"].Value
				if got := pw.Extensions[extSensitive]; !slices.Equal(got.([]string), []string{"password"}) {
					t.Errorf("%s password classes = %v", ct, got)
				}
			}
		})
	}
}

func TestBuild31Forms(t *testing.T) {
	doc, err := Build(fixtureInventory(), Options{Version: Version31})
	if err != nil {
		t.Fatal(err)
	}
	s := op(t, doc, "GET", "/users/{userId}").Responses.Value("200").Value.Content["application/json"].Schema.Value
	if got := s.Properties["name"].Value; !slices.Equal(got.Type.Slice(), []string{"string", "null"}) || !slices.Equal(got.Examples, []any{"Ada"}) {
		t.Errorf("name = %s, want type [string, null] and examples [Ada]", jsonString(got))
	}
	score := s.Properties["score"].Value
	if n := len(score.OneOf); n != 3 || !score.OneOf[2].Value.Type.Is("null") {
		t.Errorf("nullable oneOf = %s, want a null branch", jsonString(score))
	}
	doc30, err := Build(fixtureInventory(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s30 := op(t, doc30, "GET", "/users/{userId}").Responses.Value("200").Value.Content["application/json"].Schema.Value
	if score := s30.Properties["score"].Value; len(score.AnyOf) != 2 || !score.AnyOf[0].Value.Nullable || score.Nullable {
		t.Errorf("3.0 nullable oneOf = %s, want anyOf of nullable branches", jsonString(score))
	}
	// The same inventory in both versions describes the same API.
	if d := Diff(doc30, doc); !d.Empty() {
		t.Errorf("3.0 and 3.1 documents differ: %+v", d)
	}

	inv := inventories()["schemas in 3.1 form and bad examples"]
	for _, v := range versions {
		doc, err := Build(inv, Options{Version: v})
		if err != nil {
			t.Fatal(err)
		}
		props := doc.Paths.Value("/v").Get.Responses.Value("200").Value.Content["application/json"].Schema.Value.Properties
		c, d := props["c"].Value, props["d"].Value
		if c.Example != nil || c.Examples != nil || d.Example != nil || d.Examples != nil {
			t.Errorf("%s: invalid examples kept: c=%s d=%s", v, jsonString(c), jsonString(d))
		}
		if j := props["j"].Value; j.Example == nil && j.Examples == nil {
			t.Errorf("%s: valid int64 example dropped", v)
		}
		e := props["e"].Value
		if !slices.Contains(e.Enum, nil) {
			t.Errorf("%s: nullable enum without null: %s", v, jsonString(e))
		}
	}
}

func TestBuildLeavesTheInventoryAlone(t *testing.T) {
	inv := fixtureInventory()
	before, err := json.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range versions {
		if _, err := Build(inv, Options{Version: v}); err != nil {
			t.Fatal(err)
		}
		if _, err := BuildPerHost(inv, Options{Version: v}); err != nil {
			t.Fatal(err)
		}
	}
	after, _ := json.Marshal(inv)
	if !bytes.Equal(before, after) {
		t.Error("Build changed the inventory")
	}
}

// TestBuildDeterministic builds the same inventory many times, with its
// endpoints (and their lists) shuffled and its schema maps rebuilt in other
// insertion orders: the bytes never change.
func TestBuildDeterministic(t *testing.T) {
	for _, v := range versions {
		for _, format := range []string{"yaml", "json"} {
			t.Run(v+"/"+format, func(t *testing.T) {
				first := mustMarshal(t, fixtureInventory(), v, format)
				rng := rand.New(rand.NewPCG(1, 2))
				for i := range 20 {
					inv := fixtureInventory()
					rng.Shuffle(len(inv.Endpoints), func(a, b int) {
						inv.Endpoints[a], inv.Endpoints[b] = inv.Endpoints[b], inv.Endpoints[a]
					})
					for j := range inv.Endpoints {
						ep := &inv.Endpoints[j]
						rng.Shuffle(len(ep.Auth), func(a, b int) { ep.Auth[a], ep.Auth[b] = ep.Auth[b], ep.Auth[a] })
						rng.Shuffle(len(ep.Sensitive), func(a, b int) { ep.Sensitive[a], ep.Sensitive[b] = ep.Sensitive[b], ep.Sensitive[a] })
					}
					if got := mustMarshal(t, inv, v, format); !bytes.Equal(got, first) {
						t.Fatalf("run %d differs:\n%s", i, firstDiff(string(first), string(got)))
					}
				}
			})
		}
	}
}

func mustMarshal(t *testing.T, inv *analyze.Inventory, version, format string) []byte {
	t.Helper()
	doc, err := Build(inv, Options{Version: version})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Marshal(doc, format)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBuildPerHost(t *testing.T) {
	for _, v := range versions {
		docs, err := BuildPerHost(fixtureInventory(), Options{Version: v, Title: "Shop"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{
			"admin.example.com:8443": {"/admin/sessions/{sessionId}", "/users/{id}"},
			"api.example.com":        {"/events", "/health", "/orders/{orderId}/items/{itemId}", "/search", "/users", "/users/me", "/users/{userId}"},
			"files.example.com:443":  {"/files/{fileId}/download"},
		}
		if got := sortedKeys(docs); !slices.Equal(got, sortedKeys(want)) {
			t.Fatalf("hosts = %v", got)
		}
		for host, paths := range want {
			doc := docs[host]
			if got := doc.Paths.Keys(); !slices.Equal(got, paths) {
				t.Errorf("%s paths = %v, want %v", host, got, paths)
			}
			if len(doc.Servers) != 1 || doc.Servers[0].URL != hostURL(host) {
				t.Errorf("%s servers = %v", host, urls(doc.Servers))
			}
			if doc.Info.Title != "Shop ("+host+")" {
				t.Errorf("%s title = %q", host, doc.Info.Title)
			}
			for _, path := range doc.Paths.Keys() {
				if len(doc.Paths.Value(path).Servers) != 0 {
					t.Errorf("%s %s has path-level servers in a one-host document", host, path)
				}
			}
		}
	}
	if _, err := BuildPerHost(fixtureInventory(), Options{Version: "9"}); err == nil {
		t.Error("bad version accepted")
	}
}

func TestBuildReplacesInvalidSchemas(t *testing.T) {
	bad := &openapi3.Schema{Type: &openapi3.Types{"string"}, Pattern: "(unclosed"}
	inv := &analyze.Inventory{Endpoints: []analyze.Endpoint{{Host: "h", Method: "GET", Template: "/p", Calls: 1,
		Params: []analyze.Param{{Name: "q", In: "query", Schema: bad}, {Name: "r", In: "query", Schema: str()}}}}}
	for _, v := range versions {
		doc, err := Build(inv, Options{Version: v})
		if err != nil {
			t.Fatal(err)
		}
		o := op(t, doc, "GET", "/p")
		q := param(o, "query", "q").Schema.Value
		if q.Type != nil || q.Pattern != "" || !strings.Contains(q.Extensions["x-apitap-invalid-schema"].(string), "unclosed") {
			t.Errorf("%s: invalid schema kept: %s", v, jsonString(q))
		}
		if r := param(o, "query", "r").Schema.Value; !r.Type.Is("string") {
			t.Errorf("%s: valid schema replaced", v)
		}
		if !strings.Contains(doc.Info.Description, "replaced by {}: 1 schema") {
			t.Errorf("%s: description %q", v, doc.Info.Description)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := Validate(nil); err == nil {
		t.Error("nil document valid")
	}
	doc := &openapi3.T{OpenAPI: "3.0.3", Info: &openapi3.Info{Title: "t", Version: "1"}, Paths: openapi3.NewPaths()}
	doc.AddOperation("/a/{id}", "GET", &openapi3.Operation{Responses: openapi3.NewResponses()})
	if err := Validate(doc); err == nil {
		t.Error("document without responses and path parameters valid")
	}
}

func TestBuildEdgeInventories(t *testing.T) {
	invs := inventories()
	tests := []struct {
		inv   string
		check func(t *testing.T, doc *openapi3.T)
	}{
		{"root path and no host", func(t *testing.T, doc *openapi3.T) {
			if got := urls(doc.Servers); !slices.Equal(got, []string{"/"}) {
				t.Errorf("servers = %v", got)
			}
			if id := op(t, doc, "GET", "/").OperationID; id != "getRoot" {
				t.Errorf("operationId = %q", id)
			}
		}},
		{"path parameter missing from params", func(t *testing.T, doc *openapi3.T) {
			o := op(t, doc, "GET", "/a/{aId}/b/{bId}")
			if len(o.Parameters) != 2 || param(o, "path", "aId") == nil || !param(o, "path", "bId").Schema.Value.Type.Is("integer") {
				t.Errorf("parameters = %s", jsonString(o.Parameters))
			}
		}},
		{"duplicate parameter names", func(t *testing.T, doc *openapi3.T) {
			op(t, doc, "GET", "/a/{id}/b/{id2}")
		}},
		{"status outside 100-599 and only no-response", func(t *testing.T, doc *openapi3.T) {
			if got := op(t, doc, "GET", "/x").Responses.Keys(); !slices.Equal(got, []string{"default"}) {
				t.Errorf("responses = %v", got)
			}
		}},
		{"hostile host and template", func(t *testing.T, doc *openapi3.T) {
			if got := doc.Paths.Keys(); !slices.Equal(got, []string{"/ok"}) {
				t.Errorf("paths = %v, want only /ok", got)
			}
			if got := urls(doc.Servers); !slices.Equal(got, []string{"http://a%7Bb%7Dc%20d"}) {
				t.Errorf("servers = %v", got)
			}
			if !strings.Contains(doc.Info.Description, "Not described: 5 endpoints") {
				t.Errorf("description = %q", doc.Info.Description)
			}
		}},
		{"operation ids that collide", func(t *testing.T, doc *openapi3.T) {
			got := map[string]string{}
			for _, p := range doc.Paths.Keys() {
				got[p] = doc.Paths.Value(p).Get.OperationID
			}
			want := map[string]string{"/users-id": "getUsersId", "/users/id": "getUsersId3", "/users/id2": "getUsersId2", "/users/{id}": "getUsersId4"}
			for p, id := range want {
				if got[p] != id {
					t.Errorf("%s operationId = %q, want %q (all: %v)", p, got[p], id, got)
				}
			}
		}},
		{"bodies of unknown shape", func(t *testing.T, doc *openapi3.T) {
			o := op(t, doc, "POST", "/upload")
			if got := sortedKeys(o.RequestBody.Value.Content); !slices.Equal(got, []string{"application/json", "multipart/form-data"}) {
				t.Errorf("request media types = %v", got)
			}
			if o.RequestBody.Value.Required {
				t.Error("body marked required")
			}
			if got := sortedKeys(o.Responses.Value("200").Value.Content); !slices.Equal(got, []string{"application/vnd.api+json", "image/png"}) {
				t.Errorf("response media types = %v", got)
			}
		}},
	}
	for _, tt := range tests {
		for _, v := range versions {
			t.Run(tt.inv+"/"+v, func(t *testing.T) {
				doc, err := Build(invs[tt.inv], Options{Version: v})
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, doc)
			})
		}
	}
}

func TestOperationIDBase(t *testing.T) {
	tests := []struct{ method, tmpl, want string }{
		{"GET", "/users/{userId}", "getUsersUserId"},
		{"DELETE", "/api/v1/user-profiles/{id}", "deleteApiV1UserProfilesId"},
		{"POST", "/", "postRoot"},
		{"PATCH", "/v1.41/containers/{containerId}/json", "patchV141ContainersContainerIdJson"},
		{"GET", "/files/{name}.json", "getFilesNameJson"},
		{"PUT", "/snake_case/x", "putSnakeCaseX"},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.tmpl, func(t *testing.T) {
			if got := operationIDBase(tt.method, tt.tmpl); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if got := uniqueIDs([]string{"a", "a", "a2", "a"}); !slices.Equal(got, []string{"a", "a3", "a2", "a4"}) {
		t.Errorf("uniqueIDs = %v", got)
	}
}

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		in, norm string
		names    []string
		bad      bool
	}{
		{in: "/users/{userId}", norm: "/users/{}", names: []string{"userId"}},
		{in: "/", norm: "/"},
		{in: "/a/{x}.{ext}", norm: "/a/{}.{}", names: []string{"x", "ext"}},
		{in: "/v1.41/containers/{id}/json", norm: "/v1.41/containers/{}/json", names: []string{"id"}},
		{in: "/%7Bnot%7D/x", norm: "/%7Bnot%7D/x"},
		{in: "", bad: true},
		{in: "users", bad: true},
		{in: "/a/{", bad: true},
		{in: "/a/}", bad: true},
		{in: "/a/{}", bad: true},
		{in: "/a/{b c}", bad: true},
		{in: "/a b", bad: true},
		{in: "/a?b", bad: true},
		{in: "/a#b", bad: true},
		{in: "/\xff", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseTemplate(tt.in)
			if tt.bad {
				if err == nil {
					t.Errorf("accepted: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.normalized() != tt.norm || !slices.Equal(got.names, tt.names) || got.String() != tt.in {
				t.Errorf("got %q %v %q", got.normalized(), got.names, got.String())
			}
		})
	}
}

func TestHostURL(t *testing.T) {
	tests := map[string]string{
		"api.example.com":      "http://api.example.com",
		"api.example.com:8080": "http://api.example.com:8080",
		"api.example.com:443":  "https://api.example.com:443",
		"[::1]:8080":           "http://[::1]:8080",
		"":                     "/",
		"bad host{x}":          "http://bad%20host%7Bx%7D",
	}
	for host, want := range tests {
		t.Run(host, func(t *testing.T) {
			if got := hostURL(host); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
			if host == "" {
				return
			}
			h, _ := ServerHostBase(&openapi3.Server{URL: hostURL(host)})
			if h != strings.ToLower(host) {
				t.Errorf("round trip through Templates gives host %q", h)
			}
		})
	}
}

func TestHostFileName(t *testing.T) {
	tests := map[string]string{
		"api.example.com":      "api.example.com",
		"api.example.com:8080": "api.example.com_8080",
		"[::1]:80":             "___1__80",
		"":                     "_nohost",
		"..":                   "__",
		"a/../b":               "a_.._b",
	}
	for host, want := range tests {
		if got := HostFileName(host); got != want {
			t.Errorf("HostFileName(%q) = %q, want %q", host, got, want)
		}
	}
}
