//go:build conformance

package main_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apitap/apitap/internal/conformance"
	"github.com/apitap/apitap/internal/zeeklog"
)

// zeekDataRel is the Zeek material relative to this package's directory:
// the repository is checked out at X/main and the shared data at X/shared.
const zeekDataRel = "../../../shared/data/zeek"

// minRecall and minPrecision are issue 2's bar, over the whole set.
const (
	minRecall    = 0.98
	minPrecision = 0.98
)

// perTraceTimeout bounds one `apitap analyze` run; the traces are small.
const perTraceTimeout = 2 * time.Minute

// TestConformanceZeek runs `apitap analyze` on every trace that has an
// http.log baseline and compares its transactions with Zeek's on (method,
// host, uri, status), restricted to the columns each baseline has. Recall
// and precision are summed over the whole set and must both reach 98%.
// Body lengths of matched rows are compared and reported, not asserted.
//
// Set APITAP_CONFORMANCE_REPORT=FILE (absolute, or relative to the
// repository root) to also write the results as Markdown,
// and APITAP_CONFORMANCE_BIN=PATH to score a prebuilt binary instead of
// building ./cmd/apitap.
func TestConformanceZeek(t *testing.T) {
	zeekDir := zeekData(t)
	baselines, err := conformance.SelectBaselines(zeekDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(baselines) == 0 {
		t.Fatalf("no trace with an http.log baseline under %s", zeekDir)
	}
	bin := buildApitap(t)
	outDir := t.TempDir()
	parser := zeeklog.NewParser(zeeklog.Config{})

	var rep conformance.Report
	start := time.Now()
	for i, b := range baselines {
		l, err := parser.ParseFile(b.LogPath(zeekDir))
		if err != nil {
			t.Fatalf("baseline for %s: %v", b.Trace, err)
		}
		want, err := l.HTTP()
		if err != nil {
			t.Fatalf("baseline %s: %v", b.Name(), err)
		}
		if conformance.FieldsFor(want.Columns) == 0 {
			t.Fatalf("baseline %s has none of method, host, uri, status_code (columns %q)", b.Name(), l.Fields)
		}
		out := filepath.Join(outDir, fmt.Sprintf("%03d.jsonl", i))
		got, runErr := analyze(t, bin, b.TracePath(zeekDir), out)
		res := conformance.CompareTrace(b.Trace, b.Name(), want, got)
		if runErr != nil {
			// The binary exits 0 on traces with warnings; anything else
			// counts every Zeek row of the trace as missed.
			res.Err = runErr.Error()
			t.Logf("%s: %v", b.Trace, runErr)
		}
		rep.Add(res)
	}
	t.Logf("%d traces analysed in %v\n%s", len(baselines), time.Since(start).Round(time.Millisecond), rep.Text())

	if path := os.Getenv("APITAP_CONFORMANCE_REPORT"); path != "" {
		if !filepath.IsAbs(path) {
			path = filepath.Join(repoRoot(t), path)
		}
		var md bytes.Buffer
		if err := rep.WriteMarkdown(&md); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, md.Bytes(), 0o644); err != nil {
			t.Fatalf("APITAP_CONFORMANCE_REPORT: %v", err)
		}
		t.Logf("report written to %s", path)
	}

	tot := rep.Totals()
	t.Logf("body lengths of matched rows agree: %d/%d (%.2f%%)", tot.BodyAgreed, tot.BodyCompared, 100*tot.BodyAgreement())
	if r := tot.Recall(); r < minRecall {
		t.Errorf("recall %.4f (%d of %d Zeek rows matched) is below %.2f", r, tot.Matched, tot.ZeekRows, minRecall)
	}
	if p := tot.Precision(); p < minPrecision {
		t.Errorf("precision %.4f (%d of %d apitap rows matched) is below %.2f", p, tot.Matched, tot.APIRows, minPrecision)
	}
}

// zeekData returns the Zeek material's directory or fails the test.
func zeekData(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.FromSlash(zeekDataRel))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "MAPPING.json")); err != nil {
		t.Fatalf("Zeek conformance data not found at %s (%v): the conformance suite needs the shared data "+
			"checked out beside the repository (X/main and X/shared/data/zeek)", dir, err)
	}
	return dir
}

// buildApitap builds the binary once, from the repository root, unless
// APITAP_CONFORMANCE_BIN names one.
func buildApitap(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("APITAP_CONFORMANCE_BIN"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("APITAP_CONFORMANCE_BIN: %v", err)
		}
		return bin
	}
	bin := filepath.Join(t.TempDir(), "apitap")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/apitap")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/apitap: %v\n%s", err, out)
	}
	return bin
}

// repoRoot is the repository's root: this package is cmd/apitap.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// analyze runs `apitap analyze TRACE --transactions OUT` and reads OUT.
func analyze(t *testing.T, bin, trace, out string) ([]conformance.Transaction, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), perTraceTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "analyze", trace, "--transactions", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %v", perTraceTimeout)
		}
		return nil, fmt.Errorf("apitap analyze: %w: %s", err, lastLines(stderr.String(), 3))
	}
	return conformance.ReadTransactionsFile(out)
}

// lastLines returns the last n non-empty lines of s, joined by " / ".
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}
