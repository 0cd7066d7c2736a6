package openapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/apitap/apitap/analyze"
)

// The OpenAPI versions Build writes.
const (
	Version30 = "3.0.3"
	Version31 = "3.1.0"
)

// DefaultTitle is info.title when Options.Title is empty.
const DefaultTitle = "APIs observed by apitap"

// Options control Build and BuildPerHost.
type Options struct {
	// Version is the OpenAPI version written: "3.0.3" (also the zero value)
	// or "3.1.0"; "3.0" and "3.1" are accepted for them. Anything else is
	// an error naming the value.
	Version string
	// Title is info.title (zero: DefaultTitle). BuildPerHost appends the
	// host to it.
	Title string
	// InfoVersion is info.version (zero: the inventory's time range as an
	// ISO 8601 interval, "2024-01-31T10:00:00Z/2024-01-31T11:02:03Z", or
	// "unobserved" for an inventory without traffic; deterministic).
	InfoVersion string
}

// version resolves Options.Version.
func (o Options) version() (string, error) {
	switch o.Version {
	case "", "3.0", Version30:
		return Version30, nil
	case "3.1", Version31:
		return Version31, nil
	}
	return "", fmt.Errorf("openapi: unsupported OpenAPI version %q (want %s or %s)", o.Version, Version30, Version31)
}

// Build makes one OpenAPI document describing every endpoint of the
// inventory:
//   - one server per host ("http://host", "https://host" when the port is
//     443, "/" for requests without a Host); a path served by only some of
//     the hosts lists them as path-level servers, an operation served by
//     fewer hosts than its path as operation-level servers;
//   - one path per template (paths that differ only in parameter names are
//     one path, under the busiest endpoint's names), one operation per
//     method, with summary "METHOD /template" and a unique, stable
//     operationId ("getUsersUserId"); the same operation on several hosts
//     is one operation whose schemas join what each host showed;
//   - path, query and header parameters, request bodies per content type,
//     responses per status code and content type (a status seen without a
//     body has no content; an endpoint never answered gets a "default"
//     response saying so);
//   - securitySchemes for the authentication seen and per-operation
//     security (alternatives; an empty requirement when some calls carried
//     no credentials; an empty list when none did);
//   - extensions: x-apitap-calls, x-apitap-clients (summed over hosts, so
//     an upper bound when an operation is on several hosts),
//     x-apitap-first-seen, x-apitap-last-seen, x-apitap-latency-ms
//     {p50, p95, p99} (the largest of each over hosts), x-apitap-origin,
//     x-apitap-auth, x-apitap-hosts (calls per host, when several),
//     x-apitap-sensitive on operations ([{in, pointer, classes, count}]),
//     on parameters and on schema properties (classes), x-apitap-calls on
//     responses.
//
// Endpoints OpenAPI cannot describe (a method other than GET, PUT, POST,
// DELETE, OPTIONS, HEAD, PATCH, TRACE; a template that is not a valid path)
// are left out and counted in info.description. Schemas are copied from
// the inventory, brought into the version's form (3.1: "null" in type
// lists, examples arrays) and stripped of examples that do not validate; a
// schema that still does not validate is replaced by {} with the reason in
// x-apitap-invalid-schema (and counted in info.description). The document
// is validated with kin-openapi for its version before it is returned;
// Build returns an error instead of an invalid document.
func Build(inv *analyze.Inventory, opts Options) (*openapi3.T, error) {
	if inv == nil {
		return nil, errors.New("openapi: build: nil inventory")
	}
	version, err := opts.version()
	if err != nil {
		return nil, err
	}
	title := opts.Title
	if title == "" {
		title = DefaultTitle
	}
	b := &builder{version: version, v31: version == Version31}
	doc := b.build(inv, title, opts.InfoVersion)
	if err := Validate(doc); err != nil {
		return nil, fmt.Errorf("openapi: build: generated document is invalid: %w", err)
	}
	return doc, nil
}

// BuildPerHost makes one document per host of the inventory, keyed by host
// ("" for requests without a Host header), each as Build would make it
// for that host's endpoints alone; titles get " (host)" appended.
func BuildPerHost(inv *analyze.Inventory, opts Options) (map[string]*openapi3.T, error) {
	if inv == nil {
		return nil, errors.New("openapi: build per host: nil inventory")
	}
	if _, err := opts.version(); err != nil {
		return nil, err
	}
	byHost := make(map[string][]analyze.Endpoint)
	for _, ep := range inv.Endpoints {
		byHost[ep.Host] = append(byHost[ep.Host], ep)
	}
	title := opts.Title
	if title == "" {
		title = DefaultTitle
	}
	out := make(map[string]*openapi3.T, len(byHost))
	for _, host := range sortedKeys(byHost) {
		sub := *inv
		sub.Endpoints = byHost[host]
		sub.Merged = 0 // counted for the whole inventory, not per host
		o := opts
		name := host
		if name == "" {
			name = "no host"
		}
		o.Title = title + " (" + name + ")"
		doc, err := Build(&sub, o)
		if err != nil {
			return nil, fmt.Errorf("openapi: build for host %q: %w", host, err)
		}
		out[host] = doc
	}
	return out, nil
}

// HostFileName turns a host (a key of BuildPerHost's map) into a file
// name stem that is safe on every file system: bytes other than letters,
// digits, '.', '-' and '_' become '_' ("api.example.com:8080" →
// "api.example.com_8080"); "" becomes "_nohost". Distinct hosts can map to
// the same stem only when they differ in such bytes.
func HostFileName(host string) string {
	if host == "" {
		return "_nohost"
	}
	name := componentName(host)
	if strings.Trim(name, ".") == "" {
		return strings.ReplaceAll(name, ".", "_") // never "." or ".."
	}
	return name
}

// Validate checks doc with kin-openapi as Build does: the rules of the
// version the document declares (JSON Schema 2020-12 for 3.1), examples and
// defaults included.
func Validate(doc *openapi3.T) error {
	if doc == nil {
		return errors.New("openapi: nil document")
	}
	return doc.Validate(context.Background())
}

// builder holds the state of one Build.
type builder struct {
	version string
	v31     bool
	schemes map[authKey]string // security scheme component names
	// schemeNames holds the credential name of each scheme as first seen
	// (header names are matched case-insensitively).
	schemeNames map[authKey]string
}

// copySchema deep-copies an inventory schema into OpenAPI 3.0 form. Every
// copy is independent of the others (annotations on one never show in
// another); nil stays nil.
func copySchema(s *openapi3.Schema) *openapi3.Schema {
	c := (&cloner{}).schema(s)
	walkSchema(c, make(map[*openapi3.Schema]bool), to30)
	return c
}

// authKey identifies a security scheme: a scheme and the credential's
// name (header names lower-cased, as they are case-insensitive).
type authKey struct{ scheme, name string }

// member is one inventory endpoint of a path group.
type member struct {
	ep   *analyze.Endpoint
	tmpl template
}

// pathGroup is the endpoints whose templates differ at most in parameter
// names: one OpenAPI path.
type pathGroup struct {
	canon   template
	path    string
	members []member
}

func (b *builder) build(inv *analyze.Inventory, title, infoVersion string) *openapi3.T {
	groups := make(map[string]*pathGroup)
	skipped := 0
	for i := range inv.Endpoints {
		ep := &inv.Endpoints[i]
		t, err := parseTemplate(ep.Template)
		if err != nil || methodRank(ep.Method) == len(methodOrder) {
			skipped++
			continue
		}
		norm := t.normalized()
		g := groups[norm]
		if g == nil {
			g = &pathGroup{}
			groups[norm] = g
		}
		g.members = append(g.members, member{ep: ep, tmpl: t})
	}
	var ordered []*pathGroup
	hostSet := make(map[string]bool)
	for _, g := range groups {
		sortMembers(g.members)
		g.canon = template{literals: g.members[0].tmpl.literals, names: slices.Clone(g.members[0].tmpl.names)}
		g.canon.dedupeNames()
		g.path = g.canon.String()
		for _, m := range g.members {
			hostSet[m.ep.Host] = true
		}
		ordered = append(ordered, g)
	}
	sort.Slice(ordered, func(i, j int) bool { return ordered[i].path < ordered[j].path })
	hosts := sortedKeys(hostSet)

	b.collectSchemes(ordered)

	doc := &openapi3.T{
		OpenAPI: b.version,
		Info:    b.info(inv, title, infoVersion, ordered, len(hosts), skipped),
		Paths:   openapi3.NewPaths(),
	}
	for _, h := range hosts {
		doc.Servers = append(doc.Servers, server(h))
	}

	var ops []*openapi3.Operation
	var bases []string
	for _, g := range ordered {
		item := &openapi3.PathItem{}
		byMethod := make(map[string][]member)
		pathHosts := make(map[string]bool)
		for _, m := range g.members {
			byMethod[m.ep.Method] = append(byMethod[m.ep.Method], m)
			pathHosts[m.ep.Host] = true
		}
		ph := sortedKeys(pathHosts)
		if len(ph) != len(hosts) {
			for _, h := range ph {
				item.Servers = append(item.Servers, server(h))
			}
		}
		methods := sortedKeys(byMethod)
		sort.Slice(methods, func(i, j int) bool { return methodRank(methods[i]) < methodRank(methods[j]) })
		for _, method := range methods {
			op := b.operation(g, method, byMethod[method], ph)
			item.SetOperation(method, op)
			ops = append(ops, op)
			bases = append(bases, operationIDBase(method, g.path))
		}
		doc.Paths.Set(g.path, item)
	}
	for i, id := range uniqueIDs(bases) {
		ops[i].OperationID = id
	}

	if len(b.schemes) > 0 {
		doc.Components = &openapi3.Components{SecuritySchemes: make(openapi3.SecuritySchemes, len(b.schemes))}
		for k, name := range b.schemes {
			doc.Components.SecuritySchemes[name] = &openapi3.SecuritySchemeRef{Value: securityScheme(k, b.schemeNames[k])}
		}
	}
	if n := b.adaptSchemas(doc); n > 0 {
		doc.Info.Description += fmt.Sprintf(" Not exportable and replaced by {}: %s (see x-apitap-invalid-schema).", plural(int64(n), "schema"))
	}
	return doc
}

// sortMembers orders a group's endpoints busiest first (ties by host,
// template, method): the first one names the path's parameters.
func sortMembers(ms []member) {
	sort.Slice(ms, func(i, j int) bool {
		a, c := ms[i].ep, ms[j].ep
		if a.Calls != c.Calls {
			return a.Calls > c.Calls
		}
		if a.Host != c.Host {
			return a.Host < c.Host
		}
		if a.Template != c.Template {
			return a.Template < c.Template
		}
		return a.Method < c.Method
	})
}

func server(host string) *openapi3.Server {
	return &openapi3.Server{URL: hostURL(host)}
}

func (b *builder) info(inv *analyze.Inventory, title, infoVersion string, groups []*pathGroup, hosts, skipped int) *openapi3.Info {
	if infoVersion == "" {
		infoVersion = "unobserved"
		if !inv.First.IsZero() || !inv.Last.IsZero() {
			infoVersion = fmtTime(inv.First) + "/" + fmtTime(inv.Last)
		}
	}
	var calls int64
	ops := 0
	for _, g := range groups {
		seen := make(map[string]bool)
		for _, m := range g.members {
			calls += m.ep.Calls
			if !seen[m.ep.Method] {
				seen[m.ep.Method] = true
				ops++
			}
		}
	}
	var d strings.Builder
	fmt.Fprintf(&d, "Inferred by apitap from observed HTTP traffic: %s to %s on %s",
		plural(calls, "call"), plural(int64(ops), "operation"), plural(int64(hosts), "host"))
	if !inv.First.IsZero() {
		fmt.Fprintf(&d, ", between %s and %s", fmtTime(inv.First), fmtTime(inv.Last))
	}
	d.WriteString(".")
	if skipped > 0 {
		fmt.Fprintf(&d, " Not described: %s whose method or path OpenAPI cannot express.", plural(int64(skipped), "endpoint"))
	}
	if inv.Merged > 0 {
		fmt.Fprintf(&d, " Folded into catch-all templates: %s, when a host reached its endpoint cap.", plural(inv.Merged, "endpoint"))
	}
	return &openapi3.Info{Title: title, Version: infoVersion, Description: d.String()}
}

// plural is "1 endpoint", "2 endpoints".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}

func fmtTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// collectSchemes names a security scheme component for every credential
// seen in the document, in a stable order.
func (b *builder) collectSchemes(groups []*pathGroup) {
	set := make(map[authKey]bool)
	b.schemeNames = make(map[authKey]string)
	for _, g := range groups {
		for _, m := range g.members {
			for _, a := range m.ep.Auth {
				if k, ok := authKeyOf(a); ok {
					set[k] = true
					if _, ok := b.schemeNames[k]; !ok {
						b.schemeNames[k] = a.Name
					}
				}
			}
		}
	}
	keys := make([]authKey, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].scheme != keys[j].scheme {
			return keys[i].scheme < keys[j].scheme
		}
		return keys[i].name < keys[j].name
	})
	b.schemes = make(map[authKey]string, len(keys))
	used := make(map[string]bool, len(keys))
	for _, k := range keys {
		base := schemeBaseName(k.scheme, b.schemeNames[k])
		name := base
		for n := 2; used[name]; n++ {
			name = base + "_" + strconv.Itoa(n)
		}
		used[name] = true
		b.schemes[k] = name
	}
}

// authKeyOf maps a credential seen to its scheme; false for "none" and for
// what OpenAPI cannot describe (an unknown scheme, an API key without a
// name).
func authKeyOf(a analyze.AuthSeen) (authKey, bool) {
	switch a.Scheme {
	case "basic", "bearer", "bearer-jwt":
		return authKey{scheme: a.Scheme}, true
	case "apikey-header":
		if a.Name == "" {
			return authKey{}, false
		}
		return authKey{scheme: a.Scheme, name: strings.ToLower(a.Name)}, true
	case "apikey-query", "apikey-cookie", "session-cookie":
		if a.Name == "" {
			return authKey{}, false
		}
		return authKey{scheme: a.Scheme, name: a.Name}, true
	}
	return authKey{}, false
}

func schemeBaseName(scheme, name string) string {
	switch scheme {
	case "basic":
		return "basicAuth"
	case "bearer":
		return "bearerAuth"
	case "bearer-jwt":
		return "bearerJWT"
	case "apikey-header":
		return "apiKeyHeader_" + componentName(name)
	case "apikey-query":
		return "apiKeyQuery_" + componentName(name)
	case "apikey-cookie":
		return "apiKeyCookie_" + componentName(name)
	default:
		return "sessionCookie_" + componentName(name)
	}
}

func securityScheme(k authKey, name string) *openapi3.SecurityScheme {
	switch k.scheme {
	case "basic":
		return &openapi3.SecurityScheme{Type: "http", Scheme: "basic", Description: "HTTP Basic authentication."}
	case "bearer":
		return &openapi3.SecurityScheme{Type: "http", Scheme: "bearer", Description: "Bearer tokens (not JWTs)."}
	case "bearer-jwt":
		return &openapi3.SecurityScheme{Type: "http", Scheme: "bearer", BearerFormat: "JWT",
			Description: "Bearer tokens that are JWTs (their claims are not recorded)."}
	case "apikey-header":
		return &openapi3.SecurityScheme{Type: "apiKey", In: "header", Name: name, Description: "API key in a request header."}
	case "apikey-query":
		return &openapi3.SecurityScheme{Type: "apiKey", In: "query", Name: name, Description: "API key in a query parameter."}
	case "apikey-cookie":
		return &openapi3.SecurityScheme{Type: "apiKey", In: "cookie", Name: name, Description: "API key in a cookie."}
	default:
		return &openapi3.SecurityScheme{Type: "apiKey", In: "cookie", Name: name, Description: "Session cookie."}
	}
}

// opStats is the traffic of one operation, summed over its endpoints.
type opStats struct {
	calls, samples int64
	clients        uint64
	first, last    time.Time
	p50, p95, p99  time.Duration
	status         map[int]int64
	hosts          map[string]int64
	auth           map[analyze.AuthSeen]int64  // header names lower-cased
	authNames      map[analyze.AuthSeen]string // the names as first seen
	sensitive      map[[2]string]*sensitiveAgg // by in and pointer (header names lower-cased)
}

type sensitiveAgg struct {
	pointer string // as first seen
	classes []string
	count   int64
}

// operation builds the operation for method on a path from the endpoints
// (one per host, busiest first) that serve it.
func (b *builder) operation(g *pathGroup, method string, ms []member, pathHosts []string) *openapi3.Operation {
	st := opStats{
		status:    make(map[int]int64),
		hosts:     make(map[string]int64),
		auth:      make(map[analyze.AuthSeen]int64),
		authNames: make(map[analyze.AuthSeen]string),
		sensitive: make(map[[2]string]*sensitiveAgg),
	}
	for _, m := range ms {
		ep := m.ep
		st.calls += ep.Calls
		st.samples += ep.Samples
		st.clients += ep.Clients
		if !ep.First.IsZero() && (st.first.IsZero() || ep.First.Before(st.first)) {
			st.first = ep.First
		}
		if ep.Last.After(st.last) {
			st.last = ep.Last
		}
		st.p50 = max(st.p50, ep.LatencyP50)
		st.p95 = max(st.p95, ep.LatencyP95)
		st.p99 = max(st.p99, ep.LatencyP99)
		for _, s := range ep.Status {
			st.status[s.Code] += s.Count
		}
		st.hosts[ep.Host] += ep.Calls
		for _, a := range ep.Auth {
			k := analyze.AuthSeen{Scheme: a.Scheme, Name: a.Name}
			if a.Scheme == "apikey-header" {
				k.Name = strings.ToLower(a.Name)
			}
			st.auth[k] += a.Count
			if _, ok := st.authNames[k]; !ok {
				st.authNames[k] = a.Name
			}
		}
		for _, s := range ep.Sensitive {
			k := [2]string{s.In, s.Pointer}
			display := s.Pointer
			switch s.In {
			case "header":
				k[1] = strings.ToLower(s.Pointer)
			case "path":
				if i := slices.Index(m.tmpl.names, s.Pointer); i >= 0 {
					k[1] = g.canon.names[i]
					display = k[1]
				}
			}
			agg := st.sensitive[k]
			if agg == nil {
				agg = &sensitiveAgg{pointer: display}
				st.sensitive[k] = agg
			}
			agg.classes = unionClasses(agg.classes, s.Classes)
			agg.count += s.Count
		}
	}

	op := &openapi3.Operation{
		Summary: method + " " + g.path,
		Extensions: map[string]any{
			"x-apitap-calls":   st.calls,
			"x-apitap-clients": st.clients,
		},
	}
	if origin := ms[0].ep.Origin; origin != "" {
		op.Extensions["x-apitap-origin"] = origin
	}
	if !st.first.IsZero() {
		op.Extensions["x-apitap-first-seen"] = fmtTime(st.first)
		op.Extensions["x-apitap-last-seen"] = fmtTime(st.last)
	}
	if st.p50 > 0 || st.p95 > 0 || st.p99 > 0 {
		op.Extensions["x-apitap-latency-ms"] = map[string]any{"p50": ms3(st.p50), "p95": ms3(st.p95), "p99": ms3(st.p99)}
	}
	if len(st.hosts) > 1 {
		hc := make(map[string]any, len(st.hosts))
		for h, c := range st.hosts {
			hc[h] = c
		}
		op.Extensions["x-apitap-hosts"] = hc
	}
	var opHosts []string
	for _, m := range ms {
		if !slices.Contains(opHosts, m.ep.Host) {
			opHosts = append(opHosts, m.ep.Host)
		}
	}
	sort.Strings(opHosts)
	if !slices.Equal(opHosts, pathHosts) {
		servers := make(openapi3.Servers, 0, len(opHosts))
		for _, h := range opHosts {
			servers = append(servers, server(h))
		}
		op.Servers = &servers
	}

	op.Security = b.security(st.auth, st.authNames, op)
	op.Parameters = b.parameters(g, ms, st.auth)
	op.RequestBody = b.requestBody(ms)
	op.Responses = b.responses(ms, st.status)
	b.sensitive(op, st.sensitive)
	return op
}

// ms3 is a duration in milliseconds, rounded to the microsecond.
func ms3(d time.Duration) float64 {
	return math.Round(float64(d)/1e3) / 1e3
}

// security lists the schemes seen as alternatives, and an empty
// requirement when some calls carried no credentials. An operation whose
// calls carried none gets an empty list: explicitly no security.
func (b *builder) security(auth map[analyze.AuthSeen]int64, authNames map[analyze.AuthSeen]string, op *openapi3.Operation) *openapi3.SecurityRequirements {
	reqs := openapi3.SecurityRequirements{}
	none := len(auth) == 0
	var names []string
	var list []any
	keys := make([]analyze.AuthSeen, 0, len(auth))
	for k := range auth {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Scheme != keys[j].Scheme {
			return keys[i].Scheme < keys[j].Scheme
		}
		return keys[i].Name < keys[j].Name
	})
	for _, k := range keys {
		entry := map[string]any{"scheme": k.Scheme, "count": auth[k]}
		if k.Name != "" {
			entry["name"] = authNames[k]
		}
		list = append(list, entry)
		if k.Scheme == "none" {
			none = true
			continue
		}
		ak, ok := authKeyOf(k)
		if !ok {
			continue
		}
		name := b.schemes[ak]
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if len(list) > 0 {
		op.Extensions["x-apitap-auth"] = list
	}
	sort.Strings(names)
	for _, n := range names {
		reqs = append(reqs, openapi3.SecurityRequirement{n: []string{}})
	}
	if none && len(names) > 0 {
		reqs = append(reqs, openapi3.SecurityRequirement{})
	}
	return &reqs
}

// ignoredHeaders are header parameters OpenAPI says to ignore (they are
// described elsewhere: content types and security schemes).
var ignoredHeaders = [...]string{"accept", "content-type", "authorization"}

// parameters merges the endpoints' parameters: path parameters in template
// order under the path's names (every template parameter gets one), then
// query and header parameters sorted by name. A parameter is required when
// every endpoint that has it marks it required. Parameters carrying an API
// key are described by the security scheme instead.
func (b *builder) parameters(g *pathGroup, ms []member, auth map[analyze.AuthSeen]int64) openapi3.Parameters {
	type agg struct {
		p        *openapi3.Parameter
		required bool
		count    int
	}
	byKey := make(map[[2]string]*agg)
	var order [][2]string
	for _, m := range ms {
		for _, p := range m.ep.Params {
			name := p.Name
			if name == "" {
				continue // OpenAPI cannot name it
			}
			switch p.In {
			case "path":
				i := slices.Index(m.tmpl.names, p.Name)
				if i < 0 {
					continue // not in the template: OpenAPI would reject it
				}
				name = g.canon.names[i]
			case "query":
				if _, ok := auth[analyze.AuthSeen{Scheme: "apikey-query", Name: p.Name}]; ok {
					continue
				}
			case "header":
				lower := strings.ToLower(p.Name)
				if slices.Contains(ignoredHeaders[:], lower) {
					continue
				}
				if _, ok := auth[analyze.AuthSeen{Scheme: "apikey-header", Name: lower}]; ok {
					continue
				}
			default:
				continue
			}
			key := [2]string{p.In, name}
			if p.In == "header" {
				key[1] = strings.ToLower(name)
			}
			schema := copySchema(p.Schema)
			a := byKey[key]
			if a == nil {
				a = &agg{p: &openapi3.Parameter{Name: name, In: p.In}, required: true}
				byKey[key] = a
				order = append(order, key)
				if schema != nil {
					a.p.Schema = openapi3.NewSchemaRef("", schema)
				}
			} else if schema != nil {
				var prev *openapi3.Schema
				if a.p.Schema != nil {
					prev = a.p.Schema.Value
				}
				a.p.Schema = openapi3.NewSchemaRef("", joinSchemas(prev, schema))
			}
			a.required = a.required && p.Required
			a.count++
		}
	}
	var out openapi3.Parameters
	for _, name := range g.canon.names {
		a := byKey[[2]string{"path", name}]
		p := &openapi3.Parameter{Name: name, In: "path"}
		if a != nil {
			p = a.p
		}
		p.Required = true
		if p.Schema == nil {
			p.Schema = openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{"string"}})
		}
		out = append(out, &openapi3.ParameterRef{Value: p})
	}
	var rest []*agg
	for _, k := range order {
		if k[0] != "path" {
			rest = append(rest, byKey[k])
		}
	}
	sort.Slice(rest, func(i, j int) bool {
		a, c := rest[i].p, rest[j].p
		if a.In != c.In {
			return a.In == "query"
		}
		la, lc := strings.ToLower(a.Name), strings.ToLower(c.Name)
		if la != lc {
			return la < lc
		}
		return a.Name < c.Name
	})
	for _, a := range rest {
		a.p.Required = a.required && a.count == len(ms)
		if a.p.Schema == nil {
			a.p.Schema = openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{"string"}})
		}
		out = append(out, &openapi3.ParameterRef{Value: a.p})
	}
	return out
}

// requestBody merges the endpoints' request bodies per content type. The
// body is required when every endpoint saw one on every sampled call.
func (b *builder) requestBody(ms []member) *openapi3.RequestBodyRef {
	content := openapi3.Content{}
	required := true
	for _, m := range ms {
		if len(m.ep.RequestBodies) == 0 {
			required = false
			continue
		}
		seen := false
		for _, body := range m.ep.RequestBodies {
			seen = seen || body.Required
			b.addContent(content, body.ContentType, body.Schema)
		}
		required = required && seen
	}
	if len(content) == 0 {
		return nil
	}
	return &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: required, Content: content}}
}

// addContent adds (or joins) the schema for a media type. A body whose
// schema was not learned is described by its media type: text as a
// string, JSON as any value, anything else as bytes.
func (b *builder) addContent(content openapi3.Content, contentType string, s *openapi3.Schema) {
	ct := strings.ToLower(strings.TrimSpace(contentType))
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	if ct == "" {
		return
	}
	schema := copySchema(s)
	if schema == nil {
		schema = b.opaqueSchema(ct)
	}
	if mt := content[ct]; mt != nil && mt.Schema != nil {
		mt.Schema = openapi3.NewSchemaRef("", joinSchemas(mt.Schema.Value, schema))
		return
	}
	content[ct] = &openapi3.MediaType{Schema: openapi3.NewSchemaRef("", schema)}
}

func (b *builder) opaqueSchema(ct string) *openapi3.Schema {
	switch {
	case ct == "application/json" || strings.HasSuffix(ct, "+json"):
		return &openapi3.Schema{}
	case strings.HasPrefix(ct, "text/"):
		return &openapi3.Schema{Type: &openapi3.Types{"string"}}
	case b.v31:
		return &openapi3.Schema{Type: &openapi3.Types{"string"}, ContentMediaType: ct}
	default:
		return &openapi3.Schema{Type: &openapi3.Types{"string"}, Format: "binary"}
	}
}

// responses builds one response per status code seen (codes outside
// 100-599 and "no response" left out), with content per media type; an
// operation that never got a response gets a "default" response saying so.
func (b *builder) responses(ms []member, status map[int]int64) *openapi3.Responses {
	contents := make(map[int]openapi3.Content)
	for _, m := range ms {
		for _, r := range m.ep.Responses {
			if r.Status < 100 || r.Status > 599 {
				continue
			}
			c := contents[r.Status]
			if c == nil {
				c = openapi3.Content{}
				contents[r.Status] = c
			}
			if _, ok := status[r.Status]; !ok {
				status[r.Status] += r.Count
			}
			if r.ContentType != "" {
				b.addContent(c, r.ContentType, r.Schema)
			}
		}
	}
	rs := openapi3.NewResponses()
	for code, n := range status {
		if code < 100 || code > 599 {
			continue
		}
		desc := http.StatusText(code)
		if desc == "" {
			desc = "Status " + strconv.Itoa(code)
		}
		resp := &openapi3.Response{Description: &desc, Extensions: map[string]any{"x-apitap-calls": n}}
		if c := contents[code]; len(c) > 0 {
			resp.Content = c
		}
		rs.Set(strconv.Itoa(code), &openapi3.ResponseRef{Value: resp})
	}
	if rs.Len() == 0 {
		desc := "No response was observed."
		rs.Set("default", &openapi3.ResponseRef{Value: &openapi3.Response{Description: &desc}})
	}
	return rs
}

// sensitive lists the sensitive fields on the operation and marks the
// parameters and schema properties they point at.
func (b *builder) sensitive(op *openapi3.Operation, fields map[[2]string]*sensitiveAgg) {
	if len(fields) == 0 {
		return
	}
	keys := make([][2]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	list := make([]any, 0, len(keys))
	for _, k := range keys {
		agg := fields[k]
		list = append(list, map[string]any{"in": k[0], "pointer": agg.pointer, "classes": agg.classes, "count": agg.count})
		switch k[0] {
		case "request":
			if op.RequestBody != nil {
				for _, ct := range sortedKeys(op.RequestBody.Value.Content) {
					annotateSensitive(op.RequestBody.Value.Content[ct].Schema.Value, pointerTokens(k[1]), agg.classes, 0)
				}
			}
		case "response":
			for _, code := range op.Responses.Keys() {
				r := op.Responses.Value(code).Value
				for _, ct := range sortedKeys(r.Content) {
					annotateSensitive(r.Content[ct].Schema.Value, pointerTokens(k[1]), agg.classes, 0)
				}
			}
		case "query", "header", "path":
			for _, pr := range op.Parameters {
				p := pr.Value
				if p.In == k[0] && (p.Name == k[1] || k[0] == "header" && strings.EqualFold(p.Name, k[1])) {
					if p.Extensions == nil {
						p.Extensions = make(map[string]any, 1)
					}
					p.Extensions[extSensitive] = unionClasses(p.Extensions[extSensitive], agg.classes)
				}
			}
		}
	}
	op.Extensions[extSensitive] = list
}

// pointerTokens splits a JSON pointer into unescaped reference tokens.
func pointerTokens(p string) []string {
	if p == "" || p == "/" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range parts {
		if strings.Contains(s, "~") {
			parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
		}
	}
	return parts
}

// adaptSchemas brings every schema in the document into the form of the
// document's version and drops examples that do not validate. A schema
// that is still invalid (a pattern Go cannot compile, say) is replaced by
// {} (any value) with the reason in x-apitap-invalid-schema, so that one
// bad schema does not cost the whole document; it returns how many were.
func (b *builder) adaptSchemas(doc *openapi3.T) int {
	seen := make(map[*openapi3.Schema]bool)
	adapt := func(s *openapi3.Schema) {
		if !b.v31 {
			nullable30(s)
		}
		checkExamples(s, false)
		if b.v31 {
			to31(s)
			checkExamples(s, true)
		}
	}
	ctx := context.Background()
	if b.v31 {
		ctx = openapi3.WithValidationOptions(ctx, openapi3.IsOpenAPI31OrLater())
	}
	invalid := 0
	for _, r := range docSchemas(doc) {
		walkSchema(r, seen, adapt)
		if err := r.Validate(ctx); err != nil {
			msg, _, _ := strings.Cut(err.Error(), "\n")
			if len(msg) > 200 {
				msg = msg[:200]
			}
			*r = openapi3.Schema{Extensions: map[string]any{"x-apitap-invalid-schema": msg}}
			invalid++
		}
	}
	return invalid
}

// docSchemas lists the root schemas of the operations of a document built
// here (parameters, request and response bodies), in document order.
func docSchemas(doc *openapi3.T) []*openapi3.Schema {
	var out []*openapi3.Schema
	content := func(c openapi3.Content) {
		for _, ct := range sortedKeys(c) {
			if mt := c[ct]; mt != nil && mt.Schema != nil {
				out = append(out, mt.Schema.Value)
			}
		}
	}
	for _, path := range doc.Paths.Keys() {
		item := doc.Paths.Value(path)
		for _, method := range methodOrder {
			op := item.GetOperation(method)
			if op == nil {
				continue
			}
			for _, p := range op.Parameters {
				if p.Value != nil && p.Value.Schema != nil {
					out = append(out, p.Value.Schema.Value)
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				content(op.RequestBody.Value.Content)
			}
			if op.Responses != nil {
				for _, code := range op.Responses.Keys() {
					if r := op.Responses.Value(code); r != nil && r.Value != nil {
						content(r.Value.Content)
					}
				}
			}
		}
	}
	return out
}
