package lab

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// BasicScenario exercises the HTTP features the pipeline must handle, with
// every client and both servers: the Go client on keep-alive (JSON,
// chunked, gzip, HEAD, 204, 304, 404, 500, Expect: 100-continue, a chunked
// request body, a 1 MB download), pipelined requests on a raw connection,
// one curl process making several requests on one connection, nginx serving
// static files and proxying to the Go server, and one second of wrk.
func BasicScenario() Scenario {
	return Scenario{Name: "basic", Nginx: true, Run: func(ctx context.Context, env *Env) error {
		steps := []func() error{
			func() error { _, err := env.Get(ctx, env.GoURL("/json?size=200")); return err },
			func() error { _, err := env.Get(ctx, env.GoURL("/chunked?n=5&size=300")); return err },
			func() error { _, err := env.Get(ctx, env.GoURL("/gzip?n=200"), "Accept-Encoding: gzip"); return err },
			func() error { _, err := env.Send(ctx, "HEAD", env.GoURL("/json?size=100"), nil); return err },
			func() error { _, err := env.Get(ctx, env.GoURL("/status/204")); return err },
			func() error { _, err := env.Get(ctx, env.GoURL("/cached"), `If-None-Match: "v1"`); return err },
			func() error { _, err := env.Get(ctx, env.GoURL("/status/404")); return err },
			func() error { _, err := env.Get(ctx, env.GoURL("/status/500")); return err },
			func() error {
				_, err := env.Send(ctx, "PUT", env.GoURL("/echo?expect=1"), bytes.Repeat([]byte("e"), 64<<10), "Expect: 100-continue")
				return err
			},
			func() error {
				// A body of unknown length goes out chunked.
				req, err := http.NewRequestWithContext(ctx, "POST", env.GoURL("/echo?chunked=1"), io.MultiReader(strings.NewReader(`{"part":1}`), strings.NewReader(`{"part":2}`)))
				if err != nil {
					return err
				}
				_, err = env.Do(ctx, req)
				return err
			},
			func() error { _, err := env.Get(ctx, env.GoURL("/large?size=1000000")); return err },
			func() error {
				var reqs []*http.Request
				for _, r := range []struct{ method, path, body string }{
					{"GET", "/json?size=10", ""}, {"HEAD", "/json?size=20", ""}, {"POST", "/echo?pipelined=1", `{"a":1}`}, {"GET", "/status/404", ""},
				} {
					var body io.Reader
					if r.body != "" {
						body = strings.NewReader(r.body)
					}
					req, err := http.NewRequestWithContext(ctx, r.method, env.GoURL(r.path), body)
					if err != nil {
						return err
					}
					reqs = append(reqs, req)
				}
				return env.Pipeline(ctx, env.GoServer, reqs...)
			},
			func() error {
				return env.Curl(ctx,
					CurlRequest{URL: env.GoURL("/api/health")},
					CurlRequest{URL: env.GoURL("/echo?from=curl"), Body: []byte(`{"hello":"curl"}`), Header: []string{"Content-Type: application/json"}},
					CurlRequest{Method: "HEAD", URL: env.GoURL("/json?size=5")},
					CurlRequest{URL: env.GoURL("/status/404")},
					CurlRequest{Method: "DELETE", URL: env.GoURL("/status/204")},
				)
			},
			func() error {
				return env.Curl(ctx,
					CurlRequest{URL: env.NginxURL("/static/items.json")},
					CurlRequest{URL: env.NginxURL("/json?size=50")},
					CurlRequest{URL: env.NginxURL("/echo?via=nginx"), Body: []byte(`{"through":"nginx"}`)},
				)
			},
			func() error { _, err := env.Get(ctx, env.NginxURL("/static/users.json")); return err },
			func() error {
				_, err := env.Get(ctx, env.NginxURL("/api/users/7"), "Authorization: Bearer "+DemoToken)
				return err
			},
			func() error {
				return env.Wrk(ctx, WrkOptions{Duration: time.Second, Connections: 2, Delay: 20 * time.Millisecond})
			},
		}
		for i, s := range steps {
			if err := s(); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
		}
		return nil
	}}
}

// DemoScenario records a small JSON REST API session (users, orders and
// items with numeric and UUID ids, query parameters, POST and PUT with
// JSON bodies, DELETE, 401, 404 and 500 answers, one gzip response) made
// by two concurrent Go clients and one curl process: about 120 exchanges.
func DemoScenario() Scenario {
	return Scenario{Name: "demo", Run: func(ctx context.Context, env *Env) error {
		auth := "Authorization: Bearer " + DemoToken
		uuids := []string{
			"3f2b8c1e-5d4a-4e6b-9c8d-7a1f0e2d3c4b", "a7c9e1f3-2b4d-4f6a-8c0e-1d3f5a7b9c2e", "0d6c3f52-6a51-4b8e-b0a4-5e3f2d1c9b87",
			"9e8d7c6b-5a4f-4e3d-a2c1-b0f9e8d7c6b5", "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f",
		}
		worker := func(n int) error {
			send := func(method, path, body string, hdr ...string) error {
				var b []byte
				if body != "" {
					b = []byte(body)
					hdr = append(hdr, "Content-Type: application/json")
				}
				_, err := env.Send(ctx, method, env.GoURL(path), b, hdr...)
				return err
			}
			for i := 0; i < 5; i++ {
				off := (n*5 + i) * 5
				if err := send("GET", fmt.Sprintf("/api/users?limit=5&offset=%d", off), "", auth); err != nil {
					return err
				}
				for j := 0; j < 3; j++ {
					if err := send("GET", fmt.Sprintf("/api/users/%d", 1+off+j), "", auth); err != nil {
						return err
					}
				}
				if err := send("GET", "/api/orders/"+uuids[(n*5+i)%len(uuids)], "", auth); err != nil {
					return err
				}
				if err := send("GET", fmt.Sprintf("/api/items/%d", 10+n*50+i*7), "", auth); err != nil {
					return err
				}
			}
			steps := []struct {
				method, path, body string
				hdr                []string
			}{
				{"POST", "/api/users", fmt.Sprintf(`{"name":"New User %d","email":"new%d@example.com","active":true}`, n, n), []string{auth}},
				{"PUT", fmt.Sprintf("/api/users/%d", 3+n), fmt.Sprintf(`{"name":"Renamed %d","email":"renamed%d@example.com","active":false}`, n, n), []string{auth}},
				{"POST", "/api/orders", fmt.Sprintf(`{"user_id":%d,"items":[{"sku":"SKU-00111","qty":2},{"sku":"SKU-00222","qty":1}],"currency":"EUR"}`, 5+n), []string{auth}},
				{"GET", fmt.Sprintf("/api/orders?status=paid&page=%d", n+1), "", []string{auth}},
				{"DELETE", fmt.Sprintf("/api/users/%d", 40+n), "", []string{auth}},
				{"GET", fmt.Sprintf("/api/users/%d", 900+n), "", []string{auth}},       // 404
				{"GET", "/api/orders/not-a-uuid-" + fmt.Sprint(n), "", []string{auth}}, // 404
				{"GET", "/api/users?limit=5", "", nil},                                 // 401
				{"GET", "/api/reports/daily", "", []string{auth}},                      // 500
				{"GET", "/api/health", "", nil},
			}
			for _, s := range steps {
				if err := send(s.method, s.path, s.body, s.hdr...); err != nil {
					return err
				}
			}
			return nil
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for n := range errs {
			wg.Add(1)
			go func() { defer wg.Done(); errs[n] = worker(n) }()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		// The one gzip response.
		if _, err := env.Get(ctx, env.GoURL("/api/items?category=books&sort=price&limit=12"), auth, "Accept-Encoding: gzip"); err != nil {
			return err
		}
		return env.Curl(ctx,
			CurlRequest{URL: env.GoURL("/api/health")},
			CurlRequest{URL: env.GoURL("/api/users/3"), Header: []string{auth}},
			CurlRequest{URL: env.GoURL("/api/users?limit=3&offset=10"), Header: []string{auth}},
			CurlRequest{URL: env.GoURL("/api/orders"), Header: []string{auth, "Content-Type: application/json"},
				Body: []byte(`{"user_id":9,"items":[{"sku":"SKU-00333","qty":4}],"currency":"USD"}`)},
			CurlRequest{Method: "PUT", URL: env.GoURL("/api/users/12"), Header: []string{auth, "Content-Type: application/json"},
				Body: []byte(`{"name":"Curl User","email":"curl@example.com","active":true}`)},
			CurlRequest{URL: env.GoURL("/api/items/42"), Header: []string{auth}},
			CurlRequest{URL: env.GoURL("/api/items/9999"), Header: []string{auth}},
			CurlRequest{URL: env.GoURL("/api/orders/" + uuids[1]), Header: []string{auth}},
			CurlRequest{Method: "DELETE", URL: env.GoURL("/api/users/77"), Header: []string{auth}},
			CurlRequest{URL: env.GoURL("/api/users/5")}, // 401
		)
	}}
}
