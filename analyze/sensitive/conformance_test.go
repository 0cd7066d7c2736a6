//go:build conformance

package sensitive

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// specsDir holds real OpenAPI documents nobody on the team wrote; the
// repository is checked out at X/main with X/shared beside it.
const specsDir = "../../../shared/data/specs"

// scalars calls f with every scalar of a YAML/JSON document and the name
// of the property it belongs to: the nearest mapping key that is not
// "example", "examples", "default", "value" or "enum".
func scalars(n *yaml.Node, name string, f func(name, value string)) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			scalars(c, name, f)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			switch k {
			case "example", "examples", "default", "value", "enum":
				k = name
			}
			scalars(n.Content[i+1], k, f)
		}
	case yaml.ScalarNode:
		f(name, n.Value)
	}
}

// TestConformanceSpecValues runs every scalar of the real specs (examples,
// defaults, enums, descriptions, patterns, …) through Field under its
// property name. The names flagged, and their classes, must be exactly the
// expected ones: a new false positive or a lost true positive fails.
func TestConformanceSpecValues(t *testing.T) {
	cases := []struct {
		file string
		min  int // scalars at least
		want map[string]Class
	}{
		{"apideck-crm/crm.yml", 5000, map[string]Class{
			"email": Email, "email_address": Email, "phone_number": Phone, "fax": Phone,
			"iban": IBAN, "password": Password,
		}},
		{"crapi/crapi-openapi-spec.json", 1000, map[string]Class{
			"email": Email, "new_email": Email, "old_email": Email, "password": Password,
			"token": APIKey, "number": Phone,
		}},
		{"meilisearch/open-api.json", 5000, map[string]Class{
			"email": Email, "searchApiKey": APIKey, "key": APIKey,
		}},
		{"vampi/openapi3.yml", 300, map[string]Class{
			"email": Email, "password": Password, "secret": Password, "auth_token": APIKey | JWT,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(specsDir, tc.file))
			if err != nil {
				t.Fatalf("the real specs are missing (%v): the conformance suite needs ../shared/data beside the repository", err)
			}
			var doc yaml.Node
			if err := yaml.Unmarshal(b, &doc); err != nil {
				t.Fatalf("parse %s: %v", tc.file, err)
			}
			got := map[string]Class{}
			n, flagged := 0, 0
			scalars(&doc, "", func(name, value string) {
				n++
				if c := Field(name, value); c != 0 {
					flagged++
					got[name] |= c
					if r := Redact(c, value); r == value || strings.Contains(r, value) {
						t.Errorf("Redact(%v, %q) = %q reveals the value", c, value, r)
					}
				}
			})
			if n < tc.min {
				t.Fatalf("only %d scalars in %s, want at least %d", n, tc.file, tc.min)
			}
			for _, name := range slices.Sorted(maps.Keys(got)) {
				if got[name] != tc.want[name] {
					t.Errorf("property %q: classes %v, want %v", name, got[name], tc.want[name])
				}
			}
			for _, name := range slices.Sorted(maps.Keys(tc.want)) {
				if _, ok := got[name]; !ok {
					t.Errorf("property %q: not flagged, want %v", name, tc.want[name])
				}
			}
			t.Logf("%s: %d scalars, %d flagged under %d property names", tc.file, n, flagged, len(got))
		})
	}
}
