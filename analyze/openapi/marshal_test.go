package openapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/getkin/kin-openapi/openapi3"
)

func TestMarshalFormats(t *testing.T) {
	doc, err := Build(fixtureInventory(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		format  string
		json    bool
		wantErr bool
	}{
		{format: "yaml"}, {format: "YAML"}, {format: ".yml"}, {format: "yml"},
		{format: "json", json: true}, {format: ".JSON", json: true},
		{format: "xml", wantErr: true}, {format: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			b, err := Marshal(doc, tt.format)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "openapi: marshal") {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.json != json.Valid(b) {
				t.Errorf("json.Valid = %v", !tt.json)
			}
			if !strings.HasSuffix(string(b), "\n") || strings.HasSuffix(string(b), "\n\n") {
				t.Error("output does not end with exactly one newline")
			}
		})
	}
	if _, err := Marshal(nil, "yaml"); err == nil {
		t.Error("nil document marshalled")
	}
}

// TestMarshalYAMLAndJSONAgree decodes both renderings of each document:
// they hold the same tree, and the key order is the documented one.
func TestMarshalYAMLAndJSONAgree(t *testing.T) {
	for name, inv := range inventories() {
		for _, v := range versions {
			t.Run(name+"/"+v, func(t *testing.T) {
				doc, err := Build(inv, Options{Version: v})
				if err != nil {
					t.Fatal(err)
				}
				y, err := Marshal(doc, "yaml")
				if err != nil {
					t.Fatal(err)
				}
				j, err := Marshal(doc, "json")
				if err != nil {
					t.Fatal(err)
				}
				var fromYAML, fromJSON any
				if err := yaml.Unmarshal(y, &fromYAML); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(j, &fromJSON); err != nil {
					t.Fatal(err)
				}
				// Normalise numbers and map types through JSON.
				yj, err := json.Marshal(fromYAML)
				if err != nil {
					t.Fatal(err)
				}
				var fromYAMLNorm any
				if err := json.Unmarshal(yj, &fromYAMLNorm); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(fromYAMLNorm, fromJSON) {
					t.Error("YAML and JSON renderings differ")
				}
				// And both hold what kin-openapi itself marshals.
				kin, err := json.Marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				var fromKin any
				if err := json.Unmarshal(kin, &fromKin); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(fromKin, fromJSON) {
					t.Error("Marshal changed the document's content")
				}
			})
		}
	}
}

func TestMarshalKeyOrder(t *testing.T) {
	doc, err := Build(fixtureInventory(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	y, err := Marshal(doc, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(y, &root); err != nil {
		t.Fatal(err)
	}
	keys := func(n *yaml.Node) []string {
		var out []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, n.Content[i].Value)
		}
		return out
	}
	child := func(n *yaml.Node, key string) *yaml.Node {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
		t.Fatalf("no key %q in %v", key, keys(n))
		return nil
	}
	top := root.Content[0]
	tests := []struct {
		name string
		node *yaml.Node
		want string
	}{
		{"root", top, "openapi info servers paths components"},
		{"operation", child(child(child(top, "paths"), "/search"), "get"),
			"operationId summary security parameters responses x-apitap-auth x-apitap-calls x-apitap-clients x-apitap-first-seen x-apitap-last-seen x-apitap-origin"},
		{"parameter", child(child(child(child(top, "paths"), "/search"), "get"), "parameters").Content[1], "name in required schema"},
		{"schema with property names that are keywords",
			child(child(child(child(child(child(child(child(top, "paths"), "/events"), "post"), "requestBody"), "content"), "application/json"), "schema"), "properties"),
			"type"},
		{"responses sorted", child(child(child(child(top, "paths"), "/users/{userId}"), "get"), "responses"), "200 304 404 500"},
		{"sensitive entry", child(child(child(child(top, "paths"), "/users"), "post"), "x-apitap-sensitive").Content[0], "in pointer classes count"},
		{"security scheme", child(child(child(top, "components"), "securitySchemes"), "bearerJWT"), "type scheme bearerFormat description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(keys(tt.node), " "); got != tt.want {
				t.Errorf("keys = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMarshalStrings(t *testing.T) {
	values := []string{"on", "Off", "yes", "n", "1:20", "-1:20:30.5", "true", "null", "42", "4.2e1", "", " lead",
		"a: b", "# c", "line\nbreak", "tab\tin", "\x7f", "\u0085", "\u2028", "é", "\xff\xfe", "<b>&</b>", "{x}", "- item"}
	doc := &openapi3.T{OpenAPI: "3.0.3", Info: &openapi3.Info{Title: "t", Version: "1"}, Paths: openapi3.NewPaths(),
		Extensions: map[string]any{"x-values": values}}
	for _, format := range []string{"yaml", "json"} {
		b, err := Marshal(doc, format)
		if err != nil {
			t.Fatal(err)
		}
		var back struct {
			Values []string `yaml:"x-values" json:"x-values"`
		}
		if format == "yaml" {
			err = yaml.Unmarshal(b, &back)
		} else {
			err = json.Unmarshal(b, &back)
		}
		if err != nil {
			t.Fatalf("%s: %v\n%s", format, err, b)
		}
		for i, v := range values {
			var want string // what JSON makes of it: invalid UTF-8 bytes become U+FFFD
			if err := json.Unmarshal([]byte(jsonString(v)), &want); err != nil {
				t.Fatal(err)
			}
			if i >= len(back.Values) || back.Values[i] != want {
				t.Errorf("%s: value %d = %q, want %q", format, i, back.Values, want)
			}
		}
		if format == "yaml" {
			for _, old := range []string{`"on"`, `"Off"`, `"yes"`, `"n"`, `"1:20"`} {
				if !strings.Contains(string(b), old) {
					t.Errorf("YAML 1.1 special %s not quoted:\n%s", old, b)
				}
			}
		}
	}
}

func TestYAML11Special(t *testing.T) {
	tests := map[string]bool{
		"on": true, "OFF": true, "Yes": true, "y": true, "1:20": true, "+12:59": true, "1_000:30.5": true,
		"off-site": false, "yesterday": false, "1:60": false, "12:": false, ":30": false, "1:2:3": true, "10:00Z": false, "": false,
	}
	for s, want := range tests {
		if got := yaml11Special(s); got != want {
			t.Errorf("yaml11Special(%q) = %v, want %v", s, got, want)
		}
	}
}
