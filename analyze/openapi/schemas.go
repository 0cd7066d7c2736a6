package openapi

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"

	"github.com/getkin/kin-openapi/openapi3"
)

// extSensitive is the extension naming the sensitive-data classes seen in
// a schema property, a parameter or (as a list of fields) an operation.
const extSensitive = "x-apitap-sensitive"

// cloner deep-copies schemas so that the document Build returns shares no
// memory with the inventory (Build adapts schemas in place afterwards).
// Shared sub-schemas stay shared in the copy and cycles are preserved.
type cloner struct {
	done map[*openapi3.Schema]*openapi3.Schema
}

func (c *cloner) schema(s *openapi3.Schema) *openapi3.Schema {
	if s == nil {
		return nil
	}
	if d, ok := c.done[s]; ok {
		return d
	}
	if c.done == nil {
		c.done = make(map[*openapi3.Schema]*openapi3.Schema)
	}
	d := new(openapi3.Schema)
	c.done[s] = d
	*d = *s
	d.Origin = nil
	d.Extensions = cloneAnyMap(s.Extensions)
	d.OneOf = c.refs(s.OneOf)
	d.AnyOf = c.refs(s.AnyOf)
	d.AllOf = c.refs(s.AllOf)
	d.Not = c.ref(s.Not)
	if s.Type != nil {
		t := s.Type.Clone()
		d.Type = &t
	}
	d.Enum = cloneAnySlice(s.Enum)
	d.Default = cloneAny(s.Default)
	d.Example = cloneAny(s.Example)
	d.Examples = cloneAnySlice(s.Examples)
	d.Const = cloneAny(s.Const)
	d.Min = cloneFloat(s.Min)
	d.Max = cloneFloat(s.Max)
	d.MultipleOf = cloneFloat(s.MultipleOf)
	d.ExclusiveMin = cloneBound(s.ExclusiveMin)
	d.ExclusiveMax = cloneBound(s.ExclusiveMax)
	d.Items = c.ref(s.Items)
	d.Required = slices.Clone(s.Required)
	d.Properties = c.schemas(s.Properties)
	d.AdditionalProperties = c.boolSchema(s.AdditionalProperties)
	d.PrefixItems = c.refs(s.PrefixItems)
	d.Contains = c.ref(s.Contains)
	d.PatternProperties = c.schemas(s.PatternProperties)
	d.DependentSchemas = c.schemas(s.DependentSchemas)
	d.PropertyNames = c.ref(s.PropertyNames)
	d.UnevaluatedItems = c.boolSchema(s.UnevaluatedItems)
	d.UnevaluatedProperties = c.boolSchema(s.UnevaluatedProperties)
	d.If, d.Then, d.Else = c.ref(s.If), c.ref(s.Then), c.ref(s.Else)
	d.Defs = c.schemas(s.Defs)
	d.ContentSchema = c.ref(s.ContentSchema)
	return d
}

func (c *cloner) ref(r *openapi3.SchemaRef) *openapi3.SchemaRef {
	if r == nil {
		return nil
	}
	if r.Value == nil {
		return &openapi3.SchemaRef{Ref: r.Ref, Extensions: cloneAnyMap(r.Extensions)}
	}
	// Inventory schemas are inline; a $ref could not be resolved in the
	// exported document, so only the value is kept.
	return &openapi3.SchemaRef{Value: c.schema(r.Value)}
}

func (c *cloner) refs(rs openapi3.SchemaRefs) openapi3.SchemaRefs {
	if rs == nil {
		return nil
	}
	out := make(openapi3.SchemaRefs, len(rs))
	for i, r := range rs {
		out[i] = c.ref(r)
	}
	return out
}

func (c *cloner) schemas(m openapi3.Schemas) openapi3.Schemas {
	if m == nil {
		return nil
	}
	out := make(openapi3.Schemas, len(m))
	for k, r := range m {
		out[k] = c.ref(r)
	}
	return out
}

func (c *cloner) boolSchema(b openapi3.BoolSchema) openapi3.BoolSchema {
	var out openapi3.BoolSchema
	if b.Has != nil {
		out.Has = new(*b.Has)
	}
	out.Schema = c.ref(b.Schema)
	return out
}

func cloneFloat(f *float64) *float64 {
	if f == nil {
		return nil
	}
	return new(*f)
}

func cloneBound(b openapi3.ExclusiveBound) openapi3.ExclusiveBound {
	var out openapi3.ExclusiveBound
	if b.Bool != nil {
		out.Bool = new(*b.Bool)
	}
	out.Value = cloneFloat(b.Value)
	return out
}

// cloneAny deep-copies a JSON-like value (maps, slices, scalars).
func cloneAny(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneAnyMap(x)
	case []any:
		return cloneAnySlice(x)
	case []string:
		return slices.Clone(x)
	default:
		return v
	}
}

func cloneAnyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneAny(v)
	}
	return out
}

func cloneAnySlice(s []any) []any {
	if s == nil {
		return nil
	}
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = cloneAny(v)
	}
	return out
}

// walkSchema calls fn on s and every schema below it, each once (shared
// sub-schemas and cycles included), parents before children.
func walkSchema(s *openapi3.Schema, seen map[*openapi3.Schema]bool, fn func(*openapi3.Schema)) {
	if s == nil || seen[s] {
		return
	}
	seen[s] = true
	fn(s)
	for _, r := range children(s) {
		if r != nil {
			walkSchema(r.Value, seen, fn)
		}
	}
}

// children lists the sub-schemas of s in a fixed order.
func children(s *openapi3.Schema) []*openapi3.SchemaRef {
	var out []*openapi3.SchemaRef
	out = append(out, s.OneOf...)
	out = append(out, s.AnyOf...)
	out = append(out, s.AllOf...)
	out = append(out, s.Not, s.Items, s.AdditionalProperties.Schema, s.Contains, s.PropertyNames,
		s.UnevaluatedItems.Schema, s.UnevaluatedProperties.Schema, s.If, s.Then, s.Else, s.ContentSchema)
	out = append(out, s.PrefixItems...)
	for _, m := range []openapi3.Schemas{s.Properties, s.PatternProperties, s.DependentSchemas, s.Defs} {
		for _, k := range sortedKeys(m) {
			out = append(out, m[k])
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// to30 brings one schema node into OpenAPI 3.0 form, whatever form its
// producer used: a type list with "null" becomes nullable, several other
// types become oneOf, examples become one example, const becomes a
// one-value enum, numeric exclusive bounds become the boolean form, an
// array without items gets items of any type.
func to30(s *openapi3.Schema) {
	if s.Type != nil && len(*s.Type) > 0 {
		var types []string
		for _, t := range *s.Type {
			if t == openapi3.TypeNull {
				s.Nullable = true
				continue
			}
			if !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
		switch len(types) {
		case 0:
			s.Type = nil
		case 1:
			s.Type = &openapi3.Types{types[0]}
		default:
			s.Type = nil
			for _, t := range types {
				s.OneOf = append(s.OneOf, openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{t}}))
			}
		}
	}
	if s.Example == nil && len(s.Examples) > 0 {
		s.Example = s.Examples[0]
	}
	s.Examples = nil
	if s.Const != nil {
		if s.Enum == nil {
			s.Enum = []any{s.Const}
		}
		s.Const = nil
	}
	if v := s.ExclusiveMin.Value; v != nil {
		s.Min, s.ExclusiveMin = new(*v), openapi3.ExclusiveBound{Bool: new(true)}
	}
	if v := s.ExclusiveMax.Value; v != nil {
		s.Max, s.ExclusiveMax = new(*v), openapi3.ExclusiveBound{Bool: new(true)}
	}
	if s.Type.Is(openapi3.TypeArray) && s.Items == nil {
		// OpenAPI 3.0 requires items beside type array (an array seen only
		// empty): items of any type.
		s.Items = openapi3.NewSchemaRef("", &openapi3.Schema{})
	}
	if s.Nullable && s.Enum != nil && !slices.Contains(s.Enum, nil) {
		// OpenAPI 3.0.3: a nullable enum allows null only when null is listed.
		s.Enum = append(s.Enum, nil)
	}
}

// to31 turns one schema node from OpenAPI 3.0 form into 3.1 (JSON Schema
// 2020-12) form: nullable becomes "null" in the type list (or a
// {type: null} branch of oneOf/anyOf), example becomes examples, boolean
// exclusive bounds become numeric ones.
func to31(s *openapi3.Schema) {
	if s.Nullable {
		s.Nullable = false
		switch {
		case s.Type != nil && len(*s.Type) > 0:
			t := s.Type.Clone()
			t.With(openapi3.TypeNull)
			s.Type = &t
		case len(s.OneOf) > 0:
			s.OneOf = appendNullBranch(s.OneOf)
		case len(s.AnyOf) > 0:
			s.AnyOf = appendNullBranch(s.AnyOf)
		}
		// Without a type the schema already accepts null.
	}
	if s.Example != nil {
		s.Examples = append(s.Examples, s.Example)
		s.Example = nil
	}
	if b := s.ExclusiveMin.Bool; b != nil {
		s.ExclusiveMin = openapi3.ExclusiveBound{}
		if *b && s.Min != nil {
			s.ExclusiveMin.Value, s.Min = s.Min, nil
		}
	}
	if b := s.ExclusiveMax.Bool; b != nil {
		s.ExclusiveMax = openapi3.ExclusiveBound{}
		if *b && s.Max != nil {
			s.ExclusiveMax.Value, s.Max = s.Max, nil
		}
	}
}

// nullable30 rewrites a nullable schema without a type for OpenAPI 3.0,
// where nullable has no effect without a type beside it: a oneOf becomes an
// anyOf (null then matches several branches, which oneOf would reject) and
// the branches of the anyOf become nullable; a schema that allows any value
// just loses the keyword.
func nullable30(s *openapi3.Schema) {
	if !s.Nullable || (s.Type != nil && len(*s.Type) > 0) {
		return
	}
	s.Nullable = false
	if len(s.OneOf) > 0 && len(s.AnyOf) == 0 {
		s.AnyOf, s.OneOf = s.OneOf, nil
	}
	for _, r := range s.AnyOf {
		if r != nil && r.Value != nil {
			r.Value.Nullable = true
		}
	}
}

func appendNullBranch(rs openapi3.SchemaRefs) openapi3.SchemaRefs {
	for _, r := range rs {
		if r != nil && r.Value != nil && r.Value.Type.Is(openapi3.TypeNull) {
			return rs
		}
	}
	return append(rs, openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeNull}}))
}

// checkExamples keeps a schema's examples only when they are valid for the
// schema (a redacted or cut example can fail a format, a pattern or an
// enum): one invalid example would make the whole document invalid.
// Examples are first normalised to what encoding/json decodes (float64
// numbers and so on). v31 validates as JSON Schema 2020-12, as kin-openapi
// does for OpenAPI 3.1 documents.
func checkExamples(s *openapi3.Schema, v31 bool) {
	opts := []openapi3.SchemaValidationOption{openapi3.DisableReadOnlyValidation(), openapi3.DisableWriteOnlyValidation()}
	if v31 {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	valid := func(x any) (any, bool) {
		b, err := json.Marshal(x)
		if err != nil {
			return nil, false
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil || v == nil {
			return nil, false
		}
		return v, s.VisitJSON(v, opts...) == nil
	}
	if s.Example != nil {
		v, ok := valid(s.Example)
		s.Example = nil
		if ok {
			s.Example = v
		}
	}
	if s.Examples != nil {
		kept := s.Examples[:0]
		for _, x := range s.Examples {
			if v, ok := valid(x); ok {
				kept = append(kept, v)
			}
		}
		s.Examples = kept
		if len(kept) == 0 {
			s.Examples = nil
		}
	}
}

// jsonEqual reports whether two values marshal to the same JSON.
func jsonEqual(a, b any) bool {
	x, errA := json.Marshal(a)
	y, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(x, y)
}

// singleType returns the schema's only type, or "" when it has none or
// several.
func singleType(s *openapi3.Schema) string {
	if s == nil || s.Type == nil || len(*s.Type) != 1 {
		return ""
	}
	return (*s.Type)[0]
}

// joinSchemas joins the schemas two endpoints learned for the same thing
// (the same operation served by two hosts): equal schemas stay as they
// are, objects merge their properties (required only when required in
// both), arrays join their items, integer and number give number, the same
// scalar type keeps what both agree on, and real conflicts become oneOf.
// The result may share nodes with a and b, which are Build's own copies.
func joinSchemas(a, b *openapi3.Schema) *openapi3.Schema {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	if jsonEqual(a, b) {
		return a
	}
	ta, tb := singleType(a), singleType(b)
	out := *a
	out.Extensions = mergeSensitiveExt(a.Extensions, b.Extensions)
	out.Nullable = a.Nullable || b.Nullable
	switch {
	case ta == "object" && tb == "object":
		out.Properties = make(openapi3.Schemas, len(a.Properties)+len(b.Properties))
		for k, r := range a.Properties {
			out.Properties[k] = r
		}
		for k, r := range b.Properties {
			if x, ok := out.Properties[k]; ok && x != nil && r != nil {
				out.Properties[k] = openapi3.NewSchemaRef("", joinSchemas(x.Value, r.Value))
			} else {
				out.Properties[k] = r
			}
		}
		if len(out.Properties) == 0 {
			out.Properties = nil
		}
		out.Required = nil
		for _, k := range a.Required {
			if slices.Contains(b.Required, k) {
				out.Required = append(out.Required, k)
			}
		}
		switch as, bs := a.AdditionalProperties.Schema, b.AdditionalProperties.Schema; {
		case as != nil && bs != nil:
			out.AdditionalProperties = openapi3.BoolSchema{Schema: openapi3.NewSchemaRef("", joinSchemas(as.Value, bs.Value))}
		case bs != nil:
			out.AdditionalProperties = b.AdditionalProperties
		}
		out.Example = nil
	case ta == "array" && tb == "array":
		switch {
		case a.Items != nil && b.Items != nil:
			out.Items = openapi3.NewSchemaRef("", joinSchemas(a.Items.Value, b.Items.Value))
		case b.Items != nil:
			out.Items = b.Items
		}
		out.Example = nil
	case ta != "" && ta == tb, ta == "integer" && tb == "number", ta == "number" && tb == "integer":
		if ta != tb {
			out.Type = &openapi3.Types{"number"}
		}
		if a.Format != b.Format || ta != tb {
			out.Format = ""
		}
		if a.Enum != nil && b.Enum != nil {
			out.Enum = slices.Clone(a.Enum)
			for _, v := range b.Enum {
				if !slices.ContainsFunc(out.Enum, func(x any) bool { return jsonEqual(x, v) }) {
					out.Enum = append(out.Enum, v)
				}
			}
		} else {
			out.Enum = nil
		}
		if ta != tb {
			out.Example = nil
		}
	default:
		out = openapi3.Schema{Nullable: out.Nullable, Extensions: out.Extensions}
		for _, s := range []*openapi3.Schema{a, b} {
			alts := []*openapi3.Schema{s}
			if s.Type == nil && len(s.OneOf) > 0 {
				alts = alts[:0]
				for _, r := range s.OneOf {
					if r != nil && r.Value != nil {
						alts = append(alts, r.Value)
					}
				}
			}
			for _, alt := range alts {
				if !slices.ContainsFunc(out.OneOf, func(r *openapi3.SchemaRef) bool { return jsonEqual(r.Value, alt) }) {
					out.OneOf = append(out.OneOf, openapi3.NewSchemaRef("", alt))
				}
			}
		}
	}
	return &out
}

// mergeSensitiveExt joins the extensions of two schemas, uniting their
// sensitive classes.
func mergeSensitiveExt(a, b map[string]any) map[string]any {
	if len(b) == 0 {
		return a
	}
	out := cloneAnyMap(a)
	if out == nil {
		out = make(map[string]any, len(b))
	}
	for k, v := range b {
		if k == extSensitive {
			out[k] = unionClasses(out[k], v)
			continue
		}
		if _, ok := out[k]; !ok {
			out[k] = cloneAny(v)
		}
	}
	return out
}

// unionClasses unites two class lists ([]string or []any of strings) into a
// sorted []string.
func unionClasses(a, b any) []string {
	var out []string
	add := func(v any) {
		switch x := v.(type) {
		case []string:
			for _, s := range x {
				if !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok && !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		}
	}
	add(a)
	add(b)
	sort.Strings(out)
	return out
}

// annotateSensitive marks the schema nodes a JSON pointer reaches
// ("/user/email", "/items/*/card"; "*" is any array item or map value)
// with the sensitive classes seen there. A pointer that reaches nothing
// marks nothing: the operation-level extension still lists it.
func annotateSensitive(s *openapi3.Schema, tokens []string, classes []string, depth int) {
	if s == nil || depth > 64 {
		return
	}
	for _, alts := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf, s.AllOf} {
		for _, r := range alts {
			if r != nil {
				annotateSensitive(r.Value, tokens, classes, depth+1)
			}
		}
	}
	if len(tokens) == 0 {
		if s.Extensions == nil {
			s.Extensions = make(map[string]any, 1)
		}
		s.Extensions[extSensitive] = unionClasses(s.Extensions[extSensitive], classes)
		return
	}
	tok, rest := tokens[0], tokens[1:]
	if tok == "*" && s.Items != nil {
		annotateSensitive(s.Items.Value, rest, classes, depth+1)
		return
	}
	if r, ok := s.Properties[tok]; ok && r != nil {
		annotateSensitive(r.Value, rest, classes, depth+1)
		return
	}
	if r := s.AdditionalProperties.Schema; r != nil {
		annotateSensitive(r.Value, rest, classes, depth+1)
	}
}
