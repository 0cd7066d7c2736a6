package accuracy

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// MaxDepth is the number of pointer segments below which Flatten stops
// and marks the node open. Schemas of real APIs are far shallower; the
// bound only guards against pathological documents.
const MaxDepth = 64

// Type is a set of JSON types.
type Type uint8

// The JSON types (null is kept apart, as Node.Nullable).
const (
	TypeString Type = 1 << iota
	TypeInteger
	TypeNumber
	TypeBoolean
	TypeObject
	TypeArray
)

// normalize returns the set with integer absorbed by number.
func (t Type) normalize() Type {
	if t&TypeNumber != 0 {
		return t &^ TypeInteger
	}
	return t
}

// numeric returns the set with integer counted as number.
func (t Type) numeric() Type {
	if t&TypeInteger != 0 {
		return t&^TypeInteger | TypeNumber
	}
	return t
}

// String names the types, "|"-separated in a fixed order ("" for none).
func (t Type) String() string {
	var names []string
	for b := TypeString; b <= TypeArray; b <<= 1 {
		if t&b == 0 {
			continue
		}
		switch b {
		case TypeString:
			names = append(names, openapi3.TypeString)
		case TypeInteger:
			names = append(names, openapi3.TypeInteger)
		case TypeNumber:
			names = append(names, openapi3.TypeNumber)
		case TypeBoolean:
			names = append(names, openapi3.TypeBoolean)
		case TypeObject:
			names = append(names, openapi3.TypeObject)
		case TypeArray:
			names = append(names, openapi3.TypeArray)
		}
	}
	return strings.Join(names, "|")
}

// typeOf parses one OpenAPI type name; null reports nullable.
func typeOf(name string) (t Type, null bool) {
	switch name {
	case openapi3.TypeNull:
		return 0, true
	case openapi3.TypeString:
		return TypeString, false
	case openapi3.TypeInteger:
		return TypeInteger, false
	case openapi3.TypeNumber:
		return TypeNumber, false
	case openapi3.TypeBoolean:
		return TypeBoolean, false
	case openapi3.TypeObject:
		return TypeObject, false
	case openapi3.TypeArray:
		return TypeArray, false
	}
	return 0, false
}

// valueType is the JSON type of a decoded enum or const value.
func valueType(v any) (t Type, null bool) {
	switch x := v.(type) {
	case nil:
		return 0, true
	case string:
		return TypeString, false
	case bool:
		return TypeBoolean, false
	case float64:
		if x == math.Trunc(x) && !math.IsInf(x, 0) {
			return TypeInteger, false
		}
		return TypeNumber, false
	case int, int32, int64, uint, uint32, uint64:
		return TypeInteger, false
	case float32:
		return valueType(float64(x))
	case map[string]any:
		return TypeObject, false
	case []any:
		return TypeArray, false
	}
	return 0, false
}

// Node is what a schema says about one JSON pointer.
type Node struct {
	Types    Type // united over every schema met at the pointer
	Nullable bool
	// Open: the schema does not document this node's children (untyped,
	// free-form object, array without items, recursion or depth cut).
	Open bool
}

// Flatten turns a response schema into its JSON pointers (the root is "").
// Object properties are "/name" (RFC 6901 escaping), array items "/*",
// map values "/{}". See the package documentation for the rules.
func Flatten(ref *openapi3.SchemaRef) map[string]*Node {
	out := make(map[string]*Node)
	f := flattener{out: out}
	f.walk(ref, "", 0, nil)
	// Required names no schema declares are in every valid value, with
	// any type: untyped, open nodes, unless some schema declared them.
	for _, ptr := range f.undeclared {
		if _, ok := out[ptr]; !ok {
			out[ptr] = &Node{Open: true}
		}
	}
	return out
}

type flattener struct {
	out        map[string]*Node
	stack      []*openapi3.Schema // schemas on the current pointer path, for cycles
	undeclared []string           // pointers of required but undeclared properties
}

func (f *flattener) node(ptr string) *Node {
	n := f.out[ptr]
	if n == nil {
		n = &Node{}
		f.out[ptr] = n
	}
	return n
}

// view is a schema with its allOf branches merged in.
type view struct {
	types     Type
	nullable  bool
	props     map[string][]*openapi3.SchemaRef
	items     []*openapi3.SchemaRef
	mapValues []*openapi3.SchemaRef // additionalProperties / patternProperties schemas
	apOpen    bool                  // additionalProperties: true or {}
	apFalse   bool
	alts      []*openapi3.SchemaRef // oneOf and anyOf branches
	typed     bool                  // type, enum or const seen
	cut       bool                  // an allOf branch recursed
	// closed are the property names allowed by each conjunct that allows
	// only some: a schema with additionalProperties false (its own
	// properties), a oneOf/anyOf whose object branches all are such.
	closed    []map[string]bool
	required  []string
	writeOnly map[string]bool // declared writeOnly: not in responses, even when required
}

// walk flattens ref at ptr. restrict are property-name sets the value at
// ptr must also satisfy (from the conjuncts of a oneOf/anyOf branch's
// parent).
func (f *flattener) walk(ref *openapi3.SchemaRef, ptr string, depth int, restrict []map[string]bool) {
	n := f.node(ptr)
	if ref == nil || ref.Value == nil {
		n.Open = true
		return
	}
	s := ref.Value
	// A schema met again below itself (a recursive $ref), or too deep:
	// its own types count, its children are not followed.
	cut := depth > MaxDepth || f.onStack(s)
	if !cut {
		f.stack = append(f.stack, s)
		defer func() { f.stack = f.stack[:len(f.stack)-1] }()
	}

	v := view{props: make(map[string][]*openapi3.SchemaRef)}
	f.merge(&v, s, 0)
	documented := len(v.props) > 0 || len(v.writeOnly) > 0
	// A property some conjunct does not allow cannot be in a valid
	// value: allOf [{additionalProperties: false, properties: {a}},
	// {properties: {b}}] has no b.
	restrict = append(restrict[:len(restrict):len(restrict)], v.closed...)
	for name := range v.props {
		if !allowedBy(restrict, name) {
			delete(v.props, name)
		}
	}

	t := v.types
	if documented || len(v.mapValues) > 0 {
		t |= TypeObject
	}
	if len(v.items) > 0 {
		t |= TypeArray
	}
	n.Types |= t
	n.Nullable = n.Nullable || v.nullable
	if cut {
		n.Open = true
		return
	}
	switch {
	case v.cut:
		n.Open = true
	case t == 0 && !v.typed && len(v.alts) == 0 && len(v.required) == 0 && len(v.closed) == 0:
		n.Open = true // no constraint at all: any value
	case t&TypeObject != 0 && !documented && len(v.mapValues) == 0 && !v.apFalse && len(restrict) == 0:
		n.Open = true // free-form object
	case v.apOpen:
		n.Open = true // documented properties and any others
	case t&TypeArray != 0 && len(v.items) == 0:
		n.Open = true
	}
	for _, alt := range v.alts {
		f.walk(alt, ptr, depth, restrict)
	}
	names := make([]string, 0, len(v.props))
	for name := range v.props {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		child := ptr + "/" + escapePointer(name)
		for _, p := range v.props[name] {
			f.walk(p, child, depth+1, nil)
		}
	}
	for _, it := range v.items {
		f.walk(it, ptr+"/*", depth+1, nil)
	}
	for _, mv := range v.mapValues {
		f.walk(mv, ptr+"/{}", depth+1, nil)
	}
	for _, name := range v.required {
		if _, declared := v.props[name]; declared || v.writeOnly[name] || !allowedBy(restrict, name) {
			continue
		}
		f.undeclared = append(f.undeclared, ptr+"/"+escapePointer(name))
	}
}

func (f *flattener) onStack(s *openapi3.Schema) bool {
	for _, x := range f.stack {
		if x == s {
			return true
		}
	}
	return false
}

// merge adds schema s and its allOf branches to v. Properties that are
// writeOnly are left out: they never appear in responses.
func (f *flattener) merge(v *view, s *openapi3.Schema, depth int) {
	for _, name := range s.Type.Slice() {
		t, null := typeOf(name)
		v.types |= t
		v.nullable = v.nullable || null
		v.typed = true
	}
	if s.Nullable {
		v.nullable = true
	}
	for _, e := range s.Enum {
		t, null := valueType(e)
		if s.Type.IsEmpty() {
			v.types |= t
		}
		v.nullable = v.nullable || null
		v.typed = true
	}
	if s.Const != nil {
		t, null := valueType(s.Const)
		if s.Type.IsEmpty() {
			v.types |= t
		}
		v.nullable = v.nullable || null
		v.typed = true
	}
	for name, p := range s.Properties {
		if p != nil && p.Value != nil && p.Value.WriteOnly {
			if v.writeOnly == nil {
				v.writeOnly = make(map[string]bool)
			}
			v.writeOnly[name] = true
			continue
		}
		v.props[name] = append(v.props[name], p)
	}
	v.required = append(v.required, s.Required...)
	if s.Items != nil {
		v.items = append(v.items, s.Items)
	}
	v.items = append(v.items, s.PrefixItems...)
	ap := s.AdditionalProperties
	switch {
	case ap.Has != nil && !*ap.Has:
		v.apFalse = true
	case ap.Has != nil && *ap.Has:
		v.apOpen = true
	case ap.Schema != nil:
		if ap.Schema.Value != nil && isEmptySchema(ap.Schema.Value) {
			v.apOpen = true
		} else {
			v.mapValues = append(v.mapValues, ap.Schema)
		}
	}
	pp := make([]string, 0, len(s.PatternProperties))
	for k := range s.PatternProperties {
		pp = append(pp, k)
	}
	sort.Strings(pp)
	for _, k := range pp {
		v.mapValues = append(v.mapValues, s.PatternProperties[k])
	}
	if ap.Has != nil && !*ap.Has && len(s.PatternProperties) == 0 {
		names := make(map[string]bool, len(s.Properties))
		for name := range s.Properties {
			names[name] = true
		}
		v.closed = append(v.closed, names)
	}
	for _, group := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
		if allowed, ok := f.allowed(group, depth); ok {
			v.closed = append(v.closed, allowed)
		}
		v.alts = append(v.alts, group...)
	}
	for _, br := range s.AllOf {
		if br == nil || br.Value == nil {
			continue
		}
		if depth > MaxDepth || f.onStack(br.Value) {
			v.cut = true
			continue
		}
		f.stack = append(f.stack, br.Value)
		f.merge(v, br.Value, depth+1)
		f.stack = f.stack[:len(f.stack)-1]
	}
}

// allowedBy reports whether every set of names in restrict has name.
func allowedBy(restrict []map[string]bool, name string) bool {
	for _, allowed := range restrict {
		if !allowed[name] {
			return false
		}
	}
	return true
}

// allowed returns the property names a oneOf or anyOf group allows, when
// every branch that can be an object allows only some: the union of what
// each allows. ok is false when the group does not restrict names.
func (f *flattener) allowed(group openapi3.SchemaRefs, depth int) (names map[string]bool, ok bool) {
	if len(group) == 0 || depth > MaxDepth {
		return nil, false
	}
	names = make(map[string]bool)
	objects := 0
	for _, br := range group {
		if br == nil || br.Value == nil || f.onStack(br.Value) {
			return nil, false
		}
		b := br.Value
		if !b.Type.IsEmpty() && !b.Type.Includes(openapi3.TypeObject) {
			continue // null, string…: not the branch an object takes
		}
		objects++
		sub := view{props: make(map[string][]*openapi3.SchemaRef)}
		f.stack = append(f.stack, b)
		f.merge(&sub, b, depth+1)
		f.stack = f.stack[:len(f.stack)-1]
		if len(sub.closed) == 0 || sub.cut {
			return nil, false
		}
		for name := range sub.closed[0] {
			inAll := true
			for _, c := range sub.closed[1:] {
				inAll = inAll && c[name]
			}
			if inAll {
				names[name] = true
			}
		}
	}
	return names, objects > 0
}

// isEmptySchema reports whether s constrains nothing ({} or true).
func isEmptySchema(s *openapi3.Schema) bool {
	if s.Always != nil {
		return *s.Always
	}
	return s.Type.IsEmpty() && len(s.Properties) == 0 && s.Items == nil && len(s.Enum) == 0 &&
		s.Const == nil && len(s.AllOf) == 0 && len(s.OneOf) == 0 && len(s.AnyOf) == 0 &&
		s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil &&
		len(s.PatternProperties) == 0 && len(s.PrefixItems) == 0 && s.Not == nil
}

// escapePointer escapes a property name as an RFC 6901 reference token.
func escapePointer(name string) string {
	if !strings.ContainsAny(name, "~/") {
		return name
	}
	return strings.ReplaceAll(strings.ReplaceAll(name, "~", "~0"), "/", "~1")
}

// isJSONMedia reports whether a media type carries JSON for scoring:
// application/json, anything ending in +json, and the wildcards "*/*"
// and "application/*".
func isJSONMedia(mt string) bool {
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch mt {
	case "application/json", "*/*", "application/*":
		return true
	}
	return strings.HasSuffix(mt, "+json")
}

// responseNodes flattens the JSON content of a response into nodes,
// united over its JSON media types (sorted, so the result is stable).
func responseNodes(dst map[string]*Node, resp *openapi3.Response) {
	if resp == nil {
		return
	}
	mts := make([]string, 0, len(resp.Content))
	for mt := range resp.Content {
		mts = append(mts, mt)
	}
	sort.Strings(mts)
	for _, mt := range mts {
		media := resp.Content[mt]
		if media == nil || media.Schema == nil || !isJSONMedia(mt) {
			continue
		}
		for ptr, n := range Flatten(media.Schema) {
			d := dst[ptr]
			if d == nil {
				d = &Node{}
				dst[ptr] = d
			}
			d.Types |= n.Types
			d.Nullable = d.Nullable || n.Nullable
			d.Open = d.Open || n.Open
		}
	}
}

// documentedResponse returns the key of the original responses that an
// observed status code falls under: the code itself, its range ("4XX",
// either case), else "default"; "" when none.
func documentedResponse(orig *openapi3.Responses, status string) string {
	if orig == nil {
		return ""
	}
	if orig.Value(status) != nil {
		return status
	}
	if code, err := strconv.Atoi(status); err == nil && code >= 100 && code <= 599 {
		for _, r := range []string{strconv.Itoa(code/100) + "XX", strconv.Itoa(code/100) + "xx"} {
			if orig.Value(r) != nil {
				return r
			}
		}
	}
	if orig.Value("default") != nil {
		return "default"
	}
	return ""
}

// scoreResponses adds the response, property and type counts of one
// matched operation to s. samples, when not nil, counts the responses of
// the operation in the traffic by status; original responses with fewer
// than minSamples are left out of properties and types.
func scoreResponses(s *Scores, o, i operation, samples map[int]int, minSamples int) {
	origResp := o.Op.Responses
	s.Responses.Documented += origResp.Len()

	// Group the inferred statuses by the original response they fall
	// under; bodiless says whether all of a group's statuses are ones
	// HTTP sends without a body.
	groups := make(map[string][]*openapi3.Response)
	bodiless := make(map[string]bool)
	var undocumented []*openapi3.Response
	if i.Op.Responses != nil {
		for _, status := range i.Op.Responses.Keys() {
			r := i.Op.Responses.Value(status)
			if r == nil {
				continue
			}
			key := documentedResponse(origResp, status)
			if key == "" {
				s.Responses.Undocumented++
				undocumented = append(undocumented, r.Value)
				continue
			}
			if _, seen := groups[key]; !seen {
				bodiless[key] = true
			}
			bodiless[key] = bodiless[key] && noBody(status)
			groups[key] = append(groups[key], r.Value)
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s.Responses.Compared += len(keys)
	for _, k := range keys {
		exp := make(map[string]*Node)
		if r := origResp.Value(k); r != nil && !bodiless[k] {
			// A spec may document content for a 204: HTTP sends none,
			// so neither side is compared.
			responseNodes(exp, r.Value)
		}
		if samples != nil {
			n := 0
			for status, c := range samples {
				if documentedResponse(origResp, strconv.Itoa(status)) == k {
					n += c
				}
			}
			if n < minSamples {
				s.Responses.Sparse++
				for ptr := range exp {
					if ptr != "" {
						s.Responses.SparseProperties++
					}
				}
				continue
			}
		}
		inf := make(map[string]*Node)
		for _, r := range groups[k] {
			if !bodiless[k] {
				responseNodes(inf, r)
			}
		}
		compareNodes(s, exp, inf)
	}
	if len(undocumented) > 0 {
		inf := make(map[string]*Node)
		for _, r := range undocumented {
			responseNodes(inf, r)
		}
		compareNodes(s, map[string]*Node{}, inf)
	}
}

// noBody reports whether HTTP sends responses of this status without a
// body: 1xx, 204 and 304.
func noBody(status string) bool {
	code, err := strconv.Atoi(status)
	return err == nil && (code/100 == 1 || code == 204 || code == 304)
}

// compareNodes adds the property and type counts of one response.
func compareNodes(s *Scores, exp, inf map[string]*Node) {
	for ptr, e := range exp {
		if ptr == "" {
			continue
		}
		s.Properties.Expected++
		n, ok := inf[ptr]
		if !ok {
			continue
		}
		s.Properties.Matched++
		s.Properties.Inferred++
		if e.Nullable {
			s.Nullable.Expected++
			if n.Nullable {
				s.Nullable.Found++
			}
		} else if n.Nullable {
			s.Nullable.Extra++
		}
		et := e.Types.normalize()
		if et == 0 {
			continue
		}
		s.Types.Compared++
		it := n.Types.normalize()
		if et == it {
			s.Types.Agree++
		} else if et.numeric() == it.numeric() {
			s.Types.IntegerNumber++
		}
	}
	for ptr := range inf {
		if ptr == "" {
			continue
		}
		if _, ok := exp[ptr]; ok {
			continue
		}
		if underOpen(exp, ptr) {
			continue
		}
		s.Properties.Inferred++
	}
}

// underOpen reports whether some proper ancestor of ptr is an open node
// of the original.
func underOpen(exp map[string]*Node, ptr string) bool {
	for {
		i := strings.LastIndexByte(ptr, '/')
		if i < 0 {
			return false
		}
		ptr = ptr[:i]
		if n, ok := exp[ptr]; ok && n.Open {
			return true
		}
	}
}
