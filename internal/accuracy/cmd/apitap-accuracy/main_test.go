package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apitap/apitap/internal/accuracy"
)

func TestUsage(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.md")
	if err := os.WriteFile(plain, []byte("# no markers\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
		{"argument", []string{"extra"}, "unexpected arguments"},
		{"zero calls", []string{"-calls", "0"}, "must be positive"},
		{"zero min-samples", []string{"-min-samples", "0"}, "must be positive"},
		{"update file missing", []string{"-update", filepath.Join(dir, "none.md")}, "no such file"},
		{"update file without markers", []string{"-update", plain}, "apitap-accuracy:begin"},
		{"no specs", []string{"-specs", filepath.Join(dir, "none"), "-apitap", "/bin/false"}, "reading the specs directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			noLab := func(context.Context, string, uint64, int, string) (accuracy.Recording, error) {
				return accuracy.Recording{}, fmt.Errorf("no lab in this test")
			}
			if code := run(context.Background(), tt.args, &stdout, &stderr, noLab); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.want)
			}
		})
	}
}

// TestCheck runs the command with a stand-in lab and apitap (the real
// ones need tcpdump and the analyze pipeline; the command itself is
// their end-to-end test): a spec inferred exactly passes -check, one
// whose inferred document misses endpoints fails it, naming the spec and
// the score, and -update rewrites the marked section only.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	spec := `{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {
		"/items": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {"schema":
			{"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}}}}}}}}}},
		"/items/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
			"responses": {"200": {"description": "ok"}}}}}}`
	specs := filepath.Join(dir, "specs")
	for _, name := range []string{"good", "bad"} {
		if err := os.MkdirAll(filepath.Join(specs, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(specs, name, "openapi.json"), []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The stand-in apitap writes the spec itself as the inferred document,
	// except for the capture of "bad", where it writes an empty one.
	var bad map[string]any
	json.Unmarshal([]byte(spec), &bad)
	bad["paths"] = map[string]any{}
	badJSON, _ := json.Marshal(bad)
	os.WriteFile(filepath.Join(dir, "bad.json"), badJSON, 0o644)
	script := fmt.Sprintf(`#!/bin/sh
capture="$2"; out="$4"
case "$capture" in
*/bad/*) cp %q "$out" ;;
*) cp %q "$out" ;;
esac
`, filepath.Join(dir, "bad.json"), filepath.Join(specs, "good", "openapi.json"))
	bin := filepath.Join(dir, "apitap")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	rec := func(ctx context.Context, spec string, seed uint64, calls int, d string) (accuracy.Recording, error) {
		return accuracy.Recording{Pcap: filepath.Join(d, "lab.pcap"), Operations: 2, Called: 2, Calls: 2 * calls}, nil
	}
	doc := filepath.Join(dir, "ACCURACY.md")
	os.WriteFile(doc, []byte("# Accuracy\n"+accuracy.BeginMarker+"\nplaceholder\n"+accuracy.EndMarker+"\nend\n"), 0o644)

	var stdout, stderr bytes.Buffer
	args := []string{"-specs", specs, "-apitap", bin, "-calls", "3", "-update", doc, "-check"}
	if code := run(context.Background(), args, &stdout, &stderr, rec); code != 1 {
		t.Errorf("exit %d, want 1\n%s", code, stderr.String())
	}
	if want := "apitap-accuracy: bad: endpoint F1 0.000 is below the target 0.97"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
	if n := strings.Count(stderr.String(), "below the target"); n != 1 {
		t.Errorf("%d scores reported below their target, want 1 (bad's endpoint F1):\n%s", n, stderr.String())
	}
	if !strings.Contains(stdout.String(), "| good | learned | 2 / 2 / 2 | 1.000 |") {
		t.Errorf("stdout lacks the good row:\n%s", stdout.String())
	}
	got, _ := os.ReadFile(doc)
	if !strings.HasPrefix(string(got), "# Accuracy\n"+accuracy.BeginMarker+"\n"+stdout.String()) ||
		!strings.HasSuffix(string(got), accuracy.EndMarker+"\nend\n") {
		t.Errorf("-update wrote:\n%s", got)
	}

	stdout.Reset()
	stderr.Reset()
	args = []string{"-specs", specs, "-apitap", bin, "-only", "good", "-check"}
	if code := run(context.Background(), args, &stdout, &stderr, rec); code != 0 {
		t.Errorf("only the good spec: exit %d, want 0\n%s", code, stderr.String())
	}
}
