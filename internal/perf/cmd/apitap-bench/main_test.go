package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apitap/apitap/internal/perf"
)

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
		{"argument", []string{"extra"}, "unexpected arguments"},
		{"bad size", []string{"-size", "big"}, "invalid -size"},
		{"zero rounds", []string{"-rounds", "0"}, "must be positive"},
		{"zero ratio", []string{"-min-worker-ratio", "0"}, "must be positive"},
		{"zero analysis ratio", []string{"-min-analysis-ratio", "0"}, "must be positive"},
		{"negative analysis ratio", []string{"-min-analysis-ratio", "-0.7"}, "must be positive"},
		{"tshark runs above rounds", []string{"-cache", "", "-rounds", "1", "-tshark-runs", "2"}, "do not fit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stdout, &stderr); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.want)
			}
		})
	}
}

func TestUpdateDoc(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "PERFORMANCE.md")
	os.WriteFile(doc, []byte("# P\n"+perf.BeginMarker+"\nold\n"+perf.EndMarker+"\n"), 0o644)
	if err := updateDoc(doc, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(doc)
	if want := "# P\n" + perf.BeginMarker + "\nnew\n" + perf.EndMarker + "\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	plain := filepath.Join(dir, "plain.md")
	os.WriteFile(plain, []byte("# no markers\n"), 0o644)
	if err := updateDoc(plain, []byte("x")); err == nil || !strings.Contains(err.Error(), "plain.md") {
		t.Errorf("error %v, want one naming the file", err)
	}
}
