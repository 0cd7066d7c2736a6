package openapi

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// diffReference is the documented API the Diff tests compare against.
const diffReference = `
openapi: 3.0.3
info: {title: ref, version: "1"}
servers: [{url: "https://api.example.com/v1/"}]
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-API-Key}
  schemas:
    User:
      type: object
      properties:
        id: {type: integer}
        name: {type: string}
        nick: {type: string, nullable: true}
        price: {type: number}
        tags: {type: array, items: {type: string}}
        address: {type: object, properties: {city: {type: string}}}
        meta: {type: object}
        labels: {type: object, additionalProperties: {type: string}}
        extra: {type: object, properties: {a: {type: string}}, additionalProperties: true}
        pet:
          oneOf:
            - {type: object, properties: {bark: {type: boolean}}}
            - {type: object, properties: {meow: {type: boolean}}}
        base:
          allOf:
            - {type: object, properties: {x: {type: integer}}}
            - {type: object}
paths:
  /users:
    get:
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
        - {name: X-Trace, in: header, schema: {type: string}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/User"}}
        "4XX": {description: client error}
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/User"}
      responses:
        "201": {description: created}
        default:
          description: error
          content:
            application/json:
              schema: {type: object, properties: {error: {type: string}}}
  /users/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: integer}}
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/User"}
            text/*: {}
    delete:
      responses:
        "204": {description: gone}
`

// diffObserved is what Build would describe for traffic that matches the
// reference exactly: one server per host, base path in the paths, other
// parameter names. Each test case edits it.
const diffObserved = `
openapi: 3.0.3
info: {title: observed, version: "1"}
servers: [{url: "http://api.example.com"}]
paths:
  /v1/users:
    get:
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
        - {name: x-trace, in: header, schema: {type: string}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: array
                items:
                  type: object
                  properties:
                    id: {type: integer}
                    name: {type: string}
                    nick: {type: string, nullable: true}
                    price: {type: integer}
                    tags: {type: array, items: {type: string}}
                    address: {type: object, properties: {city: {type: string}}}
                    meta: {type: object, properties: {anything: {type: string}}}
                    labels: {type: object, additionalProperties: {type: string}}
                    extra: {type: object, properties: {a: {type: string}, b: {type: integer}}}
                    pet: {type: object, properties: {meow: {type: boolean}}}
                    base: {type: object, properties: {x: {type: integer}}}
        "404": {description: not found}
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {name: {type: string}}}
      responses:
        "201": {description: created}
        "409":
          description: conflict
          content:
            application/json:
              schema: {type: object, properties: {error: {type: string}}}
  /v1/users/{userId}:
    get:
      parameters:
        - {name: userId, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: object, properties: {id: {type: integer}}}
            text/html:
              schema: {type: string}
    delete:
      parameters:
        - {name: userId, in: path, required: true, schema: {type: integer}}
      responses:
        "204": {description: gone}
        default: {description: No response was observed.}
`

func loadString(t *testing.T, s string) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("test document invalid: %v", err)
	}
	return doc
}

// edit replaces old by new in s, failing when old is not there exactly once.
func edit(t *testing.T, s string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		if n := strings.Count(s, pairs[i]); n != 1 {
			t.Fatalf("%q found %d times", pairs[i], n)
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func TestDiff(t *testing.T) {
	users := Operation{"api.example.com", "GET", "/v1/users"}
	postUsers := Operation{"api.example.com", "POST", "/v1/users"}
	user := Operation{"api.example.com", "GET", "/v1/users/{userId}"}
	deleteUser := Operation{"api.example.com", "DELETE", "/v1/users/{userId}"}
	tests := []struct {
		name     string
		observed []string // edits of diffObserved
		want     Report
	}{
		{name: "matching traffic, other parameter names, base path in the paths"},
		{
			name:     "shadow",
			observed: []string{"  /v1/users/{userId}:\n", "  /v1/admin:\n    get:\n      responses:\n        \"200\": {description: ok}\n  /v1/users/{userId}:\n"},
			want:     Report{Shadow: []Operation{{"api.example.com", "GET", "/v1/admin"}}},
		},
		{
			name: "zombie",
			observed: []string{`    delete:
      parameters:
        - {name: userId, in: path, required: true, schema: {type: integer}}
      responses:
        "204": {description: gone}
        default: {description: No response was observed.}
`, ""},
			want: Report{Zombie: []Operation{{"api.example.com", "DELETE", "/v1/users/{id}"}}},
		},
		{
			name: "undocumented parameters",
			observed: []string{"        - {name: x-trace, in: header, schema: {type: string}}\n",
				"        - {name: x-trace, in: header, schema: {type: string}}\n" +
					"        - {name: offset, in: query, schema: {type: integer}}\n" +
					"        - {name: x-api-key, in: header, schema: {type: string}}\n" +
					"        - {name: session, in: cookie, schema: {type: string}}\n"},
			want: Report{Drift: []Drift{
				{users, DriftParameter, "cookie:session", "string", ""},
				{users, DriftParameter, "query:offset", "integer", ""},
			}},
		},
		{
			name: "parameter types",
			observed: []string{"- {name: limit, in: query, schema: {type: integer}}", "- {name: limit, in: query, schema: {type: string}}",
				"- {name: userId, in: path, required: true, schema: {type: integer}}\n      responses:\n        \"200\"",
				"- {name: userId, in: path, required: true, schema: {type: string, nullable: true}}\n      responses:\n        \"200\""},
			want: Report{Drift: []Drift{
				{users, DriftType, "query:limit", "string", "integer"},
				{user, DriftType, "path:userId", "null|string", "integer"},
			}},
		},
		{
			name: "undocumented properties",
			observed: []string{"id: {type: integer}\n                    name:", "id: {type: integer}\n                    email: {type: string}\n                    profile: {type: object, properties: {bio: {type: string}}}\n                    name:",
				"address: {type: object, properties: {city: {type: string}}}", "address: {type: object, properties: {city: {type: string}, zip: {type: string}}}",
				"tags: {type: array, items: {type: string}}", "tags: {type: array, items: {type: object, properties: {k: {type: string}}}}",
				"pet: {type: object, properties: {meow: {type: boolean}}}", "pet: {type: object, properties: {meow: {type: boolean}, purr: {type: boolean}}}",
				"base: {type: object, properties: {x: {type: integer}}}", "base: {type: object, properties: {x: {type: integer}, y: {type: string}}}",
				"meta: {type: object, properties: {anything: {type: string}}}", "meta: {type: object, properties: {anything: {type: object, properties: {deep: {type: string}}}}}",
				"extra: {type: object, properties: {a: {type: string}, b: {type: integer}}}", "extra: {type: object, properties: {a: {type: string}, b: {type: integer}, c: {type: object}}}",
				"schema: {type: object, properties: {name: {type: string}}}", "schema: {type: object, properties: {name: {type: string}, secret: {type: string}}}"},
			want: Report{Drift: []Drift{
				{users, DriftProperty, "response 200 application/json /*/address/zip", "string", ""},
				{users, DriftProperty, "response 200 application/json /*/base/y", "string", ""},
				{users, DriftProperty, "response 200 application/json /*/email", "string", ""},
				{users, DriftProperty, "response 200 application/json /*/pet/purr", "boolean", ""},
				{users, DriftProperty, "response 200 application/json /*/profile", "object", ""},
				{users, DriftType, "response 200 application/json /*/tags/*", "object", "string"},
				{postUsers, DriftProperty, "request application/json /secret", "string", ""},
			}},
		},
		{
			name: "property types",
			observed: []string{"id: {type: integer}\n                    name: {type: string}", "id: {type: number}\n                    name: {type: string, nullable: true}",
				"labels: {type: object, additionalProperties: {type: string}}", "labels: {type: object, additionalProperties: {type: integer}}"},
			want: Report{Drift: []Drift{
				{users, DriftType, "response 200 application/json /*/id", "number", "integer"},
				{users, DriftType, "response 200 application/json /*/labels/*", "integer", "string"},
				{users, DriftType, "response 200 application/json /*/name", "null|string", "string"},
			}},
		},
		{
			name:     "body types",
			observed: []string{"schema: {type: object, properties: {id: {type: integer}}}", "schema: {type: array, items: {type: integer}}"},
			want: Report{Drift: []Drift{
				{user, DriftType, "response 200 application/json", "array", "object"},
			}},
		},
		{
			name:     "statuses",
			observed: []string{"        \"404\": {description: not found}\n", "        \"404\": {description: not found}\n        \"500\": {description: boom}\n        \"301\": {description: moved}\n"},
			want: Report{Drift: []Drift{
				{users, DriftStatus, "response 301", "301", "200, 4XX"},
				{users, DriftStatus, "response 500", "500", "200, 4XX"},
			}},
		},
		{
			name: "content types",
			observed: []string{"            text/html:\n              schema: {type: string}\n", "            text/html:\n              schema: {type: string}\n            application/xml:\n              schema: {type: string}\n",
				"      requestBody:\n        content:\n          application/json:\n            schema: {type: object, properties: {name: {type: string}}}\n",
				"      requestBody:\n        content:\n          application/json:\n            schema: {type: object, properties: {name: {type: string}}}\n          application/x-www-form-urlencoded:\n            schema: {type: object}\n",
				"        \"204\": {description: gone}\n        default", "        \"204\": {description: gone, content: {text/plain: {schema: {type: string}}}}\n        default",
				"    delete:\n      parameters:", "    delete:\n      requestBody: {content: {application/json: {schema: {type: object}}}}\n      parameters:"},
			want: Report{Drift: []Drift{
				{postUsers, DriftContentType, "request", "application/x-www-form-urlencoded", "application/json"},
				{user, DriftContentType, "response 200", "application/xml", "application/json, text/*"},
				{deleteUser, DriftContentType, "request", "application/json", ""},
				{deleteUser, DriftContentType, "response 204", "text/plain", ""},
			}},
		},
		{
			name:     "default response schema is compared",
			observed: []string{"schema: {type: object, properties: {error: {type: string}}}", "schema: {type: object, properties: {error: {type: string}, code: {type: integer}}}"},
			want: Report{Drift: []Drift{
				{postUsers, DriftProperty, "response 409 application/json /code", "integer", ""},
			}},
		},
	}
	ref := loadString(t, diffReference)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := loadString(t, edit(t, diffObserved, tt.observed...))
			got := Diff(ref, obs)
			if !slices.Equal(got.Shadow, tt.want.Shadow) || !slices.Equal(got.Zombie, tt.want.Zombie) || !slices.Equal(got.Drift, tt.want.Drift) {
				t.Errorf("got\n%s\nwant\n%s", reportString(got), reportString(tt.want))
			}
			if got.Empty() != (len(tt.want.Shadow)+len(tt.want.Zombie)+len(tt.want.Drift) == 0) {
				t.Error("Empty() disagrees")
			}
		})
	}
}

func reportString(r Report) string {
	var b strings.Builder
	for _, o := range r.Shadow {
		b.WriteString("shadow " + o.String() + "\n")
	}
	for _, o := range r.Zombie {
		b.WriteString("zombie " + o.String() + "\n")
	}
	for _, d := range r.Drift {
		b.WriteString("drift " + d.Operation.String() + " | " + d.Kind + " | " + d.Where + " | " + d.Observed + " | " + d.Documented + "\n")
	}
	return b.String()
}

// TestDiffVersions compares documents of different OpenAPI versions: 3.1
// type lists and 3.0 nullable mean the same.
func TestDiffVersions(t *testing.T) {
	ref := loadString(t, diffReference)
	obs31 := edit(t, diffObserved, "openapi: 3.0.3", "openapi: 3.1.0",
		"nick: {type: string, nullable: true}", `nick: {type: ["string", "null"]}`)
	if d := Diff(ref, loadString(t, obs31)); !d.Empty() {
		t.Errorf("3.1 observed differs:\n%s", reportString(d))
	}
	obs31 = edit(t, obs31, `name: {type: string}
                    nick`, `name: {type: ["string", "null"]}
                    nick`)
	want := []Drift{{Operation{"api.example.com", "GET", "/v1/users"}, DriftType, "response 200 application/json /*/name", "null|string", "string"}}
	if d := Diff(ref, loadString(t, obs31)); !slices.Equal(d.Drift, want) {
		t.Errorf("got\n%s", reportString(d))
	}
}

// TestDiffBuilt compares documents Build made: a document with itself, and
// an inventory with one that gained an endpoint and a property.
func TestDiffBuilt(t *testing.T) {
	doc, err := Build(fixtureInventory(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(doc, doc); !d.Empty() {
		t.Errorf("Diff(doc, doc):\n%s", reportString(d))
	}
	inv := fixtureInventory()
	inv.Endpoints[0].Responses[0].Schema.Properties["avatar"] = openapi3.NewSchemaRef("", str().WithFormat("uri"))
	inv.Endpoints = append(inv.Endpoints, inv.Endpoints[len(inv.Endpoints)-1])
	inv.Endpoints[len(inv.Endpoints)-1].Template = "/events/{eventId}"
	inv.Endpoints = slices.Delete(inv.Endpoints, 6, 7) // GET /health
	later, err := Build(inv, Options{Version: Version31})
	if err != nil {
		t.Fatal(err)
	}
	got := Diff(doc, later)
	want := Report{
		Shadow: []Operation{{"api.example.com", "POST", "/events/{eventId}"}},
		Zombie: []Operation{{"api.example.com", "GET", "/health"}},
		Drift: []Drift{{Operation{"admin.example.com:8443", "GET", "/users/{userId}"}, DriftProperty,
			"response 200 application/json /avatar", "string", ""}},
	}
	if !slices.Equal(got.Shadow, want.Shadow) || !slices.Equal(got.Zombie, want.Zombie) || !slices.Equal(got.Drift, want.Drift) {
		t.Errorf("got\n%s\nwant\n%s", reportString(got), reportString(want))
	}
}

func TestReportWriteText(t *testing.T) {
	var b strings.Builder
	if err := (Report{}).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "No differences") {
		t.Errorf("empty report: %q", b.String())
	}
	r := Report{
		Shadow: []Operation{{"api.example.com", "GET", "/v1/admin"}, {"", "POST", "/x"}},
		Drift: []Drift{
			{Operation{"api.example.com", "GET", "/v1/users"}, DriftParameter, "query:offset", "integer", ""},
			{Operation{"api.example.com", "GET", "/v1/users"}, DriftStatus, "response 500", "500", "200, 4XX"},
			{Operation{"api.example.com", "DELETE", "/v1/users/{id}"}, DriftContentType, "request", "application/json", ""},
		},
	}
	b.Reset()
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `Shadow operations (observed, not documented): 2
  GET   /v1/admin  api.example.com
  POST  /x         (no host)
Zombie operations (documented, not observed): 0
Drift: 3 differences in 2 operations
  GET /v1/users (api.example.com): 2
    parameter  query:offset  observed integer, not documented
    status     response 500  observed 500, documented 200, 4XX
  DELETE /v1/users/{id} (api.example.com): 1
    content-type  request  observed application/json, not documented
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
