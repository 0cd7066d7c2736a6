package pathtmpl

import (
	"fmt"
	"testing"
)

// BenchmarkObserve attributes paths whose templates are known (the steady
// state): typed parameters, a promoted plain-word parameter, a pinned
// parameter and literals, 2 to 5 segments. It must not allocate.
func BenchmarkObserve(b *testing.B) {
	tp, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	if err := tp.Pin(host, Spec, "/v1/accounts/{account_id}/invoices"); err != nil {
		b.Fatal(err)
	}
	var paths []string
	for i := range 64 {
		paths = append(paths,
			fmt.Sprintf("/api/v1/users/%d/orders", 1000+i),
			fmt.Sprintf("/api/v1/orders/%08x-8b67-4163-a208-de52a41f7301", i),
			fmt.Sprintf("/indexes/%s/documents", words(64, "ix")[i]),
			fmt.Sprintf("/v1/accounts/acct_%dKq8f3aZ/invoices", i),
			"/api/v1/users/me",
			"/health",
		)
	}
	shape := Shape("GET", 200, nil, []byte(`{"results":[],"total":0}`))
	for _, p := range paths {
		tp.Observe(host, p, shape, nil)
	}
	params := make([]PathParam, 0, 8)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_, params = tp.Observe(host, paths[i%len(paths)], shape, params[:0])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "paths/s")
}

// BenchmarkObserveParallel is BenchmarkObserve from all Ps at once (the
// reassembly workers).
func BenchmarkObserveParallel(b *testing.B) {
	tp, _ := New(Config{})
	paths := []string{"/api/v1/users/42/orders", "/api/v1/orders/1929186d-8b67-4163-a208-de52a41f7301", "/api/v1/users/me"}
	for _, p := range paths {
		tp.Observe(host, p, 0, nil)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		params := make([]PathParam, 0, 8)
		i := 0
		for pb.Next() {
			_, params = tp.Observe(host, paths[i%len(paths)], 0, params[:0])
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "paths/s")
}

func BenchmarkShape(b *testing.B) {
	req := []byte(`{"username":"john.doe42","password":"secret","remember":true}`)
	resp := []byte(`{"data":[{"id":1,"name":"x","tags":["a","b"]},{"id":2,"name":"y","tags":[]}],"meta":{"total":2},"links":{"next":null}}`)
	b.SetBytes(int64(len(req) + len(resp)))
	b.ReportAllocs()
	for b.Loop() {
		Shape("POST", 200, req, resp)
	}
}

func BenchmarkClassify(b *testing.B) {
	segs := []string{"users", "42", "1929186d-8b67-4163-a208-de52a41f7301", "cus_NffrFeUfNV2Hib", "john.doe42", "v1.41"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Classify(segs[i%len(segs)])
	}
}
