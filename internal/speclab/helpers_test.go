package speclab

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/getkin/kin-openapi/openapi3"
)

// schemaCase is one schema of a spec with the direction its values go.
type schemaCase struct {
	name   string
	schema *openapi3.Schema
	dir    Direction
}

// schemaCases lists every schema of a spec once per direction it is used
// in: components (as responses), parameters and request bodies (as
// requests), responses.
func schemaCases(s *Spec) []schemaCase {
	var out []schemaCase
	type key struct {
		s   *openapi3.Schema
		dir Direction
	}
	seen := map[key]bool{}
	add := func(c schemaCase) {
		if !seen[key{c.schema, c.dir}] {
			seen[key{c.schema, c.dir}] = true
			out = append(out, c)
		}
	}
	if s.Doc.Components != nil {
		names := make([]string, 0, len(s.Doc.Components.Schemas))
		for n := range s.Doc.Components.Schemas {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			sr := s.Doc.Components.Schemas[n]
			if sr == nil || sr.Value == nil {
				continue
			}
			add(schemaCase{"components/" + n, sr.Value, ForResponse})
		}
	}
	for _, o := range s.Operations {
		for _, p := range o.Params {
			if p.Schema != nil && p.Schema.Value != nil {
				add(schemaCase{o.ID() + " param " + p.In + " " + p.Name, p.Schema.Value, ForRequest})
			}
		}
		if o.Op.RequestBody != nil && o.Op.RequestBody.Value != nil {
			for _, ct := range sortedKeys(o.Op.RequestBody.Value.Content) {
				mt := o.Op.RequestBody.Value.Content[ct]
				if mt != nil && mt.Schema != nil && mt.Schema.Value != nil {
					add(schemaCase{o.ID() + " request " + ct, mt.Schema.Value, ForRequest})
				}
			}
		}
		for _, r := range o.Responses {
			for _, ct := range sortedKeys(r.Value.Content) {
				mt := r.Value.Content[ct]
				if mt != nil && mt.Schema != nil && mt.Schema.Value != nil {
					add(schemaCase{o.ID() + " response " + r.Code + " " + ct, mt.Schema.Value, ForResponse})
				}
			}
		}
	}
	return out
}

// strictFormats makes VisitJSON check the formats the generator produces.
var strictFormats = []openapi3.SchemaValidationOption{
	openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC4122)),
	openapi3.WithStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail)),
	openapi3.WithStringFormatValidator("uri", openapi3.NewRegexpFormatValidator(`^https?://[^\s/$.?#].[^\s]*$`)),
	openapi3.WithStringFormatValidator("ipv4", openapi3.NewIPValidator(true)),
	openapi3.WithStringFormatValidator("ipv6", openapi3.NewIPValidator(false)),
}

// validateValue checks v (after a JSON round trip, as a peer would see it)
// against schema; strict2020 adds the JSON Schema 2020-12 validator that
// kin-openapi uses for OpenAPI 3.1 documents.
func validateValue(schema *openapi3.Schema, v any, dir Direction, strict2020 bool) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var decoded any
	if err := json.Unmarshal(b, &decoded); err != nil {
		return err
	}
	opts := slices.Clone(strictFormats)
	if dir == ForRequest {
		opts = append(opts, openapi3.VisitAsRequest())
	} else {
		opts = append(opts, openapi3.VisitAsResponse())
	}
	if strict2020 {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	if err := schema.VisitJSON(decoded, opts...); err != nil {
		return fmt.Errorf("%w\nvalue: %s", err, truncate(string(b), 600))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
