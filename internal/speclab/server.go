package speclab

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Status mix of the server's answers.
const (
	// errorEvery: one call in 8 of an operation that documents 4xx
	// responses gets one, cycling through them, so over 40 calls each of up
	// to 5 error responses appears and successes stay at 87.5% or more.
	errorEvery  = 8
	pOther2xx   = 0.1 // a success uses another documented 2xx than the first
	maxBodySize = 8 << 20
)

// Served is what the lab server did with one request.
type Served struct {
	Operation string // "GET /users/{id}"; "" when no operation matched
	URI       string
	Status    int
}

// Server answers the operations of a spec with documented statuses and
// schema-valid, varied bodies. What it answers depends only on its seed,
// the request (method, target, body), how many identical requests and how
// many requests of the same operation came before it: a client that sends
// each operation's requests in a fixed order (as Record's do, one
// connection per operation) gets the same answers every run. ServeHTTP is
// safe for concurrent use.
type Server struct {
	spec   *Spec
	router *router
	seed   uint64
	check  bool

	mu       sync.Mutex
	occ      map[string]int // identical requests so far
	perOp    map[string]int // requests per operation so far
	served   []Served
	failures []string
}

// NewServer returns a server for spec under basePath ("" or "/api/v1").
// With check set, it validates every request and every response it makes
// against the spec with kin-openapi's openapi3filter and records failures
// (see Failures); the response is sent anyway.
func NewServer(spec *Spec, basePath string, seed uint64, check bool) *Server {
	return &Server{spec: spec, router: newRouter(spec, basePath), seed: seed, check: check, occ: map[string]int{}, perOp: map[string]int{}}
}

// Served returns what the server answered so far, in arrival order.
func (s *Server) Served() []Served {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.served)
}

// Failures returns the problems met so far: requests no operation
// matches, generation errors and (with check) validation failures.
func (s *Server) Failures() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.failures)
}

func (s *Server) fail(format string, args ...any) {
	s.mu.Lock()
	s.failures = append(s.failures, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

func (s *Server) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBodySize))
	if err != nil {
		s.fail("%s %s: read the request body: %v", req.Method, req.RequestURI, err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	// No Date header: the bytes on the wire depend on the seed only.
	w.Header()["Date"] = nil
	op, params := s.router.route(req.Method, req.URL.EscapedPath())
	if op == nil {
		s.fail("%s %s: no operation of the spec matches", req.Method, req.RequestURI)
		s.record(Served{URI: req.RequestURI, Status: http.StatusNotFound})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"not found"}`)
		return
	}
	sum := sha256.Sum256(body)
	key := req.Method + " " + req.RequestURI + " " + hex.EncodeToString(sum[:8])
	s.mu.Lock()
	n := s.occ[key]
	s.occ[key]++
	k := s.perOp[op.ID()]
	s.perOp[op.ID()]++
	s.mu.Unlock()
	r := newRand(s.seed, "response", key, strconv.Itoa(n))

	var rvi *openapi3filter.RequestValidationInput
	if s.check {
		rvi = s.validateRequest(req, body, op, params)
	}
	status := chooseStatus(op, k, int(derive(s.seed, "errors", op.ID())%errorEvery), r)
	resp := op.response(status)
	g := newGenerator(s.spec, r, ForResponse)
	var out []byte
	ct := ""
	if resp != nil && len(resp.Content) > 0 && status != http.StatusNoContent && status != http.StatusNotModified &&
		status >= 200 && req.Method != http.MethodHead {
		mtName, mt := pickMedia(resp.Content)
		desc := ""
		if resp.Description != nil {
			desc = *resp.Description
		}
		out, ct, err = encodeBody(g, mtName, mt, desc)
		if err != nil {
			s.fail("%s %s: generate the %d response: %v", op.ID(), req.RequestURI, status, err)
			out, ct = nil, ""
		}
	}
	if ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	if s.check && rvi != nil {
		s.validateResponse(rvi, op, status, w.Header(), out)
	}
	s.record(Served{Operation: op.ID(), URI: req.RequestURI, Status: status})
	w.WriteHeader(status)
	w.Write(out)
}

func (s *Server) record(x Served) {
	s.mu.Lock()
	s.served = append(s.served, x)
	s.mu.Unlock()
}

// chooseStatus picks the status of an operation's k-th request: a
// documented 4xx every errorEvery requests from phase on (cycling through
// them), otherwise mostly the first 2xx and sometimes another one;
// operations without a 2xx get one of their documented codes (4xx first),
// operations with only a default response 200.
func chooseStatus(op *Operation, k, phase int, r *rand.Rand) int {
	var ok, errs, others []int
	for _, resp := range op.Responses {
		c, err := strconv.Atoi(resp.Code)
		if err != nil {
			if len(resp.Code) == 3 && strings.HasSuffix(resp.Code, "XX") && resp.Code[0] >= '1' && resp.Code[0] <= '5' {
				c = int(resp.Code[0]-'0') * 100
			} else {
				continue
			}
		}
		switch {
		case c >= 200 && c < 300:
			ok = append(ok, c)
		case c >= 400 && c < 500:
			errs = append(errs, c)
		default:
			others = append(others, c)
		}
	}
	switch {
	case len(ok) == 0 && len(errs) > 0:
		return errs[k%len(errs)]
	case len(ok) == 0 && len(others) > 0:
		return others[k%len(others)]
	case len(ok) == 0:
		return http.StatusOK // only a default response
	case len(errs) > 0 && k >= phase && (k-phase)%errorEvery == 0:
		return errs[(k-phase)/errorEvery%len(errs)]
	case len(ok) > 1 && chance(r, pOther2xx):
		return pick(r, ok[1:])
	}
	return ok[0]
}

func (s *Server) route(op *Operation) *routers.Route {
	return &routers.Route{Spec: s.spec.Doc, Path: op.Template, PathItem: s.spec.Doc.Paths.Value(op.Template),
		Method: op.Method, Operation: op.Op}
}

func (s *Server) validateRequest(req *http.Request, body []byte, op *Operation, params map[string]string) *openapi3filter.RequestValidationInput {
	r2 := req.Clone(req.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{
		Request: r2, PathParams: params, Route: s.route(op),
		Options: &openapi3filter.Options{AuthenticationFunc: checkCredentials, SkipSettingDefaults: true, MultiError: true},
	}
	var rbContent map[string]*openapi3.MediaType
	if rb := op.Op.RequestBody; rb != nil && rb.Value != nil {
		rbContent = rb.Value.Content
	}
	if sch := typedText(rbContent, req.Header.Get("Content-Type")); sch != nil {
		in.Options.ExcludeRequestBody = true
		if err := s.checkTypedText(sch, body, openapi3.VisitAsRequest()); err != nil {
			s.fail("%s %s: invalid text request body: %v", op.ID(), req.RequestURI, firstLine(err))
		}
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		s.fail("%s %s: invalid request: %v", op.ID(), req.RequestURI, firstLine(err))
	}
	in.Request.Body = io.NopCloser(bytes.NewReader(body))
	return in
}

func (s *Server) validateResponse(in *openapi3filter.RequestValidationInput, op *Operation, status int, h http.Header, body []byte) {
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: h,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	if resp := op.response(status); resp != nil {
		if _, ok := resp.Content[""]; ok {
			// A media type key that is no media type (crAPI's "") matches
			// no Content-Type; only the status can be checked.
			out.Options.ExcludeResponseBody = true
		}
		if sch := typedText(resp.Content, h.Get("Content-Type")); sch != nil {
			out.Options.ExcludeResponseBody = true
			if err := s.checkTypedText(sch, body, openapi3.VisitAsResponse()); err != nil {
				s.fail("%s %s: invalid text %d response: %v", op.ID(), in.Request.RequestURI, status, firstLine(err))
			}
		}
	}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		s.fail("%s %s: invalid %d response: %v", op.ID(), in.Request.RequestURI, status, firstLine(err))
	}
}

// typedText returns the schema of a text/* body whose schema is not a
// string (meilisearch's text/plain booleans and integers): kin-openapi
// decodes text bodies as strings, so the lab checks them itself, reading
// the text as a JSON scalar. Nil for every other body.
func typedText(content openapi3.Content, ct string) *openapi3.Schema {
	if len(content) == 0 || !strings.HasPrefix(strings.ToLower(ct), "text/") {
		return nil
	}
	mt := content.Get(ct)
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil || mt.Schema.Value.Type.Permits(openapi3.TypeString) {
		return nil
	}
	return mt.Schema.Value
}

func (s *Server) checkTypedText(sch *openapi3.Schema, body []byte, dir openapi3.SchemaValidationOption) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("%q is not a JSON scalar: %w", body, err)
	}
	opts := []openapi3.SchemaValidationOption{dir}
	if s.spec.V31 {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	return sch.VisitJSON(v, opts...)
}

// checkCredentials accepts a request that carries the scheme's credential.
func checkCredentials(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	sc := in.SecurityScheme
	req := in.RequestValidationInput.Request
	switch sc.Type {
	case "http":
		a := req.Header.Get("Authorization")
		if !strings.HasPrefix(strings.ToLower(a), strings.ToLower(sc.Scheme)+" ") {
			return fmt.Errorf("no %s credentials", sc.Scheme)
		}
	case "apiKey":
		var v string
		switch sc.In {
		case "header":
			v = req.Header.Get(sc.Name)
		case "query":
			v = req.URL.Query().Get(sc.Name)
		case "cookie":
			if c, err := req.Cookie(sc.Name); err == nil {
				v = c.Value
			}
		}
		if v == "" {
			return fmt.Errorf("no API key %q in %s", sc.Name, sc.In)
		}
	case "oauth2", "openIdConnect":
		if !strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ") {
			return errors.New("no bearer token")
		}
	}
	return nil
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
