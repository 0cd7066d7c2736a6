package http1

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/apitap/apitap/reassembly"
)

// exchange is one request and its response, as sent.
type exchange struct{ req, resp []byte }

// apiExchanges builds a keep-alive mix of JSON API calls: GETs of
// resources and POSTs creating them, answered with JSON objects of about
// 300 bytes, one response in four chunked.
func apiExchanges(n int) []exchange { return apiExchangesSized(n, 0) }

// apiExchangesSized is apiExchanges with items more objects in each
// response (a list), about 300 bytes each.
func apiExchangesSized(n, items int) []exchange {
	out := make([]exchange, n)
	for i := range out {
		id := 1000 + i
		var req string
		body := fmt.Sprintf(`{"id":%d,"name":"user-%d","email":"user%d@example.com","roles":["reader","writer"],`+
			`"profile":{"created":"2024-05-01T12:00:00Z","active":true,"score":%d.5},"tags":[%s]}`,
			id, id, id, i%97, strings.Repeat(`"tag",`, i%16)+`"last"`)
		if items > 0 {
			body = "[" + strings.Repeat(body+",", items) + body + "]"
		}
		if i%3 == 2 {
			payload := fmt.Sprintf(`{"user_id":%d,"items":[{"sku":"A-%d","qty":2},{"sku":"B-%d","qty":1}],"note":"deliver before noon"}`, id, i, i)
			req = "POST /api/v1/orders HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: okhttp/4.12.0\r\n" +
				"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl\r\n" +
				"Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: " + strconv.Itoa(len(payload)) + "\r\n\r\n" + payload
		} else {
			req = "GET /api/v1/users/" + strconv.Itoa(id) + "?expand=profile&fields=id,name,email HTTP/1.1\r\n" +
				"Host: api.example.com\r\nUser-Agent: okhttp/4.12.0\r\nAccept: application/json\r\n" +
				"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl\r\nX-Request-Id: req-" + strconv.Itoa(i) + "\r\n\r\n"
		}
		head := "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Wed, 01 May 2024 12:00:00 GMT\r\nContent-Type: application/json\r\n" +
			"Cache-Control: no-store\r\nX-Request-Id: req-" + strconv.Itoa(i) + "\r\n"
		var resp string
		if i%4 == 3 {
			half := len(body) / 2
			resp = head + "Transfer-Encoding: chunked\r\n\r\n" + strconv.FormatInt(int64(half), 16) + "\r\n" + body[:half] + "\r\n" +
				strconv.FormatInt(int64(len(body)-half), 16) + "\r\n" + body[half:] + "\r\n0\r\n\r\n"
		} else {
			resp = head + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
		}
		out[i] = exchange{[]byte(req), []byte(resp)}
	}
	return out
}

// feedSegments delivers b in pieces of at most mss bytes.
func feedSegments(h reassembly.StreamHandler, client bool, b []byte, mss int) {
	for len(b) > 0 {
		n := min(len(b), mss)
		h.Data(client, b[:n], testBase)
		b = b[n:]
	}
}

// TestSteadyStateAllocations holds the line on allocations: framing a
// keep-alive exchange allocates only what the transaction owns.
func TestSteadyStateAllocations(t *testing.T) {
	xs := apiExchanges(64)
	tests := []struct {
		name string
		cfg  Config
		max  float64
	}{
		// The Transaction, one slice of header fields and one string
		// arena: 3.
		{"bodies not stored", Config{MaxBodyBytes: -1}, 3},
		// Plus the response body and the request body of one POST in
		// three: 4.33 on average.
		{"bodies stored", Config{}, 4.34},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := &discard{}
			f, err := NewFactory(tc.cfg, sink, nil)
			if err != nil {
				t.Fatal(err)
			}
			h := f.New(reassembly.ConnInfo{Client: testClient, Server: testServer, HandshakeSeen: true}, testBase)
			for _, x := range xs { // warm up the buffers
				feedSegments(h, true, x.req, 1448)
				feedSegments(h, false, x.resp, 1448)
			}
			i := 0
			allocs := testing.AllocsPerRun(500, func() {
				x := xs[i%len(xs)]
				i++
				feedSegments(h, true, x.req, 1448)
				feedSegments(h, false, x.resp, 1448)
			})
			if allocs > tc.max {
				t.Errorf("%.2f allocations per exchange, want at most %v", allocs, tc.max)
			}
			if want := len(xs) + 501; sink.n != want {
				t.Errorf("%d transactions emitted, want %d", sink.n, want)
			}
			t.Logf("%.2f allocations per exchange", allocs)
		})
	}
}

// BenchmarkKeepAlive parses a keep-alive connection of JSON API calls
// delivered in 1448-byte segments: small objects (about 680 bytes per
// exchange, headers dominate), with and without storing the bodies, and
// lists of nine objects (about 3.3 KB per exchange).
func BenchmarkKeepAlive(b *testing.B) {
	for _, bc := range []struct {
		name  string
		cfg   Config
		items int
	}{
		{"bodies", Config{}, 0},
		{"no-bodies", Config{MaxBodyBytes: -1}, 0},
		{"lists", Config{}, 8},
	} {
		b.Run(bc.name, func(b *testing.B) {
			xs := apiExchangesSized(256, bc.items)
			total := 0
			for _, x := range xs {
				total += len(x.req) + len(x.resp)
			}
			sink := &discard{}
			f, err := NewFactory(bc.cfg, sink, nil)
			if err != nil {
				b.Fatal(err)
			}
			h := f.New(reassembly.ConnInfo{Client: testClient, Server: testServer, HandshakeSeen: true}, testBase)
			b.SetBytes(int64(total))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				for _, x := range xs {
					feedSegments(h, true, x.req, 1448)
					feedSegments(h, false, x.resp, 1448)
				}
			}
			b.ReportMetric(float64(b.N*len(xs))/b.Elapsed().Seconds(), "tx/s")
		})
	}
}

// BenchmarkSplitSegments feeds the same traffic in small segments, the
// slow path of every state.
func BenchmarkSplitSegments(b *testing.B) {
	xs := apiExchanges(64)
	total := 0
	for _, x := range xs {
		total += len(x.req) + len(x.resp)
	}
	f, _ := NewFactory(Config{}, &discard{}, nil)
	h := f.New(reassembly.ConnInfo{Client: testClient, Server: testServer, HandshakeSeen: true}, testBase)
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for range b.N {
		for _, x := range xs {
			feedSegments(h, true, x.req, 64)
			feedSegments(h, false, x.resp, 64)
		}
	}
	b.ReportMetric(float64(b.N*len(xs))/b.Elapsed().Seconds(), "tx/s")
}
