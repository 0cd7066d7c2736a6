package accuracy

import (
	"context"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// loadData loads a test document without validating it: the scorer must
// also score inferred documents that OpenAPI rejects (a path parameter
// left undeclared, say).
func loadData(t *testing.T, src string) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	loader.Context = context.Background()
	doc, err := loader.LoadFromData([]byte(src))
	if err != nil {
		t.Fatalf("loading test document: %v", err)
	}
	return doc
}

// paramsOriginal has one operation whose parameters exercise each rule.
const paramsOriginal = `
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /orgs/{org}/repos/{repo}:
    parameters:
      - {name: org, in: path, required: true, schema: {type: string}}
      - {name: limit, in: query, schema: {type: string}}
    get:
      parameters:
        - {name: repo, in: path, required: true, schema: {type: string}}
        - {name: limit, in: query, schema: {type: integer}}
        - {name: filter, in: query, style: deepObject, explode: true, schema: {type: object, properties: {name: {type: string}}}}
        - {name: page, in: query, schema: {type: object, properties: {cursor: {type: string}, size: {type: integer}}}}
        - {name: X-Api-Key, in: header, schema: {type: string}}
        - {name: api_key, in: query, schema: {type: string}}
        - {name: X-Tenant-Id, in: header, schema: {type: string}}
        - {name: X-Request-Id, in: header, schema: {type: string}}
        - {name: Content-Type, in: header, schema: {type: string}}
        - {name: If-None-Match, in: header, schema: {type: string}}
        - {name: theme, in: cookie, schema: {type: string}}
      responses:
        "200": {description: ok}
`

func TestScoreParams(t *testing.T) {
	tests := []struct {
		name                       string
		doc                        string
		expected, found, nInferred int
	}{
		// Expected: org, repo (path), limit, filter, page, api_key (query),
		// X-Api-Key, X-Tenant-Id (header) = 8.
		{"all as parameters", `
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /orgs/{p1}/repos/{p2}:
    get:
      parameters:
        - {name: p1, in: path, required: true, schema: {type: string}}
        - {name: p2, in: path, required: true, schema: {type: string}}
        - {name: limit, in: query, schema: {type: integer}}
        - {name: "filter[name]", in: query, schema: {type: string}}
        - {name: size, in: query, schema: {type: integer}}
        - {name: api_key, in: query, schema: {type: string}}
        - {name: x-api-key, in: header, schema: {type: string}}
        - {name: X-TENANT-ID, in: header, schema: {type: string}}
        - {name: User-Agent, in: header, schema: {type: string}}
      responses:
        "200": {description: ok}
`, 8, 8, 8},
		{"keys as security schemes", `
openapi: 3.0.3
info: {title: t, version: "1"}
security: [{qkey: []}]
components:
  securitySchemes:
    hkey: {type: apiKey, in: header, name: X-Api-Key}
    qkey: {type: apiKey, in: query, name: api_key}
paths:
  /orgs/{p1}/repos/{p2}:
    get:
      security: [{hkey: []}, {qkey: []}]
      parameters:
        - {name: p1, in: path, required: true, schema: {type: string}}
        - {name: p2, in: path, required: true, schema: {type: string}}
      responses:
        "200": {description: ok}
`, 8, 4, 2},
		{"document security only", `
openapi: 3.0.3
info: {title: t, version: "1"}
security: [{qkey: []}]
components:
  securitySchemes:
    qkey: {type: apiKey, in: query, name: api_key}
paths:
  /orgs/{p1}/repos/{p2}:
    get:
      responses:
        "200": {description: ok}
`, 8, 1, 0},
		{"positions, not names", `
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /orgs/{repo}/repos/{org}:
    get:
      parameters:
        - {name: org, in: path, required: true, schema: {type: string}}
        - {name: repo, in: path, required: true, schema: {type: string}}
        - {name: filter, in: query, schema: {type: string}}
        - {name: cursor, in: query, schema: {type: string}}
      responses:
        "200": {description: ok}
`, 8, 4, 4},
		{"only one path parameter declared", `
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /orgs/{a}/repos/{b}:
    get:
      parameters:
        - {name: b, in: path, required: true, schema: {type: string}}
      responses:
        "200": {description: ok}
`, 8, 1, 1},
	}
	orig := loadData(t, paramsOriginal)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Score(orig, loadData(t, tt.doc), "")
			if s.Endpoints.Matched != 1 {
				t.Fatalf("the operation did not match: %+v", s.Endpoints)
			}
			if s.Params.Expected != tt.expected || s.Params.Found != tt.found || s.Params.Inferred != tt.nInferred {
				t.Errorf("params %+v, want expected %d found %d inferred %d", s.Params, tt.expected, tt.found, tt.nInferred)
			}
		})
	}
}

func TestPaths(t *testing.T) {
	t.Run("NormalizeTemplate", func(t *testing.T) {
		for in, want := range map[string]string{
			"/users":                    "/users",
			"/users/{id}":               "/users/{}",
			"/a/{x}/b/{y}":              "/a/{}/b/{}",
			"/files/{name}.{ext}":       "/files/{}.{}",
			"/broken/{x":                "/broken/{x",
			"/indexes/{indexUid}/stats": "/indexes/{}/stats",
		} {
			if got := NormalizeTemplate(in); got != want {
				t.Errorf("NormalizeTemplate(%q) = %q, want %q", in, got, want)
			}
		}
	})
	t.Run("JoinPath", func(t *testing.T) {
		for _, tt := range []struct{ base, path, want string }{
			{"", "/users", "/users"},
			{"/", "/users", "/users"},
			{"/v1", "/users", "/v1/users"},
			{"/v1/", "/users", "/v1/users"},
			{"api", "/users", "/api/users"},
			{"/v1", "/", "/v1/"},
		} {
			if got := JoinPath(tt.base, tt.path); got != tt.want {
				t.Errorf("JoinPath(%q, %q) = %q, want %q", tt.base, tt.path, got, tt.want)
			}
		}
	})
	t.Run("BasePath", func(t *testing.T) {
		for _, tt := range []struct {
			servers openapi3.Servers
			want    string
		}{
			{nil, ""},
			{openapi3.Servers{{URL: "/"}}, ""},
			{openapi3.Servers{{URL: "http://localhost:5000"}}, ""},
			{openapi3.Servers{{URL: "https://api.example.com/v1/"}}, "/v1"},
			{openapi3.Servers{{URL: "/api"}}, "/api"},
			{openapi3.Servers{{URL: "api.example.com/v2"}}, "/api.example.com/v2"}, // relative, as OpenAPI reads it
			{openapi3.Servers{{URL: "https://{host}/{base}", Variables: map[string]*openapi3.ServerVariable{
				"host": {Default: "x.example.com"}, "base": {Default: "v3"}}}}, "/v3"},
			{openapi3.Servers{{URL: "http://a.example.com/v1"}, {URL: "http://b.example.com/v1"}}, "/v1"},
			{openapi3.Servers{{URL: "http://a.example.com/v1"}, {URL: "http://b.example.com/v2"}}, ""},
		} {
			if got := BasePath(&openapi3.T{Servers: tt.servers}); got != tt.want {
				t.Errorf("BasePath(%v) = %q, want %q", tt.servers, got, tt.want)
			}
		}
	})
	t.Run("instanceOf", func(t *testing.T) {
		for _, tt := range []struct {
			specific, general string
			want              bool
		}{
			{"/users/42", "/users/{}", true},
			{"/users/{}", "/users/{}", true},
			{"/users/42/orders", "/users/{}", false},
			{"/users", "/users/{}", false},
			{"/users/me", "/users/you", false},
			{"/files/a.json", "/files/{}.json", true},
			{"/files/.json", "/files/{}.json", false},
			{"/files/a.b.c", "/files/{}.{}", true},
			{"/files/ab", "/files/{}.{}", false},
			{"/v/x-1-y", "/v/x-{}-y", true},
			{"/v/x--y", "/v/x-{}-y", false},
			{"/users/{}", "/users/me", false},
		} {
			if got := instanceOf(tt.specific, tt.general); got != tt.want {
				t.Errorf("instanceOf(%q, %q) = %v", tt.specific, tt.general, got)
			}
		}
	})
}
