package accuracy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"

	"github.com/apitap/apitap/analyze/openapi"
)

// DefaultCalls is the number of calls of each operation when
// Config.Calls is zero.
const DefaultCalls = 40

// The path templating modes of `apitap analyze --path-templates`.
const (
	// ModeLearned is apitap's path templating, its default.
	ModeLearned = "learned"
	// ModeLiteral makes every distinct path an endpoint: the naive
	// baseline.
	ModeLiteral = "literal"
)

// Recording is what the lab recorded for one spec (internal/speclab's
// Result, which cmd/apitap-accuracy converts).
type Recording struct {
	Pcap     string // the capture
	Host     string // the Host header the client sent
	BasePath string // where the spec's paths were served ("" or "/api/v1")
	// Operations in the spec, Called at least once with a documented
	// response, Calls made.
	Operations, Called, Calls int
	Skipped                   []string // "METHOD /path: reason"
	// Samples counts the responses per operation and status (nil: not
	// known, every response is scored).
	Samples Samples
}

// RecordFunc records the lab's traffic for the spec at path spec into
// dir, which exists and is empty: calls of each operation, everything
// random derived from seed.
type RecordFunc func(ctx context.Context, spec string, seed uint64, calls int, dir string) (Recording, error)

// Config says what Run does.
type Config struct {
	// Specs is the directory of specs, one subdirectory each (see
	// FindSpecs). Required.
	Specs string
	// Only restricts the run to these spec names. Empty: every spec.
	Only []string
	// Seed is the lab's seed; zero is a seed like any other.
	Seed uint64
	// Calls is the number of calls of each operation. Zero: DefaultCalls.
	Calls int
	// MinSamples is Options.MinSamples for scoring. Zero:
	// DefaultMinSamples.
	MinSamples int
	// Apitap is the apitap binary. Empty: Run builds
	// github.com/apitap/apitap/cmd/apitap into WorkDir with `go build`,
	// which works from inside the module.
	Apitap string
	// WorkDir receives the captures, the inferred documents and the
	// binary Run builds, in a subdirectory per spec. Empty: a temporary
	// directory that Run removes before returning.
	WorkDir string
	// Record runs the lab. Required.
	Record RecordFunc
	// Log receives a line per step. Nil: nothing is logged.
	Log io.Writer
}

// Row is the outcome for one spec and one templating mode.
type Row struct {
	Spec      string
	Mode      string // ModeLearned or ModeLiteral
	Recording Recording
	Scores    Scores
}

// Result is the outcome of Run: for each spec (sorted by name), a row
// with learned templates then one with literal paths.
type Result struct {
	Seed       uint64
	Calls      int
	MinSamples int
	Rows       []Row
}

// Run records each spec with the lab once, has apitap infer a document
// from the capture in both templating modes, and scores each against the
// spec. It stops at the first error, which names the spec and the step.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Specs == "" {
		return nil, errors.New("accuracy: Config.Specs is required")
	}
	if cfg.Record == nil {
		return nil, errors.New("accuracy: Config.Record is required")
	}
	if cfg.Calls == 0 {
		cfg.Calls = DefaultCalls
	}
	if cfg.MinSamples == 0 {
		cfg.MinSamples = DefaultMinSamples
	}
	if cfg.Calls < 0 || cfg.MinSamples < 0 {
		return nil, fmt.Errorf("accuracy: Config.Calls is %d, MinSamples %d", cfg.Calls, cfg.MinSamples)
	}
	logw := cfg.Log
	if logw == nil {
		logw = io.Discard
	}
	specs, err := FindSpecs(cfg.Specs)
	if err != nil {
		return nil, err
	}
	if len(cfg.Only) > 0 {
		var kept []Spec
		for _, s := range specs {
			if slices.Contains(cfg.Only, s.Name) {
				kept = append(kept, s)
			}
		}
		for _, name := range cfg.Only {
			if !slices.ContainsFunc(kept, func(s Spec) bool { return s.Name == name }) {
				return nil, fmt.Errorf("accuracy: no spec named %q in %s", name, cfg.Specs)
			}
		}
		specs = kept
	}
	work := cfg.WorkDir
	if work == "" {
		if work, err = os.MkdirTemp("", "apitap-accuracy-"); err != nil {
			return nil, fmt.Errorf("accuracy: %w", err)
		}
		defer os.RemoveAll(work)
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, fmt.Errorf("accuracy: %w", err)
	}
	apitap := cfg.Apitap
	if apitap == "" {
		fmt.Fprintln(logw, "building apitap")
		if apitap, err = buildApitap(ctx, work); err != nil {
			return nil, err
		}
	}

	res := &Result{Seed: cfg.Seed, Calls: cfg.Calls, MinSamples: cfg.MinSamples}
	for _, spec := range specs {
		orig, err := openapi.Load(spec.Path)
		if err != nil {
			return nil, err
		}
		dir := filepath.Join(work, spec.Name)
		// The lab gets an empty directory, also when WorkDir is reused.
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("accuracy: %w", err)
		}
		labDir := filepath.Join(dir, "lab")
		if err := os.MkdirAll(labDir, 0o755); err != nil {
			return nil, fmt.Errorf("accuracy: %w", err)
		}
		fmt.Fprintf(logw, "%s: recording %d calls of each operation (seed %d)\n", spec.Name, cfg.Calls, cfg.Seed)
		rec, err := cfg.Record(ctx, spec.Path, cfg.Seed, cfg.Calls, labDir)
		if err != nil {
			return nil, fmt.Errorf("accuracy: %s: recording: %w", spec.Name, err)
		}
		fmt.Fprintf(logw, "%s: %d calls, %d of %d operations called, host %s, base path %q\n",
			spec.Name, rec.Calls, rec.Called, rec.Operations, rec.Host, rec.BasePath)
		for _, s := range rec.Skipped {
			fmt.Fprintf(logw, "%s: skipped %s\n", spec.Name, s)
		}
		for _, mode := range []string{ModeLearned, ModeLiteral} {
			out := filepath.Join(dir, "inferred-"+mode+".json")
			if err := runApitap(ctx, apitap, rec.Pcap, out, mode); err != nil {
				return nil, fmt.Errorf("accuracy: %s: %w", spec.Name, err)
			}
			inf, err := openapi.Load(out)
			if err != nil {
				return nil, fmt.Errorf("accuracy: %s: the inferred document: %w", spec.Name, err)
			}
			s := ScoreWith(orig, inf, rec.BasePath, Options{Samples: rec.Samples, MinSamples: cfg.MinSamples})
			fmt.Fprintf(logw, "%s %s: endpoint F1 %s, property recall %s, precision %s, type accuracy %s\n",
				spec.Name, mode, score(s.Endpoints.F1), score(s.Properties.Recall),
				score(s.Properties.Precision), score(s.Types.Accuracy))
			res.Rows = append(res.Rows, Row{Spec: spec.Name, Mode: mode, Recording: rec, Scores: s})
		}
	}
	return res, nil
}

// AnalyzeArgs is the apitap command line that infers a document from a
// capture in a templating mode.
func AnalyzeArgs(capture, out, mode string) []string {
	args := []string{"analyze", capture, "--openapi", out, "--quiet"}
	if mode != ModeLearned {
		args = append(args, "--path-templates", mode)
	}
	return args
}

func runApitap(ctx context.Context, apitap, capture, out, mode string) error {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, apitap, AnalyzeArgs(capture, out, mode)...)
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("apitap %s: %w\n%s", joinArgs(cmd.Args[1:]), err, tail(stderr.Bytes(), 2000))
	}
	return nil
}

// buildApitap builds cmd/apitap of this module into dir.
func buildApitap(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "apitap")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/apitap/apitap/cmd/apitap")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("accuracy: building apitap (run from inside the apitap module): %w\n%s", err, out)
	}
	return bin, nil
}

func joinArgs(args []string) string {
	var b bytes.Buffer
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a)
	}
	return b.String()
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
