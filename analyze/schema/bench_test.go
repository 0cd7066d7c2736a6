package schema

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// typicalResponse is a 1 KiB-ish API response: an order with a customer,
// line items, timestamps, ids, enums and nulls.
func typicalResponse(i int) []byte {
	status := []string{"pending", "paid", "shipped", "delivered"}[i%4]
	return []byte(fmt.Sprintf(`{
  "id": "ord_%06d",
  "object": "order",
  "status": %q,
  "created_at": "2024-03-%02dT10:%02d:00Z",
  "updated_at": null,
  "customer": {"id": "cus_%05d", "name": "Customer %d", "email": "c%d@example.com", "phone": null,
    "address": {"line1": "%d Main Street", "line2": null, "city": "Springfield", "postal_code": "%05d", "country": "US"}},
  "currency": "usd",
  "amount_total": %d,
  "amount_tax": %d.%02d,
  "items": [
    {"sku": "SKU-%04d", "description": "Widget", "quantity": %d, "unit_price": 1999, "discounts": []},
    {"sku": "SKU-%04d", "description": "Gadget deluxe edition", "quantity": 1, "unit_price": 4999, "discounts": [{"code": "SPRING", "amount": 500}]}
  ],
  "shipping": {"carrier": "ups", "tracking": "1Z999AA1%08d", "eta": "2024-03-%02d"},
  "metadata": {"source": "web", "campaign": "spring_sale", "ip": "203.0.113.%d"},
  "paid": %v,
  "refunded": false,
  "tags": ["priority", "gift"]
}`, i, status, 1+i%28, i%60, i%1000, i, i, i%900, i%99999, 1000+i, i%100, i%100, i%10000, 1+i%5, (i+7)%10000,
		i, 1+(i+3)%28, i%255, i%2 == 0))
}

func BenchmarkObserveJSON(b *testing.B) {
	docs := make([][]byte, 64)
	total := 0
	for i := range docs {
		docs[i] = typicalResponse(i)
		total += len(docs[i])
	}
	l := New(nil)
	for _, d := range docs { // reach the steady state
		if err := l.ObserveJSON(d); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(total / len(docs)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		if err := l.ObserveJSON(docs[i%len(docs)]); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpuTime()-cpu, int64(total/len(docs)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

// reportCPU adds CPU-time rates, which a busy shared machine disturbs less
// than the wall-clock ns/op and MB/s.
func reportCPU(b *testing.B, cpu time.Duration, bytesPerOp int64) {
	if cpu <= 0 {
		return
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	if bytesPerOp > 0 {
		b.ReportMetric(float64(bytesPerOp)*float64(b.N)/cpu.Seconds()/1e6, "cpu-MB/s")
	}
}

func BenchmarkValidate(b *testing.B) {
	doc := typicalResponse(1)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		if err := validate(doc); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpuTime()-cpu, int64(len(doc)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

func BenchmarkObserveText(b *testing.B) {
	vals := []string{"42", "123e4567-e89b-12d3-a456-426614174000", "active", "2024-01-31T10:00:00Z", "3.5"}
	ls := make([]*Learner, len(vals))
	for i := range ls {
		ls[i] = New(nil)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ls[i%len(vals)].ObserveText(vals[i%len(vals)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "values/s")
}

func BenchmarkShape(b *testing.B) {
	doc := typicalResponse(1)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		Shape(doc)
	}
	reportCPU(b, cpuTime()-cpu, int64(len(doc)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

func BenchmarkSchema(b *testing.B) {
	l := New(nil)
	for i := 0; i < 200; i++ {
		l.ObserveJSON(typicalResponse(i))
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l.Schema()
	}
}

func TestTypicalResponseIsValid(t *testing.T) {
	for i := 0; i < 100; i++ {
		d := typicalResponse(i)
		if err := validate(d); err != nil {
			t.Fatalf("%v\n%s", err, d)
		}
		if i == 0 && (len(d) < 900 || len(d) > 1300) {
			t.Errorf("typical response is %d bytes, want about 1 KiB", len(d))
		}
	}
}

func TestSteadyStateAllocations(t *testing.T) {
	docs := make([][]byte, 64)
	for i := range docs {
		docs[i] = typicalResponse(i)
	}
	// Escaped strings and keys go through the scratch buffers.
	docs = append(docs, []byte(`{"k\u00e9y":"caf\u00e9 \"quoted\"","arr":[{"x":1},{"x":2,"y":[]}]}`))
	l := New(nil)
	for _, d := range docs {
		if err := l.ObserveJSON(d); err != nil {
			t.Fatal(err)
		}
	}
	i := 0
	if a := testing.AllocsPerRun(500, func() {
		l.ObserveJSON(docs[i%len(docs)])
		i++
	}); a != 0 {
		t.Errorf("ObserveJSON steady state: %v allocations per call", a)
	}
	p := New(nil)
	vals := []string{"42", "7", "active", "pending"}
	for _, v := range vals {
		p.ObserveText(v)
		p.ObserveParam("status", v)
	}
	if a := testing.AllocsPerRun(500, func() {
		p.ObserveText(vals[i%len(vals)])
		i++
	}); a != 0 {
		t.Errorf("ObserveText steady state: %v allocations per call", a)
	}
	f := New(nil)
	form := []byte("a=1&b=hello+world&c=%C3%A9")
	f.ObserveForm(form)
	if a := testing.AllocsPerRun(500, func() { f.ObserveForm(form) }); a != 0 {
		t.Errorf("ObserveForm steady state: %v allocations per call", a)
	}
	if a := testing.AllocsPerRun(500, func() { Shape(docs[0]) }); a != 0 {
		t.Errorf("Shape: %v allocations per call", a)
	}
	if a := testing.AllocsPerRun(100, func() { validate(docs[0]) }); a != 0 {
		t.Errorf("validate: %v allocations per call", a)
	}
	deep := bytes.Repeat([]byte("["), 300)
	deep = append(deep, bytes.Repeat([]byte("]"), 300)...)
	if a := testing.AllocsPerRun(100, func() { validate(deep) }); a != 0 {
		t.Errorf("validate of 300 levels: %v allocations per call", a)
	}
}
