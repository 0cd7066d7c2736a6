package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"-spec", filepath.Join("..", "..", "testdata", "petstore30.yaml"), "-out", out, "-seed", "3", "-calls", "2", "-check"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var res struct {
		Pcap, Host, BasePath string
		Operations, Called   int
		Calls                int
		Skipped              []string
		Log                  []any
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
	}
	if res.Operations == 0 || res.Called != res.Operations || res.Calls != 2*res.Operations || len(res.Skipped) > 0 || res.Log != nil {
		t.Errorf("result %+v", res)
	}
	if res.Host != "api.petstore.example" || res.BasePath != "/v2" {
		t.Errorf("host %q base %q", res.Host, res.BasePath)
	}
	for _, f := range []string{"capture.pcap", "calls.jsonl"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"-spec", "x.yaml"}, {"-out", "d"}, {"-nope"}, {"-spec", "x", "-out", "d", "extra"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-spec", "missing.yaml", "-out", t.TempDir()}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "missing.yaml") {
		t.Errorf("missing spec: exit %d, stderr %q", code, stderr.String())
	}
}
