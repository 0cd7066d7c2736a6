package speclab

import (
	"maps"
	"testing"
)

func TestRouter(t *testing.T) {
	s, err := LoadSpecData([]byte(`openapi: 3.0.3
info: {title: Router, version: "1"}
paths:
  /users/me: {get: {responses: {'200': {description: ok}}}}
  /users/{id}: {get: {responses: {'200': {description: ok}}}, delete: {responses: {'204': {description: ok}}}}
  /users/{id}/posts/{postId}: {get: {responses: {'200': {description: ok}}}}
  /users/login: {post: {responses: {'200': {description: ok}}}}
  /files/{name}.{ext}: {get: {responses: {'200': {description: ok}}}}
  /reports/{day}.json: {get: {responses: {'200': {description: ok}}}}
  /: {get: {responses: {'200': {description: ok}}}}
  /mechanic/: {get: {responses: {'200': {description: ok}}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		base, method, path string
		want               string // operation ID, "" for none
		params             map[string]string
	}{
		{"", "GET", "/users/me", "GET /users/me", nil},
		{"", "GET", "/users/42", "GET /users/{id}", map[string]string{"id": "42"}},
		{"", "DELETE", "/users/john.doe", "DELETE /users/{id}", map[string]string{"id": "john.doe"}},
		{"", "DELETE", "/users/me", "", nil}, // the literal wins even without the method
		{"", "GET", "/users/login", "", nil},
		{"", "GET", "/users/a%2Fb", "GET /users/{id}", map[string]string{"id": "a/b"}},
		{"", "GET", "/users/7/posts/tr_8f3aK2", "GET /users/{id}/posts/{postId}", map[string]string{"id": "7", "postId": "tr_8f3aK2"}},
		{"", "GET", "/files/report.pdf", "GET /files/{name}.{ext}", map[string]string{"name": "report", "ext": "pdf"}},
		{"", "GET", "/reports/2024-05-01.json", "GET /reports/{day}.json", map[string]string{"day": "2024-05-01"}},
		{"", "GET", "/reports/2024-05-01.xml", "", nil},
		{"", "GET", "/", "GET /", nil},
		{"", "GET", "/mechanic/", "GET /mechanic/", nil},
		{"", "GET", "/mechanic", "", nil},
		{"", "GET", "/users/", "", nil},
		{"/api/v1", "GET", "/api/v1/users/9", "GET /users/{id}", map[string]string{"id": "9"}},
		{"/api/v1", "GET", "/api/v1", "GET /", nil},
		{"/api/v1", "GET", "/users/9", "", nil},
		{"/api/v1", "GET", "/api/v10/users/9", "", nil},
	} {
		t.Run(tc.base+tc.method+tc.path, func(t *testing.T) {
			op, params := newRouter(s, tc.base).route(tc.method, tc.path)
			got := ""
			if op != nil {
				got = op.ID()
			}
			if got != tc.want {
				t.Fatalf("route = %q, want %q", got, tc.want)
			}
			if op != nil && !maps.Equal(params, tc.params) {
				t.Fatalf("params = %v, want %v", params, tc.params)
			}
		})
	}
}

func TestOperationDocuments(t *testing.T) {
	s := loadTestdata(t, "petstore30.yaml")
	ops := map[string]*Operation{}
	for _, o := range s.Operations {
		ops[o.ID()] = o
	}
	for _, tc := range []struct {
		op     string
		status int
		want   bool
	}{
		{"GET /pets/{petId}", 200, true},
		{"GET /pets/{petId}", 404, true},
		{"GET /pets/{petId}", 500, false},
		{"DELETE /pets/{petId}", 204, true},
		{"DELETE /pets/{petId}", 200, false},
		{"GET /health", 200, true}, // default
		{"GET /health", 503, true},
	} {
		if got := ops[tc.op].Documents(tc.status); got != tc.want {
			t.Errorf("%s documents %d = %v, want %v", tc.op, tc.status, got, tc.want)
		}
	}
}
