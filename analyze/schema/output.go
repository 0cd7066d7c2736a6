package schema

import (
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Schema returns the inferred schema in OpenAPI 3.0 form: a fresh value on
// each call that the caller owns. Nothing observed gives the empty schema
// (any value).
//
// The join of the observed types: integer ∪ number is number; null makes
// the schema nullable; other mixes are a oneOf of one schema per type
// (object, array, string, number or integer, boolean, in that order) with
// nullable on the first branch when null was seen, so that null matches
// exactly one branch. A field only ever null, and a value nested deeper
// than MaxDepth, are {} (any value; OpenAPI 3.0 has no null type, and
// nullable without a type means nothing). Text values (parameters, forms) that mix types are a
// plain string. Strings carry a format when every value matched it, and an
// enum when the value set is small and stable (see Config); numbers and
// booleans are never enums: observed numbers are rarely recognisable as
// codes. Integers are int32 when every value fit, else int64. An object's
// properties are in every case sorted (a map in the Schema), and required
// lists, sorted, the properties present in every object seen. Maps are
// objects with additionalProperties. Examples: the first kept example that
// fits the leaf is "example"; when more fit, all are listed in the
// extension ExamplesExtension (OpenAPI 3.0 has one example per schema; an
// exporter for 3.1 may move them to "examples").
//
// The result is deterministic: the same observations in the same order
// marshal to the same bytes. It validates with
// (*openapi3.Schema).Validate.
func (l *Learner) Schema() *openapi3.Schema {
	if l.root == nil || l.root.kinds == 0 {
		return &openapi3.Schema{}
	}
	return l.build(l.root)
}

// ExamplesExtension is the schema extension that lists all kept examples
// of a leaf when there are more than one ([]any).
const ExamplesExtension = "x-apitap-examples"

// typeOrder is the order of oneOf branches.
var typeOrder = [...]kind{kObj, kArr, kStr, kNum, kBool}

func (l *Learner) build(n *node) *openapi3.Schema {
	nullable := n.kinds&kNull != 0
	k := n.kinds &^ kNull
	if k&kAny != 0 || k == 0 {
		// Any value, or only null seen: {} (in OpenAPI 3.0 nullable
		// means nothing without a type, and linters reject it).
		return &openapi3.Schema{}
	}
	if k&kInt != 0 && k&kNum != 0 {
		k &^= kInt
	}
	if n.text && k&kStr != 0 && k != kStr || n.text && k&kBool != 0 && k&(kInt|kNum) != 0 {
		s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, Nullable: nullable}
		l.examples(n, s, kStr|kBool|kInt|kNum)
		return s
	}
	var branches []*openapi3.Schema
	for _, t := range typeOrder {
		var s *openapi3.Schema
		switch {
		case t == kNum && k&kInt != 0:
			s = l.buildInt(n)
		case k&t == 0:
			continue
		case t == kObj:
			s = l.buildObject(n)
		case t == kArr:
			s = l.buildArray(n)
		case t == kStr:
			s = l.buildString(n)
		case t == kNum:
			s = &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeNumber}}
			l.examples(n, s, kNum|kInt)
		case t == kBool:
			s = &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeBoolean}}
			l.examples(n, s, kBool)
		}
		branches = append(branches, s)
	}
	branches[0].Nullable = nullable
	if len(branches) == 1 {
		return branches[0]
	}
	one := &openapi3.Schema{OneOf: make(openapi3.SchemaRefs, len(branches))}
	for i, b := range branches {
		one.OneOf[i] = &openapi3.SchemaRef{Value: b}
	}
	return one
}

func (l *Learner) buildInt(n *node) *openapi3.Schema {
	s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeInteger}, Format: "int32"}
	if n.wide {
		s.Format = "int64"
	}
	l.examples(n, s, kInt)
	return s
}

func (l *Learner) buildString(n *node) *openapi3.Schema {
	s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, Format: n.format.name()}
	if n.enumOn && s.Format == "" {
		vals := slices.Clone(n.enum)
		slices.Sort(vals)
		s.Enum = make([]any, len(vals))
		for i, v := range vals {
			s.Enum[i] = v
		}
	}
	l.examples(n, s, kStr)
	return s
}

func (l *Learner) buildArray(n *node) *openapi3.Schema {
	s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeArray}}
	if n.items != nil && n.items.kinds != 0 {
		s.Items = &openapi3.SchemaRef{Value: l.build(n.items)}
	} else {
		s.Items = &openapi3.SchemaRef{Value: &openapi3.Schema{}}
	}
	return s
}

func (l *Learner) buildObject(n *node) *openapi3.Schema {
	s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}}
	if n.isMap {
		v := &openapi3.Schema{}
		if n.mapVal != nil && n.mapVal.kinds != 0 {
			v = l.build(n.mapVal)
		}
		s.AdditionalProperties = openapi3.AdditionalProperties{Schema: &openapi3.SchemaRef{Value: v}}
		return s
	}
	if len(n.order) == 0 {
		return s
	}
	s.Properties = make(openapi3.Schemas, len(n.order))
	for _, c := range n.order {
		if c.kinds == 0 { // only values that were skipped
			s.Properties[c.key] = &openapi3.SchemaRef{Value: &openapi3.Schema{}}
		} else {
			s.Properties[c.key] = &openapi3.SchemaRef{Value: l.build(c)}
		}
		if c.present == n.nObj {
			s.Required = append(s.Required, c.key)
		}
	}
	slices.Sort(s.Required)
	return s
}

// examples sets the examples of leaf schema s from those of n whose kind
// is in ks, keeping only values that the leaf accepts (type, format and
// enum): a redacted placeholder that does not fit is left out.
func (l *Learner) examples(n *node, s *openapi3.Schema, ks kind) {
	var out []any
	for _, e := range n.examples {
		if e.k&ks == 0 {
			continue
		}
		if v, ok := exampleValue(e, s); ok {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return
	}
	s.Example = out[0]
	if len(out) > 1 {
		s.Extensions = map[string]any{ExamplesExtension: out}
	}
}

// exampleValue converts a kept example to a value of leaf schema s, or
// reports that it does not fit s.
func exampleValue(e example, s *openapi3.Schema) (any, bool) {
	switch {
	case s.Type.Is(openapi3.TypeString):
		text := e.text
		if e.cut {
			text += "…"
		}
		if s.Format != "" && (e.cut || !matchFormat(formatByName(s.Format), []byte(text))) {
			return nil, false
		}
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, any(text)) {
			return nil, false
		}
		return text, true
	case s.Type.Is(openapi3.TypeInteger):
		v, err := strconv.ParseInt(e.text, 10, 64)
		if err != nil || s.Format == "int32" && int64(int32(v)) != v {
			return nil, false
		}
		return v, true
	case s.Type.Is(openapi3.TypeNumber):
		v, err := strconv.ParseFloat(e.text, 64)
		return v, err == nil
	case s.Type.Is(openapi3.TypeBoolean):
		v, err := strconv.ParseBool(e.text)
		return v, err == nil
	}
	return nil, false
}

func formatByName(name string) format {
	for f := fmtUUID; f <= fmtURI; f++ {
		if f.name() == name {
			return f
		}
	}
	return fmtNone
}

// Sensitive lists the fields that held sensitive values, sorted by
// pointer, with the classes seen and how many values were classified. Only
// classes and counts are kept, never the values.
func (l *Learner) Sensitive() []Field {
	if l.root == nil {
		return nil
	}
	var out []Field
	var walk func(n *node, ptr string)
	walk = func(n *node, ptr string) {
		if n.classes != 0 || n.keyClasses != 0 {
			out = append(out, Field{Pointer: ptr, Classes: n.classes | n.keyClasses, Count: n.sensCount + n.keySensCount})
		}
		for _, c := range n.order {
			walk(c, ptr+"/"+escapePointer(c.key))
		}
		if n.mapVal != nil {
			walk(n.mapVal, ptr+"/*")
		}
		if n.items != nil {
			walk(n.items, ptr+"/*")
		}
	}
	walk(l.root, "")
	slices.SortFunc(out, func(a, b Field) int { return strings.Compare(a.Pointer, b.Pointer) })
	return out
}

// escapePointer escapes a key as a JSON pointer token (RFC 6901).
func escapePointer(k string) string {
	if !strings.ContainsAny(k, "~/") {
		return k
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
}
