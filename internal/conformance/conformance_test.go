//go:build conformance

package conformance

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apitap/apitap/internal/zeeklog"
)

// zeekDataRel is the Zeek material relative to this package's directory
// (repository at X/main, shared data at X/shared).
const zeekDataRel = "../../../shared/data/zeek"

func zeekData(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.FromSlash(zeekDataRel))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "MAPPING.json")); err != nil {
		t.Fatalf("Zeek conformance data not found at %s (%v): check out the shared data beside the repository", dir, err)
	}
	return dir
}

// TestConformanceBaselines checks the baseline choice and that every chosen
// log decodes, against the real material. The counts pin the data set: if
// it changes, this test says so before the apitap comparison does.
func TestConformanceBaselines(t *testing.T) {
	dir := zeekData(t)
	bs, err := SelectBaselines(dir)
	if err != nil {
		t.Fatal(err)
	}
	const wantTraces, wantRows = 72, 189
	if len(bs) != wantTraces {
		t.Errorf("%d traces with an http.log baseline, want %d", len(bs), wantTraces)
	}
	chosen := map[string]string{}
	for _, b := range bs {
		chosen[b.Trace] = b.Name()
	}
	for trace, want := range map[string]string{
		"wikipedia.pcap": "opt.basic/http.log",
		"http/get.pcap":  "core.tcp.reassembly-known-ports/http.log",
		"http/http-non-printable-characters.pcap":    "scripts.base.frameworks.logging.json-non-printable-escaping/http.log.tsv",
		"http/http-lower-case.pcap":                  "scripts.base.protocols.http.http-lower-case/http.log.standard",
		"http/http-lower-case-nonstandard-port.pcap": "scripts.base.protocols.http.http-lower-case/http.log.nonstandard",
		"http/http-filename.pcap":                    "scripts.base.protocols.http.http-filename/http.log",
		"http/multipart.pcap":                        "scripts.base.protocols.http.multipart-extract/http.log",
	} {
		t.Run(trace, func(t *testing.T) {
			if chosen[trace] != want {
				t.Errorf("chose %q, want %q", chosen[trace], want)
			}
		})
	}

	p := zeeklog.NewParser(zeeklog.Config{})
	rows := 0
	for _, b := range bs {
		if _, err := os.Stat(b.TracePath(dir)); err != nil {
			t.Errorf("%s: trace missing: %v", b.Trace, err)
		}
		l, err := p.ParseFile(b.LogPath(dir))
		if err != nil {
			t.Errorf("%s: %v", b.Trace, err)
			continue
		}
		h, err := l.HTTP()
		if err != nil {
			t.Errorf("%s: %v", b.Trace, err)
			continue
		}
		if FieldsFor(h.Columns) == 0 {
			t.Errorf("%s: %s has none of the compared columns (%q)", b.Trace, b.Name(), l.Fields)
		}
		rows += len(h.Rows)

		// The alternatives must agree with the choice on the columns
		// both have: otherwise the choice would matter and the rule
		// would need revisiting. Headerless zeek-cut output and logs
		// with a different layout are skipped.
		for _, alt := range b.Alternatives {
			al, err := p.ParseFile(filepath.Join(dir, "baselines", filepath.FromSlash(alt)))
			if err != nil {
				continue
			}
			ah, err := al.HTTP()
			if err != nil {
				continue
			}
			common := FieldsFor(h.Columns) & FieldsFor(ah.Columns)
			if common == 0 {
				continue
			}
			if a, c := tuples(ah, common), tuples(h, common); !slices.Equal(a, c) {
				t.Logf("%s: alternative %s differs from %s on %s:\n  alt    %q\n  chosen %q", b.Trace, alt, b.Name(), common, a, c)
			}
		}
	}
	if rows != wantRows {
		t.Errorf("%d Zeek rows in the chosen baselines, want %d", rows, wantRows)
	}
}

func tuples(h *zeeklog.HTTPLog, f Fields) []string {
	var out []string
	for _, r := range h.Rows {
		out = append(out, Tuple{r.Method, r.Host, r.URI, r.Status}.project(f).Format(f))
	}
	slices.Sort(out)
	return out
}
