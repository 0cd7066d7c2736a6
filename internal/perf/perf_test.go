package perf

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMedian(t *testing.T) {
	s := time.Second
	tests := []struct {
		name string
		in   []time.Duration
		want time.Duration
	}{
		{"empty", nil, 0},
		{"one", []time.Duration{3 * s}, 3 * s},
		{"odd unsorted", []time.Duration{5 * s, 1 * s, 3 * s}, 3 * s},
		{"even takes the mean of the middle two", []time.Duration{4 * s, 1 * s, 2 * s, 8 * s}, 3 * s},
		{"outlier does not move it", []time.Duration{1 * s, 1 * s, 100 * s}, 1 * s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			if got := median(in); got != tt.want {
				t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
			}
			if !slices.Equal(in, tt.in) {
				t.Errorf("median reordered its input: %v", in)
			}
		})
	}
}

func TestSchedule(t *testing.T) {
	tests := []struct {
		rounds, tshark int
		tsharkRounds   []int // 0-based rounds that run tshark
	}{
		{1, 1, []int{0}},
		{5, 1, []int{2}},
		{5, 3, []int{0, 2, 4}},
		{6, 2, []int{1, 4}},
		{4, 4, []int{0, 1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d rounds %d tshark", tt.rounds, tt.tshark), func(t *testing.T) {
			got := schedule(tt.rounds, tt.tshark)
			if len(got) != tt.rounds {
				t.Fatalf("%d rounds, want %d", len(got), tt.rounds)
			}
			var ts []int
			for i, names := range got {
				first, second := CmdApitap1, CmdApitap2
				if i%2 == 1 {
					first, second = second, first
				}
				if len(names) < 2 || names[0] != first || names[1] != second {
					t.Errorf("round %d runs %v; want %s then %s first", i, names, first, second)
				}
				if slices.Contains(names, CmdTshark) {
					ts = append(ts, i)
					if names[len(names)-1] != CmdTshark || len(names) != 3 {
						t.Errorf("round %d runs %v; want tshark once, last", i, names)
					}
				}
			}
			if !slices.Equal(ts, tt.tsharkRounds) {
				t.Errorf("tshark runs in rounds %v, want %v", ts, tt.tsharkRounds)
			}
		})
	}
}

func TestConfigNormalize(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"defaults", Config{CacheDir: "x"}, false},
		{"negative size", Config{CacheDir: "x", Size: -1}, true},
		{"negative rounds", Config{CacheDir: "x", Rounds: -1}, true},
		{"more tshark runs than rounds", Config{CacheDir: "x", Rounds: 2, TsharkRuns: 3}, true},
		{"negative ratio", Config{CacheDir: "x", MinWorkerRatio: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.normalize()
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.Size != DefaultSize || got.Rounds != DefaultRounds || got.TsharkRuns != DefaultTsharkRuns ||
				got.MinTsharkRatio != DefaultMinTsharkRatio || got.MinWorkerRatio != DefaultMinWorkerRatio ||
				got.Tshark != "tshark" || got.Log == nil {
				t.Errorf("defaults not applied: %+v", got)
			}
		})
	}
}

// fixedResult is a result with known runs: medians 4 s (-w1), 2 s (-w2),
// 300 s (tshark).
func fixedResult() *Result {
	s := time.Second
	r := &Result{
		Env: Env{CPUs: 2, CPUModel: "Test CPU", GoVersion: "go1.26", Apitap: "apitap dev",
			Tshark: "TShark (Wireshark) 4.0.17", LoadBefore: 0.05, LoadAfter: 1.5},
		Capture: CaptureInfo{Path: "/cache/bulk-1000000000-seed1.pcap", Seed: 1, Bytes: 1_000_063_896,
			Packets: 2_323_046, Exchanges: 677_667},
		Rounds: 3, TsharkRuns: 1, MinTsharkRatio: 50, MinWorkerRatio: 1.7,
		Commands: []CommandLine{
			{CmdApitap1, "apitap analyze bulk-1000000000-seed1.pcap --transactions apitap-w1.jsonl --workers 1"},
			{CmdTshark, "tshark -r bulk-1000000000-seed1.pcap -Y http > tshark.tsv"},
		},
		Runs: []RunResult{
			{Command: CmdApitap1, Round: 1, Wall: 4 * s, CPU: 5 * s, MaxRSS: 50 << 20, Requests: 677_667},
			{Command: CmdApitap2, Round: 1, Wall: 2 * s, CPU: 5 * s, MaxRSS: 90 << 20, Requests: 677_667},
			{Command: CmdApitap2, Round: 2, Wall: 2500 * time.Millisecond, CPU: 5 * s, MaxRSS: 95 << 20, Requests: 677_667},
			{Command: CmdApitap1, Round: 2, Wall: 5 * s, CPU: 5 * s, MaxRSS: 52 << 20, Requests: 677_667},
			{Command: CmdTshark, Round: 2, Wall: 300 * s, CPU: 290 * s, MaxRSS: 1 << 30, Requests: 677_667, Responses: 677_667},
			{Command: CmdApitap1, Round: 3, Wall: 3 * s, CPU: 5 * s, MaxRSS: 51 << 20, Requests: 677_667},
			{Command: CmdApitap2, Round: 3, Wall: 1 * s, CPU: 5 * s, MaxRSS: 91 << 20, Requests: 677_667},
		},
	}
	r.summarize()
	return r
}

func TestSummarize(t *testing.T) {
	r := fixedResult()
	s := time.Second
	want := []Summary{
		{Command: CmdApitap1, Runs: 3, Median: 4 * s, Min: 3 * s, Max: 5 * s, MBps: 250.015974, MedianCPU: 5 * s, MaxRSS: 52 << 20, Requests: 677_667},
		{Command: CmdApitap2, Runs: 3, Median: 2 * s, Min: 1 * s, Max: 2500 * time.Millisecond, MBps: 500.031948, MedianCPU: 5 * s, MaxRSS: 95 << 20, Requests: 677_667},
		{Command: CmdTshark, Runs: 1, Median: 300 * s, Min: 300 * s, Max: 300 * s, MBps: 3.333546, MedianCPU: 290 * s, MaxRSS: 1 << 30, Requests: 677_667, Responses: 677_667},
	}
	if len(r.Summaries) != len(want) {
		t.Fatalf("summaries %+v", r.Summaries)
	}
	for i, w := range want {
		g := r.Summaries[i]
		if d := g.MBps - w.MBps; d > 1e-3 || d < -1e-3 {
			t.Errorf("%s: MB/s %f, want %f", w.Command, g.MBps, w.MBps)
		}
		g.MBps = w.MBps
		if g != w {
			t.Errorf("summary %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	tests := []struct {
		name                 string
		ratio                float64
		pass                 bool
		pairedMin, pairedMax float64
	}{
		{"tshark / apitap -w1", 75, true, 0, 0},
		{"apitap -w1 / apitap -w2", 2, true, 2, 3},
	}
	if len(r.Checks) != len(tests) {
		t.Fatalf("checks %+v", r.Checks)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := r.Checks[i]
			if c.Name != tt.name || c.Ratio != tt.ratio || c.Pass != tt.pass || c.PairedMin != tt.pairedMin || c.PairedMax != tt.pairedMax {
				t.Errorf("got %+v, want %+v", c, tt)
			}
		})
	}
	if !r.Passed() {
		t.Error("Passed() = false with every check passing")
	}
	r.MinWorkerRatio = 2.5
	r.summarize()
	if r.Passed() || r.Checks[1].Pass {
		t.Errorf("a ratio of 2 passes a target of 2.5: %+v", r.Checks)
	}
	if (&Result{}).Passed() {
		t.Error("a result without checks passes")
	}
}

func TestWriteMarkdown(t *testing.T) {
	r := fixedResult()
	r.MinWorkerRatio = 2.5
	r.summarize()
	var b bytes.Buffer
	if err := r.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.md")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("Markdown differs from %s (go test -update rewrites it):\n%s", golden, b.Bytes())
	}
}

func TestSplice(t *testing.T) {
	doc := "# Perf\n\nintro\n\n" + BeginMarker + "\nold table\n" + EndMarker + "\n\nafter\n"
	tests := []struct {
		name    string
		doc     string
		section string
		want    string
		wantErr error
	}{
		{"replaces the section", doc, "new table\n",
			"# Perf\n\nintro\n\n" + BeginMarker + "\nnew table\n" + EndMarker + "\n\nafter\n", nil},
		{"adds a missing final newline", doc, "new",
			"# Perf\n\nintro\n\n" + BeginMarker + "\nnew\n" + EndMarker + "\n\nafter\n", nil},
		{"empty section", doc, "", "# Perf\n\nintro\n\n" + BeginMarker + "\n" + EndMarker + "\n\nafter\n", nil},
		{"no markers", "# Perf\n", "x", "", ErrNoMarkers},
		{"end before begin", EndMarker + BeginMarker, "x", "", ErrNoMarkers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Splice([]byte(tt.doc), []byte(tt.section))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if err == nil {
				again, _ := Splice(got, []byte(tt.section))
				if !bytes.Equal(again, got) {
					t.Errorf("splicing twice changes the document:\n%s", again)
				}
			}
		})
	}
}

func TestEnsureCapture(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{CacheDir: dir, Size: 200 << 10, Seed: 7, Log: &bytes.Buffer{}}
	first, err := ensureCapture(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if first.Reused || first.Exchanges == 0 || first.Bytes < cfg.Size || first.Packets == 0 {
		t.Fatalf("first call: %+v", first)
	}
	fi, err := os.Stat(first.Path)
	if err != nil || fi.Size() != first.Bytes {
		t.Fatalf("capture file: %v, %v; want %d bytes", fi, err, first.Bytes)
	}
	steps := []struct {
		name       string
		damage     func()
		wantReused bool
	}{
		{"reused when size and sidecar match", func() {}, true},
		{"rewritten when the file was cut", func() { os.Truncate(first.Path, 1000) }, false},
		{"rewritten when the sidecar is unreadable", func() { os.WriteFile(strings.TrimSuffix(first.Path, ".pcap")+".json", []byte("{"), 0o644) }, false},
		{"rewritten when the capture is missing", func() { os.Remove(first.Path) }, false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.damage()
			got, err := ensureCapture(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got.Reused != st.wantReused {
				t.Errorf("Reused = %v, want %v", got.Reused, st.wantReused)
			}
			got.Reused = first.Reused
			if got != first {
				t.Errorf("got %+v, want %+v (the same seed writes the same capture)", got, first)
			}
		})
	}
	other, err := ensureCapture(Config{CacheDir: dir, Size: cfg.Size, Seed: 8, Log: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if other.Path == first.Path || other.Reused {
		t.Errorf("another seed reused %s", other.Path)
	}
}

func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	capInfo := CaptureInfo{Exchanges: 2}
	tests := []struct {
		name          string
		cmd, out      string
		wantReq, resp int64
		wantErr       bool
	}{
		{"apitap complete", CmdApitap1, "{}\n{}\n", 2, 0, false},
		{"apitap lost a transaction", CmdApitap2, "{}\n", 1, 0, true},
		{"tshark requests and responses", CmdTshark,
			"GET\ta.example\t/x\t\n\t\t\t200\nPOST\ta.example\t/y\t\n\t\t\t201\n\t\t\t\n", 2, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := RunResult{Command: tt.cmd, outPath: write(strings.ReplaceAll(tt.name, " ", "-"), tt.out)}
			err := checkOutput(&r, capInfo)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if r.Requests != tt.wantReq || r.Responses != tt.resp {
				t.Errorf("requests %d responses %d, want %d %d", r.Requests, r.Responses, tt.wantReq, tt.resp)
			}
		})
	}
	if err := checkOutput(&RunResult{Command: CmdApitap1, outPath: filepath.Join(dir, "missing")}, capInfo); err == nil {
		t.Error("no error for a missing output")
	}
}

// TestRun runs the whole benchmark on a small capture with the real apitap
// (built from this module) and the real tshark (make setup installs it).
func TestRun(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	res, err := Run(context.Background(), Config{CacheDir: dir, Size: 1 << 20, Seed: 3, Rounds: 2, TsharkRuns: 1, Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if len(res.Runs) != 5 {
		t.Fatalf("%d runs, want 5: %+v", len(res.Runs), res.Runs)
	}
	ex := res.Capture.Exchanges
	for _, r := range res.Runs {
		if r.Wall <= 0 || r.Requests != ex {
			t.Errorf("%s round %d: wall %v, %d requests; want %d", r.Command, r.Round, r.Wall, r.Requests, ex)
		}
		if r.Command == CmdTshark && r.Responses != ex {
			t.Errorf("tshark found %d responses; want %d", r.Responses, ex)
		}
	}
	if len(res.Summaries) != 3 || len(res.Checks) != 2 {
		t.Fatalf("summaries %+v checks %+v", res.Summaries, res.Checks)
	}
	for _, c := range res.Checks {
		if c.Ratio <= 0 || c.Pass != (c.Ratio >= c.Target) {
			t.Errorf("check %+v", c)
		}
	}
	if res.Env.CPUs < 1 || !strings.HasPrefix(res.Env.Apitap, "apitap ") || !strings.Contains(res.Env.Tshark, "TShark") {
		t.Errorf("environment %+v", res.Env)
	}
	var md bytes.Buffer
	if err := res.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| apitap -w1 | 2 |", "| tshark | 1 |", "tshark -r FILE -Y http -T fields"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md.String())
		}
	}
	// A second run reuses the capture and the outputs' directory.
	res2, err := Run(context.Background(), Config{CacheDir: dir, Size: 1 << 20, Seed: 3, Rounds: 1, TsharkRuns: 1,
		Apitap: filepath.Join(dir, "apitap"), Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if !res2.Capture.Reused {
		t.Error("the second run did not reuse the capture")
	}
}
