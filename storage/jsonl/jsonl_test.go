package jsonl

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apitap/apitap/internal/lab"
	"github.com/apitap/apitap/reassembly"
	"github.com/apitap/apitap/storage"
)

func TestAppend(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.UTC)
	tx := &reassembly.Transaction{
		Client:          netip.MustParseAddrPort("10.0.0.1:51000"),
		Server:          netip.MustParseAddrPort("[2001:db8::1]:8080"),
		RequestStart:    t0,
		ResponseEnd:     t0.Add(12500 * time.Microsecond),
		Method:          "GET",
		Host:            "api.example.com",
		URI:             "/a?b=\"c\"\x01\xff",
		Path:            "/a",
		Version:         "1.1",
		Status:          200,
		RequestBodyLen:  0,
		ResponseBodyLen: 42,
		RequestHeaders:  []reassembly.Header{{Name: "Host", Value: "api.example.com"}},
		ResponseBody:    []byte("{\"ok\":true}"),
		Flags:           reassembly.FlagGap | reassembly.FlagMidstream,
	}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"plain", Config{}, `{"ts":"2026-11-28T10:00:00.123456Z","client_ip":"10.0.0.1","client_port":51000,"server_ip":"2001:db8::1","server_port":8080,"method":"GET","host":"api.example.com","uri":"/a?b=\"c\"\u0001\\xff","path":"/a","version":"1.1","status":200,"request_body_len":0,"response_body_len":42,"duration_ms":12.500,"flags":["gap","midstream"]}` + "\n"},
		{"headers and bodies", Config{Headers: true, Bodies: true}, `{"ts":"2026-11-28T10:00:00.123456Z","client_ip":"10.0.0.1","client_port":51000,"server_ip":"2001:db8::1","server_port":8080,"method":"GET","host":"api.example.com","uri":"/a?b=\"c\"\u0001\\xff","path":"/a","version":"1.1","status":200,"request_body_len":0,"response_body_len":42,"duration_ms":12.500,"flags":["gap","midstream"],"request_headers":[["Host","api.example.com"]],"response_headers":[],"request_body":"","response_body":"{\"ok\":true}"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(Append(nil, tx, tt.cfg))
			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(got), &m); err != nil {
				t.Fatalf("not valid JSON: %v", err)
			}
			if m["uri"] != "/a?b=\"c\"\x01\\xff" {
				t.Errorf("uri decodes to %q", m["uri"])
			}
		})
	}
}

func TestAppendStringUTF8(t *testing.T) {
	for _, s := range []string{"plain", "ünïcödé €", "\xe2\x82", "a\x00b", "tab\there", "\xed\xa0\x80"} {
		out := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Errorf("%q: invalid JSON %s: %v", s, out, err)
		}
	}
}

func TestWriterNoResponse(t *testing.T) {
	var buf bytes.Buffer
	w := New(&buf, Config{})
	tx := &reassembly.Transaction{ResponseStart: time.Unix(1700000000, 0), Status: 404, Flags: reassembly.FlagNoRequest}
	if err := w.WriteTransactions(context.Background(), []*reassembly.Transaction{tx}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["ts"] != "2023-11-14T22:13:20.000000Z" || m["method"] != "" || m["status"] != 404.0 || m["duration_ms"] != 0.0 {
		t.Errorf("unexpected %v", m)
	}
}

func BenchmarkAppend(b *testing.B) {
	tx := &reassembly.Transaction{
		Client: netip.MustParseAddrPort("10.0.0.1:51000"), Server: netip.MustParseAddrPort("10.1.0.1:80"),
		RequestStart: time.Unix(1700000000, 0), Method: "GET", Host: "api.example.com",
		URI: "/api/v1/items/12345?expand=owner", Path: "/api/v1/items/12345", Version: "1.1", Status: 200,
	}
	buf := Append(nil, tx, Config{})
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = Append(buf[:0], tx, Config{})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

func TestAppendTime(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
	}{
		{"epoch", time.Unix(0, 0)},
		{"microseconds", time.Date(2026, 11, 28, 10, 0, 0, 123456000, time.UTC)},
		{"nanoseconds are cut, not rounded", time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC)},
		{"another zone is written in UTC", time.Date(2024, 1, 1, 1, 2, 3, 4000, time.FixedZone("CET", 3600))},
		{"year 1", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"year 10000 falls back", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"negative year falls back", time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"zero time", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendTime([]byte("x"), tt.t))
			want := "x" + tt.t.UTC().Format(TimeLayout)
			if got != want {
				t.Errorf("AppendTime = %s, want %s", got, want)
			}
		})
	}
}

func TestAppendMillis(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0.000"},
		{time.Microsecond, "0.001"},
		{12500 * time.Microsecond, "12.500"},
		{time.Hour + 7*time.Microsecond, "3600000.007"},
		{1499 * time.Nanosecond, "0.001"},
		{1500 * time.Nanosecond, "0.002"},
		{499 * time.Nanosecond, "0.000"},
		{-2500 * time.Microsecond, "-2.500"},
		{-1500 * time.Nanosecond, "-0.002"},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			if got := string(appendMillis(nil, tt.d)); got != tt.want {
				t.Errorf("appendMillis(%v) = %s, want %s", tt.d, got, tt.want)
			}
		})
	}
	// On whole microseconds (every pcap timestamp) it agrees with the
	// float formatting it replaced.
	for us := int64(-3000); us <= 3000; us += 7 {
		d := time.Duration(us) * time.Microsecond
		want := strconv.AppendFloat(nil, float64(d)/float64(time.Millisecond), 'f', 3, 64)
		if got := appendMillis(nil, d); !bytes.Equal(got, want) {
			t.Fatalf("appendMillis(%v) = %s, AppendFloat gives %s", d, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"plain", "ünïcödé €", "\xe2\x82", "a\x00b", "tab\there", "\"q\"\\", "\xed\xa0\x80", "\x7f\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString(nil, s)
		if !bytes.Equal(out, AppendString(nil, []byte(s))) {
			t.Fatalf("string and []byte encodings differ for %q", s)
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q: invalid JSON %s: %v", s, out, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("%q encodes as %s, which decodes to %q", s, out, back)
		}
	})
}

// TestWriterThroughQueue checks that lines encoded by producers of a
// storage.Queue are the lines WriteTransactions writes.
func TestWriterThroughQueue(t *testing.T) {
	var _ storage.EncodingSink = (*Writer)(nil)
	txs := make([]*reassembly.Transaction, 1000)
	for i := range txs {
		txs[i] = &reassembly.Transaction{
			Client: netip.MustParseAddrPort("10.0.0.1:51000"), Server: netip.MustParseAddrPort("10.1.0.1:80"),
			RequestStart: time.Unix(1700000000, int64(i)*1000), Method: "GET", Host: "api.example.com",
			URI: "/items/" + strconv.Itoa(i), Path: "/items/" + strconv.Itoa(i), Version: "1.1", Status: 200,
		}
	}
	var want bytes.Buffer
	direct := New(&want, Config{Headers: true})
	if err := direct.WriteTransactions(context.Background(), txs); err != nil {
		t.Fatal(err)
	}
	direct.Close()
	for _, batch := range []int{1, 7, 256} {
		t.Run("batch "+strconv.Itoa(batch), func(t *testing.T) {
			var got bytes.Buffer
			q, err := storage.NewQueue(storage.QueueConfig{BatchSize: batch, Depth: 2, Block: true}, New(&got, Config{Headers: true}), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := q.Producer()
			for _, tx := range txs {
				p.HandleTransaction(tx)
			}
			p.Flush()
			if err := q.Close(); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("lines through the queue differ from WriteTransactions':\n%.300s\nwant\n%.300s", got.String(), want.String())
			}
		})
	}
}

// TestWriterFlushesWhenIdle checks that the lines of a partial batch reach
// the underlying writer as soon as the queue has nothing else to write,
// long before Close: a live sensor's output file is current.
func TestWriterFlushesWhenIdle(t *testing.T) {
	var _ storage.Flusher = (*Writer)(nil)
	out := &lab.OutputBuffer{}
	q, err := storage.NewQueue(storage.QueueConfig{BatchSize: 256}, New(out, Config{}), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	p := q.Producer()
	for i := range 3 {
		p.HandleTransaction(&reassembly.Transaction{Method: "GET", URI: "/" + strconv.Itoa(i), Status: 200})
	}
	p.Flush() // what a live worker's tick does
	deadline := time.Now().Add(10 * time.Second)
	lines := func() int { return strings.Count(out.String(), "\n") }
	for lines() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 3 lines written 10s after the batch was handed on", lines())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestAppendAllocs(t *testing.T) {
	tx := &reassembly.Transaction{
		Client: netip.MustParseAddrPort("10.0.0.1:51000"), Server: netip.MustParseAddrPort("[2001:db8::1]:80"),
		RequestStart: time.Unix(1700000000, 0), ResponseEnd: time.Unix(1700000000, 5e6), Method: "GET", Host: "api.example.com",
		URI: "/a?b=\"c\"\xff", Path: "/a", Version: "1.1", Status: 200, Flags: reassembly.FlagGap,
		RequestHeaders: []reassembly.Header{{Name: "Host", Value: "api.example.com"}},
	}
	buf := Append(nil, tx, Config{Headers: true, Bodies: true})
	if n := testing.AllocsPerRun(100, func() { buf = Append(buf[:0], tx, Config{Headers: true, Bodies: true}) }); n != 0 {
		t.Errorf("Append allocates %v times per line into a buffer with room", n)
	}
}
