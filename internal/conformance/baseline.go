package conformance

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Baseline is the Zeek log a trace is compared with.
type Baseline struct {
	// Trace is the capture's path under traces/ ("http/get.pcap"), as
	// MAPPING.json names it.
	Trace string
	// Dir is the baseline directory under baselines/ and File the log in
	// it ("http.log", "http.log.cut" ...).
	Dir, File string
	// Alternatives are the other candidate logs for the trace, as
	// "dir/file", in preference order; empty when there was one.
	Alternatives []string
}

// TracePath is the capture's path under zeekDir.
func (b Baseline) TracePath(zeekDir string) string {
	return filepath.Join(zeekDir, "traces", filepath.FromSlash(b.Trace))
}

// LogPath is the log's path under zeekDir.
func (b Baseline) LogPath(zeekDir string) string {
	return filepath.Join(zeekDir, "baselines", b.Dir, b.File)
}

// Name is "dir/file".
func (b Baseline) Name() string { return b.Dir + "/" + b.File }

// mappingEntry is one element of a MAPPING.json list.
type mappingEntry struct {
	BaselineDir  string   `json:"baseline_dir"`
	Test         string   `json:"test"`
	HTTPFiles    []string `json:"http_files"`
	Files        []string `json:"files"`
	TracesInTest []string `json:"traces_in_test"`
}

// nonDefaultMarkers are the TEST-file snippets that show a test changed
// Zeek's configuration or its HTTP logging (redefinitions, policy hooks,
// extra log filters, the JSON writer, a capture filter).
var nonDefaultMarkers = []string{
	"redef ", "hook ", "Log::add_filter", "Log::remove_default_filter", "use_json", " -f ",
}

// traceRef finds the trace a TEST-EXEC line runs Zeek on.
var traceRef = regexp.MustCompile(`\$\{?TRACES\}?/([^\s;"'<>|]+)`)

// SelectBaselines reads MAPPING.json and EXCLUDED.json under zeekDir
// (../shared/data/zeek) and returns, sorted by trace, one Baseline for every
// trace that has an http.log-type baseline and is not excluded.
//
// Several tests can log HTTP for the same trace (wikipedia.pcap has seven).
// They agree on the transactions but not on the layout, so the one that
// reflects Zeek's default configuration is chosen by this rule:
//
//  1. A test that reads several traces contributes a file to a trace only
//     when its TEST-EXEC lines produce the file after running Zeek on that
//     trace (http-lower-case writes http.log.standard for one trace and
//     http.log.nonstandard for the other).
//  2. A file named exactly http.log (all columns, ASCII writer) beats
//     http.log.tsv, which beats anything else (zeek-cut subsets, JSON,
//     per-filter logs such as http-2.log, cluster logs).
//  3. Then a test whose TEST file changes nothing (no redef, hook, extra or
//     removed log filter, JSON writer or capture filter) beats one that
//     does.
//  4. Then the baseline directory name, for a stable choice.
//
// For wikipedia.pcap this picks opt.basic/http.log (plain `zeek -r`); for
// http/get.pcap core.tcp.reassembly-known-ports/http.log; for the
// non-printable-characters trace the TSV rather than the JSON log.
func SelectBaselines(zeekDir string) ([]Baseline, error) {
	var mapping map[string][]mappingEntry
	if err := readJSON(filepath.Join(zeekDir, "MAPPING.json"), &mapping); err != nil {
		return nil, err
	}
	var excluded map[string]string
	if err := readJSON(filepath.Join(zeekDir, "EXCLUDED.json"), &excluded); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	type candidate struct {
		nameRank, marked int
		dir, file        string
	}
	tests := map[string]string{} // baseline dir -> TEST file text
	testText := func(dir string) (string, error) {
		if s, ok := tests[dir]; ok {
			return s, nil
		}
		matches, err := filepath.Glob(filepath.Join(zeekDir, "baselines", dir, "TEST.*"))
		if err != nil {
			return "", fmt.Errorf("conformance: %w", err)
		}
		var s string
		if len(matches) > 0 {
			b, err := os.ReadFile(matches[0])
			if err != nil {
				return "", fmt.Errorf("conformance: %w", err)
			}
			s = string(b)
		}
		tests[dir] = s
		return s, nil
	}
	var out []Baseline
	for trace, entries := range mapping {
		if _, skip := excluded[trace]; skip {
			continue
		}
		var cands []candidate
		for _, e := range entries {
			if len(e.HTTPFiles) == 0 {
				continue
			}
			text, err := testText(e.BaselineDir)
			if err != nil {
				return nil, err
			}
			files := e.HTTPFiles
			if len(e.TracesInTest) > 1 {
				files = attributed(text, trace, e.HTTPFiles)
			}
			marked := 0
			for _, m := range nonDefaultMarkers {
				if strings.Contains(text, m) {
					marked = 1
					break
				}
			}
			for _, f := range files {
				cands = append(cands, candidate{nameRank: nameRank(f), marked: marked, dir: e.BaselineDir, file: f})
			}
		}
		if len(cands) == 0 {
			continue
		}
		slices.SortFunc(cands, func(a, b candidate) int {
			return cmp.Or(cmp.Compare(a.nameRank, b.nameRank), cmp.Compare(a.marked, b.marked),
				cmp.Compare(a.dir, b.dir), cmp.Compare(a.file, b.file))
		})
		b := Baseline{Trace: trace, Dir: cands[0].dir, File: cands[0].file}
		for _, c := range cands[1:] {
			b.Alternatives = append(b.Alternatives, c.dir+"/"+c.file)
		}
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b Baseline) int { return cmp.Compare(a.Trace, b.Trace) })
	return out, nil
}

func nameRank(file string) int {
	switch file {
	case "http.log":
		return 0
	case "http.log.tsv":
		return 1
	}
	return 2
}

// attributed returns the files of a multi-trace test that its TEST-EXEC
// lines produce while trace is the last one Zeek ran on.
func attributed(testText, trace string, files []string) []string {
	owner := map[string]string{}
	current := ""
	for _, line := range strings.Split(testText, "\n") {
		if !strings.Contains(line, "@TEST-EXEC") {
			continue
		}
		if m := traceRef.FindStringSubmatch(line); m != nil {
			current = m[1]
		}
		for _, tok := range strings.Fields(line) {
			if slices.Contains(files, tok) {
				if _, seen := owner[tok]; !seen {
					owner[tok] = current
				}
			}
		}
	}
	var out []string
	for _, f := range files {
		if owner[f] == trace {
			out = append(out, f)
		}
	}
	return out
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("conformance: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("conformance: %s: %w", path, err)
	}
	return nil
}
