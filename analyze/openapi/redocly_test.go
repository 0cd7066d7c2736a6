package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// redoclyPath finds the Redocly CLI that `make setup` installs: $APITAP_REDOCLY,
// else $HOME/.cache/apitap/npm/node_modules/.bin/redocly.
func redoclyPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("APITAP_REDOCLY"); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatalf("no home directory to find Redocly CLI in (set APITAP_REDOCLY): %v", err)
	}
	return filepath.Join(home, ".cache", "apitap", "npm", "node_modules", ".bin", "redocly")
}

// redoclyResult is one document's result in `redocly lint --format=json`.
type redoclyResult struct {
	Totals struct {
		Errors, Warnings int
	}
	Problems []struct {
		RuleID, Severity, Message string
		Location                  []struct {
			Source  struct{ Ref string }
			Pointer string
		}
	}
}

// TestRedoclyLint lints the golden documents (both versions, both formats)
// with the Redocly CLI and its recommended rules (less the ones
// testdata/redocly.yaml turns off, each with its reason): any error fails,
// warnings are printed.
func TestRedoclyLint(t *testing.T) {
	bin := redoclyPath(t)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("Redocly CLI not found at %s (%v): run `make setup` to install it, or set APITAP_REDOCLY", bin, err)
	}
	args := []string{"lint", "--format=json", "--config", filepath.Join("testdata", "redocly.yaml")}
	for _, c := range goldenCases {
		path := filepath.Join("testdata", c.name)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("golden file missing (run go test -update): %v", err)
		}
		args = append(args, path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	// Offline and quiet: no telemetry, no update check.
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("redocly lint timed out:\n%s", stderr.String())
	}
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		t.Fatalf("redocly lint did not run: %v\n%s", runErr, stderr.String())
	}
	dec := json.NewDecoder(&stdout)
	results := 0
	for {
		var r redoclyResult
		err := dec.Decode(&r)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("redocly lint output is not JSON (%v); exit %v\nstderr:\n%s", err, runErr, stderr.String())
		}
		results++
		for _, p := range r.Problems {
			where := ""
			if len(p.Location) > 0 {
				where = p.Location[0].Source.Ref + " " + p.Location[0].Pointer
			}
			if p.Severity == "error" {
				t.Errorf("redocly %s: %s: %s", p.RuleID, where, p.Message)
			} else {
				t.Logf("redocly %s %s: %s: %s", p.Severity, p.RuleID, where, p.Message)
			}
		}
		if r.Totals.Errors > 0 {
			t.Errorf("redocly reports %d errors", r.Totals.Errors)
		}
	}
	if results != len(goldenCases) {
		t.Fatalf("redocly linted %d documents, want %d; exit %v\nstderr:\n%s", results, len(goldenCases), runErr, stderr.String())
	}
	if runErr != nil && !t.Failed() {
		t.Fatalf("redocly lint failed without reporting an error: %v\n%s", runErr, stderr.String())
	}
}
