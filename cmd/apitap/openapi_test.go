package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apitap/apitap/internal/redocly"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// analyzeDemo runs `apitap analyze` on the shipped demo capture with args
// and returns stdout; it fails the test on a non-zero exit.
func analyzeDemo(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	argv := append([]string{"analyze", filepath.Join("testdata", "demo", "demo.pcap"), "--quiet"}, args...)
	if code := run(argv, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("apitap %s: exit %d: %s", strings.Join(argv, " "), code, stderr.String())
	}
	return stdout.String()
}

// TestDemoOpenAPIGolden holds the inferred spec of the demo capture to its
// golden files (go test -run TestDemoOpenAPIGolden -update rewrites them):
// both OpenAPI versions, YAML and JSON, the same bytes from run to run with
// one worker and with two; and the documents pass the Redocly linter.
func TestDemoOpenAPIGolden(t *testing.T) {
	cases := []struct{ version, golden string }{
		{"3.0", "demo.openapi.3.0.yaml"},
		{"3.1", "demo.openapi.3.1.json"},
	}
	var lint []string
	for _, c := range cases {
		t.Run(c.version, func(t *testing.T) {
			golden := filepath.Join("testdata", "demo", c.golden)
			// Each worker sees its own connections in capture order, so a
			// worker count gives the same document every run; different
			// counts may differ in examples, which are the first values
			// each worker saw. The golden file is the one-worker document.
			var first []byte
			for _, workers := range []string{"1", "2"} {
				var docs [2][]byte
				for i := range docs {
					out := filepath.Join(t.TempDir(), c.golden)
					analyzeDemo(t, "--openapi", out, "--openapi-version", c.version, "--workers", workers, "--table=false")
					b, err := os.ReadFile(out)
					if err != nil {
						t.Fatal(err)
					}
					docs[i] = b
				}
				if !bytes.Equal(docs[0], docs[1]) {
					t.Fatalf("--workers %s: two runs give different documents", workers)
				}
				if first == nil {
					first = docs[0]
				}
			}
			if *update {
				if err := os.WriteFile(golden, first, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("golden file missing (go test -run TestDemoOpenAPIGolden -update writes it): %v", err)
			}
			if !bytes.Equal(first, want) {
				t.Errorf("%s differs from the inferred document (go test -update to accept the change)", golden)
			}
			lint = append(lint, golden)
		})
	}
	redocly.Lint(t, lint...)
}

// TestDemoInventory checks the table on stdout, the inventory JSON and the
// endpoint attribution of the transactions on the demo capture.
func TestDemoInventory(t *testing.T) {
	dir := t.TempDir()
	inv, tx := filepath.Join(dir, "inv.json"), filepath.Join(dir, "tx.jsonl")
	table := analyzeDemo(t, "--inventory", inv, "--transactions", tx)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if !strings.HasPrefix(lines[0], "HOST") || !strings.Contains(lines[1], "/api/users/{userId}") {
		t.Errorf("the busiest endpoint is not first in the table:\n%s", table)
	}
	var doc struct {
		Transactions int64
		Endpoints    []struct {
			Method, Template string
			Calls            int64
			Auth             []struct{ Scheme string }
			Sensitive        []struct {
				In, Field string
				Classes   []string
			}
			Parameters []struct{ Name, In string }
		}
	}
	b, err := os.ReadFile(inv)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Transactions != 91 || len(doc.Endpoints) == 0 {
		t.Fatalf("inventory: %d transactions, %d endpoints", doc.Transactions, len(doc.Endpoints))
	}
	var calls int64
	seen := map[string]bool{}
	for _, e := range doc.Endpoints {
		calls += e.Calls
		seen[e.Method+" "+e.Template] = true
	}
	if calls != 91 {
		t.Errorf("endpoint calls sum to %d, want 91", calls)
	}
	for _, want := range []string{"GET /api/users/{userId}", "PUT /api/users/{userId}", "GET /api/orders/{orderId}", "GET /api/items/{itemId}", "GET /api/health", "POST /api/orders"} {
		if !seen[want] {
			t.Errorf("inventory lacks %s", want)
		}
	}
	// Every transaction carries the endpoint its request was attributed to.
	data, err := os.ReadFile(tx)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r struct{ Method, Path, Endpoint string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.Method != "" && (r.Endpoint == "" || !seen[r.Method+" "+r.Endpoint]) {
			t.Errorf("%s %s attributed to %q, not an inventory endpoint", r.Method, r.Path, r.Endpoint)
		}
	}
}

// TestSpecComparison feeds the demo's own inferred spec back as --spec and
// then compares specs with `apitap spec diff`.
func TestSpecComparison(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "spec.yaml")
	analyzeDemo(t, "--openapi", spec, "--table=false")
	out := analyzeDemo(t, "--spec", spec, "--table=false")
	if !strings.Contains(out, "Compared with "+spec) {
		t.Fatalf("no comparison printed:\n%s", out)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"spec", "diff", spec, spec}, nil, &stdout, &stderr); code != 0 {
		t.Errorf("spec diff of a document with itself: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	// A document without the users endpoints: they are shadow endpoints of
	// the full one.
	b, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(dir, "small.yaml")
	if err := os.WriteFile(small, []byte(dropPath(string(b), "  /api/users/{userId}:")), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	code := run([]string{"spec", "diff", small, spec}, nil, &stdout, &stderr)
	if code != 1 || !strings.Contains(strings.ToLower(stdout.String()), "shadow") || !strings.Contains(stdout.String(), "/api/users/{userId}") {
		t.Errorf("spec diff: exit %d, want 1 and a shadow /api/users/{userId}:\n%s%s", code, stdout.String(), stderr.String())
	}
}

// dropPath removes the path item starting at the line header (two-space
// indented YAML) up to the next path.
func dropPath(doc, header string) string {
	var out []string
	skip := false
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(l, "  /") || !strings.HasPrefix(l, " ") {
			skip = l == header
		}
		if !skip {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestAnalysisSettingErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("openapi: 3.0.3\ninfo: {}\npaths: 7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	demo := filepath.Join("testdata", "demo", "demo.pcap")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"analyze", demo, "--openapi-version", "2.0"}, "--openapi-version"},
		{[]string{"analyze", demo, "--path-templates", "magic"}, "--path-templates"},
		{[]string{"analyze", demo, "--template", "users/{id"}, "--template"},
		{[]string{"analyze", demo, "--spec", filepath.Join(dir, "missing.yaml")}, "--spec"},
		{[]string{"analyze", demo, "--spec", bad}, "--spec"},
		{[]string{"analyze", demo, "--analyze=false", "--openapi", "x.yaml"}, "--analyze=false"},
		{[]string{"analyze", demo, "--config", filepath.Join(dir, "missing.yaml")}, "--config"},
		{[]string{"spec", "diff", bad, bad}, "bad.yaml"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(c.args, nil, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), c.want) || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line naming %s", c.args, code, stderr.String(), c.want)
		}
	}
}

// TestConfigFileTemplates pins a template from a config file: "/api/orders/{id}"
// replaces the learned name, and the literal bad ids join it.
func TestConfigFileTemplates(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "apitap.yaml")
	if err := os.WriteFile(cfg, []byte("template:\n  - /api/orders/{id}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := analyzeDemo(t, "--config", cfg)
	if !strings.Contains(out, "/api/orders/{id}") || strings.Contains(out, "/api/orders/{orderId}") || strings.Contains(out, "not-a-uuid") {
		t.Errorf("pinned template not applied:\n%s", out)
	}
}

// TestOpenAPIPerHost writes one document per host: the demo capture has one
// host, so one file named after it, equal to the single document's paths.
func TestOpenAPIPerHost(t *testing.T) {
	dir := t.TempDir()
	perHost := filepath.Join(dir, "hosts")
	single := filepath.Join(dir, "all.yaml")
	analyzeDemo(t, "--openapi-per-host", perHost, "--openapi", single, "--table=false")
	entries, err := os.ReadDir(perHost)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "127.0.0.1") || !strings.HasSuffix(entries[0].Name(), ".yaml") {
		t.Fatalf("per-host files: %v", entries)
	}
	host, err := os.ReadFile(filepath.Join(perHost, entries[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	all, err := os.ReadFile(single)
	if err != nil {
		t.Fatal(err)
	}
	paths := func(doc string) []string {
		var out []string
		for _, l := range strings.Split(doc, "\n") {
			if strings.HasPrefix(l, "  /") {
				out = append(out, l)
			}
		}
		return out
	}
	if got, want := paths(string(host)), paths(string(all)); len(got) == 0 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("per-host paths %v, want %v", got, want)
	}
	redocly.Lint(t, filepath.Join(perHost, entries[0].Name()))
}
