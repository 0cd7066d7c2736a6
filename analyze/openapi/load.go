package openapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

// Load reads an OpenAPI document from a file: YAML or JSON, OpenAPI 3.0.x
// or 3.1.x, or Swagger 2.0 (converted to OpenAPI 3.0 with openapi2conv).
// Its $refs are resolved, within the file and to other files on the local
// file system (never over the network), and it is validated with
// kin-openapi for its version. Examples and defaults that do not match
// their schemas are not errors here: published specs often have such (two
// of the four real ones the tests use do), and they matter neither for the
// templates nor for a diff. Errors name the file and the problem.
func Load(path string) (*openapi3.T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("openapi: load: %w", err)
	}
	return LoadData(data, path)
}

// LoadData is Load for a document already read: path names it in errors
// and is where its relative $refs are resolved from.
func LoadData(data []byte, path string) (*openapi3.T, error) {
	doc, err := loadData(data, path)
	if err != nil {
		return nil, fmt.Errorf("openapi: load %s: %w", path, err)
	}
	return doc, nil
}

// loadData parses, resolves and validates a document read from path.
func loadData(data []byte, path string) (*openapi3.T, error) {
	var head struct {
		OpenAPI any `yaml:"openapi"`
		Swagger any `yaml:"swagger"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		if jerr := json.Unmarshal(data, &head); jerr != nil {
			return nil, fmt.Errorf("neither YAML nor JSON: %w", err)
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	location := &url.URL{Path: filepath.ToSlash(abs)}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = true
	loader.ReadFromURIFunc = openapi3.ReadFromFile // local files only: no network
	loader.Context = context.Background()

	var doc *openapi3.T
	switch {
	case head.Swagger != nil:
		if v := fmt.Sprint(head.Swagger); v != "2.0" {
			return nil, fmt.Errorf("unsupported Swagger version %q (want 2.0)", v)
		}
		js, err := yamlToJSON(data)
		if err != nil {
			return nil, err
		}
		var doc2 openapi2.T
		if err := json.Unmarshal(js, &doc2); err != nil {
			return nil, fmt.Errorf("swagger 2.0: %w", err)
		}
		doc, err = openapi2conv.ToV3WithLoader(&doc2, loader, location)
		if err != nil {
			return nil, fmt.Errorf("converting Swagger 2.0 to OpenAPI 3: %w", err)
		}
	case head.OpenAPI != nil:
		v := fmt.Sprint(head.OpenAPI)
		if d := (&openapi3.T{OpenAPI: v}); !d.IsOpenAPI30() && d.OpenAPIMajorMinor() != "3.1" {
			return nil, fmt.Errorf("unsupported OpenAPI version %q (want 3.0.x or 3.1.x)", v)
		}
		doc, err = loader.LoadFromDataWithPath(data, location)
		if errors.Is(err, openapi3.ErrURINotSupported) {
			return nil, fmt.Errorf("%w (only $refs within the file or to local files are followed)", err)
		}
		if err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("not an OpenAPI document: no openapi or swagger field")
	}
	if err := doc.Validate(loader.Context, openapi3.DisableExamplesValidation(), openapi3.DisableSchemaDefaultsValidation()); err != nil {
		return nil, fmt.Errorf("not valid OpenAPI %s: %w", doc.OpenAPI, err)
	}
	return doc, nil
}

// yamlToJSON converts a YAML (or JSON) document to JSON.
func yamlToJSON(data []byte) ([]byte, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return json.Marshal(jsonable(v))
}

// jsonable turns what yaml.v3 decodes into what encoding/json can encode
// (maps with non-string keys).
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = jsonable(e)
		}
		return x
	}
	return v
}

// Operation is an operation a document describes, as served: the server's
// host, the method, and the full path template (the server's base path
// included).
type Operation struct {
	// Host is the server URL's host (lower-cased, port kept:
	// "api.example.com:8080"); "" when the server URL is relative or has
	// no host.
	Host string
	// Method is upper-case.
	Method string
	// Template is the base path of the server joined with the path:
	// "/api/v1" + "/users/{id}" = "/api/v1/users/{id}".
	Template string
}

// String renders "METHOD template (host)".
func (o Operation) String() string {
	if o.Host == "" {
		return o.Method + " " + o.Template
	}
	return o.Method + " " + o.Template + " (" + o.Host + ")"
}

// Templates lists the operations a document describes, one per server each
// applies to (the operation's servers, else its path's, else the
// document's; a document without servers has the relative server "/"),
// sorted by template, method (GET, PUT, POST, DELETE, OPTIONS, HEAD,
// PATCH, TRACE) and host, without duplicates. Server variables take their
// default values.
func Templates(doc *openapi3.T) []Operation {
	ops := collect(doc)
	if len(ops) == 0 {
		return nil
	}
	out := make([]Operation, len(ops))
	for i, o := range ops {
		out[i] = o.Operation
	}
	return out
}

// docOp is an Operation with the document objects behind it.
type docOp struct {
	Operation
	key  string // method and normalized template: what Diff matches on
	tmpl template
	item *openapi3.PathItem
	op   *openapi3.Operation
}

// collect lists a document's operations as Templates describes.
func collect(doc *openapi3.T) []docOp {
	if doc == nil || doc.Paths == nil {
		return nil
	}
	seen := make(map[Operation]bool)
	var out []docOp
	for _, path := range doc.Paths.Keys() {
		item := doc.Paths.Value(path)
		if item == nil {
			continue
		}
		for _, method := range methodOrder {
			op := item.GetOperation(method)
			if op == nil {
				continue
			}
			servers := doc.Servers
			if len(item.Servers) > 0 {
				servers = item.Servers
			}
			if op.Servers != nil && len(*op.Servers) > 0 {
				servers = *op.Servers
			}
			if len(servers) == 0 {
				servers = openapi3.Servers{{URL: "/"}}
			}
			for _, s := range servers {
				if s == nil {
					continue
				}
				host, base := ServerHostBase(s)
				o := Operation{Host: host, Method: method, Template: base + path}
				if seen[o] {
					continue
				}
				seen[o] = true
				d := docOp{Operation: o, item: item, op: op}
				if t, err := parseTemplate(o.Template); err == nil {
					d.tmpl = t
					d.key = method + " " + t.normalized()
				} else {
					d.key = method + " " + o.Template
				}
				out = append(out, d)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return lessOp(out[i].Operation, out[j].Operation) })
	return out
}

// lessOp orders operations by template, method and host.
func lessOp(a, b Operation) bool {
	if a.Template != b.Template {
		return a.Template < b.Template
	}
	if ra, rb := methodRank(a.Method), methodRank(b.Method); ra != rb {
		return ra < rb
	}
	return a.Host < b.Host
}

// ServerHostBase splits a server URL (variables replaced by their
// defaults) into its host, lower case and with its port if it has one
// ("api.example.com", "localhost:5000", "" for a relative URL), and its
// base path ("" or "/api/v1", without a trailing slash). As in OpenAPI
// and kin-openapi, a URL with neither a scheme nor "//" is relative to
// the host the document is served from: "api.example.com/v1" is the
// base path "/api.example.com/v1" on no particular host.
func ServerHostBase(s *openapi3.Server) (host, base string) {
	u := s.URL
	for name, v := range s.Variables {
		if v != nil {
			u = strings.ReplaceAll(u, "{"+name+"}", v.Default)
		}
	}
	rest := u
	if i := strings.Index(u, "://"); i >= 0 {
		rest = u[i+3:]
	} else if strings.HasPrefix(u, "//") {
		rest = u[2:]
	} else {
		rest = ""
		base = u
	}
	if rest != "" || base == "" {
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		host, base = rest[:end], rest[end:]
		if i := strings.LastIndexByte(host, '@'); i >= 0 {
			host = host[i+1:]
		}
		if h, err := url.PathUnescape(host); err == nil {
			host = h
		}
		host = strings.ToLower(host)
	}
	if i := strings.IndexAny(base, "?#"); i >= 0 {
		base = base[:i]
	}
	base = strings.TrimRight(base, "/")
	if base != "" && base[0] != '/' {
		base = "/" + base
	}
	return host, base
}
