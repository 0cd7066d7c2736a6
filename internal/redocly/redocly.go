// Package redocly runs the Redocly CLI linter (npm @redocly/cli, installed
// by `make setup`) over OpenAPI documents, for tests: every error fails the
// test, warnings are logged.
package redocly

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Path is where the Redocly CLI is found: $APITAP_REDOCLY, else
// $HOME/.cache/apitap/npm/node_modules/.bin/redocly (where .ci/setup.sh
// installs it).
func Path(t testing.TB) string {
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

// result is one document's result in `redocly lint --format=json`.
type result struct {
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

// config is the project's rule set: Redocly's recommended rules less the
// ones that make no sense for an inferred document (each with its reason).
//
//go:embed redocly.yaml
var configYAML []byte

// Lint lints files with `redocly lint` and the project's rules
// (redocly.yaml): any error fails t, warnings are logged. A missing CLI or
// file fails t.
func Lint(t testing.TB, files ...string) {
	t.Helper()
	config := filepath.Join(t.TempDir(), "redocly.yaml")
	if err := os.WriteFile(config, configYAML, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := Path(t)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("Redocly CLI not found at %s (%v): run `make setup` to install it, or set APITAP_REDOCLY", bin, err)
	}
	args := []string{"lint", "--format=json", "--config", config}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("document to lint is missing: %v", err)
		}
	}
	args = append(args, files...)
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
		var r result
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
	if results != len(files) {
		t.Fatalf("redocly linted %d documents, want %d; exit %v\nstderr:\n%s", results, len(files), runErr, stderr.String())
	}
	if runErr != nil && !t.Failed() {
		t.Fatalf("redocly lint failed without reporting an error: %v\n%s", runErr, stderr.String())
	}
}
