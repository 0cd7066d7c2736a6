//go:build conformance

package openapi

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// realSpecs are the published specs in ../shared/data/specs (beside the
// repository) and the operations each describes, counted in the files.
var realSpecs = []struct {
	file string
	ops  int
}{
	{"vampi/openapi3.yml", 14},
	{"crapi/crapi-openapi-spec.json", 44},
	{"meilisearch/open-api.json", 113},
	{"apideck-crm/crm.yml", 53},
}

func realSpecPath(file string) string {
	// analyze/openapi → the repository root → its sibling shared/.
	return filepath.Join("..", "..", "..", "shared", "data", "specs", filepath.FromSlash(file))
}

func TestConformanceRealSpecs(t *testing.T) {
	for _, s := range realSpecs {
		t.Run(s.file, func(t *testing.T) {
			ref, err := Load(realSpecPath(s.file))
			if err != nil {
				t.Fatal(err)
			}
			ops := Templates(ref)
			if len(ops) != s.ops {
				t.Errorf("Templates: %d operations, want %d", len(ops), s.ops)
			}
			if !slices.IsSortedFunc(ops, func(a, b Operation) int {
				if lessOp(a, b) {
					return -1
				}
				if lessOp(b, a) {
					return 1
				}
				return 0
			}) || len(slices.Compact(slices.Clone(ops))) != len(ops) {
				t.Error("Templates not sorted or has duplicates")
			}
			for _, o := range ops {
				if !strings.HasPrefix(o.Template, "/") || o.Method != strings.ToUpper(o.Method) {
					t.Errorf("bad operation %v", o)
				}
			}

			again, err := Load(realSpecPath(s.file))
			if err != nil {
				t.Fatal(err)
			}
			if d := Diff(ref, again); !d.Empty() {
				t.Errorf("Diff(spec, spec):\n%s", reportString(d))
			}

			// Marshal keeps what the spec says.
			for _, format := range []string{"yaml", "json"} {
				b, err := Marshal(ref, format)
				if err != nil {
					t.Fatal(err)
				}
				back, err := openapi3.NewLoader().LoadFromData(b)
				if err != nil {
					t.Fatalf("%s: %v", format, err)
				}
				if d := Diff(ref, back); !d.Empty() {
					t.Errorf("Diff(spec, marshalled %s):\n%s", format, reportString(d))
				}
			}

			mutated, err := Load(realSpecPath(s.file))
			if err != nil {
				t.Fatal(err)
			}
			want := mutate(t, mutated)
			got := Diff(ref, mutated)
			t.Logf("mutations found:\n%s", reportString(got))
			if !slices.Equal(got.Shadow, want.Shadow) || !slices.Equal(got.Zombie, want.Zombie) || !slices.Equal(got.Drift, want.Drift) {
				t.Errorf("Diff(spec, mutated):\n%s\nwant exactly the mutations:\n%s", reportString(got), reportString(want))
			}
		})
	}
}

// mutate changes a loaded spec in place in seven ways, each on an
// operation of its own, and returns the report Diff must give against the
// unchanged spec: a removed operation (zombie), an added one (shadow), an
// added query parameter, an added status code, an added response media
// type, an added response property, a changed parameter type; and a
// renamed path parameter, which must give nothing.
func mutate(t *testing.T, doc *openapi3.T) Report {
	t.Helper()
	var want Report
	ops := collect(doc)
	used := make(map[*openapi3.Operation]bool)
	usedItems := make(map[*openapi3.PathItem]bool)
	first := func(op *openapi3.Operation) Operation {
		for _, o := range ops {
			if o.op == op {
				return o.Operation
			}
		}
		t.Fatal("operation not found")
		return Operation{}
	}
	find := func(ok func(o docOp) bool) (docOp, bool) {
		for _, o := range ops {
			if !used[o.op] && ok(o) {
				used[o.op] = true
				usedItems[o.item] = true
				return o, true
			}
		}
		return docOp{}, false
	}
	pick := func(what string, ok func(o docOp) bool) docOp {
		o, found := find(ok)
		if !found {
			t.Fatalf("no operation to mutate for %s", what)
		}
		return o
	}

	// Zombie: remove the first operation.
	z := pick("zombie", func(docOp) bool { return true })
	for _, o := range ops {
		if o.op == z.op {
			want.Zombie = append(want.Zombie, o.Operation)
		}
	}
	z.item.SetOperation(z.Method, nil)

	// Parameter: an undocumented query parameter.
	p := pick("parameter", func(docOp) bool { return true })
	p.op.Parameters = append(slices.Clip(p.op.Parameters), &openapi3.ParameterRef{Value: &openapi3.Parameter{
		Name: "apitapProbe", In: "query", Schema: openapi3.NewSchemaRef("", openapi3.NewIntegerSchema())}})
	want.Drift = append(want.Drift, Drift{first(p.op), DriftParameter, "query:apitapProbe", "integer", ""})

	// Status: a status code that neither a range nor default covers (a
	// spec whose every operation has a default response documents them all).
	desc := "probe"
	if st, ok := find(func(o docOp) bool {
		r := o.op.Responses
		return r != nil && r.Len() > 0 && r.Default() == nil && r.Value("5XX") == nil && r.Value("599") == nil
	}); ok {
		documented := strings.Join(st.op.Responses.Keys(), ", ")
		st.op.Responses = copyResponses(st.op.Responses)
		st.op.Responses.Set("599", &openapi3.ResponseRef{Value: &openapi3.Response{Description: &desc}})
		want.Drift = append(want.Drift, Drift{first(st.op), DriftStatus, "response 599", "599", documented})
	} else {
		t.Log("every operation has a default response: no status mutation")
	}

	// Content type: a media type a response does not document.
	var ctCode string
	ct := pick("content type", func(o docOp) bool {
		ctCode = ""
		if o.op.Responses == nil {
			return false
		}
		for _, code := range o.op.Responses.Keys() {
			r := o.op.Responses.Value(code)
			if r == nil || r.Value == nil || len(r.Value.Content) == 0 {
				continue
			}
			concrete := true
			for k := range r.Value.Content {
				concrete = concrete && !strings.Contains(k, "*")
			}
			if concrete {
				ctCode = code
				return true
			}
		}
		return false
	})
	ct.op.Responses = copyResponses(ct.op.Responses)
	resp := *ct.op.Responses.Value(ctCode).Value
	documented := mediaTypes(resp.Content)
	resp.Content = copyContent(resp.Content)
	resp.Content["application/x-apitap-probe"] = &openapi3.MediaType{Schema: openapi3.NewSchemaRef("", openapi3.NewStringSchema())}
	ct.op.Responses.Set(ctCode, &openapi3.ResponseRef{Value: &resp})
	want.Drift = append(want.Drift, Drift{first(ct.op), DriftContentType, "response " + ctCode, "application/x-apitap-probe", documented})

	// Property: a property a plain object response body does not have.
	var propCode, propCT string
	pr := pick("property", func(o docOp) bool {
		if o.op.Responses == nil {
			return false
		}
		for _, code := range o.op.Responses.Keys() {
			r := o.op.Responses.Value(code)
			if r == nil || r.Value == nil {
				continue
			}
			for _, k := range sortedKeys(r.Value.Content) {
				mt := r.Value.Content[k]
				if mediaType(k) != "application/json" || mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
					continue
				}
				s := mt.Schema.Value
				if len(variants(s)) == 1 && slices.Equal(typeSet(s), []string{"object"}) && len(s.Properties) > 0 &&
					s.AdditionalProperties.Schema == nil && (s.AdditionalProperties.Has == nil || !*s.AdditionalProperties.Has) {
					propCode, propCT = code, k
					return true
				}
			}
		}
		return false
	})
	pr.op.Responses = copyResponses(pr.op.Responses)
	presp := *pr.op.Responses.Value(propCode).Value
	presp.Content = copyContent(presp.Content)
	mt := *presp.Content[propCT]
	schema := *mt.Schema.Value
	schema.Properties = make(openapi3.Schemas, len(mt.Schema.Value.Properties)+1)
	for k, v := range mt.Schema.Value.Properties {
		schema.Properties[k] = v
	}
	schema.Properties["apitapProbe"] = openapi3.NewSchemaRef("", openapi3.NewStringSchema())
	mt.Schema = openapi3.NewSchemaRef("", &schema)
	presp.Content[propCT] = &mt
	pr.op.Responses.Set(propCode, &openapi3.ResponseRef{Value: &presp})
	want.Drift = append(want.Drift, Drift{first(pr.op), DriftProperty, "response " + propCode + " " + mediaType(propCT) + " /apitapProbe", "string", ""})

	// Type: a scalar parameter of an operation (its own query or header
	// parameter, else a path parameter overridden at the operation) gets
	// another type.
	var old *openapi3.Parameter
	ty := pick("type", func(o docOp) bool {
		var path *openapi3.Parameter
		for _, p := range params(o.item, o.op) {
			if p.Schema == nil {
				continue
			}
			ts := typeSet(p.Schema.Value)
			if len(ts) != 1 || !slices.Contains([]string{"integer", "number", "string"}, ts[0]) {
				continue
			}
			if p.In == "path" && path == nil {
				path = p
			}
			if (p.In == "query" || p.In == "header") && slices.ContainsFunc(o.op.Parameters, func(r *openapi3.ParameterRef) bool { return r.Value == p }) {
				old = p
				return true
			}
		}
		old = path
		return path != nil
	})
	changed := *old
	changed.Schema = openapi3.NewSchemaRef("", openapi3.NewBoolSchema())
	list := make(openapi3.Parameters, 0, len(ty.op.Parameters)+1)
	for _, r := range ty.op.Parameters {
		if r.Value != old {
			list = append(list, r)
		}
	}
	ty.op.Parameters = append(list, &openapi3.ParameterRef{Value: &changed})
	want.Drift = append(want.Drift, Drift{first(ty.op), DriftType, old.In + ":" + old.Name, "boolean", typeString(old.Schema.Value)})

	// Rename: the path parameters of a path no other mutation touched get
	// new names; nothing must come of it.
	renamed := false
	for _, key := range doc.Paths.Keys() {
		item := doc.Paths.Value(key)
		if usedItems[item] || !strings.Contains(key, "{") {
			continue
		}
		tmpl, err := parseTemplate(key)
		if err != nil {
			continue
		}
		names := make(map[string]string)
		for i, n := range tmpl.names {
			tmpl.names[i] = n + "Renamed"
			names[n] = tmpl.names[i]
		}
		rename := func(list openapi3.Parameters) openapi3.Parameters {
			out := slices.Clone(list)
			for i, r := range out {
				if r != nil && r.Value != nil && r.Value.In == "path" && names[r.Value.Name] != "" {
					c := *r.Value
					c.Name = names[c.Name]
					out[i] = &openapi3.ParameterRef{Value: &c}
				}
			}
			return out
		}
		item.Parameters = rename(item.Parameters)
		for _, op := range item.Operations() {
			op.Parameters = rename(op.Parameters)
		}
		doc.Paths.Delete(key)
		doc.Paths.Set(tmpl.String(), item)
		renamed = true
		break
	}
	if !renamed {
		t.Fatal("no path parameter to rename")
	}

	// Shadow: an operation nobody documented, under the document's servers.
	doc.AddOperation("/apitap-probe", "GET", &openapi3.Operation{Responses: openapi3.NewResponses(
		openapi3.WithStatus(200, &openapi3.ResponseRef{Value: &openapi3.Response{Description: &desc}}))})
	for _, o := range collect(doc) {
		if strings.HasSuffix(o.Template, "/apitap-probe") {
			want.Shadow = append(want.Shadow, o.Operation)
		}
	}
	if len(want.Shadow) == 0 {
		t.Fatal("shadow operation not collected")
	}
	sortDrift(want.Drift)
	return want
}

func copyResponses(r *openapi3.Responses) *openapi3.Responses {
	out := openapi3.NewResponses()
	for _, k := range r.Keys() {
		out.Set(k, r.Value(k))
	}
	return out
}

func copyContent(c openapi3.Content) openapi3.Content {
	out := make(openapi3.Content, len(c)+1)
	for k, v := range c {
		out[k] = v
	}
	return out
}
