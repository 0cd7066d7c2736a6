package sensitive

import (
	"testing"

	"github.com/apitap/apitap/reassembly"
)

func benchValues(b *testing.B, values []string) {
	n := 0
	for _, v := range values {
		n += len(v)
	}
	b.SetBytes(int64(n / len(values)))
	b.ReportAllocs()
	b.ResetTimer()
	var c Class
	for i := 0; i < b.N; i++ {
		c |= Value(values[i%len(values)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mvalues/s")
	_ = c
}

// BenchmarkValue: one op is one value. "ordinary" is the mix API traffic
// is made of (ids, names, prices, dates, UUIDs, hashes, URLs); most of it
// is rejected after a look at the length and the first bytes.
func BenchmarkValue(b *testing.B) {
	ordinary := append(append([]string(nil), handOrdinary...), generatedOrdinary()...)
	var sensitive []string
	for _, tc := range positiveValues() {
		if len(tc.in) < 1000 {
			sensitive = append(sensitive, tc.in)
		}
	}
	b.Run("ordinary", func(b *testing.B) { benchValues(b, ordinary) })
	b.Run("sensitive", func(b *testing.B) { benchValues(b, sensitive) })
}

func BenchmarkField(b *testing.B) {
	pairs := []struct{ name, value string }{
		{"id", "12345"}, {"name", "John Smith"}, {"email", "john.smith@example.com"}, {"created_at", "2024-01-15T10:30:00Z"},
		{"price", "19.99"}, {"password", "hunter2"}, {"api_key", "3f8a9c2d1e0b4a7f8c9d0e1f2a3b4c5d"},
		{"userId", "550e8400-e29b-41d4-a716-446655440000"}, {"status", "active"}, {"phone", "+14155552671"},
	}
	b.ReportAllocs()
	var c Class
	for i := 0; i < b.N; i++ {
		p := &pairs[i%len(pairs)]
		c |= Field(p.name, p.value)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mfields/s")
	_ = c
}

func BenchmarkIsJWT(b *testing.B) {
	b.SetBytes(int64(len(jwtIO)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !IsJWT(jwtIO) {
			b.Fatal("not a JWT")
		}
	}
}

// BenchmarkCredentials: one op is one request with typical browser/API
// client headers, a JWT bearer, session and preference cookies and a query.
func BenchmarkCredentials(b *testing.B) {
	reqs := []struct {
		h []reassembly.Header
		q string
	}{
		{hdrs("Host", "api.example.com", "User-Agent", "Mozilla/5.0 (X11; Linux x86_64)", "Accept", "application/json",
			"Accept-Encoding", "gzip, deflate, br", "Accept-Language", "en-US,en;q=0.9", "Authorization", "Bearer "+jwtIO,
			"Content-Type", "application/json", "X-Request-Id", "550e8400-e29b-41d4-a716-446655440000",
			"Cookie", "_ga=GA1.2.3.4; theme=dark; JSESSIONID=1A2B3C4D5E6F; lang=en"), "page=2&limit=50&sort=-created_at"},
		{hdrs("Host", "api.example.com", "User-Agent", "curl/8.5.0", "Accept", "*/*", "X-API-Key", "k_9f8e7d6c5b4a3210"), "q=shoes"},
		{hdrs("Host", "api.example.com", "User-Agent", "okhttp/4.12.0", "Accept", "*/*"), "api_key=abc123&format=json"},
	}
	b.ReportAllocs()
	dst := make([]Credential, 0, 8)
	for i := 0; i < b.N; i++ {
		r := &reqs[i%len(reqs)]
		dst = Credentials(dst[:0], r.h, r.q)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mreq/s")
}
