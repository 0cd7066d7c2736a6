package accuracy

import (
	"strings"

	"github.com/apitap/apitap/analyze"
	"github.com/getkin/kin-openapi/openapi3"
)

// effectiveParams returns the parameters of an operation: the path
// item's, overridden by the operation's with the same name and location.
func effectiveParams(item *openapi3.PathItem, op *openapi3.Operation) []*openapi3.Parameter {
	type key struct{ in, name string }
	var out []*openapi3.Parameter
	index := make(map[key]int)
	add := func(refs openapi3.Parameters) {
		for _, ref := range refs {
			if ref == nil || ref.Value == nil {
				continue
			}
			p := ref.Value
			k := key{p.In, p.Name}
			if p.In == openapi3.ParameterInHeader {
				k.name = strings.ToLower(p.Name)
			}
			if i, ok := index[k]; ok {
				out[i] = p
				continue
			}
			index[k] = len(out)
			out = append(out, p)
		}
	}
	if item != nil {
		add(item.Parameters)
	}
	add(op.Parameters)
	return out
}

// templateParams lists the parameter names of a template in order.
func templateParams(tmpl string) []string {
	var names []string
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			return names
		}
		names = append(names, tmpl[i+1:i+j])
		tmpl = tmpl[i+j+1:]
	}
}

// scoreParams adds the parameter counts of one matched operation to s.
func scoreParams(s *Scores, origDoc *openapi3.T, o operation, infDoc *openapi3.T, i operation) {
	infParams := effectiveParams(i.Item, i.Op)
	infPath := make(map[string]bool)
	infQuery := make(map[string]bool)
	infHeader := make(map[string]bool)
	for _, p := range infParams {
		switch p.In {
		case openapi3.ParameterInPath:
			infPath[p.Name] = true
		case openapi3.ParameterInQuery:
			infQuery[p.Name] = true
		case openapi3.ParameterInHeader:
			if analyze.IsStandardHeader(p.Name) { // apitap does not learn these
				continue
			}
			infHeader[strings.ToLower(p.Name)] = true
		default:
			continue
		}
		s.Params.Inferred++
	}
	for name := range apiKeys(infDoc, i.Op, openapi3.ParameterInQuery) {
		infQuery[name] = true
	}
	for name := range apiKeys(infDoc, i.Op, openapi3.ParameterInHeader) {
		infHeader[strings.ToLower(name)] = true
	}
	origPos := templateParams(o.Template)
	infPos := templateParams(i.Template)

	for _, p := range effectiveParams(o.Item, o.Op) {
		switch p.In {
		case openapi3.ParameterInPath:
			pos := indexOf(origPos, p.Name)
			if pos < 0 {
				continue // declared but not in the template: nothing the lab could send
			}
			s.Params.Expected++
			if pos < len(infPos) && infPath[infPos[pos]] {
				s.Params.Found++
			}
		case openapi3.ParameterInQuery:
			s.Params.Expected++
			if queryFound(p, infQuery) {
				s.Params.Found++
			}
		case openapi3.ParameterInHeader:
			if analyze.IsStandardHeader(p.Name) { // apitap does not learn these
				continue
			}
			s.Params.Expected++
			if infHeader[strings.ToLower(p.Name)] {
				s.Params.Found++
			}
		}
	}
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

// queryFound reports whether the original query parameter p is among the
// inferred query parameter names, directly or as its serialisation puts
// it on the wire (deepObject "p[x]", exploded form object "x").
func queryFound(p *openapi3.Parameter, inferred map[string]bool) bool {
	if inferred[p.Name] {
		return true
	}
	if p.Style == openapi3.SerializationDeepObject {
		for name := range inferred {
			if strings.HasPrefix(name, p.Name+"[") {
				return true
			}
		}
	}
	explode := p.Explode == nil || *p.Explode
	if (p.Style == "" || p.Style == openapi3.SerializationForm) && explode && p.Schema != nil && p.Schema.Value != nil {
		sch := p.Schema.Value
		if sch.Type.Is(openapi3.TypeObject) || (sch.Type.IsEmpty() && len(sch.Properties) > 0) {
			for name := range sch.Properties {
				if inferred[name] {
					return true
				}
			}
		}
	}
	return false
}

// apiKeys returns the names of the API keys in the given location
// ("query" or "header") that an operation's security (the document's
// when the operation has none) uses.
func apiKeys(doc *openapi3.T, op *openapi3.Operation, in string) map[string]bool {
	out := make(map[string]bool)
	if doc == nil || doc.Components == nil {
		return out
	}
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	for _, req := range reqs {
		for name := range req {
			ref := doc.Components.SecuritySchemes[name]
			if ref == nil || ref.Value == nil {
				continue
			}
			if ss := ref.Value; ss.Type == "apiKey" && ss.In == in {
				out[ss.Name] = true
			}
		}
	}
	return out
}
