package speclab

import (
	"fmt"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func planSpec(t *testing.T, s *Spec, seed uint64, calls int) ([][]*request, []string) {
	t.Helper()
	rt := newRouter(s, s.BasePath)
	return plan(s, rt, newIdentities(s, seed), seed, calls)
}

// TestPlanCollisions: path values never resolve to a literal sibling;
// an operation whose values always would is skipped with the reason.
func TestPlanCollisions(t *testing.T) {
	s, err := LoadSpecData([]byte(`openapi: 3.0.3
info: {title: Collide, version: "1"}
paths:
  /users/me: {get: {responses: {'200': {description: ok}}}}
  /users/search: {get: {responses: {'200': {description: ok}}}}
  /users/{who}:
    get:
      parameters:
        - {name: who, in: path, required: true, schema: {type: string, enum: [me, search, admin, guest]}}
      responses: {'200': {description: ok}}
  /teams/new: {post: {responses: {'201': {description: ok}}}}
  /teams/{team}:
    get:
      parameters:
        - {name: team, in: path, required: true, schema: {type: string, enum: [new]}}
      responses: {'200': {description: ok}}
`))
	if err != nil {
		t.Fatal(err)
	}
	perConn, skipped := planSpec(t, s, 1, 40)
	if len(skipped) != 1 || !strings.HasPrefix(skipped[0], "GET /teams/{team}: ") {
		t.Fatalf("skipped = %q, want GET /teams/{team} alone", skipped)
	}
	who := map[string]bool{}
	for _, reqs := range perConn {
		for _, r := range reqs {
			if r.op.Template == "/users/{who}" {
				who[r.uri] = true
			}
		}
	}
	if !who["/users/admin"] || !who["/users/guest"] || who["/users/me"] || who["/users/search"] {
		t.Fatalf("values of {who}: %v", who)
	}
}

// TestPlan: every operation of the hand-written specs gets its calls, on
// one connection, in a fixed order; identical plans for a seed.
func TestPlan(t *testing.T) {
	for _, name := range testSpecs {
		t.Run(name, func(t *testing.T) {
			s := loadTestdata(t, name)
			a, skipped := planSpec(t, s, 5, 10)
			b, _ := planSpec(t, s, 5, 10)
			if len(skipped) > 0 {
				t.Fatalf("skipped %v", skipped)
			}
			flat := func(p [][]*request) []string {
				var out []string
				for c, reqs := range p {
					for _, r := range reqs {
						out = append(out, fmt.Sprintf("%d %s %s %v %q", c, r.method, r.uri, r.header, r.body))
					}
				}
				return out
			}
			if !slices.Equal(flat(a), flat(b)) {
				t.Fatal("two plans of one seed differ")
			}
			connOf := map[string]int{}
			count := map[string]int{}
			rt := newRouter(s, s.BasePath)
			for c, reqs := range a {
				for _, r := range reqs {
					id := r.op.ID()
					if prev, ok := connOf[id]; ok && prev != c {
						t.Errorf("%s on connections %d and %d", id, prev, c)
					}
					connOf[id] = c
					count[id]++
					u, err := url.Parse(r.uri)
					if err != nil {
						t.Fatal(err)
					}
					if op, _ := rt.route(r.method, u.EscapedPath()); op != r.op {
						t.Errorf("%s %s routes to %v, want %s", r.method, r.uri, op, id)
					}
				}
			}
			for _, o := range s.Operations {
				if count[o.ID()] != 10 {
					t.Errorf("%s planned %d times", o.ID(), count[o.ID()])
				}
			}
		})
	}
}

// TestPlanRequests looks at what the petstore's requests carry.
func TestPlanRequests(t *testing.T) {
	s := loadTestdata(t, "petstore30.yaml")
	perConn, _ := planSpec(t, s, 9, 20)
	byOp := map[string][]*request{}
	for _, reqs := range perConn {
		for _, r := range reqs {
			byOp[r.op.ID()] = append(byOp[r.op.ID()], r)
		}
	}
	for _, r := range byOp["GET /pets"] {
		if !strings.HasPrefix(r.uri, "/v2/pets?") || !strings.Contains(r.uri, "sort=") {
			t.Errorf("GET /pets without its required query parameter: %s", r.uri)
		}
		if a := r.header.Get("Authorization"); !strings.HasPrefix(a, "Bearer ey") || strings.Count(a, ".") != 2 {
			t.Errorf("bearer JWT expected, got %q", a)
		}
	}
	for _, r := range byOp["GET /stores/{storeSlug}/items/{itemId}"] {
		if r.header.Get("X-App-Key") == "" || r.header.Get("X-Tenant") != "acme" || r.header.Get("Authorization") != "" {
			t.Errorf("store item headers: %v", r.header)
		}
		if !strings.Contains(r.uri, "/items/itm_") {
			t.Errorf("item id not in the example's style: %s", r.uri)
		}
	}
	for _, r := range byOp["POST /login"] {
		q, err := url.ParseQuery(string(r.body))
		if err != nil || q.Get("username") == "" || q.Get("password") == "" || r.header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("login form body %q (%v), content type %q", r.body, err, r.header.Get("Content-Type"))
		}
		if r.header.Get("Authorization") != "" {
			t.Error("credentials sent to an anonymous operation")
		}
	}
	for _, r := range byOp["PUT /owners/{username}/avatar"] {
		mt, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" {
			t.Fatalf("avatar content type %q", r.header.Get("Content-Type"))
		}
		form, err := multipart.NewReader(strings.NewReader(string(r.body)), params["boundary"]).ReadForm(1 << 20)
		if err != nil {
			t.Fatal(err)
		}
		if fh := form.File["file"]; len(fh) != 1 || fh[0].Header.Get("Content-Type") != "image/png" || fh[0].Size < 200 {
			t.Errorf("avatar file part: %v", fh)
		}
	}
	days := map[string]bool{}
	for _, r := range byOp["GET /reports/{day}.json"] {
		days[r.uri] = true
		if !strings.HasSuffix(r.uri, ".json") || len(r.uri) != len("/v2/reports/2024-01-01.json") {
			t.Errorf("report path %s", r.uri)
		}
	}
	if len(days) < 15 {
		t.Errorf("only %d distinct report days in 20 calls", len(days))
	}
	users := map[string]bool{}
	for _, r := range byOp["GET /owners/{username}"] {
		users[r.uri] = true
		if r.uri == "/v2/owners/me" {
			t.Error("a username collides with /owners/me")
		}
	}
	if len(users) < 15 {
		t.Errorf("only %d distinct usernames in 20 calls", len(users))
	}
}

func TestEncodeQuery(t *testing.T) {
	f := false
	for _, tc := range []struct {
		name string
		p    openapi3.Parameter
		v    any
		want string
	}{
		{"scalar", openapi3.Parameter{Name: "q"}, "star wars", "q=star+wars"},
		{"form explode", openapi3.Parameter{Name: "id"}, []any{int64(1), int64(2)}, "id=1&id=2"},
		{"form", openapi3.Parameter{Name: "id", Explode: &f}, []any{int64(1), int64(2)}, "id=1%2C2"},
		{"pipe", openapi3.Parameter{Name: "id", Style: "pipeDelimited", Explode: &f}, []any{"a", "b"}, "id=a%7Cb"},
		{"deepObject", openapi3.Parameter{Name: "filter", Style: "deepObject"}, map[string]any{"name": "x", "since": "2024"},
			"filter%5Bname%5D=x&filter%5Bsince%5D=2024"},
		{"object explode", openapi3.Parameter{Name: "o"}, map[string]any{"a": true, "b": 1.5}, "a=true&b=1.5"},
		{"object", openapi3.Parameter{Name: "o", Explode: &f}, map[string]any{"a": "x", "b": int64(2)}, "o=a%2Cx%2Cb%2C2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(encodeQuery(nil, &tc.p, tc.v), "&"); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestChooseStatus(t *testing.T) {
	s := loadTestdata(t, "petstore30.yaml")
	ops := map[string]*Operation{}
	for _, o := range s.Operations {
		ops[o.ID()] = o
	}
	r := rand.New(rand.NewPCG(1, 2))
	count := func(op string, n, phase int) map[int]int {
		m := map[int]int{}
		for k := range n {
			m[chooseStatus(ops[op], k, phase, r)]++
		}
		return m
	}
	if got := count("GET /pets/{petId}", 40, 3); got[200] != 35 || got[404] != 5 {
		t.Errorf("GET /pets/{petId}: %v, want 35×200, 5×404", got)
	}
	if got := count("GET /health", 10, 0); got[http.StatusOK] != 10 {
		t.Errorf("default-only operation: %v", got)
	}
	if got := count("GET /pets/mine", 40, 0); got[200] != 40 {
		t.Errorf("success-only operation: %v", got)
	}
	noOK := &Operation{Responses: []Response{{Code: "400"}, {Code: "403"}}}
	for k := range 4 {
		if st := chooseStatus(noOK, k, 0, r); st != 400 && st != 403 {
			t.Errorf("operation without a 2xx answered %d", st)
		}
	}
}
