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

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "1GB", want: 1e9},
		{in: "1gb", want: 1e9},
		{in: "1.5 GB", want: 1.5e9},
		{in: "512MiB", want: 512 << 20},
		{in: "64KB", want: 64e3},
		{in: "1000", want: 1000},
		{in: "1000B", want: 1000},
		{in: "", bad: true},
		{in: "0", bad: true},
		{in: "-1GB", bad: true},
		{in: "lots", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if (err != nil) != tt.bad {
				t.Fatalf("error %v, want error %v", err, tt.bad)
			}
			if !tt.bad && got != tt.want {
				t.Errorf("parseSize(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

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
