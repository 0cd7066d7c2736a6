package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	if err := run([]string{"-dir", dir}, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"demo.pcap", "demo.truth.jsonl"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", name, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "demo.truth.jsonl"))
	if n := strings.Count(string(b), "\n"); n < 50 || n > 200 {
		t.Errorf("%d exchanges", n)
	}
	if err := run([]string{"-dir", dir, "-max-size", "100"}, &stderr); err == nil || !strings.Contains(err.Error(), "limit 100") {
		t.Errorf("size limit not enforced: %v", err)
	}
}
