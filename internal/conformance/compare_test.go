package conformance

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apitap/apitap/internal/zeeklog"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// zeekLog parses an inline log (fields separated by tabs; "|" in the
// sample stands for a tab to keep the tables readable).
func zeekLog(t *testing.T, s string) *zeeklog.HTTPLog {
	t.Helper()
	l, err := zeeklog.NewParser(zeeklog.Config{}).Parse(strings.NewReader(strings.ReplaceAll(s, "|", "\t")))
	if err != nil {
		t.Fatal(err)
	}
	h, err := l.HTTP()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

const fullHeader = "#separator \\x09\n#fields|method|host|uri|request_body_len|response_body_len|status_code\n"

func TestCompareTrace(t *testing.T) {
	tests := []struct {
		name    string
		zeek    string
		got     []Transaction
		fields  Fields
		matched int
		missing []Diff
		extra   []Diff
		bodyCmp int
		bodyOK  int
	}{
		{
			name: "exact",
			zeek: fullHeader + "GET|example.com|/a|0|10|200\nPOST|example.com|/b|5|0|201\n",
			got: []Transaction{
				{Method: "POST", Host: "example.com", URI: "/b", Status: 201, RequestBodyLen: 5},
				{Method: "GET", Host: "example.com", URI: "/a", Status: 200, ResponseBodyLen: 10},
			},
			fields: AllFields, matched: 2, bodyCmp: 4, bodyOK: 4,
		},
		{
			name: "unset fields are empty and zero",
			zeek: fullHeader + "-|-|-|0|925|400\nGET|-|/|0|19|-\n",
			got: []Transaction{
				{Status: 400, ResponseBodyLen: 925, Flags: []string{"no_request"}},
				{Method: "GET", URI: "/", ResponseBodyLen: 19, Flags: []string{"no_response"}},
			},
			fields: AllFields, matched: 2, bodyCmp: 4, bodyOK: 4,
		},
		{
			name:   "empty marker uri",
			zeek:   fullHeader + "OPTIONS|www.google.com|(empty)|0|925|400\n",
			got:    []Transaction{{Method: "OPTIONS", Host: "www.google.com", Status: 400, ResponseBodyLen: 925}},
			fields: AllFields, matched: 1, bodyCmp: 2, bodyOK: 2,
		},
		{
			name: "column subset ignores the rest",
			zeek: "uid|status_code|method|uri\nC1|101|POST|/attach\nC2|200|HEAD|/_ping\n",
			got: []Transaction{
				{Method: "POST", Host: "whatever", URI: "/attach", Status: 101, ResponseBodyLen: 7},
				{Method: "HEAD", Host: "other", URI: "/_ping", Status: 200},
			},
			fields: FieldMethod | FieldURI | FieldStatus, matched: 2,
		},
		{
			name: "status only",
			zeek: "uid|status_code\nC1|206\nC2|206\nC3|206\n",
			got: []Transaction{
				{Method: "GET", URI: "/1", Status: 206},
				{Method: "GET", URI: "/2", Status: 206},
				{Method: "GET", URI: "/3", Status: 416},
			},
			fields: FieldStatus, matched: 2,
			missing: []Diff{{Tuple{Status: 206}, 1}},
			extra:   []Diff{{Tuple{Status: 416}, 1}},
		},
		{
			name: "multiset counts",
			zeek: fullHeader + "GET|h|/x|0|1|200\nGET|h|/x|0|1|200\nGET|h|/y|0|1|200\n",
			got: []Transaction{
				{Method: "GET", Host: "h", URI: "/x", Status: 200, ResponseBodyLen: 1},
				{Method: "GET", Host: "h", URI: "/y", Status: 200, ResponseBodyLen: 1},
				{Method: "GET", Host: "h", URI: "/y", Status: 200, ResponseBodyLen: 1},
				{Method: "GET", Host: "h", URI: "/z", Status: 0},
			},
			fields: AllFields, matched: 2, bodyCmp: 4, bodyOK: 4,
			missing: []Diff{{Tuple{"GET", "h", "/x", 200}, 1}},
			extra:   []Diff{{Tuple{"GET", "h", "/y", 200}, 1}, {Tuple{"GET", "h", "/z", 0}, 1}},
		},
		{
			name: "invalid utf-8 matches the JSON replacement",
			zeek: fullHeader + "GET|h|/r\\xfchma b\\xff\\xfe|0|0|404\nGET|h|/\\xd9x|0|0|206\n",
			got: []Transaction{
				{Method: "GET", Host: "h", URI: "/r%FChma%20b\uFFFD\uFFFD", Status: 404},
				{Method: "GET", Host: "h", URI: "/\uFFFDx", Status: 206},
			},
			fields: AllFields, matched: 2, bodyCmp: 4, bodyOK: 4,
		},
		{
			name:   "apitap uri percent-decoded like zeek",
			zeek:   fullHeader + "GET|h|/a b;c=\"d\"|0|0|200\n",
			got:    []Transaction{{Method: "GET", Host: "h", URI: "/a%20b;c=%22d%22", Status: 200}},
			fields: AllFields, matched: 1, bodyCmp: 2, bodyOK: 2,
		},
		{
			name: "equal bodies pair first",
			zeek: fullHeader + "GET|h|/x|0|100|200\nGET|h|/x|0|200|200\n",
			got: []Transaction{
				{Method: "GET", Host: "h", URI: "/x", Status: 200, ResponseBodyLen: 200},
				{Method: "GET", Host: "h", URI: "/x", Status: 200, ResponseBodyLen: 100},
			},
			fields: AllFields, matched: 2, bodyCmp: 4, bodyOK: 4,
		},
		{
			name: "body mismatch counted, unset body skipped",
			zeek: fullHeader + "GET|h|/x|0|100|200\nGET|h|/y|-|-|200\n",
			got: []Transaction{
				{Method: "GET", Host: "h", URI: "/x", Status: 200, ResponseBodyLen: 99},
				{Method: "GET", Host: "h", URI: "/y", Status: 200, ResponseBodyLen: 5},
			},
			fields: AllFields, matched: 2, bodyCmp: 2, bodyOK: 1,
		},
		{
			name:    "apitap produced nothing",
			zeek:    fullHeader + "GET|h|/x|0|100|200\n",
			fields:  AllFields,
			missing: []Diff{{Tuple{"GET", "h", "/x", 200}, 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := zeekLog(t, tt.zeek)
			res := CompareTrace("t.pcap", "dir/http.log", want, tt.got)
			if res.Fields != tt.fields {
				t.Errorf("fields %s, want %s", res.Fields, tt.fields)
			}
			if res.ZeekRows != len(want.Rows) || res.APIRows != len(tt.got) || res.Matched != tt.matched {
				t.Errorf("zeek %d apitap %d matched %d; want %d %d %d", res.ZeekRows, res.APIRows, res.Matched,
					len(want.Rows), len(tt.got), tt.matched)
			}
			if !reflect.DeepEqual(res.Missing, tt.missing) {
				t.Errorf("missing %v, want %v", res.Missing, tt.missing)
			}
			if !reflect.DeepEqual(res.Extra, tt.extra) {
				t.Errorf("extra %v, want %v", res.Extra, tt.extra)
			}
			if res.BodyCompared != tt.bodyCmp || res.BodyAgreed != tt.bodyOK {
				t.Errorf("bodies %d/%d, want %d/%d (%v)", res.BodyAgreed, res.BodyCompared, tt.bodyOK, tt.bodyCmp, res.BodyMismatches)
			}
			if len(res.BodyMismatches) != res.BodyCompared-res.BodyAgreed {
				t.Errorf("%d mismatches listed for %d disagreements", len(res.BodyMismatches), res.BodyCompared-res.BodyAgreed)
			}
			// Matched + missing = Zeek rows; matched + extra = apitap rows.
			nm, ne := 0, 0
			for _, d := range res.Missing {
				nm += d.Count
			}
			for _, d := range res.Extra {
				ne += d.Count
			}
			if res.Matched+nm != res.ZeekRows || res.Matched+ne != res.APIRows {
				t.Errorf("invariant broken: matched %d missing %d extra %d zeek %d apitap %d", res.Matched, nm, ne, res.ZeekRows, res.APIRows)
			}
		})
	}
}

func TestTotals(t *testing.T) {
	tests := []struct {
		name            string
		traces          []TraceResult
		recall, precise float64
	}{
		{"empty", nil, 1, 1},
		{"sums", []TraceResult{
			{ZeekRows: 10, APIRows: 10, Matched: 9},
			{ZeekRows: 90, APIRows: 100, Matched: 89},
		}, 0.98, 0.98 * 100 / 110},
		{"apitap silent", []TraceResult{{ZeekRows: 3, Err: "exit status 1"}}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Report{Traces: tt.traces}
			tot := r.Totals()
			if d := tot.Recall() - tt.recall; d > 1e-9 || d < -1e-9 {
				t.Errorf("recall %v, want %v", tot.Recall(), tt.recall)
			}
			if d := tot.Precision() - tt.precise; d > 1e-9 || d < -1e-9 {
				t.Errorf("precision %v, want %v", tot.Precision(), tt.precise)
			}
		})
	}
}

func TestTupleFormat(t *testing.T) {
	tests := []struct {
		tup  Tuple
		f    Fields
		want string
	}{
		{Tuple{"GET", "h", "/a", 200}, AllFields, "GET h /a 200"},
		{Tuple{"", "", "", 400}, AllFields, "- - - 400"},
		{Tuple{"GET", "", "/a b", 0}, FieldMethod | FieldURI | FieldStatus, `GET * "/a b" 0`},
		{Tuple{"GET", "h", "/\x07", 0}, FieldURI, `* * "/\a" *`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.tup.Format(tt.f); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestReportGolden(t *testing.T) {
	var r Report
	r.Add(CompareTrace("http/b.pcap", "b.test/http.log.cut", zeekLog(t,
		"uid|method|uri|status_code\nC1|GET|/p\\x7cq|200\nC2|GET|/<x>|304\n"),
		[]Transaction{{Method: "GET", URI: "/p|q", Status: 200}}))
	r.Add(CompareTrace("http/a.pcap", "a.test/http.log", zeekLog(t, fullHeader+"GET|h|/x|0|10|200\n"),
		[]Transaction{{Method: "GET", Host: "h", URI: "/x", Status: 200, ResponseBodyLen: 11}, {Status: 400}}))
	failed := CompareTrace("c.pcap", "c.test/http.log", zeekLog(t, fullHeader+"GET|h|/y|0|1|200\n"), nil)
	failed.Err = "exit status 2: bad | link type"
	r.Add(failed)

	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.md", md.Bytes())
	golden(t, "report.txt", []byte(r.Text()))
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file: %v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

func TestReadTransactions(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Transaction
		wantErr string
	}{
		{"empty", "", nil, ""},
		{"lines", `{"ts":"2024-01-01T00:00:00.5Z","client_ip":"10.0.0.1","client_port":1234,"server_ip":"10.0.0.2","server_port":80,` +
			`"method":"GET","host":"h","uri":"/a?b","path":"/a","version":"1.1","status":200,"request_body_len":0,` +
			`"response_body_len":12,"duration_ms":1.5,"flags":["gap"],"request_headers":[["A","b"]]}` + "\n\n" +
			`{"method":"","status":400,"flags":["no_request"]}` + "\n",
			[]Transaction{
				{TS: "2024-01-01T00:00:00.5Z", ClientIP: "10.0.0.1", ClientPort: 1234, ServerIP: "10.0.0.2", ServerPort: 80,
					Method: "GET", Host: "h", URI: "/a?b", Path: "/a", Version: "1.1", Status: 200, ResponseBodyLen: 12,
					DurationMS: 1.5, Flags: []string{"gap"}},
				{Status: 400, Flags: []string{"no_request"}},
			}, ""},
		{"bad json", "{\"method\":\"GET\"}\n{\"status\":\"x\"}\n", nil, "conformance: transaction 2: "},
		{"truncated", "{\"method\":", nil, "conformance: transaction 1: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadTransactions(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReadTransactionsFileMissing(t *testing.T) {
	_, err := ReadTransactionsFile(filepath.Join(t.TempDir(), "none.jsonl"))
	if err == nil || !strings.HasPrefix(err.Error(), "conformance: ") {
		t.Fatalf("err = %v", err)
	}
}

func TestReadTransactionsUnescapesInvalidBytes(t *testing.T) {
	in := `{"method":"GET","uri":"/a\\xd9b\\x41","host":"h"}` + "\n"
	got, err := ReadTransactions(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	// \xd9 was an invalid UTF-8 byte; \x41 can only be literal text.
	if want := "/a\xd9b\\x41"; got[0].URI != want {
		t.Errorf("uri %q, want %q", got[0].URI, want)
	}
}
