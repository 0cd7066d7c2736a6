package accuracy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apitap/apitap/analyze/openapi"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// literalInferred is testdata/inferred.yaml as apitap would write it with
// --path-templates literal after calls to users 1 and 2.
func literalInferred(t *testing.T) []byte {
	t.Helper()
	inf := loadTestdata(t, "inferred.yaml")
	item := inf.Paths.Value("/v1/users/{userId}")
	for _, id := range []string{"1", "2"} {
		get, del := *item.Get, *item.Delete
		get.Parameters, del.Parameters = nil, nil
		inf.AddOperation("/v1/users/"+id, "GET", &get)
		inf.AddOperation("/v1/users/"+id, "DELETE", &del)
	}
	inf.Paths.Delete("/v1/users/{userId}")
	b, err := json.Marshal(inf)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeApitap writes a script that stands in for `apitap analyze`: the
// real command needs the whole pipeline and a capture of the lab, which
// the command apitap-accuracy exercises; here Run's wiring is tested. It
// logs its arguments and writes learned or literal as the --openapi
// document, or fails when fail is set.
func fakeApitap(t *testing.T, dir string, learned, literal []byte, fail bool) (bin, argLog string) {
	t.Helper()
	learnedPath := filepath.Join(dir, "learned.json")
	literalPath := filepath.Join(dir, "literal.json")
	argLog = filepath.Join(dir, "args.log")
	for p, b := range map[string][]byte{learnedPath: learned, literalPath: literal} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := fmt.Sprintf(`#!/bin/sh
echo "$*" >> %q
if [ %q = true ]; then echo "apitap: the capture is broken" >&2; exit 3; fi
out=""; src=%q
while [ $# -gt 0 ]; do
	case "$1" in
	--openapi) out="$2"; shift ;;
	--path-templates) [ "$2" = literal ] && src=%q; shift ;;
	esac
	shift
done
cp "$src" "$out"
`, argLog, fmt.Sprint(fail), learnedPath, literalPath)
	bin = filepath.Join(dir, "apitap")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, argLog
}

// specsDirWith makes a specs directory holding testdata/original.yaml as
// the spec "users".
func specsDirWith(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "original.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "specs")
	if err := os.MkdirAll(filepath.Join(dir, "users"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"users.yaml": src, "SOURCE.txt": []byte("hand-written\n")} {
		if err := os.WriteFile(filepath.Join(dir, "users", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRun(t *testing.T) {
	learned, err := os.ReadFile(filepath.Join("testdata", "inferred.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bin, argLog := fakeApitap(t, tmp, learned, literalInferred(t), false)
	work := filepath.Join(tmp, "work")
	rec := Recording{Host: "api.example.com", BasePath: "/v1", Operations: 4, Called: 4, Calls: 20}
	var gotSeed uint64
	var gotCalls int
	record := func(ctx context.Context, spec string, seed uint64, calls int, dir string) (Recording, error) {
		gotSeed, gotCalls = seed, calls
		if filepath.Base(spec) != "users.yaml" {
			t.Errorf("recording %s", spec)
		}
		if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
			t.Errorf("the lab's directory %s: %v, %d entries; want an empty one", dir, err, len(entries))
		}
		r := rec
		r.Pcap = filepath.Join(dir, "lab.pcap")
		return r, os.WriteFile(r.Pcap, []byte("not really a capture"), 0o644)
	}
	var log bytes.Buffer
	res, err := Run(context.Background(), Config{
		Specs: specsDirWith(t), Seed: 7, Apitap: bin, WorkDir: work, Record: record, Log: &log,
	})
	if err != nil {
		t.Fatal(err)
	}
	if gotSeed != 7 || gotCalls != DefaultCalls {
		t.Errorf("lab called with seed %d, %d calls; want 7, %d", gotSeed, gotCalls, DefaultCalls)
	}
	if res.Seed != 7 || res.Calls != DefaultCalls || res.MinSamples != DefaultMinSamples || len(res.Rows) != 2 {
		t.Fatalf("result %+v", res)
	}
	pcap := filepath.Join(work, "users", "lab", "lab.pcap")
	rec.Pcap = pcap
	lit := roundScores(res.Rows[1].Scores)
	for i, want := range []Row{
		{Spec: "users", Mode: ModeLearned, Recording: rec, Scores: perfectScores()},
		{Spec: "users", Mode: ModeLiteral, Recording: rec, Scores: lit},
	} {
		got := res.Rows[i]
		got.Scores = roundScores(got.Scores)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	if lit.Endpoints.Inferred != 6 || lit.Endpoints.Matched != 2 || lit.Endpoints.Split != 4 {
		t.Errorf("literal row endpoints %+v", lit.Endpoints)
	}
	args, err := os.ReadFile(argLog)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(work, "users")
	want := strings.Join(AnalyzeArgs(pcap, filepath.Join(dir, "inferred-learned.json"), ModeLearned), " ") + "\n" +
		strings.Join(AnalyzeArgs(pcap, filepath.Join(dir, "inferred-literal.json"), ModeLiteral), " ") + "\n"
	if string(args) != want {
		t.Errorf("apitap ran with\n%s\nwant\n%s", args, want)
	}
	if !strings.Contains(log.String(), "users learned: endpoint F1 1.000") {
		t.Errorf("log lacks the learned scores:\n%s", log.String())
	}
}

func TestRunErrors(t *testing.T) {
	learned, err := os.ReadFile(filepath.Join("testdata", "inferred.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	okRecord := func(ctx context.Context, spec string, seed uint64, calls int, dir string) (Recording, error) {
		return Recording{Pcap: filepath.Join(dir, "x.pcap")}, nil
	}
	failRecord := func(ctx context.Context, spec string, seed uint64, calls int, dir string) (Recording, error) {
		return Recording{}, fmt.Errorf("tcpdump: not found")
	}
	tests := []struct {
		name     string
		cfg      func(t *testing.T) Config
		wantText string
	}{
		{"no specs directory", func(t *testing.T) Config {
			return Config{Specs: filepath.Join(t.TempDir(), "none"), Record: okRecord, Apitap: "/bin/false"}
		}, "reading the specs directory"},
		{"empty specs directory", func(t *testing.T) Config {
			return Config{Specs: t.TempDir(), Record: okRecord, Apitap: "/bin/false"}
		}, "no specs found"},
		{"no recorder", func(t *testing.T) Config {
			return Config{Specs: specsDirWith(t), Apitap: "/bin/false"}
		}, "Config.Record is required"},
		{"unknown spec", func(t *testing.T) Config {
			return Config{Specs: specsDirWith(t), Only: []string{"nope"}, Record: okRecord, Apitap: "/bin/false"}
		}, `no spec named "nope"`},
		{"recording fails", func(t *testing.T) Config {
			return Config{Specs: specsDirWith(t), Record: failRecord, Apitap: "/bin/false"}
		}, "users: recording: tcpdump: not found"},
		{"apitap fails", func(t *testing.T) Config {
			bin, _ := fakeApitap(t, t.TempDir(), learned, learned, true)
			return Config{Specs: specsDirWith(t), Record: okRecord, Apitap: bin}
		}, "the capture is broken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), tt.cfg(t))
			if err == nil || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %v, want one containing %q", err, tt.wantText)
			}
		})
	}
}

// reportResult is a Result built from the Score tests' documents.
func reportResult(t *testing.T) *Result {
	t.Helper()
	orig := loadTestdata(t, "original.yaml")
	learned := loadTestdata(t, "inferred.yaml")
	weak := loadTestdata(t, "inferred.yaml")
	delete(respSchema(t, weak, "/v1/users/me", "GET", "200").Properties, "tags")
	respSchema(t, weak, "/v1/users/{userId}", "GET", "200").Properties["id"] = stringSchema()
	literal, err := openapi.LoadData(literalInferred(t), "literal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rec := Recording{Pcap: "/tmp/x.pcap", Host: "api.example.com", BasePath: "/v1", Operations: 4, Called: 4, Calls: 160}
	recSkip := rec
	recSkip.Called, recSkip.Skipped = 3, []string{"DELETE /users/{id}: no documented response"}
	sparse := Options{Samples: Samples{
		{"GET", "/users", 200}: 40, {"GET", "/users/{id}", 200}: 40, {"DELETE", "/users/{id}", 204}: 40, {"GET", "/users/me", 200}: 3,
	}}
	return &Result{Seed: 1, Calls: 40, MinSamples: DefaultMinSamples, Rows: []Row{
		{Spec: "users", Mode: ModeLearned, Recording: rec, Scores: ScoreWith(orig, learned, "/v1", sparse)},
		{Spec: "users", Mode: ModeLiteral, Recording: rec, Scores: Score(orig, literal, "/v1")},
		{Spec: "weak", Mode: ModeLearned, Recording: recSkip, Scores: Score(orig, weak, "/v1")},
		{Spec: "weak", Mode: ModeLiteral, Recording: recSkip, Scores: Score(orig, literal, "/v1")},
	}}
}

func TestWriteMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := reportResult(t).WriteMarkdown(&b, DefaultTargets()); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.golden.md")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("WriteMarkdown differs from %s (go test -update rewrites it):\n%s", golden, b.String())
	}
}

func TestFailures(t *testing.T) {
	got := reportResult(t).Failures(DefaultTargets())
	want := []string{
		"weak: property recall 0.928 is below the target 0.95",
		"weak: type accuracy 0.961 is below the target 0.98",
	}
	var names []string
	for _, f := range got {
		names = append(names, f.String())
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("Failures:\n got %q\nwant %q", names, want)
	}
	lenient := Targets{EndpointF1: 0.3, PropertyRecall: 0.9, PropertyPrecision: 0.9, TypeAccuracy: 0.9}
	if got := reportResult(t).Failures(lenient); len(got) != 0 {
		t.Errorf("lenient targets: %v", got)
	}
}

func TestScoreFormat(t *testing.T) {
	for v, want := range map[float64]string{
		1: "1.000", 0: "0.000", 0.97: "0.970", 0.9699: "0.969", 0.96999999: "0.969",
		0.1 + 0.2: "0.300", 2.0 / 3: "0.666", 0.857142857: "0.857",
	} {
		if got := score(v); got != want {
			t.Errorf("score(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestSplice(t *testing.T) {
	tests := []struct {
		name, doc, section, want string
		err                      error
	}{
		{"replace", "# A\n" + BeginMarker + "\nold\n" + EndMarker + "\ntail\n", "new\n",
			"# A\n" + BeginMarker + "\nnew\n" + EndMarker + "\ntail\n", nil},
		{"newline added", BeginMarker + EndMarker, "x", BeginMarker + "\nx\n" + EndMarker, nil},
		{"empty section", BeginMarker + "\nold\n" + EndMarker, "", BeginMarker + "\n" + EndMarker, nil},
		{"no markers", "# A\n", "x", "", ErrNoMarkers},
		{"end before begin", EndMarker + BeginMarker, "x", "", ErrNoMarkers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Splice([]byte(tt.doc), []byte(tt.section))
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFindSpecs(t *testing.T) {
	dir := t.TempDir()
	mk := func(rel string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("b/api.json")
	mk("b/LICENSE.upstream")
	mk("a/openapi.YML")
	mk("a/SOURCE.txt")
	mk("README.md")
	got, err := FindSpecs(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Spec{{"a", filepath.Join(dir, "a", "openapi.YML")}, {"b", filepath.Join(dir, "b", "api.json")}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FindSpecs = %v, want %v", got, want)
	}
	mk("c/one.yaml")
	mk("c/two.json")
	if _, err := FindSpecs(dir); err == nil || !strings.Contains(err.Error(), "found 2") {
		t.Errorf("two documents in one directory: %v", err)
	}
}
