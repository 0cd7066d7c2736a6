package perf

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apitap/apitap/capture"
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
		{7, 1, []int{3}},
		{8, 2, []int{2, 6}},
	}
	all := []string{CmdApitap1, CmdApitap2, CmdApitap1Extract, CmdApitap2Extract, CmdSharded}
	n := len(all)
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d rounds %d tshark", tt.rounds, tt.tshark), func(t *testing.T) {
			got := schedule(tt.rounds, tt.tshark)
			if len(got) != tt.rounds {
				t.Fatalf("%d rounds, want %d", len(got), tt.rounds)
			}
			var ts []int
			first := map[string]int{}
			for i, names := range got {
				want := slices.Concat(all[i%n:], all[:i%n])
				if len(names) < n || !slices.Equal(names[:n], want) {
					t.Errorf("round %d runs %v; want %v first", i, names, want)
				}
				first[names[0]]++
				if slices.Contains(names, CmdTshark) {
					ts = append(ts, i)
					if names[len(names)-1] != CmdTshark || len(names) != n+1 {
						t.Errorf("round %d runs %v; want tshark once, last", i, names)
					}
				}
			}
			if !slices.Equal(ts, tt.tsharkRounds) {
				t.Errorf("tshark runs in rounds %v, want %v", ts, tt.tsharkRounds)
			}
			// Rotation: no command goes first more than once in any
			// n rounds, each once in every n.
			for _, name := range all {
				if lo, hi := tt.rounds/n, (tt.rounds+n-1)/n; first[name] < lo || first[name] > hi {
					t.Errorf("%s goes first in %d of %d rounds", name, first[name], tt.rounds)
				}
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
		{"negative analysis ratio", Config{CacheDir: "x", MinAnalysisRatio: -0.7}, true},
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
				got.MinAnalysisRatio != DefaultMinAnalysisRatio ||
				got.Tshark != "tshark" || got.Log == nil {
				t.Errorf("defaults not applied: %+v", got)
			}
		})
	}
}

// fixedResult is a result with known runs, in the schedule's order.
// Medians: 4 s (-w1), 2 s (-w2), 2.4 s (-w1 --analyze=false), 1.5 s (-w2
// --analyze=false), 2.2 s (sharded), 300 s (tshark): every judged ratio
// passes, the extraction-only worker ratio (1.6) and the one-worker
// analysis ratio (0.6) miss their targets, the sharded reference's (1.82)
// meets it.
func fixedResult() *Result {
	s := time.Second
	ms := time.Millisecond
	const ex = 677_667
	a1 := func(round int, wall time.Duration, rss int64) RunResult {
		return RunResult{Command: CmdApitap1, Round: round, Wall: wall, CPU: 5 * s, MaxRSS: rss << 20, Requests: ex, Endpoints: ex}
	}
	a2 := func(round int, wall time.Duration, rss int64) RunResult {
		return RunResult{Command: CmdApitap2, Round: round, Wall: wall, CPU: 5 * s, MaxRSS: rss << 20, Requests: ex, Endpoints: ex}
	}
	x1 := func(round int, wall time.Duration) RunResult {
		return RunResult{Command: CmdApitap1Extract, Round: round, Wall: wall, CPU: 4 * s, MaxRSS: 40 << 20, Requests: ex}
	}
	x2 := func(round int, wall time.Duration) RunResult {
		return RunResult{Command: CmdApitap2Extract, Round: round, Wall: wall, CPU: 4 * s, MaxRSS: 80 << 20, Requests: ex}
	}
	sh := func(round int, wall time.Duration) RunResult {
		return RunResult{Command: CmdSharded, Round: round, Wall: wall, CPU: 10 * s, MaxRSS: 100 << 20, Requests: ex, Endpoints: ex}
	}
	r := &Result{
		Env: Env{CPUs: 2, CPUModel: "Test CPU", GoVersion: "go1.26", Apitap: "apitap dev",
			Tshark: "TShark (Wireshark) 4.0.17", LoadBefore: 0.05, LoadAfter: 1.5},
		Capture: CaptureInfo{Path: "/cache/bulk-1000000000-seed1.pcap", Seed: 1, Bytes: 1_000_063_896,
			Packets: 2_323_046, Exchanges: ex},
		Rounds: 3, TsharkRuns: 1, MinTsharkRatio: 50, MinWorkerRatio: 1.7, MinAnalysisRatio: 0.7,
		Commands: []CommandLine{
			{CmdApitap1, "apitap analyze bulk-1000000000-seed1.pcap --transactions apitap-w1.jsonl --workers 1 --table=false"},
			{CmdApitap1Extract, "apitap analyze bulk-1000000000-seed1.pcap --transactions apitap-w1-extract.jsonl --workers 1 --analyze=false --table=false"},
			{CmdTshark, "tshark -r bulk-1000000000-seed1.pcap -Y http > tshark.tsv"},
		},
		Runs: []RunResult{
			a1(1, 4*s, 50), a2(1, 2*s, 90), x1(1, 2400*ms), x2(1, 1500*ms), sh(1, 2200*ms),
			a2(2, 2500*ms, 95), x1(2, 2800*ms), x2(2, 1600*ms), sh(2, 2400*ms), a1(2, 5*s, 52),
			{Command: CmdTshark, Round: 2, Wall: 300 * s, CPU: 290 * s, MaxRSS: 1 << 30, Requests: ex, Responses: ex},
			x1(3, 2000*ms), x2(3, 1200*ms), sh(3, 2000*ms), a1(3, 3*s, 51), a2(3, 1*s, 91),
		},
	}
	r.summarize()
	return r
}

func TestSummarize(t *testing.T) {
	r := fixedResult()
	s := time.Second
	ms := time.Millisecond
	const ex = 677_667
	want := []Summary{
		{Command: CmdApitap1, Runs: 3, Median: 4 * s, Min: 3 * s, Max: 5 * s, MBps: 250.015974, MedianCPU: 5 * s,
			MedianRSS: 51 << 20, MaxRSS: 52 << 20, Requests: ex, Endpoints: ex},
		{Command: CmdApitap2, Runs: 3, Median: 2 * s, Min: 1 * s, Max: 2500 * ms, MBps: 500.031948, MedianCPU: 5 * s,
			MedianRSS: 91 << 20, MaxRSS: 95 << 20, Requests: ex, Endpoints: ex},
		{Command: CmdApitap1Extract, Runs: 3, Median: 2400 * ms, Min: 2000 * ms, Max: 2800 * ms, MBps: 416.693290, MedianCPU: 4 * s,
			MedianRSS: 40 << 20, MaxRSS: 40 << 20, Requests: ex},
		{Command: CmdApitap2Extract, Runs: 3, Median: 1500 * ms, Min: 1200 * ms, Max: 1600 * ms, MBps: 666.709264, MedianCPU: 4 * s,
			MedianRSS: 80 << 20, MaxRSS: 80 << 20, Requests: ex},
		{Command: CmdSharded, Runs: 3, Median: 2200 * ms, Min: 2000 * ms, Max: 2400 * ms, MBps: 454.574498, MedianCPU: 10 * s,
			MedianRSS: 100 << 20, MaxRSS: 100 << 20, Requests: ex, Endpoints: ex},
		{Command: CmdTshark, Runs: 1, Median: 300 * s, Min: 300 * s, Max: 300 * s, MBps: 3.333546, MedianCPU: 290 * s,
			MedianRSS: 1 << 30, MaxRSS: 1 << 30, Requests: ex, Responses: ex},
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
		info                 bool
		ratio                float64
		pass                 bool
		pairedMin, pairedMax float64
	}{
		{"tshark / apitap -w1", false, 75, true, 0, 0},
		{"tshark / apitap -w1 --analyze=false", true, 125, true, 0, 0},
		{"apitap -w1 / apitap -w2", false, 2, true, 2, 3},
		{"apitap -w1 --analyze=false / apitap -w2 --analyze=false", true, 1.6, false, 1.6, 1.75},
		{"apitap -w2 --analyze=false / apitap -w2", false, 0.75, true, 0.64, 1.2},
		{"apitap -w1 --analyze=false / apitap -w1", true, 0.6, false, 0.56, 2.0 / 3.0},
		{"apitap -w1 / 2 × apitap -w1 on shards", true, 4 / 2.2, true, 1.5, 5 / 2.4},
	}
	if len(r.Checks) != len(tests) {
		t.Fatalf("checks %+v", r.Checks)
	}
	near := func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := r.Checks[i]
			if c.Name != tt.name || c.Info != tt.info || !near(c.Ratio, tt.ratio) || c.Pass != tt.pass ||
				!near(c.PairedMin, tt.pairedMin) || !near(c.PairedMax, tt.pairedMax) || c.Group == "" {
				t.Errorf("got %+v, want %+v", c, tt)
			}
		})
	}
	if !r.Passed() {
		t.Error("Passed() = false with every judged check passing")
	}

	// Which misses fail the run: the judged checks', not the others'.
	const (
		xw = "apitap -w1 --analyze=false / apitap -w2 --analyze=false"
		x1 = "apitap -w1 --analyze=false / apitap -w1"
	)
	targets := []struct {
		name       string
		set        func(*Result)
		wantPassed bool
		wantMissed []string
	}{
		{"only unjudged ratios missed", func(*Result) {}, true,
			[]string{xw, x1}},
		{"all met", func(r *Result) { r.MinWorkerRatio, r.MinAnalysisRatio = 1.5, 0.5 }, true, nil},
		{"worker ratio missed with analysis", func(r *Result) { r.MinWorkerRatio = 2.5 }, false,
			[]string{"apitap -w1 / apitap -w2", xw, x1, "apitap -w1 / 2 × apitap -w1 on shards"}},
		{"tshark ratio missed with analysis", func(r *Result) { r.MinTsharkRatio = 100 }, false,
			[]string{"tshark / apitap -w1", xw, x1}},
		{"analysis ratio missed with two workers", func(r *Result) { r.MinAnalysisRatio = 0.8 }, false,
			[]string{xw, "apitap -w2 --analyze=false / apitap -w2", x1}},
		{"analysis ratio at the target passes", func(r *Result) { r.MinAnalysisRatio = 0.75 }, true,
			[]string{xw, x1}},
	}
	for _, tt := range targets {
		t.Run(tt.name, func(t *testing.T) {
			r := fixedResult()
			tt.set(r)
			r.summarize()
			if r.Passed() != tt.wantPassed {
				t.Errorf("Passed() = %v, want %v: %+v", r.Passed(), tt.wantPassed, r.Checks)
			}
			var missed []string
			for _, c := range r.Checks {
				if !c.Pass {
					missed = append(missed, c.Name)
				}
			}
			if !slices.Equal(missed, tt.wantMissed) {
				t.Errorf("missed %q, want %q", missed, tt.wantMissed)
			}
		})
	}
	if (&Result{}).Passed() {
		t.Error("a result without checks passes")
	}
	if (&Result{Checks: []Check{{Name: "x", Info: true, Pass: true}}}).Passed() {
		t.Error("a result without judged checks passes")
	}
}

func TestWriteMarkdown(t *testing.T) {
	r := fixedResult() // shows "met" and "missed" for the unjudged checks
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
	// Lines as storage/jsonl writes them, with and without analysis; the
	// last one has "endpoint" inside a value, where its quotes are escaped.
	const (
		withEP = `{"method":"GET","uri":"/users/7","path":"/users/7","endpoint":"/users/{userId}","status":200}` + "\n"
		noEP   = `{"method":"GET","uri":"/users/7","path":"/users/7","status":200}` + "\n"
		inURI  = `{"method":"GET","uri":"/x?a=\",\"endpoint\":\"y","path":"/x","status":200}` + "\n"
	)
	tests := []struct {
		name               string
		cmd, out           string
		wantReq, resp, eps int64
		wantErr            string // part of the error; empty: none
	}{
		{"analysis complete", CmdApitap1, withEP + withEP, 2, 0, 2, ""},
		{"analysis with one endpoint is enough", CmdApitap2, noEP + withEP, 2, 0, 1, ""},
		{"analysis lost a transaction", CmdApitap2, withEP, 1, 0, 1, "wrote 1 transactions"},
		{"analysis without endpoints", CmdApitap1, noEP + inURI, 2, 0, 0, "none of its 2 transactions"},
		{"extraction complete", CmdApitap1Extract, noEP + inURI, 2, 0, 0, ""},
		{"extraction with an endpoint", CmdApitap2Extract, noEP + withEP, 2, 0, 1, "analyze stage ran"},
		{"extraction lost a transaction", CmdApitap2Extract, noEP, 1, 0, 0, "wrote 1 transactions"},
		{"tshark requests and responses", CmdTshark,
			"GET\ta.example\t/x\t\n\t\t\t200\nPOST\ta.example\t/y\t\n\t\t\t201\n\t\t\t\n", 2, 2, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := RunResult{Command: tt.cmd, outPaths: []string{write(strings.ReplaceAll(tt.name, " ", "-"), tt.out)}}
			err := checkOutput(&r, capInfo)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if r.Requests != tt.wantReq || r.Responses != tt.resp || r.Endpoints != tt.eps {
				t.Errorf("requests %d responses %d endpoints %d, want %d %d %d",
					r.Requests, r.Responses, r.Endpoints, tt.wantReq, tt.resp, tt.eps)
			}
		})
	}
	if err := checkOutput(&RunResult{Command: CmdApitap1, outPaths: []string{filepath.Join(dir, "missing")}}, capInfo); err == nil {
		t.Error("no error for a missing output")
	}
	// The sharded reference: its processes' outputs together hold every
	// transaction.
	halves := []string{write("shard0", withEP), write("shard1", noEP)}
	r := RunResult{Command: CmdSharded, outPaths: halves}
	if err := checkOutput(&r, capInfo); err != nil || r.Requests != 2 || r.Endpoints != 1 {
		t.Errorf("sharded: %v, %d transactions, %d with an endpoint; want 2, 1", err, r.Requests, r.Endpoints)
	}
	r = RunResult{Command: CmdSharded, outPaths: halves[:1]}
	if err := checkOutput(&r, capInfo); err == nil || !strings.Contains(err.Error(), "wrote 1 transactions") {
		t.Errorf("sharded with one output: %v, want a missing transaction", err)
	}
}

func TestApitapCommand(t *testing.T) {
	tests := []struct {
		workers  int
		analyze  bool
		wantName string
		wantLine string
	}{
		{1, true, CmdApitap1, "apitap analyze c.pcap --transactions o.jsonl --workers 1 --table=false --progress never --quiet"},
		{2, true, CmdApitap2, "apitap analyze c.pcap --transactions o.jsonl --workers 2 --table=false --progress never --quiet"},
		{1, false, CmdApitap1Extract, "apitap analyze c.pcap --transactions o.jsonl --workers 1 --analyze=false --table=false --progress never --quiet"},
		{2, false, CmdApitap2Extract, "apitap analyze c.pcap --transactions o.jsonl --workers 2 --analyze=false --table=false --progress never --quiet"},
	}
	for _, tt := range tests {
		t.Run(tt.wantName, func(t *testing.T) {
			c := apitapCommand("/bin/apitap", "/cache/c.pcap", "/cache/out/o.jsonl", tt.workers, tt.analyze)
			if c.name != tt.wantName || c.line() != tt.wantLine || !slices.Equal(c.outs, []string{"/cache/out/o.jsonl"}) ||
				!slices.Equal(c.inputs, []string{"/cache/c.pcap"}) || c.stdout {
				t.Errorf("got %s: %q (outs %v, inputs %v, stdout %v), want %s: %q", c.name, c.line(), c.outs, c.inputs, c.stdout, tt.wantName, tt.wantLine)
			}
			if analyzes(c.name) != tt.analyze {
				t.Errorf("analyzes(%q) = %v", c.name, !tt.analyze)
			}
		})
	}
	if analyzes(CmdTshark) {
		t.Error("analyzes(tshark)")
	}
	c := shardedCommand("/bin/apitap", []string{"/cache/c.pcap.shard0of2", "/cache/c.pcap.shard1of2"}, "/cache/out")
	want := "apitap analyze c.pcap.shard0of2 --transactions apitap-shard0.jsonl --workers 1 --table=false --progress never --quiet & " +
		"apitap analyze c.pcap.shard1of2 --transactions apitap-shard1.jsonl --workers 1 --table=false --progress never --quiet"
	if c.name != CmdSharded || c.line() != want || len(c.outs) != 2 || len(c.inputs) != 2 || !analyzes(c.name) {
		t.Errorf("sharded: %s: %q (outs %v, inputs %v)\nwant %q", c.name, c.line(), c.outs, c.inputs, want)
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
	if len(res.Runs) != 11 {
		t.Fatalf("%d runs, want 11: %+v", len(res.Runs), res.Runs)
	}
	ex := res.Capture.Exchanges
	for _, r := range res.Runs {
		if r.Wall <= 0 || r.Requests != ex {
			t.Errorf("%s round %d: wall %v, %d requests; want %d", r.Command, r.Round, r.Wall, r.Requests, ex)
		}
		if r.Command == CmdTshark && r.Responses != ex {
			t.Errorf("tshark found %d responses; want %d", r.Responses, ex)
		}
		if an := analyzes(r.Command); an && r.Endpoints == 0 || !an && r.Endpoints != 0 {
			t.Errorf("%s round %d: %d transactions with an endpoint", r.Command, r.Round, r.Endpoints)
		}
	}
	var summarized []string
	for _, s := range res.Summaries {
		summarized = append(summarized, s.Command)
	}
	if !slices.Equal(summarized, commandNames()) || len(res.Checks) != 7 {
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
	for _, want := range []string{"| apitap -w1 | 2 |", "| apitap -w2 --analyze=false | 2 |", "| tshark | 1 |",
		"tshark -r FILE -Y http -T fields", "apitap-w2.jsonl --workers 2 --table=false",
		"apitap-w1-extract.jsonl --workers 1 --analyze=false --table=false",
		"| apitap -w2 --analyze=false / apitap -w2 |", "| 2 × apitap -w1 on shards | 2 |",
		"apitap analyze FILE.shard0of2 --transactions apitap-shard0.jsonl --workers 1", "& apitap analyze FILE.shard1of2"} {
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

// TestEnsureShards cuts a synthesized capture into shards and checks that
// every frame lands in exactly one, each TCP packet in the shard the
// engine's two workers would hand it to, and that a second call reuses
// them.
func TestEnsureShards(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	cfg, err := Config{CacheDir: dir, Size: 2 << 20, Seed: 5, Log: &log}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	capInfo, err := ensureCapture(cfg)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := ensureShards(cfg, capInfo)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 {
		t.Fatalf("%d shards, want 2", len(paths))
	}
	dec := capture.NewDecoder(capture.DecoderConfig{})
	var frames int64
	for i, p := range paths {
		src, err := capture.OpenFiles([]string{p}, capture.FileConfig{})
		if err != nil {
			t.Fatal(err)
		}
		var fr capture.Frame
		var pkt capture.Packet
		n, tcp := 0, 0
		for {
			err := src.ReadFrame(&fr)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
			if dec.Decode(&fr, &pkt) {
				tcp++
				if w := int(pkt.Flow.Hash() % 2); w != i {
					t.Fatalf("shard %d holds a packet of worker %d's flow %v", i, w, pkt.Flow.Src())
				}
			}
		}
		src.Close()
		if n == 0 || tcp != n {
			t.Errorf("shard %d: %d frames, %d of them TCP", i, n, tcp)
		}
		frames += int64(n)
	}
	if frames != capInfo.Packets {
		t.Errorf("the shards hold %d frames, the capture %d", frames, capInfo.Packets)
	}
	log.Reset()
	if _, err := ensureShards(cfg, capInfo); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "reusing the 2 shards") {
		t.Errorf("the second call did not reuse the shards: %q", log.String())
	}
}
