package speclab

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// Client mix.
const (
	clients        = 4   // parallel keep-alive connections, one identity each
	pOptionalParam = 0.5 // an optional query/header/cookie parameter is sent
	collisionTries = 32  // attempts at path values that resolve to their own template
)

// identity is one client of the lab: its connection's source address, user
// agent and credentials.
type identity struct {
	conn      int
	local     netip.Addr
	userAgent string
	user      string
	seed      uint64
	creds     map[string]string // security scheme → credential
}

func newIdentities(s *Spec, seed uint64) []*identity {
	ids := make([]*identity, clients)
	for i := range ids {
		r := newRand(seed, "identity", strconv.Itoa(i))
		id := &identity{conn: i, local: netip.AddrFrom4([4]byte{127, 0, 0, byte(11 + i)}),
			userAgent: userAgents[(i+int(seed%uint64(len(userAgents))))%len(userAgents)], user: randUsername(r),
			seed: derive(seed, "identity", strconv.Itoa(i)), creds: map[string]string{}}
		if s.Doc.Components != nil {
			for _, name := range sortedKeys(s.Doc.Components.SecuritySchemes) {
				ref := s.Doc.Components.SecuritySchemes[name]
				if ref == nil || ref.Value == nil {
					continue
				}
				id.creds[name] = credential(r, ref.Value, id.user)
			}
		}
		ids[i] = id
	}
	return ids
}

// credential makes the value a scheme carries: a JWT or an opaque API key
// for bearer (per its bearerFormat), user:password for basic, a key for
// API keys ("Bearer sk_live_…" when the key travels in Authorization).
func credential(r *rand.Rand, sc *openapi3.SecurityScheme, user string) string {
	switch sc.Type {
	case "http":
		switch strings.ToLower(sc.Scheme) {
		case "basic":
			return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+randPassword(r)))
		case "bearer":
			if f := strings.ToUpper(sc.BearerFormat); f == "" || f == "JWT" {
				return "Bearer " + fakeJWT(r, user)
			}
			return "Bearer " + randHex(r, 64)
		}
		return titleCase(sc.Scheme) + " " + randBase62(r, 32)
	case "apiKey":
		if strings.EqualFold(sc.Name, "Authorization") {
			return "Bearer sk_live_" + randBase62(r, 32)
		}
		return randBase62(r, 32)
	case "oauth2", "openIdConnect":
		return "Bearer " + fakeJWT(r, user)
	}
	return randBase62(r, 32)
}

// request is one planned call.
type request struct {
	op     *Operation
	conn   int
	method string
	uri    string // base path + path + query, escaped
	header http.Header
	body   []byte
}

// plan builds every request of the lab, per connection in sending order.
// An operation whose requests cannot be built is listed in skipped with
// the reason.
func plan(s *Spec, rt *router, ids []*identity, seed uint64, calls int) (perConn [][]*request, skipped []string) {
	perConn = make([][]*request, len(ids))
	styles := pathStyles(s)
	// Operations are spread over the connections by a seeded permutation;
	// all calls of one operation share a connection, so identical requests
	// always arrive in the same order.
	perm := newRand(seed, "conns").Perm(len(s.Operations))
	byConn := make([][][]*request, len(ids))
	for i, o := range s.Operations {
		conn := perm[i] % len(ids)
		var reqs []*request
		reason := ""
		for k := range calls {
			req, err := buildRequest(s, rt, o, ids[conn], styles, seed, k)
			if err != nil {
				reason = err.Error()
				break
			}
			reqs = append(reqs, req)
		}
		if reason != "" {
			skipped = append(skipped, o.ID()+": "+reason)
			continue
		}
		byConn[conn] = append(byConn[conn], reqs)
	}
	// Interleave each connection's operations at random, keeping each
	// operation's own order.
	for c, lists := range byConn {
		r := newRand(seed, "interleave", strconv.Itoa(c))
		for {
			var live []int
			for i, l := range lists {
				if len(l) > 0 {
					live = append(live, i)
				}
			}
			if len(live) == 0 {
				break
			}
			i := pick(r, live)
			perConn[c] = append(perConn[c], lists[i][0])
			lists[i] = lists[i][1:]
		}
	}
	return perConn, skipped
}

// buildRequest builds call k of an operation.
func buildRequest(s *Spec, rt *router, o *Operation, id *identity, styles map[string]idSpec, seed uint64, k int) (*request, error) {
	r := newRand(seed, "call", o.ID(), strconv.Itoa(k))
	g := newGenerator(s, r, ForRequest)
	req := &request{op: o, conn: id.conn, method: o.Method, header: http.Header{}}

	// Path: values in each parameter's style that resolve to this very
	// template (never to a literal sibling such as /users/me).
	path := ""
	for try := 0; ; try++ {
		p, err := fillPath(g, r, o, styles)
		if err != nil {
			return nil, err
		}
		if t, _ := rt.template(rt.base + p); t == o.Template {
			path = rt.base + p
			break
		}
		if try == collisionTries {
			return nil, fmt.Errorf("no path values found that do not resolve to another template (last %s)", p)
		}
	}

	var query []string
	var cookies []string
	for _, p := range o.Params {
		if p.In == "path" || (!p.Required && !chance(r, pOptionalParam)) {
			continue
		}
		switch p.In {
		case "query":
			v, err := paramValue(g, p)
			for try := 0; err == nil && p.Required && isEmpty(v) && try < 8; try++ {
				v, err = paramValue(g, p)
			}
			if err != nil {
				return nil, fmt.Errorf("query parameter %s: %w", p.Name, err)
			}
			if isEmpty(v) && !p.Required {
				continue
			}
			query = encodeQuery(query, p, v)
		case "header":
			if strings.EqualFold(p.Name, "Content-Type") || strings.EqualFold(p.Name, "Authorization") {
				continue
			}
			req.header.Set(p.Name, identityHeader(s, id, p))
		case "cookie":
			v, err := paramValue(g, p)
			if err != nil {
				return nil, fmt.Errorf("cookie %s: %w", p.Name, err)
			}
			cookies = append(cookies, p.Name+"="+url.QueryEscape(headerText(v)))
		}
	}
	// Credentials of the first requirement (an empty one: anonymous).
	if len(o.Security) > 0 {
		for _, name := range sortedKeys(o.Security[0]) {
			var ref *openapi3.SecuritySchemeRef
			if s.Doc.Components != nil {
				ref = s.Doc.Components.SecuritySchemes[name]
			}
			if ref == nil || ref.Value == nil {
				return nil, fmt.Errorf("security scheme %q is not defined", name)
			}
			sc, cred := ref.Value, id.creds[name]
			switch {
			case sc.Type == "apiKey" && sc.In == "query":
				query = append(query, url.QueryEscape(sc.Name)+"="+url.QueryEscape(cred))
			case sc.Type == "apiKey" && sc.In == "cookie":
				cookies = append(cookies, sc.Name+"="+cred)
			case sc.Type == "apiKey":
				if req.header.Get(sc.Name) == "" {
					req.header.Set(sc.Name, cred)
				}
			default:
				req.header.Set("Authorization", cred)
			}
		}
	}
	if len(cookies) > 0 {
		req.header.Set("Cookie", strings.Join(cookies, "; "))
	}
	if req.header.Get("Accept") == "" {
		req.header.Set("Accept", "application/json")
	}
	req.header.Set("User-Agent", id.userAgent)

	if rb := o.Op.RequestBody; rb != nil && rb.Value != nil && len(rb.Value.Content) > 0 {
		ct, mt := pickMedia(rb.Value.Content)
		body, sendCT, err := encodeBody(g, ct, mt, rb.Value.Description)
		if err != nil {
			return nil, fmt.Errorf("request body %s: %w", ct, err)
		}
		req.body = body
		req.header.Set("Content-Type", sendCT)
	}
	req.uri = path
	if len(query) > 0 {
		req.uri += "?" + strings.Join(query, "&")
	}
	return req, nil
}

// isEmpty reports values that would serialise to nothing.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// identityHeader is a header parameter's value for a client: the spec's
// example when it has one, else a value that stays the same for the client
// (application and tenant ids do).
func identityHeader(s *Spec, id *identity, p *openapi3.Parameter) string {
	for _, ex := range paramExamples(p) {
		if t := headerText(ex); t != "" {
			return t
		}
	}
	g := newGenerator(s, newRand(id.seed, "header", p.Name), ForRequest)
	v, err := paramValue(g, p)
	if err != nil || v == nil {
		return g.plainString(p.Name)
	}
	return headerText(v)
}

func fillPath(g *Generator, r *rand.Rand, o *Operation, styles map[string]idSpec) (string, error) {
	params := map[string]*openapi3.Parameter{}
	for _, p := range o.Params {
		if p.In == "path" {
			params[p.Name] = p
		}
	}
	var b strings.Builder
	for _, seg := range o.segs {
		b.WriteByte('/')
		if !seg.isParam() {
			b.WriteString(url.PathEscape(seg.lit))
			continue
		}
		vals := map[string]string{}
		for _, name := range seg.names {
			p := params[name]
			if p == nil {
				p = &openapi3.Parameter{Name: name, In: "path", Required: true,
					Schema: openapi3.NewStringSchema().NewRef()}
			}
			v, err := pathValue(g, r, p, styles[styleKey(o.Template, name)])
			if err != nil {
				return "", fmt.Errorf("path parameter %s: %w", name, err)
			}
			vals[name] = v
		}
		b.WriteString(url.PathEscape(expandSegment(seg, vals)))
	}
	if len(o.segs) == 0 {
		b.WriteByte('/')
	}
	return b.String(), nil
}

// expandSegment writes a template segment with its parameters' values.
func expandSegment(seg segment, vals map[string]string) string {
	if seg.re == nil {
		return vals[seg.names[0]]
	}
	return braceRE.ReplaceAllStringFunc(seg.raw, func(x string) string { return vals[x[1:len(x)-1]] })
}

// Call is the ground truth of one request of the lab.
type Call struct {
	Conn       int    `json:"conn"`      // client connection (0..3), one identity each
	Seq        int    `json:"seq"`       // position on its connection
	Operation  string `json:"operation"` // "GET /users/{id}"
	Method     string `json:"method"`
	Template   string `json:"template"`
	Host       string `json:"host"`
	URI        string `json:"uri"` // request target as sent (base path included)
	Client     string `json:"client"`
	Status     int    `json:"status"`              // status received
	Documented bool   `json:"documented"`          // the operation documents Status
	Type       string `json:"content_type"`        // response Content-Type
	ReqBytes   int    `json:"request_body_bytes"`  // request entity bytes
	RespBytes  int    `json:"response_body_bytes"` // response entity bytes
}

// runClients sends every planned request, one keep-alive connection per
// client, connections in parallel, and returns the calls in connection
// then sending order.
func runClients(ctx context.Context, server netip.AddrPort, host string, ids []*identity, perConn [][]*request) ([]Call, error) {
	out := make([][]Call, len(perConn))
	errs := make([]error, len(perConn))
	var wg sync.WaitGroup
	for c := range perConn {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[c], errs[c] = runConn(ctx, server, host, ids[c], perConn[c])
		}()
	}
	wg.Wait()
	var all []Call
	for c := range out {
		if errs[c] != nil {
			return nil, errs[c]
		}
		all = append(all, out[c]...)
	}
	return all, nil
}

func runConn(ctx context.Context, server netip.AddrPort, host string, id *identity, reqs []*request) ([]Call, error) {
	d := &net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(id.local, 0))}
	tr := &http.Transport{DialContext: d.DialContext, MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1,
		DisableCompression: true, ForceAttemptHTTP2: false}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var calls []Call
	for seq, rq := range reqs {
		var body io.Reader
		if rq.body != nil {
			body = bytes.NewReader(rq.body)
		}
		hr, err := http.NewRequestWithContext(ctx, rq.method, "http://"+server.String()+rq.uri, body)
		if err != nil {
			return nil, fmt.Errorf("speclab: %s: %w", rq.op.ID(), err)
		}
		hr.Host = host
		for k, v := range rq.header {
			hr.Header[k] = v
		}
		resp, err := cl.Do(hr)
		if err != nil {
			return nil, fmt.Errorf("speclab: %s %s: %w", rq.method, rq.uri, err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("speclab: %s %s: read the response: %w", rq.method, rq.uri, err)
		}
		calls = append(calls, Call{Conn: id.conn, Seq: seq, Operation: rq.op.ID(), Method: rq.method, Template: rq.op.Template,
			Host: host, URI: rq.uri, Client: id.local.String(), Status: resp.StatusCode, Documented: rq.op.Documents(resp.StatusCode),
			Type: resp.Header.Get("Content-Type"), ReqBytes: len(rq.body), RespBytes: int(n)})
	}
	return calls, nil
}
