package speclab

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// paramExamples lists a parameter's examples: its own, then its schema's.
func paramExamples(p *openapi3.Parameter) []any {
	var out []any
	if p.Example != nil {
		out = append(out, p.Example)
	}
	for _, k := range sortedKeys(p.Examples) {
		if e := p.Examples[k]; e != nil && e.Value != nil && e.Value.Value != nil {
			out = append(out, e.Value.Value)
		}
	}
	if p.Schema != nil && p.Schema.Value != nil {
		s := p.Schema.Value
		if s.Example != nil {
			out = append(out, s.Example)
		}
		out = append(out, s.Examples...)
	}
	return out
}

// pathStyles decides how the values of every path parameter look, per
// resource: parameters naming the same template prefix ("/crm/lists/{id}"
// in "/crm/lists/{id}" and "/crm/lists/{id}/members") share a style. The
// sources, in order: the parameter's schema (integers, uuid), its examples,
// its name, the example of the id property the resource's operations return
// (GET first), and last a per-resource default.
func pathStyles(s *Spec) map[string]idSpec {
	ops := slices.Clone(s.Operations)
	slices.SortStableFunc(ops, func(a, b *Operation) int { return boolInt(a.Method != "GET") - boolInt(b.Method != "GET") })
	styles := map[string]idSpec{}
	for _, o := range ops {
		for _, p := range o.Params {
			if p.In != "path" {
				continue
			}
			key := styleKey(o.Template, p.Name)
			if _, ok := styles[key]; ok {
				continue
			}
			if st, ok := pathParamStyle(o, p); ok {
				styles[key] = st
			}
		}
	}
	for _, o := range ops {
		for _, p := range o.Params {
			if key := styleKey(o.Template, p.Name); p.In == "path" && !hasKey(styles, key) {
				styles[key] = fallbackIDSpec(resourceOf(o.Template, p.Name))
			}
		}
	}
	return styles
}

func hasKey[K comparable, V any](m map[K]V, k K) bool {
	_, ok := m[k]
	return ok
}

// styleKey is the template up to and including the parameter.
func styleKey(tmpl, param string) string {
	if i := strings.Index(tmpl, "{"+param+"}"); i >= 0 {
		return tmpl[:i+len(param)+2]
	}
	return tmpl + " " + param
}

// pathParamStyle is the style the spec suggests for a path parameter of an
// operation; ok is false when it suggests none.
func pathParamStyle(o *Operation, p *openapi3.Parameter) (idSpec, bool) {
	var sch *openapi3.Schema
	if p.Schema != nil {
		sch = p.Schema.Value
	}
	exs := paramExamples(p)
	if sch != nil && (sch.Type.Is(openapi3.TypeInteger) || sch.Type.Is(openapi3.TypeNumber)) {
		spec := idSpec{style: styleNumeric, min: 1, max: 99999}
		for _, ex := range exs {
			if f, ok := toFloat(ex); ok && f >= 1 {
				spec = numericLike(strconv.FormatInt(int64(f), 10))
				break
			}
		}
		if sch.Min != nil {
			spec.min = int64(math.Ceil(*sch.Min))
			if sch.ExclusiveMin.IsTrue() {
				spec.min++
			}
		}
		if sch.Max != nil {
			spec.max = int64(math.Floor(*sch.Max))
			if sch.ExclusiveMax.IsTrue() {
				spec.max--
			}
		}
		if r, ok := intFormatRange[sch.Format]; ok && float64(spec.max) > r[1] {
			spec.max = int64(r[1])
		}
		if spec.max < spec.min {
			spec.max = spec.min
		}
		return spec, true
	}
	if sch != nil && sch.Format == "uuid" {
		return idSpec{style: styleUUID}, true
	}
	for _, ex := range exs {
		if spec, ok := idSpecFromExample(p.Name, ex); ok {
			return spec, true
		}
	}
	if spec, ok := idSpecFromName(p.Name); ok {
		return spec, true
	}
	if strings.HasSuffix(o.Template, "{"+p.Name+"}") {
		return resourceIDStyle(o)
	}
	return idSpec{}, false
}

// resourceOf is the collection a path parameter identifies an item of: the
// literal segment before it ("/crm/companies/{id}" → "companies"), or the
// parameter's name without its id suffix.
func resourceOf(tmpl, param string) string {
	parts := strings.Split(tmpl, "/")
	for i, part := range parts {
		if part == "{"+param+"}" {
			for j := i - 1; j >= 0; j-- {
				if parts[j] != "" && !strings.Contains(parts[j], "{") {
					if j == i-1 {
						return parts[j]
					}
					break
				}
			}
		}
	}
	w := nameWords(param)
	if len(w) > 1 && (lastWord(w) == "id" || lastWord(w) == "uid") {
		w = w[:len(w)-1]
	}
	if len(w) == 0 || (len(w) == 1 && w[0] == "id") {
		return "items"
	}
	return strings.Join(w, "-")
}

// resourceIDStyle looks at the id property of what the operation returns
// (top level or under "data"): an informative example there (prefixed, UUID,
// base62, hex) is how the path's ids look too.
func resourceIDStyle(o *Operation) (idSpec, bool) {
	for _, r := range o.Responses {
		if !strings.HasPrefix(r.Code, "2") {
			continue
		}
		for _, ct := range sortedKeys(r.Value.Content) {
			mt := r.Value.Content[ct]
			if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
				continue
			}
			for _, sch := range []*openapi3.Schema{mt.Schema.Value, propSchema(mt.Schema.Value, "data")} {
				id := propSchema(sch, "id")
				if id == nil || id.Example == nil {
					continue
				}
				if spec, ok := idSpecFromExample("id", id.Example); ok {
					switch spec.style {
					case stylePrefixed, styleUUID, styleBase62, styleHex:
						return spec, true
					}
				}
			}
		}
	}
	return idSpec{}, false
}

func propSchema(s *openapi3.Schema, name string) *openapi3.Schema {
	if s == nil {
		return nil
	}
	if p := s.Properties[name]; p != nil && p.Value != nil {
		return p.Value
	}
	for _, a := range s.AllOf {
		if v := propSchema(a.Value, name); v != nil {
			return v
		}
	}
	return nil
}

// scalarText formats a scalar for a URL, header or text body.
func scalarText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// encodeQuery appends one query parameter to q (already escaped pairs),
// serialised per its style and explode (form and explode by default).
func encodeQuery(q []string, p *openapi3.Parameter, v any) []string {
	name := url.QueryEscape(p.Name)
	explode := p.Explode == nil || *p.Explode
	style := p.Style
	if style == "" {
		style = "form"
	}
	sep := ","
	switch style {
	case "spaceDelimited":
		sep = " "
	case "pipeDelimited":
		sep = "|"
	}
	switch x := v.(type) {
	case []any:
		if explode && style == "form" {
			for _, e := range x {
				q = append(q, name+"="+url.QueryEscape(scalarText(e)))
			}
			return q
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = scalarText(e)
		}
		return append(q, name+"="+url.QueryEscape(strings.Join(parts, sep)))
	case map[string]any:
		keys := sortedKeys(x)
		switch {
		case style == "deepObject":
			return appendDeep(q, p.Name, x)
		case explode:
			for _, k := range keys {
				q = append(q, url.QueryEscape(k)+"="+url.QueryEscape(scalarText(x[k])))
			}
			return q
		}
		var parts []string
		for _, k := range keys {
			parts = append(parts, k, scalarText(x[k]))
		}
		return append(q, name+"="+url.QueryEscape(strings.Join(parts, ",")))
	}
	return append(q, name+"="+url.QueryEscape(scalarText(v)))
}

func appendDeep(q []string, prefix string, m map[string]any) []string {
	for _, k := range sortedKeys(m) {
		key := prefix + "[" + k + "]"
		switch x := m[k].(type) {
		case map[string]any:
			q = appendDeep(q, key, x)
		case []any:
			for _, e := range x {
				q = append(q, url.QueryEscape(key+"[]")+"="+url.QueryEscape(scalarText(e)))
			}
		default:
			q = append(q, url.QueryEscape(key)+"="+url.QueryEscape(scalarText(x)))
		}
	}
	return q
}

// headerText serialises a header or path parameter value (simple style).
func headerText(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = scalarText(e)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		var parts []string
		for _, k := range sortedKeys(x) {
			parts = append(parts, k, scalarText(x[k]))
		}
		return strings.Join(parts, ",")
	}
	return scalarText(v)
}

// paramValue generates a query, header or cookie parameter value.
func paramValue(g *Generator, p *openapi3.Parameter) (any, error) {
	if p.Schema == nil || p.Schema.Value == nil {
		if mt := firstMedia(p.Content); mt != nil && mt.Schema != nil && mt.Schema.Value != nil {
			v, err := g.Value(mt.Schema.Value, p.Name)
			if err != nil {
				return nil, err
			}
			b, _ := json.Marshal(v)
			return string(b), nil
		}
		return g.plainString(p.Name), nil
	}
	// The parameter's own examples now and then ("fields=id,updated_at"),
	// when they are valid.
	if exs := paramOwnExamples(p); len(exs) > 0 && chance(g.r, pParamExample) {
		ex := pick(g.r, exs)
		if p.Schema.Value.VisitJSON(ex) == nil {
			return ex, nil
		}
	}
	return g.Value(p.Schema.Value, p.Name)
}

// pParamExample is how often a parameter takes one of its own examples.
const pParamExample = 0.3

func paramOwnExamples(p *openapi3.Parameter) []any {
	var out []any
	if p.Example != nil {
		out = append(out, p.Example)
	}
	for _, k := range sortedKeys(p.Examples) {
		if e := p.Examples[k]; e != nil && e.Value != nil && e.Value.Value != nil {
			out = append(out, e.Value.Value)
		}
	}
	return out
}

func firstMedia(c openapi3.Content) *openapi3.MediaType {
	for _, k := range sortedKeys(c) {
		return c[k]
	}
	return nil
}

// pathValue generates a path parameter value in its style (enums, dates
// and patterns through the generator).
func pathValue(g *Generator, r *rand.Rand, p *openapi3.Parameter, style idSpec) (string, error) {
	if p.Schema != nil && p.Schema.Value != nil {
		s := p.Schema.Value
		if len(s.Enum) > 0 || s.Pattern != "" || s.Format == "date" || s.Format == "date-time" || s.Type.Is(openapi3.TypeBoolean) {
			v, err := g.Value(s, p.Name)
			if err != nil {
				return "", err
			}
			return headerText(v), nil
		}
		if s.Type.Is(openapi3.TypeArray) || s.Type.Is(openapi3.TypeObject) {
			v, err := g.Value(s, p.Name)
			if err != nil {
				return "", err
			}
			return headerText(v), nil
		}
	}
	v := style.gen(r)
	if p.Schema != nil && p.Schema.Value != nil {
		s := p.Schema.Value
		if uint64(len(v)) < s.MinLength || (s.MaxLength != nil && uint64(len(v)) > *s.MaxLength) {
			// The style cannot fit the bounds: let the generator do it.
			x, err := g.Value(s, p.Name)
			if err != nil {
				return "", err
			}
			return headerText(x), nil
		}
	}
	return v, nil
}
