package conformance

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeTree creates files (path -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const syntheticMapping = `{
 "a/plain.pcap": [
  {"baseline_dir": "t.plain", "test": "t/plain.zeek", "http_files": ["http.log"], "files": ["http.log"], "traces_in_test": ["a/plain.pcap"]}
 ],
 "multi.pcap": [
  {"baseline_dir": "t.cut", "test": "t/cut.zeek", "http_files": ["http.log.cut"], "files": [], "traces_in_test": ["multi.pcap"]},
  {"baseline_dir": "t.redef", "test": "t/redef.zeek", "http_files": ["http.log"], "files": [], "traces_in_test": ["multi.pcap"]},
  {"baseline_dir": "t.zdefault", "test": "t/zdefault.zeek", "http_files": ["http.log"], "files": [], "traces_in_test": ["multi.pcap"]},
  {"baseline_dir": "t.conn", "test": "t/conn.zeek", "http_files": [], "files": ["conn.log"], "traces_in_test": ["multi.pcap"]}
 ],
 "json.pcap": [
  {"baseline_dir": "t.json", "test": "t/json.zeek", "http_files": ["http.log.json", "http.log.tsv"], "files": [], "traces_in_test": ["json.pcap"]}
 ],
 "tie.pcap": [
  {"baseline_dir": "t.b", "test": "t/b.zeek", "http_files": ["http.log"], "files": [], "traces_in_test": ["tie.pcap"]},
  {"baseline_dir": "t.a", "test": "t/a.zeek", "http_files": ["http.log"], "files": [], "traces_in_test": ["tie.pcap"]}
 ],
 "one.pcap": [
  {"baseline_dir": "t.two", "test": "t/two.zeek", "http_files": ["http.log.one", "http.log.two"], "files": [], "traces_in_test": ["one.pcap", "two.pcap"]}
 ],
 "two.pcap": [
  {"baseline_dir": "t.two", "test": "t/two.zeek", "http_files": ["http.log.one", "http.log.two"], "files": [], "traces_in_test": ["one.pcap", "two.pcap"]}
 ],
 "nohttp.pcap": [
  {"baseline_dir": "t.conn", "test": "t/conn.zeek", "http_files": [], "files": ["conn.log"], "traces_in_test": ["nohttp.pcap"]}
 ],
 "excluded.pcap": [
  {"baseline_dir": "t.plain", "test": "t/plain.zeek", "http_files": ["http.log"], "files": [], "traces_in_test": ["excluded.pcap"]}
 ]
}`

func TestSelectBaselines(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"MAPPING.json":                  syntheticMapping,
		"EXCLUDED.json":                 `{"excluded.pcap": "not HTTP"}`,
		"baselines/t.plain/TEST.plain":  "# @TEST-EXEC: zeek -b -r $TRACES/a/plain.pcap %INPUT\n@load base/protocols/http\n",
		"baselines/t.cut/TEST.cut":      "# @TEST-EXEC: zeek -r $TRACES/multi.pcap\n# @TEST-EXEC: zeek-cut -m uid uri < http.log > http.log.cut\n",
		"baselines/t.redef/TEST.redef":  "# @TEST-EXEC: zeek -r $TRACES/multi.pcap %INPUT\nredef HTTP::x = T;\n",
		"baselines/t.zdefault/TEST.z":   "# @TEST-EXEC: zeek -r ${TRACES}/multi.pcap %INPUT\n",
		"baselines/t.json/TEST.json":    "# @TEST-EXEC: zeek -r $TRACES/json.pcap LogAscii::use_json=T\n",
		"baselines/t.a/TEST.a":          "# @TEST-EXEC: zeek -r $TRACES/tie.pcap\n",
		"baselines/t.b/TEST.b":          "# @TEST-EXEC: zeek -r $TRACES/tie.pcap\n",
		"baselines/t.conn/TEST.conn":    "# @TEST-EXEC: zeek -r $TRACES/nohttp.pcap\n",
		"baselines/t.two/TEST.two.zeek": "# @TEST-EXEC: zeek -C -b -r $TRACES/one.pcap %INPUT\n# @TEST-EXEC: mv http.log http.log.one\n# @TEST-EXEC: btest-diff http.log.one\n# @TEST-EXEC: rm *.log\n# @TEST-EXEC: zeek -Cr $TRACES/two.pcap %INPUT\n# @TEST-EXEC: mv http.log http.log.two\n# @TEST-EXEC: btest-diff http.log.two\n",
	})
	got, err := SelectBaselines(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Baseline{
		{Trace: "a/plain.pcap", Dir: "t.plain", File: "http.log"},
		{Trace: "json.pcap", Dir: "t.json", File: "http.log.tsv", Alternatives: []string{"t.json/http.log.json"}},
		{Trace: "multi.pcap", Dir: "t.zdefault", File: "http.log", Alternatives: []string{"t.redef/http.log", "t.cut/http.log.cut"}},
		{Trace: "one.pcap", Dir: "t.two", File: "http.log.one"},
		{Trace: "tie.pcap", Dir: "t.a", File: "http.log", Alternatives: []string{"t.b/http.log"}},
		{Trace: "two.pcap", Dir: "t.two", File: "http.log.two"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d baselines, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		t.Run(want[i].Trace, func(t *testing.T) {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("\n got %+v\nwant %+v", got[i], want[i])
			}
		})
	}
	b := got[0]
	if p := b.TracePath(dir); p != filepath.Join(dir, "traces", "a", "plain.pcap") {
		t.Errorf("TracePath = %s", p)
	}
	if p := b.LogPath(dir); p != filepath.Join(dir, "baselines", "t.plain", "http.log") {
		t.Errorf("LogPath = %s", p)
	}
}

func TestSelectBaselinesErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no mapping", map[string]string{}, "conformance: open "},
		{"bad mapping", map[string]string{"MAPPING.json": "{"}, "conformance: "},
		{"bad excluded", map[string]string{"MAPPING.json": "{}", "EXCLUDED.json": "["}, "conformance: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tt.files)
			_, err := SelectBaselines(dir)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want prefix %q", err, tt.want)
			}
		})
	}
}
