package speclab

import (
	"math"
	"slices"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// typeSet is a set of JSON types.
type typeSet uint8

const (
	tNull typeSet = 1 << iota
	tBool
	tInt
	tNum
	tStr
	tArr
	tObj

	tAny = tBool | tInt | tNum | tStr | tArr | tObj
)

var typeBits = map[string]typeSet{
	openapi3.TypeNull: tNull, openapi3.TypeBoolean: tBool, openapi3.TypeInteger: tInt,
	openapi3.TypeNumber: tNum | tInt, openapi3.TypeString: tStr, openapi3.TypeArray: tArr, openapi3.TypeObject: tObj,
}

// choice is a oneOf (one) or anyOf group still to be resolved.
type choice struct {
	one      bool
	branches []*openapi3.Schema
}

// node is the conjunction of the schemas that constrain one value: a schema
// with its allOf parts merged in, and later the branch picked for each of its
// oneOf/anyOf groups. Nodes are built per value and never shared.
type node struct {
	types typeSet
	// nullExplicit is set when some part names null explicitly (type null,
	// or nullable in OpenAPI 3.0): untyped parts let null through, but the
	// generator only produces null where the spec asks for it.
	nullExplicit bool
	// forceNull: the top schema of an OpenAPI 3.0 document is nullable,
	// which accepts null before looking at anything else.
	forceNull bool

	enum     []any
	hasEnum  bool
	constVal any
	hasConst bool

	format   string
	patterns []string
	minLen   uint64
	maxLen   *uint64

	min, max         *float64
	exclMin, exclMax bool
	multipleOf       *float64

	items      []*openapi3.Schema
	itemsFalse bool
	prefix     []*openapi3.Schema
	minItems   uint64
	maxItems   *uint64
	unique     bool

	props    map[string][]*openapi3.Schema
	required map[string]bool
	allowed  map[string]bool // nil: any property name; else only these (additionalProperties: false)
	addl     []*openapi3.Schema
	addlTrue bool
	keys     []*openapi3.Schema // propertyNames
	minProps uint64
	maxProps *uint64

	choices  []choice
	nots     []*openapi3.Schema
	examples []any

	readOnly, writeOnly bool
	merges              int
}

// builder turns schemas into nodes for one document version. Nodes of
// single schemas are cached (cache may be nil): a node is never modified
// once built, only cloned.
type builder struct {
	v31   bool
	cache *sync.Map // *openapi3.Schema → *node
}

// maxMerges bounds the allOf parts merged into one node (cyclic allOf).
const maxMerges = 64

func (b builder) build(schemas ...*openapi3.Schema) *node {
	if len(schemas) == 1 && b.cache != nil {
		if n, ok := b.cache.Load(schemas[0]); ok {
			return n.(*node)
		}
		n := b.buildNew(schemas...)
		b.cache.Store(schemas[0], n)
		return n
	}
	return b.buildNew(schemas...)
}

func (b builder) buildNew(schemas ...*openapi3.Schema) *node {
	n := &node{types: tAny | tNull}
	for _, s := range schemas {
		b.add(n, s)
	}
	if len(schemas) == 1 && schemas[0] != nil && !b.v31 && b.ownNull(schemas[0]) {
		n.forceNull = true
	}
	return n
}

func (b builder) ownNull(s *openapi3.Schema) bool {
	return s.Type.IncludesNull() || (!b.v31 && s.Nullable)
}

// ownTypes is what one schema's own type keywords allow.
func (b builder) ownTypes(s *openapi3.Schema) typeSet {
	if s.Type.IsEmpty() {
		t := tAny
		if b.v31 || len(s.OneOf)+len(s.AnyOf)+len(s.AllOf) > 0 || s.Nullable {
			t |= tNull
		}
		return t
	}
	var t typeSet
	for _, x := range s.Type.Slice() {
		t |= typeBits[x]
	}
	if !b.v31 && s.Nullable {
		t |= tNull
	}
	return t
}

func (b builder) add(n *node, s *openapi3.Schema) {
	if s == nil || n.merges >= maxMerges {
		return
	}
	n.merges++
	if s.Always != nil {
		if !*s.Always {
			n.types = 0
		}
		return
	}
	n.types &= b.ownTypes(s)
	if b.ownNull(s) {
		n.nullExplicit = true
	}
	if s.Enum != nil {
		if n.hasEnum {
			n.enum = slices.DeleteFunc(slices.Clone(n.enum), func(v any) bool { return !containsValue(s.Enum, v) })
		} else {
			n.enum, n.hasEnum = s.Enum, true
		}
	}
	if s.Const != nil {
		n.constVal, n.hasConst = s.Const, true
	}
	if s.Format != "" && n.format == "" {
		n.format = s.Format
	}
	if s.Pattern != "" {
		n.patterns = append(n.patterns, s.Pattern)
	}
	n.minLen = max(n.minLen, s.MinLength)
	n.maxLen = minPtr(n.maxLen, s.MaxLength)
	// Numeric bounds: OpenAPI 3.0 exclusive flags qualify minimum/maximum,
	// 3.1 exclusive bounds are numbers of their own.
	if s.Min != nil {
		b.lower(n, *s.Min, s.ExclusiveMin.IsTrue())
	}
	if v := s.ExclusiveMin.Value; v != nil {
		b.lower(n, *v, true)
	}
	if s.Max != nil {
		b.upper(n, *s.Max, s.ExclusiveMax.IsTrue())
	}
	if v := s.ExclusiveMax.Value; v != nil {
		b.upper(n, *v, true)
	}
	if s.MultipleOf != nil && *s.MultipleOf > 0 {
		n.multipleOf = s.MultipleOf
	}
	if s.Items != nil && s.Items.Value != nil {
		if a := s.Items.Value.Always; a != nil && !*a {
			n.itemsFalse = true
		} else {
			n.items = append(n.items, s.Items.Value)
		}
	}
	if len(s.PrefixItems) > 0 && len(n.prefix) == 0 {
		for _, p := range s.PrefixItems {
			n.prefix = append(n.prefix, p.Value)
		}
	}
	n.minItems = max(n.minItems, s.MinItems)
	n.maxItems = minPtr(n.maxItems, s.MaxItems)
	n.unique = n.unique || s.UniqueItems
	if len(s.Properties) > 0 && n.props == nil {
		n.props = map[string][]*openapi3.Schema{}
	}
	for name, p := range s.Properties {
		if p != nil && p.Value != nil {
			n.props[name] = append(n.props[name], p.Value)
		}
	}
	for _, r := range s.Required {
		if n.required == nil {
			n.required = map[string]bool{}
		}
		n.required[r] = true
	}
	ap := s.AdditionalProperties
	switch {
	case ap.Has != nil && !*ap.Has:
		own := map[string]bool{}
		for name := range s.Properties {
			if n.allowed == nil || n.allowed[name] {
				own[name] = true
			}
		}
		n.allowed = own
	case ap.Has != nil && *ap.Has:
		n.addlTrue = true
	case ap.Schema != nil && ap.Schema.Value != nil:
		if a := ap.Schema.Value.Always; a != nil && !*a {
			own := map[string]bool{}
			for name := range s.Properties {
				own[name] = true
			}
			n.allowed = own
		} else {
			n.addl = append(n.addl, ap.Schema.Value)
		}
	}
	if s.PropertyNames != nil && s.PropertyNames.Value != nil {
		n.keys = append(n.keys, s.PropertyNames.Value)
	}
	n.minProps = max(n.minProps, s.MinProps)
	n.maxProps = minPtr(n.maxProps, s.MaxProps)
	if len(s.OneOf) > 0 {
		n.choices = append(n.choices, choice{one: true, branches: values(s.OneOf)})
	}
	if len(s.AnyOf) > 0 {
		n.choices = append(n.choices, choice{branches: values(s.AnyOf)})
	}
	if s.Not != nil && s.Not.Value != nil {
		n.nots = append(n.nots, s.Not.Value)
	}
	if s.Example != nil {
		n.examples = append(n.examples, s.Example)
	}
	n.examples = append(n.examples, s.Examples...)
	n.readOnly = n.readOnly || s.ReadOnly
	n.writeOnly = n.writeOnly || s.WriteOnly
	for _, p := range s.AllOf {
		b.add(n, p.Value)
	}
}

func (b builder) lower(n *node, v float64, excl bool) {
	if n.min == nil || v > *n.min || (v == *n.min && excl) {
		n.min, n.exclMin = &v, excl
	}
}

func (b builder) upper(n *node, v float64, excl bool) {
	if n.max == nil || v < *n.max || (v == *n.max && excl) {
		n.max, n.exclMax = &v, excl
	}
}

func values(refs openapi3.SchemaRefs) []*openapi3.Schema {
	out := make([]*openapi3.Schema, 0, len(refs))
	for _, r := range refs {
		if r != nil && r.Value != nil {
			out = append(out, r.Value)
		}
	}
	return out
}

func minPtr(a, b *uint64) *uint64 {
	if a == nil {
		return b
	}
	if b == nil || *a <= *b {
		return a
	}
	return b
}

// clone copies a node so that merging into the copy leaves n unchanged.
func (n *node) clone() *node {
	c := *n
	c.enum = slices.Clone(n.enum)
	c.patterns = slices.Clone(n.patterns)
	c.items = slices.Clone(n.items)
	c.prefix = slices.Clone(n.prefix)
	c.addl = slices.Clone(n.addl)
	c.keys = slices.Clone(n.keys)
	c.choices = slices.Clone(n.choices)
	c.nots = slices.Clone(n.nots)
	c.examples = slices.Clone(n.examples)
	if n.props != nil {
		c.props = make(map[string][]*openapi3.Schema, len(n.props))
		for k, v := range n.props {
			c.props[k] = slices.Clone(v)
		}
	}
	if n.required != nil {
		c.required = make(map[string]bool, len(n.required))
		for k, v := range n.required {
			c.required[k] = v
		}
	}
	if n.allowed != nil {
		c.allowed = make(map[string]bool, len(n.allowed))
		for k, v := range n.allowed {
			c.allowed[k] = v
		}
	}
	return &c
}

// canNull reports whether the generator may produce null here.
func (n *node) canNull(v31 bool) bool {
	if n.forceNull {
		return true
	}
	if n.types&tNull == 0 || !n.nullExplicit {
		return false
	}
	if n.hasEnum && !containsValue(n.enum, nil) {
		return false
	}
	return !n.hasConst
}

// containsValue compares JSON-like values, numbers by value.
func containsValue(xs []any, v any) bool {
	for _, x := range xs {
		if jsonEqual(x, v) {
			return true
		}
	}
	return false
}

func jsonEqual(a, b any) bool {
	fa, oka := toFloat(a)
	fb, okb := toFloat(b)
	if oka || okb {
		return oka && okb && fa == fb
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

// jsonType is the type bit of a Go value decoded from JSON or YAML.
func jsonType(v any) typeSet {
	switch x := v.(type) {
	case nil:
		return tNull
	case bool:
		return tBool
	case string:
		return tStr
	case []any:
		return tArr
	case map[string]any:
		return tObj
	default:
		if f, ok := toFloat(x); ok {
			if f == math.Trunc(f) {
				return tInt
			}
			return tNum
		}
	}
	return 0
}
