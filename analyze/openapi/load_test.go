package openapi

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		file    string
		version string
		ops     []Operation
		wantErr []string // substrings of the error
	}{
		{file: "shop30.yaml", version: "3.0.3", ops: []Operation{
			{"eu.shop.example.com", "GET", "/api/v1/products"},
			{"eu.shop.example.com", "POST", "/api/v1/products"},
			{"eu.shop.example.com", "GET", "/api/v1/products/{productId}"},
			{"", "GET", "/health"},
			{"localhost:8080", "GET", "/health"},
			{"admin.shop.example.com", "DELETE", "/internal/products/{productId}"},
		}},
		{file: "shop31.json", version: "3.1.0", ops: []Operation{
			{"shop.example.com:8080", "GET", "/orders/{orderId}"},
			{"shop.example.com:8080", "PATCH", "/orders/{orderId}"},
		}},
		{file: "swagger2.yaml", version: "3.0.3", ops: []Operation{
			{"legacy.example.com", "GET", "/v2/pets/{petId}"},
		}},
		{file: "invalid-path-param.yaml", wantErr: []string{"invalid-path-param.yaml", "not valid OpenAPI 3.0.3", "thingId"}},
		{file: "not-openapi.yaml", wantErr: []string{"not-openapi.yaml", "not an OpenAPI document"}},
		{file: "version32.yaml", wantErr: []string{"version32.yaml", `unsupported OpenAPI version "3.2.0"`}},
		{file: "remote-ref.yaml", wantErr: []string{"remote-ref.yaml", "never.yaml", "only $refs within the file or to local files"}},
		{file: "broken.yaml", wantErr: []string{"broken.yaml", "neither YAML nor JSON"}},
		{file: "missing.yaml", wantErr: []string{"missing.yaml", "no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc, err := Load(filepath.Join("testdata", "specs", tt.file))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("loaded")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				if !strings.HasPrefix(err.Error(), "openapi: load") {
					t.Errorf("error %q lacks the package prefix", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if doc.OpenAPI != tt.version {
				t.Errorf("openapi = %q, want %q", doc.OpenAPI, tt.version)
			}
			if got := Templates(doc); !slices.Equal(got, tt.ops) {
				t.Errorf("Templates =\n%v\nwant\n%v", got, tt.ops)
			}
			if d := Diff(doc, doc); !d.Empty() {
				t.Errorf("Diff with itself: %+v", d)
			}
		})
	}
}

// TestLoadResolvesRefs checks that $refs within the file and to another
// file were followed.
func TestLoadResolvesRefs(t *testing.T) {
	doc, err := Load(filepath.Join("testdata", "specs", "shop30.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	get := doc.Paths.Value("/products").Get
	if p := get.Parameters[0].Value; p == nil || p.Name != "limit" {
		t.Errorf("parameter $ref not resolved: %+v", get.Parameters[0])
	}
	items := get.Responses.Value("200").Value.Content["application/json"].Schema.Value.Items.Value
	if items == nil || items.Properties["price"] == nil {
		t.Error("schema $ref not resolved")
	}
	def := get.Responses.Default()
	if def == nil || def.Value == nil || def.Value.Content["application/json"].Schema.Value.Properties["message"] == nil {
		t.Error("$ref to common.yaml not resolved")
	}
}

func TestTemplatesServers(t *testing.T) {
	tests := []struct {
		name    string
		servers openapi3.Servers
		host    string
		base    string
	}{
		{"none", nil, "", ""},
		{"relative root", openapi3.Servers{{URL: "/"}}, "", ""},
		{"relative base", openapi3.Servers{{URL: "/api/v1/"}}, "", "/api/v1"},
		{"relative without slash", openapi3.Servers{{URL: "api"}}, "", "/api"},
		{"absolute", openapi3.Servers{{URL: "https://API.example.com"}}, "api.example.com", ""},
		{"port and base", openapi3.Servers{{URL: "http://api.example.com:8080/v2"}}, "api.example.com:8080", "/v2"},
		{"scheme-relative", openapi3.Servers{{URL: "//api.example.com/x"}}, "api.example.com", "/x"},
		{"user info and query", openapi3.Servers{{URL: "https://u:p@api.example.com/b?x=1"}}, "api.example.com", "/b"},
		{"variables", openapi3.Servers{{URL: "{scheme}://{env}.example.com/{base}", Variables: map[string]*openapi3.ServerVariable{
			"scheme": {Default: "https"}, "env": {Default: "prod"}, "base": {Default: "v3"}}}}, "prod.example.com", "/v3"},
		{"escaped host from Build", openapi3.Servers{{URL: hostURL("a{b}")}}, "a{b}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := &openapi3.T{OpenAPI: "3.0.3", Servers: tt.servers, Paths: openapi3.NewPaths()}
			doc.AddOperation("/users/{id}", "GET", &openapi3.Operation{})
			got := Templates(doc)
			want := []Operation{{tt.host, "GET", tt.base + "/users/{id}"}}
			if !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestTemplatesOrderAndDuplicates(t *testing.T) {
	doc := &openapi3.T{OpenAPI: "3.0.3", Paths: openapi3.NewPaths(),
		Servers: openapi3.Servers{{URL: "http://b.example.com"}, {URL: "http://a.example.com"}, {URL: "https://a.example.com"}}}
	for _, m := range []string{"PATCH", "GET", "TRACE", "DELETE", "POST", "HEAD", "PUT", "OPTIONS"} {
		doc.AddOperation("/z", m, &openapi3.Operation{})
	}
	doc.AddOperation("/a", "GET", &openapi3.Operation{})
	got := Templates(doc)
	var lines []string
	for _, o := range got {
		lines = append(lines, o.String())
	}
	want := []string{
		"GET /a (a.example.com)", "GET /a (b.example.com)",
		"GET /z (a.example.com)", "GET /z (b.example.com)",
		"PUT /z (a.example.com)", "PUT /z (b.example.com)",
		"POST /z (a.example.com)", "POST /z (b.example.com)",
		"DELETE /z (a.example.com)", "DELETE /z (b.example.com)",
		"OPTIONS /z (a.example.com)", "OPTIONS /z (b.example.com)",
		"HEAD /z (a.example.com)", "HEAD /z (b.example.com)",
		"PATCH /z (a.example.com)", "PATCH /z (b.example.com)",
		"TRACE /z (a.example.com)", "TRACE /z (b.example.com)",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if Templates(nil) != nil || Templates(&openapi3.T{}) != nil {
		t.Error("Templates of an empty document is not empty")
	}
}

// TestTemplatesOfBuild: the templates of a built document are the
// inventory's endpoints (what --spec pins come back as they were).
func TestTemplatesOfBuild(t *testing.T) {
	doc, err := Build(fixtureInventory(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range Templates(doc) {
		got = append(got, o.String())
	}
	want := []string{
		"DELETE /admin/sessions/{sessionId} (admin.example.com:8443)",
		"POST /events (api.example.com)",
		"GET /files/{fileId}/download (files.example.com:443)",
		"GET /health (api.example.com)",
		"PUT /orders/{orderId}/items/{itemId} (api.example.com)",
		"GET /search (api.example.com)",
		"POST /users (api.example.com)",
		"GET /users/me (api.example.com)",
		"GET /users/{userId} (admin.example.com:8443)",
		"GET /users/{userId} (api.example.com)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
