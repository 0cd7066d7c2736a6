//go:build conformance

package zeeklog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// zeekDataRel is the Zeek material relative to this package's directory
// (repository at X/main, shared data at X/shared).
const zeekDataRel = "../../../shared/data/zeek"

// TestConformanceParseAll parses every HTTP log of the Zeek baselines that
// MAPPING.json lists: TSV, zeek-cut -m subsets and JSON.
func TestConformanceParseAll(t *testing.T) {
	dir, err := filepath.Abs(filepath.FromSlash(zeekDataRel))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "MAPPING.json"))
	if err != nil {
		t.Fatalf("Zeek conformance data not found at %s: %v", dir, err)
	}
	var mapping map[string][]struct {
		Dir   string   `json:"baseline_dir"`
		Files []string `json:"http_files"`
	}
	if err := json.Unmarshal(b, &mapping); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, entries := range mapping {
		for _, e := range entries {
			for _, f := range e.Files {
				files = append(files, filepath.Join(e.Dir, f))
			}
		}
	}
	slices.Sort(files)
	files = slices.Compact(files)
	// Two files are not Zeek logs: sqlite3 output and zeek-cut without
	// -m (no header). They parse as a cut file whose "header" is the
	// first record, so no known column is found.
	headerless := map[string]bool{
		"scripts.base.frameworks.logging.sqlite.wikipedia/http.select":      true,
		"scripts.policy.protocols.http.var-extraction-uri/http-reduced.log": true,
	}
	p := NewParser(Config{})
	formats := map[Format]int{}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			l, err := p.ParseFile(filepath.Join(dir, "baselines", f))
			if err != nil {
				t.Fatal(err)
			}
			h, err := l.HTTP()
			if err != nil {
				t.Fatal(err)
			}
			formats[l.Format]++
			if headerless[filepath.ToSlash(f)] {
				if h.Columns != 0 {
					t.Errorf("headerless file decoded columns %s", h.Columns)
				}
				return
			}
			if h.Columns == 0 || len(h.Rows) == 0 {
				t.Errorf("%s log: columns %q, %d rows", l.Format, l.Fields, len(h.Rows))
			}
		})
	}
	t.Logf("formats: %v", formats)
	if formats[FormatJSON] == 0 || formats[FormatCut] == 0 || formats[FormatTSV] == 0 {
		t.Errorf("expected all three formats among the baselines, got %v", formats)
	}
}

// TestConformanceJSONMatchesTSV compares logs Zeek wrote for the same trace
// with the ASCII and the JSON writer: every decoded field must agree, except
// where Zeek's JSON writer is ambiguous (a literal "\x07" in a URI is
// rendered like the byte 0x07).
func TestConformanceJSONMatchesTSV(t *testing.T) {
	dir, err := filepath.Abs(filepath.FromSlash(zeekDataRel))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, tsv, json string
		ambiguous       map[string]string // TSV uri -> what the JSON log decodes to
	}{
		{
			name: "non-printable",
			tsv:  "scripts.base.frameworks.logging.json-non-printable-escaping/http.log.tsv",
			json: "scripts.base.frameworks.logging.json-non-printable-escaping/http.log.json",
			ambiguous: map[string]string{
				`/non_printable_literal_\x07`: "/non_printable_literal_\x07",
			},
		},
		{
			name: "get.pcap",
			tsv:  "core.tcp.reassembly-known-ports/http.log",
			json: "javascript.http-uri-sha256/http.log",
		},
	}
	p := NewParser(Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl, err := p.ParseFile(filepath.Join(dir, "baselines", tt.tsv))
			if err != nil {
				t.Fatal(err)
			}
			jl, err := p.ParseFile(filepath.Join(dir, "baselines", tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if tl.Format != FormatTSV || jl.Format != FormatJSON {
				t.Fatalf("formats %v and %v", tl.Format, jl.Format)
			}
			th, err := tl.HTTP()
			if err != nil {
				t.Fatal(err)
			}
			jh, err := jl.HTTP()
			if err != nil {
				t.Fatal(err)
			}
			// The JSON writer omits unset fields, so a column unset on
			// every row (info_code) is missing from the JSON log.
			onlyTSV := th.Columns &^ jh.Columns
			if jh.Columns&^th.Columns != 0 || len(th.Rows) != len(jh.Rows) {
				t.Fatalf("columns %s / %s, rows %d / %d", th.Columns, jh.Columns, len(th.Rows), len(jh.Rows))
			}
			for i := range th.Rows {
				a, b := th.Rows[i], jh.Rows[i]
				if a.Unset&onlyTSV != onlyTSV {
					t.Errorf("row %d: columns %s set in TSV but absent from JSON", i, onlyTSV&^a.Unset)
				}
				a.Unset &^= onlyTSV
				a.Line, b.Line = 0, 0
				if want, ok := tt.ambiguous[a.URI]; ok {
					if b.URI != want {
						t.Errorf("row %d: JSON uri %q, want %q (Zeek's documented ambiguity)", i, b.URI, want)
					}
					a.URI = b.URI
				}
				if !reflect.DeepEqual(a, b) {
					t.Errorf("row %d:\n tsv  %+v\n json %+v", i, a, b)
				}
			}
		})
	}
}
