package jsonl

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/apitap/apitap/reassembly"
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
