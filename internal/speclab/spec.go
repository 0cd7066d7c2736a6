package speclab

import (
	"cmp"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/apitap/apitap/analyze/openapi"
	"github.com/getkin/kin-openapi/openapi3"
)

// Spec is an OpenAPI document prepared for the lab: its operations in a
// fixed order, the base path and the host the traffic uses. It is read-only
// once loaded and safe for concurrent use.
type Spec struct {
	Doc   *openapi3.T
	Title string
	// V31 is true for OpenAPI 3.1 documents: `nullable` means nothing there
	// and schemas are JSON Schema 2020-12.
	V31 bool
	// BasePath is the path of the first server URL without its trailing
	// slash ("" or "/api/v1").
	BasePath string
	// Host is a realistic host name for the API: the first server's host,
	// or, when that is missing or local, one derived from the title
	// ("vampi.example.com").
	Host string
	// Operations sorted by path template, then method.
	Operations []*Operation

	nodes *sync.Map // the generators' cache of built schemas
}

// Operation is one method on one path template of the spec.
type Operation struct {
	Method   string // upper case
	Template string // path template as written in the spec ("/users/{id}")
	Op       *openapi3.Operation
	// Params are the path item's and the operation's parameters (the
	// operation's win on the same name and location), in spec order.
	Params []*openapi3.Parameter
	// Security is the effective requirement list (the operation's, else
	// the document's); empty means anonymous.
	Security openapi3.SecurityRequirements
	// Responses are the documented responses, sorted by code ("default"
	// last).
	Responses []Response

	segs []segment
}

// ID is "METHOD /template".
func (o *Operation) ID() string { return o.Method + " " + o.Template }

// Response is one documented response of an operation.
type Response struct {
	Code  string // as in the spec: "200", "4XX", "default"
	Value *openapi3.Response
}

// Documents reports whether the operation documents status: an explicit
// code, a range (4XX) or a default response.
func (o *Operation) Documents(status int) bool {
	s := strconv.Itoa(status)
	for _, r := range o.Responses {
		if r.Code == s || r.Code == "default" || (len(r.Code) == 3 && r.Code[1:] == "XX" && r.Code[0] == s[0]) {
			return true
		}
	}
	return false
}

// response returns the documented response that covers status.
func (o *Operation) response(status int) *openapi3.Response {
	s := strconv.Itoa(status)
	var rng, def *openapi3.Response
	for _, r := range o.Responses {
		switch {
		case r.Code == s:
			return r.Value
		case len(r.Code) == 3 && r.Code[1:] == "XX" && r.Code[0] == s[0]:
			rng = r.Value
		case r.Code == "default":
			def = r.Value
		}
	}
	if rng != nil {
		return rng
	}
	return def
}

// LoadSpec reads an OpenAPI 3.0 or 3.1 document (JSON or YAML) with
// kin-openapi, without following external references. Unlike openapi.Load
// it does not validate: the lab serves whatever a spec describes, an
// operation whose path parameters are not declared included.
func LoadSpec(path string) (*Spec, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("speclab: load %s: %w", path, err)
	}
	return newSpec(doc)
}

// LoadSpecData is LoadSpec for a document in memory.
func LoadSpecData(data []byte) (*Spec, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("speclab: load spec: %w", err)
	}
	return newSpec(doc)
}

func newSpec(doc *openapi3.T) (*Spec, error) {
	s := &Spec{Doc: doc, nodes: &sync.Map{}, V31: strings.HasPrefix(doc.OpenAPI, "3.1") || strings.HasPrefix(doc.OpenAPI, "3.2")}
	if doc.Info != nil {
		s.Title = doc.Info.Title
	}
	host := ""
	if len(doc.Servers) > 0 && doc.Servers[0] != nil {
		host, s.BasePath = openapi.ServerHostBase(doc.Servers[0])
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
	}
	s.Host = realisticHost(host, s.Title)
	if doc.Paths == nil {
		return nil, fmt.Errorf("speclab: the spec has no paths")
	}
	for _, tmpl := range doc.Paths.Keys() {
		item := doc.Paths.Value(tmpl)
		if item == nil {
			continue
		}
		segs, err := parseTemplate(tmpl)
		if err != nil {
			return nil, err
		}
		for method, op := range item.Operations() {
			o := &Operation{Method: strings.ToUpper(method), Template: tmpl, Op: op, segs: segs}
			o.Params = mergeParams(item.Parameters, op.Parameters)
			if op.Security != nil {
				o.Security = *op.Security
			} else {
				o.Security = doc.Security
			}
			if op.Responses != nil {
				for code, rr := range op.Responses.Map() {
					if rr != nil && rr.Value != nil {
						o.Responses = append(o.Responses, Response{Code: code, Value: rr.Value})
					}
				}
			}
			slices.SortFunc(o.Responses, func(a, b Response) int {
				if (a.Code == "default") != (b.Code == "default") {
					if a.Code == "default" {
						return 1
					}
					return -1
				}
				return cmp.Compare(a.Code, b.Code)
			})
			s.Operations = append(s.Operations, o)
		}
	}
	slices.SortFunc(s.Operations, func(a, b *Operation) int {
		return cmp.Or(cmp.Compare(a.Template, b.Template), cmp.Compare(a.Method, b.Method))
	})
	return s, nil
}

func mergeParams(item, op openapi3.Parameters) []*openapi3.Parameter {
	var out []*openapi3.Parameter
	seen := map[string]int{}
	for _, list := range []openapi3.Parameters{item, op} {
		for _, pr := range list {
			if pr == nil || pr.Value == nil {
				continue
			}
			k := pr.Value.In + "\x00" + pr.Value.Name
			if i, ok := seen[k]; ok {
				out[i] = pr.Value
				continue
			}
			seen[k] = len(out)
			out = append(out, pr.Value)
		}
	}
	return out
}

var genericTitleWords = map[string]bool{"api": true, "apis": true, "openapi": true, "rest": true, "restful": true,
	"the": true, "service": true, "spec": true, "specification": true, "http": true, "v1": true, "v2": true, "v3": true,
	"for": true, "of": true, "and": true, "server": true, "documentation": true, "owasp": true}

var nonAlnum = regexp.MustCompile(`[^a-z0-9]+`)

// realisticHost keeps a real server host and replaces local or missing ones
// with a name derived from the title.
func realisticHost(host, title string) string {
	h := strings.ToLower(host)
	if h != "" && h != "localhost" && !strings.HasPrefix(h, "127.") && h != "::1" && h != "0.0.0.0" && strings.Contains(h, ".") {
		return h
	}
	var words []string
	for _, w := range strings.Fields(nonAlnum.ReplaceAllString(strings.ToLower(title), " ")) {
		if !genericTitleWords[w] {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return "api.example.com"
	}
	if len(words) > 3 {
		words = words[:3]
	}
	return strings.Join(words, "-") + ".example.com"
}
