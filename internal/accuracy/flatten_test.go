package accuracy

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/apitap/apitap/analyze/openapi"
	"github.com/getkin/kin-openapi/openapi3"
)

// schemaDoc loads a document whose components are the given schemas
// (JSON text by name) and returns the schema named "S".
func schemaDoc(t *testing.T, version string, schemas map[string]string) *openapi3.SchemaRef {
	t.Helper()
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(schemas)) {
		parts = append(parts, fmt.Sprintf("%q: %s", name, schemas[name]))
	}
	src := fmt.Sprintf(`{"openapi": %q, "info": {"title": "t", "version": "1"}, "paths": {},
		"components": {"schemas": {%s}}}`, version, strings.Join(parts, ","))
	doc, err := openapi.LoadData([]byte(src), "test.json")
	if err != nil {
		t.Fatalf("loading %s: %v", src, err)
	}
	s := doc.Components.Schemas["S"]
	if s == nil {
		t.Fatal("no schema S")
	}
	return s
}

// describe renders flattened nodes as pointer → "types", with "?" for
// nullable and "!" for open.
func describe(nodes map[string]*Node) map[string]string {
	out := make(map[string]string, len(nodes))
	for p, n := range nodes {
		d := n.Types.String()
		if n.Nullable {
			d += "?"
		}
		if n.Open {
			d += "!"
		}
		out[p] = d
	}
	return out
}

func TestFlatten(t *testing.T) {
	tests := []struct {
		name    string
		version string
		schemas map[string]string
		want    map[string]string
	}{
		{"ref and allOf merged", "3.0.3", map[string]string{
			"S": `{"allOf": [{"$ref": "#/components/schemas/A"}, {"properties": {"b": {"type": "string"}}}]}`,
			"A": `{"type": "object", "properties": {"a": {"type": "integer"}}}`,
		}, map[string]string{"": "object", "/a": "integer", "/b": "string"}},
		{"allOf with a description-only branch stays closed", "3.0.3", map[string]string{
			"S": `{"allOf": [{"$ref": "#/components/schemas/A"}, {"description": "more"}]}`,
			"A": `{"type": "object", "properties": {"a": {"type": "integer"}}}`,
		}, map[string]string{"": "object", "/a": "integer"}},
		{"oneOf scalars united", "3.0.3", map[string]string{
			"S": `{"type": "object", "properties": {"v": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}}`,
		}, map[string]string{"": "object", "/v": "string|integer"}},
		{"anyOf objects united", "3.0.3", map[string]string{
			"S": `{"anyOf": [{"properties": {"a": {"type": "string"}}}, {"properties": {"b": {"type": "boolean"}}}]}`,
		}, map[string]string{"": "object", "/a": "string", "/b": "boolean"}},
		{"oneOf with a free-form branch is open", "3.0.3", map[string]string{
			"S": `{"oneOf": [{"type": "object", "properties": {"a": {"type": "string"}}}, {}]}`,
		}, map[string]string{"": "object!", "/a": "string"}},
		{"array of objects", "3.0.3", map[string]string{
			"S": `{"type": "array", "items": {"type": "object", "properties": {"x": {"type": "number"}}}}`,
		}, map[string]string{"": "array", "/*": "object", "/*/x": "number"}},
		{"map", "3.0.3", map[string]string{
			"S": `{"type": "object", "additionalProperties": {"type": "integer"}}`,
		}, map[string]string{"": "object", "/{}": "integer"}},
		{"map of maps", "3.0.3", map[string]string{
			"S": `{"additionalProperties": {"additionalProperties": {"type": "string"}}}`,
		}, map[string]string{"": "object", "/{}": "object", "/{}/{}": "string"}},
		{"free-form object", "3.0.3", map[string]string{
			"S": `{"type": "object"}`,
		}, map[string]string{"": "object!"}},
		{"additionalProperties true", "3.0.3", map[string]string{
			"S": `{"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": true}`,
		}, map[string]string{"": "object!", "/a": "string"}},
		{"additionalProperties {}", "3.0.3", map[string]string{
			"S": `{"type": "object", "additionalProperties": {}}`,
		}, map[string]string{"": "object!"}},
		{"additionalProperties false", "3.0.3", map[string]string{
			"S": `{"type": "object", "additionalProperties": false}`,
		}, map[string]string{"": "object"}},
		{"untyped", "3.0.3", map[string]string{
			"S": `{"type": "object", "properties": {"any": {"description": "anything"}}}`,
		}, map[string]string{"": "object", "/any": "!"}},
		{"array without items", "3.1.0", map[string]string{
			"S": `{"type": "array"}`,
		}, map[string]string{"": "array!"}},
		{"nullable 3.0", "3.0.3", map[string]string{
			"S": `{"type": "object", "properties": {"n": {"type": "string", "nullable": true}}}`,
		}, map[string]string{"": "object", "/n": "string?"}},
		{"type arrays 3.1", "3.1.0", map[string]string{
			"S": `{"type": "object", "properties": {"n": {"type": ["integer", "null"]}, "l": {"type": ["array", "null"], "items": {"type": "string"}}}}`,
		}, map[string]string{"": "object", "/n": "integer?", "/l": "array?", "/l/*": "string"}},
		{"oneOf null 3.1", "3.1.0", map[string]string{
			"S": `{"type": "object", "properties": {"a": {"oneOf": [{"$ref": "#/components/schemas/A"}, {"type": "null"}]}}}`,
			"A": `{"type": "object", "properties": {"x": {"type": "string"}}}`,
		}, map[string]string{"": "object", "/a": "object?", "/a/x": "string"}},
		{"enum and const without type", "3.1.0", map[string]string{
			"S": `{"type": "object", "properties": {"e": {"enum": ["a", "b"]}, "n": {"enum": [1, 2.5]}, "c": {"const": true}}}`,
		}, map[string]string{"": "object", "/e": "string", "/n": "integer|number", "/c": "boolean"}},
		{"writeOnly dropped", "3.0.3", map[string]string{
			"S": `{"type": "object", "properties": {"password": {"type": "string", "writeOnly": true}, "q": {"type": "string"}}}`,
		}, map[string]string{"": "object", "/q": "string"}},
		{"recursion cut", "3.0.3", map[string]string{
			"S": `{"type": "object", "properties": {"v": {"type": "string"}, "child": {"$ref": "#/components/schemas/S"}}}`,
		}, map[string]string{"": "object", "/v": "string", "/child": "object!"}},
		{"recursion through allOf", "3.0.3", map[string]string{
			"S": `{"allOf": [{"$ref": "#/components/schemas/S"}], "type": "object", "properties": {"v": {"type": "string"}}}`,
		}, map[string]string{"": "object!", "/v": "string"}},
		{"allOf with a closed branch", "3.0.3", map[string]string{
			"S": `{"allOf": [{"$ref": "#/components/schemas/A"}, {"properties": {"b": {"type": "string"}}}]}`,
			"A": `{"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": false}`,
		}, map[string]string{"": "object", "/a": "integer"}},
		{"allOf with a closed oneOf (meilisearch DetailsView)", "3.1.0", map[string]string{
			"S": `{"allOf": [{"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/A"}]}, {"type": "object", "properties": {"b": {"type": "string"}}}]}`,
			"A": `{"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": false}`,
		}, map[string]string{"": "object?", "/a": "integer"}},
		{"allOf with a oneOf that has an open object branch", "3.0.3", map[string]string{
			"S": `{"allOf": [{"oneOf": [{"$ref": "#/components/schemas/A"}, {"type": "object", "properties": {"c": {"type": "string"}}}]}, {"properties": {"b": {"type": "string"}}}]}`,
			"A": `{"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": false}`,
		}, map[string]string{"": "object", "/a": "integer", "/b": "string", "/c": "string"}},
		{"closed object with its own allOf", "3.0.3", map[string]string{
			"S": `{"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": false, "allOf": [{"properties": {"b": {"type": "string"}}}]}`,
		}, map[string]string{"": "object", "/a": "integer"}},
		{"required but undeclared", "3.0.3", map[string]string{
			"S": `{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a", "CreatedAt"]}`,
		}, map[string]string{"": "object", "/a": "integer", "/CreatedAt": "!"}},
		{"required declared by an allOf sibling", "3.0.3", map[string]string{
			"S": `{"allOf": [{"properties": {"a": {"type": "integer"}}}, {"required": ["a"]}]}`,
		}, map[string]string{"": "object", "/a": "integer"}},
		{"oneOf of required-only branches", "3.0.3", map[string]string{
			"S": `{"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}, "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}`,
		}, map[string]string{"": "object", "/a": "integer", "/b": "string"}},
		{"required writeOnly", "3.0.3", map[string]string{
			"S": `{"type": "object", "properties": {"password": {"type": "string", "writeOnly": true}}, "required": ["password"]}`,
		}, map[string]string{"": "object"}},
		{"required but not allowed", "3.0.3", map[string]string{
			"S": `{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a", "b"], "additionalProperties": false}`,
		}, map[string]string{"": "object", "/a": "integer"}},
		{"escaped names", "3.0.3", map[string]string{
			"S": `{"type": "object", "properties": {"a/b": {"type": "string"}, "x~y": {"type": "string"}}}`,
		}, map[string]string{"": "object", "/a~1b": "string", "/x~0y": "string"}},
		{"prefixItems and patternProperties", "3.1.0", map[string]string{
			"S": `{"type": "object", "properties": {"t": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}, "p": {"type": "object", "patternProperties": {"^x": {"type": "boolean"}}}}}`,
		}, map[string]string{"": "object", "/t": "array", "/t/*": "string|integer", "/p": "object", "/p/{}": "boolean"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describe(Flatten(schemaDoc(t, tt.version, tt.schemas)))
			if !maps.Equal(got, tt.want) {
				t.Errorf("Flatten:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
	if got := describe(Flatten(nil)); !maps.Equal(got, map[string]string{"": "!"}) {
		t.Errorf("Flatten(nil) = %v", got)
	}
}

func TestDocumentedResponse(t *testing.T) {
	resp := func(keys ...string) *openapi3.Responses {
		r := openapi3.NewResponsesWithCapacity(len(keys))
		for _, k := range keys {
			r.Set(k, &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription(k)})
		}
		return r
	}
	tests := []struct {
		name   string
		orig   *openapi3.Responses
		status string
		want   string
	}{
		{"exact", resp("200", "4XX", "default"), "200", "200"},
		{"range", resp("200", "4XX", "default"), "404", "4XX"},
		{"lower-case range", resp("2xx"), "201", "2xx"},
		{"default", resp("200", "4XX", "default"), "503", "default"},
		{"none", resp("200"), "500", ""},
		{"no responses", nil, "200", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := documentedResponse(tt.orig, tt.status); got != tt.want {
				t.Errorf("documentedResponse(%q) = %q, want %q", tt.status, got, tt.want)
			}
		})
	}
}

func TestIsJSONMedia(t *testing.T) {
	tests := []struct {
		mt   string
		want bool
	}{
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"Application/JSON", true},
		{"application/problem+json", true},
		{"*/*", true},
		{"application/*", true},
		{"text/plain", false},
		{"application/x-ndjson", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.mt, func(t *testing.T) {
			if got := isJSONMedia(tt.mt); got != tt.want {
				t.Errorf("isJSONMedia(%q) = %v", tt.mt, got)
			}
		})
	}
}

func TestTypeString(t *testing.T) {
	tests := []struct {
		t    Type
		want string
	}{
		{0, ""},
		{TypeString, "string"},
		{TypeInteger | TypeNumber, "integer|number"},
		{TypeArray | TypeObject | TypeBoolean, "boolean|object|array"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.t.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
	if got := (TypeInteger | TypeNumber).normalize(); got != TypeNumber {
		t.Errorf("integer|number normalised to %v", got)
	}
}
