package speclab

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/getkin/kin-openapi/openapi3"
)

// Direction says which side of an exchange a generated value is for:
// requests leave out readOnly properties, responses writeOnly ones.
type Direction int

// Directions.
const (
	ForResponse Direction = iota
	ForRequest
)

// Generation tuning. The probabilities are what the brief promises: optional
// properties present most of the time, null sometimes, arrays mostly
// non-empty with 1..5 items.
const (
	pOptional = 0.85 // an optional property is present
	pNull     = 0.08 // a nullable value is null
	pEmpty    = 0.08 // an array without minItems is empty
	pExample  = 0.2  // a scalar takes the schema's own example
	maxItemsN = 5    // items in an array without maxItems (at most)
	softDepth = 10   // below it optional parts are dropped and arrays shrink
	hardDepth = 40   // recursion that still needs values here fails
)

// ErrUnsatisfiable reports a schema no value satisfies, or one the
// generator cannot satisfy (see the error's text).
var ErrUnsatisfiable = errors.New("speclab: no value satisfies the schema")

// Generator produces random values valid against OpenAPI schemas. It is
// not safe for concurrent use; make one per goroutine (they are cheap).
type Generator struct {
	b   builder
	r   *rand.Rand
	dir Direction
}

// NewGenerator returns a generator for schemas of spec whose values are a
// function of seed alone.
func NewGenerator(spec *Spec, seed uint64, dir Direction) *Generator {
	return newGenerator(spec, newRand(seed, "generator"), dir)
}

func newGenerator(spec *Spec, r *rand.Rand, dir Direction) *Generator {
	return &Generator{b: builder{v31: spec.V31, cache: spec.nodes}, r: r, dir: dir}
}

// Value returns a value for schema (name is the property or parameter name
// it is for, a hint for realistic strings and numbers): nil, bool, int64,
// float64, string, []any or map[string]any. The value satisfies the schema
// as kin-openapi's VisitJSON checks it (for OpenAPI 3.1 documents, also with
// openapi3.EnableJSONSchema2020).
func (g *Generator) Value(schema *openapi3.Schema, name string) (any, error) {
	if schema == nil {
		return g.freeForm(name, 0), nil
	}
	return g.gen(g.b.build(schema), name, 0)
}

func (g *Generator) gen(n *node, name string, depth int) (any, error) {
	if depth > hardDepth {
		if n.canNull(g.b.v31) {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %q nests deeper than %d levels", ErrUnsatisfiable, name, hardDepth)
	}
	if len(n.choices) > 0 {
		return g.genChoice(n, name, depth)
	}
	for attempt := 0; ; attempt++ {
		v, err := g.genOnce(n, name, depth)
		if err != nil || len(n.nots) == 0 {
			return v, err
		}
		ok := true
		for _, not := range n.nots {
			if not.VisitJSON(v) == nil {
				ok = false
			}
		}
		if ok {
			return v, nil
		}
		if attempt == 8 {
			return nil, fmt.Errorf("%w: %q: every value tried matches its \"not\" schema", ErrUnsatisfiable, name)
		}
	}
}

// genChoice resolves the first oneOf/anyOf group: it merges a branch into
// the node and generates from that; for oneOf, the value must match exactly
// one branch. Null-only branches come last most of the time, so nullable
// unions are null only sometimes.
func (g *Generator) genChoice(n *node, name string, depth int) (any, error) {
	c := n.choices[0]
	rest := n.clone()
	rest.choices = rest.choices[1:]
	order := g.r.Perm(len(c.branches))
	if !chance(g.r, pNull) {
		slices.SortStableFunc(order, func(a, b int) int {
			return boolInt(isNullOnly(c.branches[a])) - boolInt(isNullOnly(c.branches[b]))
		})
	}
	var lastErr error
	for attempt := 0; attempt < 2*len(order)+2; attempt++ {
		br := c.branches[order[attempt%len(order)]]
		m := rest.clone()
		g.b.add(m, br)
		if m.types == 0 && !m.forceNull {
			continue
		}
		v, err := g.gen(m, name, depth)
		if err != nil {
			lastErr = err
			continue
		}
		if c.one && matchCount(c.branches, v) != 1 {
			lastErr = fmt.Errorf("%w: %q: a value of one oneOf branch also matches another", ErrUnsatisfiable, name)
			continue
		}
		return v, nil
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("%w: %q: no oneOf/anyOf branch is compatible with the rest of the schema", ErrUnsatisfiable, name)
	}
	return nil, lastErr
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func isNullOnly(s *openapi3.Schema) bool {
	return s.Type != nil && s.Type.Is(openapi3.TypeNull)
}

func matchCount(branches []*openapi3.Schema, v any) int {
	n := 0
	for _, b := range branches {
		if b.VisitJSON(v, openapi3.FailFast()) == nil {
			n++
		}
	}
	return n
}

func (g *Generator) genOnce(n *node, name string, depth int) (any, error) {
	if n.canNull(g.b.v31) && (chance(g.r, pNull) || n.types&^tNull == 0 || depth > softDepth+4) {
		return nil, nil
	}
	if n.hasConst {
		return n.constVal, nil
	}
	if n.hasEnum {
		var ok []any
		for _, e := range n.enum {
			if e != nil && jsonType(e)&n.types != 0 {
				ok = append(ok, e)
			}
		}
		if len(ok) == 0 {
			if n.canNull(g.b.v31) {
				return nil, nil
			}
			return nil, fmt.Errorf("%w: %q: no enum value has an allowed type", ErrUnsatisfiable, name)
		}
		return pick(g.r, ok), nil
	}
	types := n.types &^ tNull
	if types == 0 {
		if n.forceNull {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %q: the types of its parts exclude each other", ErrUnsatisfiable, name)
	}
	switch g.chooseType(n, types) {
	case tObj:
		return g.genObject(n, name, depth)
	case tArr:
		return g.genArray(n, name, depth)
	case tStr:
		return g.genString(n, name)
	case tInt:
		return g.genInt(n, name)
	case tNum:
		return g.genNumber(n, name)
	case tBool:
		if ex, ok := g.example(n, tBool); ok {
			return ex, nil
		}
		return g.r.IntN(2) == 0, nil
	}
	// Nothing constrains the value: a free-form document.
	return g.freeForm(name, depth), nil
}

// chooseType picks the JSON type to generate among those allowed, guided by
// the keywords present.
func (g *Generator) chooseType(n *node, types typeSet) typeSet {
	if types == tAny {
		switch {
		case n.props != nil || n.required != nil || n.addl != nil || n.addlTrue || n.allowed != nil:
			return tObj
		case n.items != nil || n.prefix != nil:
			return tArr
		case n.format != "" || n.patterns != nil || n.maxLen != nil || n.minLen > 0:
			return tStr
		case n.min != nil || n.max != nil || n.multipleOf != nil:
			return tNum
		}
		return 0
	}
	if types&tNum != 0 {
		// "number" allows integers too; generate what it names.
		types &^= tInt
	}
	var opts []typeSet
	for t := tBool; t <= tObj; t <<= 1 {
		if types&t != 0 {
			opts = append(opts, t)
		}
	}
	switch {
	case types&tObj != 0 && n.props != nil:
		return tObj
	case types&tArr != 0 && n.items != nil:
		return tArr
	}
	return pick(g.r, opts)
}

// example returns one of the schema's examples, now and then, when it has
// the wanted type and fits the node's simple constraints.
func (g *Generator) example(n *node, want typeSet) (any, bool) {
	if len(n.examples) == 0 || !chance(g.r, pExample) {
		return nil, false
	}
	ex := pick(g.r, n.examples)
	t := jsonType(ex)
	if want == tNum && t == tInt {
		return nil, false
	}
	if t&want == 0 {
		return nil, false
	}
	switch t {
	case tStr:
		s := ex.(string)
		if !g.stringFits(n, s) || n.format != "" {
			return nil, false
		}
	case tInt, tNum:
		f, _ := toFloat(ex)
		if !numberFits(n, f) {
			return nil, false
		}
	}
	return ex, true
}

func (g *Generator) genObject(n *node, name string, depth int) (any, error) {
	out := map[string]any{}
	names := make([]string, 0, len(n.props))
	for k := range n.props {
		names = append(names, k)
	}
	slices.Sort(names)
	var optional []string
	for _, k := range names {
		if n.allowed != nil && !n.allowed[k] {
			continue
		}
		sub := g.b.build(n.props[k]...)
		if (g.dir == ForRequest && sub.readOnly) || (g.dir == ForResponse && sub.writeOnly) {
			continue
		}
		if !n.required[k] {
			optional = append(optional, k)
			if depth >= softDepth || !chance(g.r, pOptional) {
				continue
			}
		}
		v, err := g.gen(sub, k, depth+1)
		if err != nil {
			if !n.required[k] && errors.Is(err, ErrUnsatisfiable) {
				continue
			}
			return nil, err
		}
		out[k] = v
	}
	// Required properties without a schema of their own.
	for k := range n.required {
		if _, ok := out[k]; ok || n.props[k] != nil {
			continue
		}
		if n.allowed != nil && !n.allowed[k] {
			return nil, fmt.Errorf("%w: %q requires %q, which additionalProperties: false forbids", ErrUnsatisfiable, name, k)
		}
		v, err := g.genAdditional(n, k, depth)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	// Maps: no named properties, values from additionalProperties.
	isMap := len(n.props) == 0 && n.allowed == nil && (len(n.addl) > 0 || n.addlTrue)
	if isMap {
		if len(n.addl) == 0 {
			return g.freeFormInto(out, depth), nil
		}
		k := 1 + g.r.IntN(maxItemsN)
		if depth >= softDepth {
			k = 0
		}
		k = max(k, int(n.minProps)-len(out))
		if n.maxProps != nil {
			k = min(k, int(*n.maxProps)-len(out))
		}
		style := mapKeyStyle(name)
		var keyNode *node
		if len(n.keys) > 0 {
			keyNode = g.b.build(n.keys...).clone()
			keyNode.types &= tStr
		}
		for i := 0; i < k*4 && len(out) < k; i++ {
			key := ""
			if keyNode != nil && (keyNode.hasEnum || keyNode.patterns != nil || keyNode.format != "") {
				kv, err := g.gen(keyNode, name+"Key", depth+1)
				if err != nil {
					return nil, err
				}
				key, _ = kv.(string)
			} else {
				key = style(g.r)
			}
			if _, dup := out[key]; dup {
				continue
			}
			v, err := g.genAdditional(n, key, depth)
			if err != nil {
				return nil, err
			}
			out[key] = v
		}
	}
	// minProperties: add optional properties left out, then extra keys.
	for _, k := range optional {
		if uint64(len(out)) >= n.minProps {
			break
		}
		if _, ok := out[k]; ok {
			continue
		}
		v, err := g.gen(g.b.build(n.props[k]...), k, depth+1)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	if uint64(len(out)) < n.minProps {
		return nil, fmt.Errorf("%w: %q: cannot reach minProperties %d", ErrUnsatisfiable, name, n.minProps)
	}
	if n.maxProps != nil && uint64(len(out)) > *n.maxProps {
		for _, k := range slices.Backward(optional) {
			if uint64(len(out)) <= *n.maxProps {
				break
			}
			delete(out, k)
		}
		if uint64(len(out)) > *n.maxProps {
			return nil, fmt.Errorf("%w: %q: more required properties than maxProperties", ErrUnsatisfiable, name)
		}
	}
	return out, nil
}

func (g *Generator) genAdditional(n *node, key string, depth int) (any, error) {
	if len(n.addl) == 0 {
		return g.scalarFor(key), nil
	}
	return g.gen(g.b.build(n.addl...), key, depth+1)
}

// mapKeyStyle picks, per map (by its name), how its data-like keys look.
func mapKeyStyle(name string) func(*rand.Rand) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	switch h.Sum32() % 5 {
	case 0:
		return randWordID
	case 1:
		return func(r *rand.Rand) string { return "usr_" + randBase62(r, 8) }
	case 2:
		return func(r *rand.Rand) string { return randDate(r) }
	case 3:
		return func(r *rand.Rand) string { return pick(r, locales) + "-" + strconv.Itoa(r.IntN(90)+10) }
	default:
		return func(r *rand.Rand) string { return pick(r, nouns) + "_" + strconv.Itoa(r.IntN(900)+100) }
	}
}

func (g *Generator) genArray(n *node, name string, depth int) (any, error) {
	var out []any
	for i, p := range n.prefix {
		v, err := g.gen(g.b.build(p), fmt.Sprintf("%s[%d]", name, i), depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if len(n.prefix) > 0 && (n.itemsFalse || len(n.items) == 0) {
		return out, nil
	}
	if n.itemsFalse {
		if n.minItems > 0 {
			return nil, fmt.Errorf("%w: %q: items: false with minItems", ErrUnsatisfiable, name)
		}
		return []any{}, nil
	}
	lo := int(n.minItems)
	// Nested arrays get shorter, as real documents' do (and values stay
	// small): 1..5 items at the top, 1..3 two levels down, then 1..2.
	capN := maxItemsN
	switch {
	case depth >= 4:
		capN = 2
	case depth >= 2:
		capN = 3
	}
	hi := max(lo, capN)
	if n.maxItems != nil {
		hi = min(hi, int(*n.maxItems))
		if hi < lo {
			return nil, fmt.Errorf("%w: %q: maxItems < minItems", ErrUnsatisfiable, name)
		}
	}
	count := lo
	switch {
	case depth >= softDepth:
	case lo == 0 && chance(g.r, pEmpty):
	default:
		count = max(lo, 1) + g.r.IntN(hi-max(lo, 1)+1)
		if hi == 0 {
			count = 0
		}
	}
	itemName := singular(name)
	seen := map[string]bool{}
	for tries := 0; len(out) < count+len(n.prefix); tries++ {
		var v any
		var err error
		if len(n.items) == 0 {
			v = g.freeForm(itemName, depth+1)
		} else {
			v, err = g.gen(g.b.build(n.items...), itemName, depth+1)
			if err != nil {
				return nil, err
			}
		}
		if n.unique {
			b, _ := json.Marshal(v)
			if seen[string(b)] {
				if tries > 10*count+10 {
					if len(out)-len(n.prefix) >= lo {
						break
					}
					return nil, fmt.Errorf("%w: %q: not enough distinct items for uniqueItems", ErrUnsatisfiable, name)
				}
				continue
			}
			seen[string(b)] = true
		}
		out = append(out, v)
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

func numberFits(n *node, f float64) bool {
	if n.min != nil && (f < *n.min || (n.exclMin && f == *n.min)) {
		return false
	}
	if n.max != nil && (f > *n.max || (n.exclMax && f == *n.max)) {
		return false
	}
	if n.multipleOf != nil {
		q := f / *n.multipleOf
		if math.Abs(q-math.Round(q)) > 1e-9 {
			return false
		}
	}
	return true
}

// bounds returns the closed interval a number must lie in, given the
// schema's bounds and a realistic default range for the name.
func bounds(n *node, defLo, defHi float64, step float64) (lo, hi float64) {
	slo, shi := math.Inf(-1), math.Inf(1)
	if n.min != nil {
		slo = *n.min
		if n.exclMin {
			slo += step
		}
	}
	if n.max != nil {
		shi = *n.max
		if n.exclMax {
			shi -= step
		}
	}
	lo, hi = max(slo, defLo), min(shi, defHi)
	if lo > hi {
		// The realistic range misses the allowed one: stay inside the
		// allowed one, near its edge closest to the realistic range.
		switch {
		case defHi < slo:
			lo, hi = slo, min(shi, slo+math.Max(defHi-defLo, 10*step))
		default:
			lo, hi = max(slo, shi-math.Max(defHi-defLo, 10*step)), shi
		}
	}
	return lo, hi
}

var intFormatRange = map[string][2]float64{
	"int8": {math.MinInt8, math.MaxInt8}, "int16": {math.MinInt16, math.MaxInt16},
	"int32": {math.MinInt32, math.MaxInt32}, "uint8": {0, math.MaxUint8}, "u-int8": {0, math.MaxUint8},
	"uint16": {0, math.MaxUint16}, "u-int16": {0, math.MaxUint16}, "uint32": {0, math.MaxUint32},
	"u-int32": {0, math.MaxUint32}, "uint64": {0, 1 << 53}, "u-int64": {0, 1 << 53}, "uint": {0, 1 << 53},
}

func (g *Generator) genInt(n *node, name string) (any, error) {
	if ex, ok := g.example(n, tInt); ok {
		f, _ := toFloat(ex)
		return int64(f), nil
	}
	dlo, dhi := intRangeFor(name)
	if r, ok := intFormatRange[n.format]; ok {
		dlo, dhi = max(dlo, r[0]), min(dhi, r[1])
		if dlo > dhi {
			dlo, dhi = r[0], r[1]
		}
		m := *n
		m.min, m.max = maxF(n.min, r[0]), minF(n.max, r[1])
		n = &m
	}
	lo, hi := bounds(n, dlo, dhi, 1)
	lo, hi = math.Ceil(lo), math.Floor(hi)
	if lo > hi {
		return nil, fmt.Errorf("%w: %q: no integer within the bounds", ErrUnsatisfiable, name)
	}
	if m := n.multipleOf; m != nil {
		k0, k1 := math.Ceil(lo / *m), math.Floor(hi / *m)
		if k0 > k1 {
			return nil, fmt.Errorf("%w: %q: no multiple of %v within the bounds", ErrUnsatisfiable, name, *m)
		}
		k := k0 + float64(randInt(g.r, 0, int64(k1-k0)))
		return int64(k * *m), nil
	}
	return randInt(g.r, int64(lo), int64(hi)), nil
}

func maxF(p *float64, v float64) *float64 {
	if p != nil && *p > v {
		return p
	}
	return &v
}

func minF(p *float64, v float64) *float64 {
	if p != nil && *p < v {
		return p
	}
	return &v
}

func (g *Generator) genNumber(n *node, name string) (any, error) {
	if ex, ok := g.example(n, tNum); ok {
		f, _ := toFloat(ex)
		return f, nil
	}
	dlo, dhi := numRangeFor(name)
	lo, hi := bounds(n, dlo, dhi, 0.01)
	if lo > hi {
		return nil, fmt.Errorf("%w: %q: no number within the bounds", ErrUnsatisfiable, name)
	}
	if m := n.multipleOf; m != nil {
		k0, k1 := math.Ceil(lo / *m), math.Floor(hi / *m)
		if k0 > k1 {
			return nil, fmt.Errorf("%w: %q: no multiple of %v within the bounds", ErrUnsatisfiable, name, *m)
		}
		return (k0 + float64(randInt(g.r, 0, int64(k1-k0)))) * *m, nil
	}
	for range 8 {
		v := math.Round((lo+g.r.Float64()*(hi-lo))*100) / 100
		if v != math.Trunc(v) && v >= lo && v <= hi {
			return v, nil
		}
	}
	// A range too narrow for two decimals: any non-integral value inside.
	v := lo + (hi-lo)/2
	if v == math.Trunc(v) && hi > lo {
		v = lo + (hi-lo)/3
	}
	return v, nil
}

// freeForm is a value for a schema that constrains nothing: a small
// document, as search engines and CRMs return.
func (g *Generator) freeForm(name string, depth int) any {
	return g.freeFormInto(map[string]any{}, depth)
}

func (g *Generator) freeFormInto(out map[string]any, depth int) map[string]any {
	r := g.r
	fields := []struct {
		k string
		v func() any
	}{
		{"id", func() any { return randInt(r, 1, 99999) }},
		{"title", func() any { return titleCase(pick(r, titles)) }},
		{"genres", func() any {
			n := 1 + r.IntN(3)
			out := make([]any, n)
			for i := range out {
				out[i] = pick(r, []string{"Drama", "Comedy", "Action", "Thriller", "Romance", "Animation", "Documentary"})
			}
			return out
		}},
		{"release_year", func() any { return int64(1950 + r.IntN(76)) }},
		{"rating", func() any { return math.Round((float64(10+r.IntN(40))/10+0.05)*100) / 100 }},
		{"overview", func() any { return pick(r, sentences) }},
	}
	for _, f := range fields {
		if _, ok := out[f.k]; ok {
			continue
		}
		if f.k == "id" || chance(r, pOptional) {
			out[f.k] = f.v()
		}
	}
	return out
}

// scalarFor is a value for a property that only a "required" names.
func (g *Generator) scalarFor(name string) any {
	return g.plainString(name)
}
