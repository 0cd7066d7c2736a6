package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// noExamples is a Config without examples, for tests that compare whole
// schemas.
var noExamples = Config{MaxExamples: -1}

// learnJSON feeds docs to a new learner and fails the test on an error.
func learnJSON(t testing.TB, cfg *Config, docs ...string) *Learner {
	t.Helper()
	l := New(cfg)
	for _, d := range docs {
		if err := l.ObserveJSON([]byte(d)); err != nil {
			t.Fatalf("ObserveJSON(%.80q): %v", d, err)
		}
	}
	return l
}

// schemaJSON returns the learner's schema marshalled, after checking that
// it passes kin-openapi validation for OpenAPI 3.0 and 3.1.
func schemaJSON(t testing.TB, l *Learner) string {
	t.Helper()
	s := l.Schema()
	mustValidate(t, s)
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("marshal schema: %v", err)
	}
	return string(b)
}

func mustValidate(t testing.TB, s *openapi3.Schema) {
	t.Helper()
	if err := lintSchema(s); err != nil {
		b, _ := json.Marshal(s)
		t.Fatalf("%v\n%s", err, b)
	}
	if err := s.Validate(context.Background(), openapi3.EnableSchemaFormatValidation()); err != nil {
		b, _ := json.Marshal(s)
		t.Fatalf("schema does not validate (3.0): %v\n%s", err, b)
	}
	if err := s.Validate(context.Background(), openapi3.IsOpenAPI31OrLater()); err != nil {
		b, _ := json.Marshal(s)
		t.Fatalf("schema does not validate (3.1 options): %v\n%s", err, b)
	}
}

// canon re-marshals a JSON text so that expectations can be written with
// any key order and spacing.
func canon(t testing.TB, s string) string {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("bad expectation %q: %v", s, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lintSchema checks what kin-openapi lets through but linters (Redocly's
// recommended rules) reject: nullable without a type.
func lintSchema(s *openapi3.Schema) error {
	if s == nil {
		return nil
	}
	if s.Nullable && s.Type.IsEmpty() {
		return fmt.Errorf("nullable without a type")
	}
	var refs []*openapi3.SchemaRef
	refs = append(refs, s.OneOf...)
	refs = append(refs, s.Items, s.AdditionalProperties.Schema)
	for _, p := range s.Properties {
		refs = append(refs, p)
	}
	for _, r := range refs {
		if r != nil {
			if err := lintSchema(r.Value); err != nil {
				return err
			}
		}
	}
	return nil
}
