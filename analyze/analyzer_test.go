package analyze

import (
	"bytes"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apitap/apitap/analyze/pathtmpl"
	"github.com/apitap/apitap/analyze/schema"
	"github.com/apitap/apitap/reassembly"
	"github.com/prometheus/client_golang/prometheus"
)

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// call builds a transaction: client i, at t0+i ms, JSON response body.
func call(i int, method, host, uri string, status int, respBody string, reqHeaders ...reassembly.Header) *reassembly.Transaction {
	path, _, _ := strings.Cut(uri, "?")
	start := t0.Add(time.Duration(i) * time.Millisecond)
	t := &reassembly.Transaction{
		Client:          netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(40000+i%1000)),
		Server:          netip.MustParseAddrPort("192.0.2.1:80"),
		RequestStart:    start,
		RequestEnd:      start,
		ResponseStart:   start.Add(2 * time.Millisecond),
		ResponseEnd:     start.Add(3 * time.Millisecond),
		Method:          method,
		URI:             uri,
		Path:            path,
		Host:            host,
		Version:         "1.1",
		Status:          status,
		RequestHeaders:  append([]reassembly.Header{{Name: "Host", Value: host}, {Name: "User-Agent", Value: "test"}}, reqHeaders...),
		ResponseHeaders: []reassembly.Header{{Name: "Content-Type", Value: "application/json; charset=utf-8"}},
		ResponseBody:    []byte(respBody),
		ResponseBodyLen: int64(len(respBody)),
	}
	return t
}

// collect is a sink keeping what it is handed.
type collect struct{ got []*reassembly.Transaction }

func (c *collect) HandleTransaction(t *reassembly.Transaction) { c.got = append(c.got, t) }

func mustNew(t *testing.T, cfg Config) *Analyzer {
	t.Helper()
	a, err := New(cfg, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func find(inv *Inventory, method, template string) *Endpoint {
	for i := range inv.Endpoints {
		if e := &inv.Endpoints[i]; e.Method == method && e.Template == template {
			return e
		}
	}
	return nil
}

func templates(inv *Inventory) []string {
	var out []string
	for _, e := range inv.Endpoints {
		out = append(out, e.Method+" "+e.Template)
	}
	return out
}

func TestTypedIDsBecomeOneEndpoint(t *testing.T) {
	a := mustNew(t, Config{})
	next := &collect{}
	w := a.NewWorker(next)
	for i := range 60 {
		w.HandleTransaction(call(i, "GET", "API.example.com", fmt.Sprintf("/users/%d?verbose=true", 1000+i), 200,
			fmt.Sprintf(`{"id":%d,"name":"user %d","email":"u%d@example.org","tags":["a"]}`, 1000+i, i, i)))
	}
	if len(next.got) != 60 {
		t.Fatalf("next sink got %d transactions, want 60", len(next.got))
	}
	for _, tx := range next.got {
		if tx.Endpoint != "/users/{userId}" {
			t.Fatalf("Endpoint = %q, want /users/{userId}", tx.Endpoint)
		}
	}
	inv := a.Snapshot()
	if len(inv.Endpoints) != 1 {
		t.Fatalf("endpoints: %v", templates(inv))
	}
	e := inv.Endpoints[0]
	if e.Host != "api.example.com" || e.Calls != 60 || e.Clients < 55 || e.Clients > 65 {
		t.Errorf("host %q calls %d clients %d", e.Host, e.Calls, e.Clients)
	}
	if e.LatencyP50 < 2900*time.Microsecond || e.LatencyP50 > 3100*time.Microsecond {
		t.Errorf("p50 latency %v, want about 3ms", e.LatencyP50)
	}
	if len(e.Status) != 1 || e.Status[0] != (StatusCount{200, 60}) {
		t.Errorf("status %v", e.Status)
	}
	var names []string
	for _, p := range e.Params {
		names = append(names, p.In+":"+p.Name)
		if p.Name == "userId" && (p.Schema == nil || p.Schema.Type == nil || !p.Schema.Type.Is("integer")) {
			t.Errorf("userId schema %+v, want integer", p.Schema)
		}
		if !p.Required {
			t.Errorf("%s not required", p.Name)
		}
	}
	if strings.Join(names, ",") != "path:userId,query:verbose" {
		t.Errorf("params %v", names)
	}
	if len(e.Responses) != 1 || e.Responses[0].ContentType != "application/json" || e.Responses[0].Schema == nil {
		t.Fatalf("responses %+v", e.Responses)
	}
	props := e.Responses[0].Schema.Properties
	for _, p := range []string{"id", "name", "email", "tags"} {
		if props[p] == nil {
			t.Errorf("response property %q missing", p)
		}
	}
	if len(e.Sensitive) != 1 || e.Sensitive[0].In != "response" || e.Sensitive[0].Pointer != "/email" {
		t.Errorf("sensitive %+v", e.Sensitive)
	}
}

func TestEvidenceAcrossWorkersSettlesAtSnapshot(t *testing.T) {
	a := mustNew(t, Config{})
	w1, w2 := a.NewWorker(nil), a.NewWorker(nil)
	names := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor", "walter"}
	for i, n := range names {
		w := w1
		if i%2 == 1 {
			w = w2
		}
		w.HandleTransaction(call(i, "GET", "api.example.com", "/profiles/"+n, 200, `{"name":"`+n+`","age":30}`))
	}
	inv := a.Snapshot()
	got := templates(inv)
	if len(got) != 1 || !strings.HasPrefix(got[0], "GET /profiles/{") {
		t.Fatalf("templates %v, want one GET /profiles/{...}", got)
	}
	if inv.Endpoints[0].Calls != int64(len(names)) {
		t.Errorf("calls %d", inv.Endpoints[0].Calls)
	}
	var pathParam *Param
	for i := range inv.Endpoints[0].Params {
		if p := &inv.Endpoints[0].Params[i]; p.In == "path" {
			pathParam = p
		}
	}
	if pathParam == nil || pathParam.Schema == nil || !pathParam.Schema.Type.Is("string") {
		t.Errorf("path parameter %+v, want a string", pathParam)
	}
}

func TestLiteralSiblingAndMethods(t *testing.T) {
	a := mustNew(t, Config{})
	w := a.NewWorker(nil)
	for i := range 30 {
		w.HandleTransaction(call(i, "GET", "h", fmt.Sprintf("/users/%d", i+1), 200, `{"id":1}`))
		w.HandleTransaction(call(i, "DELETE", "h", fmt.Sprintf("/users/%d", i+1), 204, ""))
		w.HandleTransaction(call(i, "GET", "h", "/users/me", 200, `{"id":1,"me":true}`))
	}
	inv := a.Snapshot()
	for _, want := range []string{"GET /users/{userId}", "DELETE /users/{userId}", "GET /users/me"} {
		m, tmpl, _ := strings.Cut(want, " ")
		if find(inv, m, tmpl) == nil {
			t.Errorf("missing %s in %v", want, templates(inv))
		}
	}
	if e := find(inv, "DELETE", "/users/{userId}"); e != nil {
		if len(e.Responses) != 1 || e.Responses[0].Status != 204 || e.Responses[0].ContentType != "" || e.Responses[0].Schema != nil {
			t.Errorf("DELETE responses %+v", e.Responses)
		}
	}
}

func TestSamplingOnceStable(t *testing.T) {
	a := mustNew(t, Config{SampleEvery: 16})
	w := a.NewWorker(nil)
	const n = 5000
	for i := range n {
		w.HandleTransaction(call(i, "GET", "h", "/items", 200, `{"items":[{"id":1,"price":2.5}],"next":null}`))
	}
	// One more call with a new status is always sampled.
	w.HandleTransaction(call(n, "GET", "h", "/items", 503, `{"error":"unavailable"}`))
	inv := a.Snapshot()
	e := find(inv, "GET", "/items")
	if e == nil {
		t.Fatal("no /items")
	}
	if e.Samples >= n/4 || e.Samples < n/16/2 {
		t.Errorf("sampled %d of %d calls; want about 1 in 16 once stable", e.Samples, e.Calls)
	}
	var saw503 bool
	for _, r := range e.Responses {
		saw503 = saw503 || (r.Status == 503 && r.Schema != nil)
	}
	if !saw503 {
		t.Errorf("the new 503 response was not learned: %+v", e.Responses)
	}
	if st := a.Stats(); st.Transactions != n+1 || st.Sampled != e.Samples {
		t.Errorf("stats %+v, want %d transactions and %d sampled", st, n+1, e.Samples)
	}
}

func TestOverflowAndUnattributed(t *testing.T) {
	a := mustNew(t, Config{MaxEndpoints: 3, Templates: pathtmpl.Config{Literal: true}})
	w := a.NewWorker(nil)
	for i := range 10 {
		w.HandleTransaction(call(i, "GET", "h", fmt.Sprintf("/p%d", i), 200, `{}`))
	}
	resp := call(11, "", "", "", 200, `{}`) // response without its request
	w.HandleTransaction(resp)
	inv := a.Snapshot()
	if len(inv.Endpoints) != 3 || inv.Merged != 7 || inv.Unattributed != 1 || inv.Transactions != 11 {
		t.Errorf("endpoints %d merged %d unattributed %d transactions %d", len(inv.Endpoints), inv.Merged, inv.Unattributed, inv.Transactions)
	}
	if resp.Endpoint != "" {
		t.Errorf("unattributed transaction got endpoint %q", resp.Endpoint)
	}
}

func TestAuthAndHeaderParams(t *testing.T) {
	a := mustNew(t, Config{})
	w := a.NewWorker(nil)
	for i := range 20 {
		w.HandleTransaction(call(i, "POST", "h", "/orders", 201, `{"id":"ord_1"}`,
			reassembly.Header{Name: "Authorization", Value: "Basic dXNlcjpwYXNz"},
			reassembly.Header{Name: "X-Tenant", Value: "acme"},
			reassembly.Header{Name: "Accept", Value: "application/json"}))
	}
	e := find(a.Snapshot(), "POST", "/orders")
	if e == nil {
		t.Fatal("no POST /orders")
	}
	if len(e.Auth) != 1 || e.Auth[0].Scheme != "basic" || e.Auth[0].Count != 20 {
		t.Errorf("auth %+v", e.Auth)
	}
	if len(e.Params) != 1 || e.Params[0].In != "header" || e.Params[0].Name != "X-Tenant" || !e.Params[0].Required {
		t.Errorf("params %+v", e.Params)
	}
}

// feed observes the same traffic: 40 users, some by name, some by id.
func feed(ws []*Worker) {
	for i := range 400 {
		w := ws[i%len(ws)]
		switch i % 4 {
		case 0:
			w.HandleTransaction(call(i, "GET", "h", fmt.Sprintf("/users/%d", i), 200, fmt.Sprintf(`{"id":%d,"n":"x"}`, i)))
		case 1:
			w.HandleTransaction(call(i, "GET", "h", fmt.Sprintf("/repos/user%c%c/readme", 'a'+i%26, 'a'+i/26%26), 200, `{"text":"hi","size":3}`))
		case 2:
			w.HandleTransaction(call(i, "POST", "h", "/login", 401, `{"error":"bad password"}`))
		default:
			w.HandleTransaction(call(i, "GET", "h", "/health", 200, `{"ok":true}`))
		}
	}
}

func TestDeterministic(t *testing.T) {
	out := func() string {
		a := mustNew(t, Config{})
		feed([]*Worker{a.NewWorker(nil), a.NewWorker(nil)})
		var b bytes.Buffer
		inv := a.Snapshot()
		if err := inv.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		if err := inv.WriteTable(&b, 0); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	first := out()
	for range 3 {
		if got := out(); got != first {
			t.Fatalf("output differs between runs:\n%s\n---\n%s", first, got)
		}
	}
}

func TestSnapshotWhileObserving(t *testing.T) {
	a := mustNew(t, Config{})
	ws := []*Worker{a.NewWorker(nil), a.NewWorker(nil)}
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				feed([]*Worker{w})
			}
		}()
	}
	for range 20 {
		a.Snapshot()
	}
	wg.Wait()
	inv := a.Snapshot()
	if inv.Transactions != 2*20*400 {
		t.Errorf("transactions %d", inv.Transactions)
	}
}

func TestTable(t *testing.T) {
	a := mustNew(t, Config{})
	feed([]*Worker{a.NewWorker(nil)})
	var b bytes.Buffer
	if err := a.Snapshot().WriteTable(&b, 2); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "HOST") || !strings.Contains(lines[3], "more endpoints") {
		t.Fatalf("table:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "4xx 100%") && !strings.Contains(b.String(), "2xx 100%") {
		t.Errorf("no status mix in:\n%s", b.String())
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := New(Config{MaxEndpoints: -1}, nil); err == nil || !strings.Contains(err.Error(), "MaxEndpoints") {
		t.Errorf("negative MaxEndpoints: %v", err)
	}
	a := mustNew(t, Config{})
	if err := a.Pin("", pathtmpl.Pinned, "no-slash/{x"); err == nil {
		t.Error("a bad pinned template was accepted")
	}
}

func TestErrorEnvelopesLearnedTogether(t *testing.T) {
	a := mustNew(t, Config{})
	w := a.NewWorker(nil)
	w.HandleTransaction(call(1, "GET", "h", "/orders/1", 404, `{"error":"not found","message":"no order 1"}`))
	w.HandleTransaction(call(2, "GET", "h", "/items/2", 404, `{"error":"not found","message":"no item","ref":"r1"}`))
	w.HandleTransaction(call(3, "POST", "h", "/items", 404, `{"error":"bad","ref":"r2","status_code":404}`))
	w.HandleTransaction(call(6, "PUT", "h", "/items/3", 400, `{"error":"bad","violations":[]}`))
	w.HandleTransaction(call(4, "GET", "h", "/legacy", 500, `{"code":7,"reason":"x","trace":"y"}`))
	w.HandleTransaction(call(5, "GET", "other", "/orders/1", 404, `{"error":"not found","detail":"z"}`))
	inv := a.Snapshot()
	props := func(host, method, tmpl string, status int) []string {
		for _, e := range inv.Endpoints {
			if e.Host == host && e.Method == method && e.Template == tmpl {
				for _, r := range e.Responses {
					if r.Status == status && r.Schema != nil {
						var names []string
						for n := range r.Schema.Properties {
							names = append(names, n)
						}
						slices.Sort(names)
						return names
					}
				}
			}
		}
		t.Fatalf("no %s %s %s %d in %v", host, method, tmpl, status, templates(inv))
		return nil
	}
	all := "error,message,ref,status_code"
	for _, c := range []struct {
		host, method, tmpl string
		status             int
		want               string
	}{
		{"h", "GET", "/orders/{orderId}", 404, all},
		{"h", "GET", "/items/{itemId}", 404, all},
		{"h", "POST", "/items", 404, all},
		{"h", "PUT", "/items/{itemId}", 400, "error,violations"},   // another status
		{"h", "GET", "/legacy", 500, "code,reason,trace"},          // another envelope
		{"other", "GET", "/orders/{orderId}", 404, "detail,error"}, // another host
	} {
		if got := strings.Join(props(c.host, c.method, c.tmpl, c.status), ","); got != c.want {
			t.Errorf("%s %s %s %d: properties %s, want %s", c.host, c.method, c.tmpl, c.status, got, c.want)
		}
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestEndpointBytes measures what a tracked endpoint costs besides its
// schema learners, and holds it to the EndpointBytes the memory budget
// charges.
func TestEndpointBytes(t *testing.T) {
	// Busy endpoints: enough clients for the client sketches to be dense,
	// latencies over the whole range of the latency sketch.
	const n, clients = 300, 1500
	a := mustNew(t, Config{MaxEndpoints: n, Templates: pathtmpl.Config{Literal: true, MaxTemplates: n}})
	w := a.NewWorker(nil)
	calls := make([]*reassembly.Transaction, n)
	for i := range calls {
		c := call(i, "GET", "h", fmt.Sprintf("/p%d", i), 204, "", reassembly.Header{Name: "Authorization", Value: "Bearer abc"})
		c.ResponseHeaders = nil
		calls[i] = c
	}
	before := heapInUse()
	for k := range clients {
		for i, c := range calls {
			c.Client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(k >> 8), byte(k), byte(i)}), 1000)
			c.ResponseEnd = c.RequestStart.Add(time.Duration(1+k*k) * time.Microsecond)
			w.HandleTransaction(c)
		}
	}
	per := (heapInUse() - before) / n
	runtime.KeepAlive(calls)
	t.Logf("%d bytes per endpoint", per)
	if per > EndpointBytes {
		t.Errorf("an endpoint costs %d bytes, more than the EndpointBytes (%d) the budget charges", per, EndpointBytes)
	}
	inv := a.Snapshot()
	if got := len(inv.Endpoints); got != n {
		t.Fatalf("%d endpoints, want %d", got, n)
	}
	if c := inv.Endpoints[0].Clients; c < clients*95/100 || c > clients*105/100 {
		t.Errorf("distinct clients estimated %d, want %d ± 5%%", c, clients)
	}
}

// TestSchemaBudget: random documents exhaust a small schema budget; then the
// worker stops learning (counted) and stays within it.
func TestSchemaBudget(t *testing.T) {
	const budget = 256 << 10
	a := mustNew(t, Config{MaxSchemaBytes: budget, Templates: pathtmpl.Config{Literal: true}})
	w := a.NewWorker(nil)
	for i := range 2000 {
		var b strings.Builder
		b.WriteString("{")
		for k := range 20 {
			if k > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"f%d_%d":{"x%d":[%d]}`, i, k, i, k)
		}
		b.WriteString("}")
		w.HandleTransaction(call(i, "POST", "h", fmt.Sprintf("/r%d", i%50), 200, b.String()))
	}
	st := a.Stats()
	if st.SchemaBudget == 0 {
		t.Fatalf("the budget was never reached: %+v", st)
	}
	if w.schemaBytes > budget+1024*schema.NodeBytes { // one learner may finish its document
		t.Errorf("schema memory %d, budget %d", w.schemaBytes, budget)
	}
}

func TestIsStandardHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Accept": true, "accept-language": true, "AUTHORIZATION": true, "Content-Type": true,
		"If-Match": true, "x-forwarded-for": true, "Sec-Fetch-Mode": true, "User-Agent": true,
		"Cookie": true, "X-Request-Id": true, "traceparent": true, "X-B3-TraceId": true,
		"Acceptable":            true, // the Accept* prefix
		"x-apideck-consumer-id": false, "X-Api-Key": false, "Idempotency-Key": false, "X-Tenant": false,
		strings.Repeat("x", 100): false,
	} {
		if got := IsStandardHeader(name); got != want {
			t.Errorf("IsStandardHeader(%q) = %v, want %v", name, got, want)
		}
	}
}
