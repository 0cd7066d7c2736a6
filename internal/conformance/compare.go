package conformance

import (
	"cmp"
	"fmt"
	"html"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apitap/apitap/internal/zeeklog"
)

// Fields says which parts of a Tuple are compared.
type Fields uint8

// Tuple components.
const (
	FieldMethod Fields = 1 << iota
	FieldHost
	FieldURI
	FieldStatus

	AllFields = FieldMethod | FieldHost | FieldURI | FieldStatus
)

// String lists the compared components: "method,host,uri,status".
func (f Fields) String() string {
	var s []string
	for _, c := range []struct {
		f    Fields
		name string
	}{{FieldMethod, "method"}, {FieldHost, "host"}, {FieldURI, "uri"}, {FieldStatus, "status"}} {
		if f&c.f != 0 {
			s = append(s, c.name)
		}
	}
	return strings.Join(s, ",")
}

// FieldsFor returns the components a baseline with columns cols can be
// compared on: zeek-cut subsets lack some of method, host, uri and
// status_code.
func FieldsFor(cols zeeklog.HTTPColumns) Fields {
	var f Fields
	if cols.Has(zeeklog.ColMethod) {
		f |= FieldMethod
	}
	if cols.Has(zeeklog.ColHost) {
		f |= FieldHost
	}
	if cols.Has(zeeklog.ColURI) {
		f |= FieldURI
	}
	if cols.Has(zeeklog.ColStatus) {
		f |= FieldStatus
	}
	return f
}

// Tuple is the comparison key of one transaction. Method, Host and URI are
// empty when absent (Zeek's "-"), Status is 0 when no response was seen.
type Tuple struct {
	Method, Host, URI string
	Status            int
}

// project keeps the components in f, normalised, and zeroes the others.
func (t Tuple) project(f Fields) Tuple {
	var p Tuple
	if f&FieldMethod != 0 {
		p.Method = validUTF8(t.Method)
	}
	if f&FieldHost != 0 {
		p.Host = validUTF8(t.Host)
	}
	if f&FieldURI != 0 {
		p.URI = validUTF8(t.URI)
	}
	if f&FieldStatus != 0 {
		p.Status = t.Status
	}
	return p
}

// Format renders the components in f separated by spaces; a component not
// compared is "*", an empty one "-". Strings with spaces, quotes or
// non-printable bytes are quoted Go-style.
func (t Tuple) Format(f Fields) string {
	part := func(on bool, s string) string {
		switch {
		case !on:
			return "*"
		case s == "":
			return "-"
		case strings.ContainsAny(s, " \"") || !isPrintable(s):
			return strconv.Quote(s)
		}
		return s
	}
	status := "*"
	if f&FieldStatus != 0 {
		status = strconv.Itoa(t.Status)
	}
	return part(f&FieldMethod != 0, t.Method) + " " + part(f&FieldHost != 0, t.Host) + " " +
		part(f&FieldURI != 0, t.URI) + " " + status
}

func isPrintable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// validUTF8 replaces every byte that is not part of valid UTF-8 with
// U+FFFD, as encoding/json does when apitap writes a string. Zeek's log
// carries the raw bytes, so both sides are normalised the same way.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// compareBody counts one body length compared for tuple k, and records
// it in BodyMismatches when the two sides differ.
func (res *TraceResult) compareBody(k Tuple, field string, zeek, apitap int64) {
	res.BodyCompared++
	if zeek == apitap {
		res.BodyAgreed++
		return
	}
	res.BodyMismatches = append(res.BodyMismatches, BodyMismatch{Tuple: k, Field: field, Zeek: zeek, Apitap: apitap})
}

// Diff is a tuple one side has Count more times than the other.
type Diff struct {
	Tuple Tuple
	Count int
}

// BodyMismatch is a matched pair whose body length differs.
type BodyMismatch struct {
	Tuple        Tuple
	Field        string // "request_body_len" or "response_body_len"
	Zeek, Apitap int64
}

// TraceResult is the comparison of one trace.
type TraceResult struct {
	Trace    string // path under traces/
	Baseline string // "dir/file" under baselines/
	Fields   Fields // the tuple components compared
	// ZeekRows and APIRows count the rows on each side, Matched the rows
	// paired on the projected tuple.
	ZeekRows, APIRows, Matched int
	// Missing are tuples Zeek logged more often than apitap, Extra the
	// reverse; sorted.
	Missing, Extra []Diff
	// BodyCompared counts the body lengths compared on matched pairs
	// (request and response each, where the baseline has the column set),
	// BodyAgreed those equal; BodyMismatches lists the others.
	BodyCompared, BodyAgreed int
	BodyMismatches           []BodyMismatch
	// Err is set when apitap failed on the trace; all Zeek rows then
	// count as missing.
	Err string
}

// CompareTrace matches apitap's transactions with Zeek's rows as multisets
// on the tuple projected to the columns want has. Within a tuple, pairs with
// equal body lengths are made first, so that body agreement is not hurt by
// the order of identical requests.
//
// Zeek logs the percent-decoded URI while apitap writes the target as sent,
// so apitap's URI goes through zeeklog.UnescapeURI first; both sides then have
// bytes that are not valid UTF-8 replaced as encoding/json replaces them.
func CompareTrace(trace, baseline string, want *zeeklog.HTTPLog, got []Transaction) TraceResult {
	f := FieldsFor(want.Columns)
	res := TraceResult{Trace: trace, Baseline: baseline, Fields: f, ZeekRows: len(want.Rows), APIRows: len(got)}
	zeekBy := map[Tuple][]int{}
	var keys []Tuple
	for i, r := range want.Rows {
		k := Tuple{Method: r.Method, Host: r.Host, URI: r.URI, Status: r.Status}.project(f)
		if _, ok := zeekBy[k]; !ok {
			keys = append(keys, k)
		}
		zeekBy[k] = append(zeekBy[k], i)
	}
	apiBy := map[Tuple][]int{}
	for i, t := range got {
		k := Tuple{Method: t.Method, Host: t.Host, URI: zeeklog.UnescapeURI(t.URI), Status: t.Status}.project(f)
		if _, ok := apiBy[k]; !ok {
			if _, ok := zeekBy[k]; !ok {
				keys = append(keys, k)
			}
		}
		apiBy[k] = append(apiBy[k], i)
	}
	reqCol := want.Columns.Has(zeeklog.ColRequestBodyLen)
	respCol := want.Columns.Has(zeeklog.ColResponseBodyLen)
	bodyEqual := func(z zeeklog.HTTPRow, a Transaction) bool {
		if reqCol && !z.Unset.Has(zeeklog.ColRequestBodyLen) && z.RequestBodyLen != a.RequestBodyLen {
			return false
		}
		if respCol && !z.Unset.Has(zeeklog.ColResponseBodyLen) && z.ResponseBodyLen != a.ResponseBodyLen {
			return false
		}
		return true
	}
	for _, k := range keys {
		zs, as := zeekBy[k], apiBy[k]
		n := min(len(zs), len(as))
		res.Matched += n
		if d := len(zs) - len(as); d > 0 {
			res.Missing = append(res.Missing, Diff{Tuple: k, Count: d})
		} else if d < 0 {
			res.Extra = append(res.Extra, Diff{Tuple: k, Count: -d})
		}
		if n == 0 {
			continue
		}
		// Pair equal bodies first, then the rest in order.
		used := make([]bool, len(as))
		pairOf := make([]int, len(zs))
		for i := range pairOf {
			pairOf[i] = -1
		}
		for i, zi := range zs {
			for j, ai := range as {
				if !used[j] && bodyEqual(want.Rows[zi], got[ai]) {
					used[j], pairOf[i] = true, j
					break
				}
			}
		}
		j := 0
		for i := range zs {
			if pairOf[i] >= 0 {
				continue
			}
			for j < len(as) && used[j] {
				j++
			}
			if j == len(as) {
				break
			}
			used[j], pairOf[i] = true, j
		}
		for i, zi := range zs {
			if pairOf[i] < 0 {
				continue
			}
			z, a := want.Rows[zi], got[as[pairOf[i]]]
			if reqCol && !z.Unset.Has(zeeklog.ColRequestBodyLen) {
				res.compareBody(k, "request_body_len", z.RequestBodyLen, a.RequestBodyLen)
			}
			if respCol && !z.Unset.Has(zeeklog.ColResponseBodyLen) {
				res.compareBody(k, "response_body_len", z.ResponseBodyLen, a.ResponseBodyLen)
			}
		}
	}
	sortDiffs(res.Missing, f)
	sortDiffs(res.Extra, f)
	slices.SortStableFunc(res.BodyMismatches, func(a, b BodyMismatch) int {
		return cmp.Or(cmp.Compare(a.Tuple.Format(f), b.Tuple.Format(f)), cmp.Compare(a.Field, b.Field),
			cmp.Compare(a.Zeek, b.Zeek), cmp.Compare(a.Apitap, b.Apitap))
	})
	return res
}

func sortDiffs(d []Diff, f Fields) {
	slices.SortFunc(d, func(a, b Diff) int {
		return cmp.Or(cmp.Compare(a.Tuple.Format(f), b.Tuple.Format(f)), cmp.Compare(a.Count, b.Count))
	})
}

// Report collects the results of a conformance run.
type Report struct {
	Traces []TraceResult
}

// Add appends one trace's result.
func (r *Report) Add(tr TraceResult) { r.Traces = append(r.Traces, tr) }

// Totals are a Report's sums.
type Totals struct {
	Traces, Failed                    int
	ZeekRows, APIRows, Matched        int
	Missing, Extra                    int // rows, not distinct tuples
	BodyCompared, BodyAgreed          int
	TracesWithDiffs, TracesWithBodyMM int
}

// Totals sums the traces.
func (r *Report) Totals() Totals {
	var t Totals
	for _, tr := range r.Traces {
		t.Traces++
		if tr.Err != "" {
			t.Failed++
		}
		t.ZeekRows += tr.ZeekRows
		t.APIRows += tr.APIRows
		t.Matched += tr.Matched
		for _, d := range tr.Missing {
			t.Missing += d.Count
		}
		for _, d := range tr.Extra {
			t.Extra += d.Count
		}
		if len(tr.Missing) > 0 || len(tr.Extra) > 0 {
			t.TracesWithDiffs++
		}
		if len(tr.BodyMismatches) > 0 {
			t.TracesWithBodyMM++
		}
		t.BodyCompared += tr.BodyCompared
		t.BodyAgreed += tr.BodyAgreed
	}
	return t
}

// Recall is Matched/ZeekRows; 1 when Zeek logged nothing.
func (t Totals) Recall() float64 { return ratio(t.Matched, t.ZeekRows, 1) }

// Precision is Matched/APIRows; 0 when apitap produced nothing but Zeek
// did, 1 when neither did.
func (t Totals) Precision() float64 {
	if t.APIRows == 0 && t.ZeekRows > 0 {
		return 0
	}
	return ratio(t.Matched, t.APIRows, 1)
}

// BodyAgreement is BodyAgreed/BodyCompared; 1 when nothing was compared.
func (t Totals) BodyAgreement() float64 { return ratio(t.BodyAgreed, t.BodyCompared, 1) }

func ratio(a, b int, empty float64) float64 {
	if b == 0 {
		return empty
	}
	return float64(a) / float64(b)
}

func (r *Report) sorted() []TraceResult {
	trs := slices.Clone(r.Traces)
	slices.SortStableFunc(trs, func(a, b TraceResult) int { return cmp.Compare(a.Trace, b.Trace) })
	return trs
}

// Summary is a one-line account of the totals.
func (t Totals) Summary() string {
	return fmt.Sprintf("traces %d (apitap failed on %d), zeek rows %d, apitap rows %d, matched %d, missing %d, extra %d; "+
		"recall %.4f, precision %.4f; body lengths agree %d/%d (%.4f)",
		t.Traces, t.Failed, t.ZeekRows, t.APIRows, t.Matched, t.Missing, t.Extra,
		t.Recall(), t.Precision(), t.BodyAgreed, t.BodyCompared, t.BodyAgreement())
}

// Text renders the report as an aligned table for test logs: one line per
// trace, then one indented line per missing (-), extra (+) tuple, body
// mismatch (~) and failure (!), and the totals.
func (r *Report) Text() string {
	var b strings.Builder
	trs := r.sorted()
	w := len("trace")
	for _, tr := range trs {
		w = max(w, len(tr.Trace))
	}
	fmt.Fprintf(&b, "%-*s %5s %6s %7s  %s\n", w, "trace", "zeek", "apitap", "matched", "compared on")
	for _, tr := range trs {
		fmt.Fprintf(&b, "%-*s %5d %6d %7d  %s\n", w, tr.Trace, tr.ZeekRows, tr.APIRows, tr.Matched, tr.Fields)
		if tr.Err != "" {
			fmt.Fprintf(&b, "    ! apitap failed: %s\n", tr.Err)
		}
		for _, d := range tr.Missing {
			fmt.Fprintf(&b, "    - %s%s\n", d.Tuple.Format(tr.Fields), times(d.Count))
		}
		for _, d := range tr.Extra {
			fmt.Fprintf(&b, "    + %s%s\n", d.Tuple.Format(tr.Fields), times(d.Count))
		}
		for _, m := range tr.BodyMismatches {
			fmt.Fprintf(&b, "    ~ %s %s zeek=%d apitap=%d\n", m.Tuple.Format(tr.Fields), m.Field, m.Zeek, m.Apitap)
		}
	}
	b.WriteString(r.Totals().Summary())
	b.WriteByte('\n')
	return b.String()
}

func times(n int) string {
	if n == 1 {
		return ""
	}
	return fmt.Sprintf(" ×%d", n)
}

// WriteMarkdown writes the report as Markdown: the totals, a table with one
// row per trace (trace, zeek rows, apitap rows, matched, missing tuples,
// extra tuples), the body-length mismatches and the baseline each trace was
// compared with.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	t := r.Totals()
	b.WriteString("# Zeek conformance\n\n")
	fmt.Fprintf(&b, "- traces: %d (apitap failed on %d)\n", t.Traces, t.Failed)
	fmt.Fprintf(&b, "- rows: zeek %d, apitap %d, matched %d (missing %d, extra %d)\n", t.ZeekRows, t.APIRows, t.Matched, t.Missing, t.Extra)
	fmt.Fprintf(&b, "- recall: %.4f\n- precision: %.4f\n", t.Recall(), t.Precision())
	fmt.Fprintf(&b, "- body lengths agreeing on matched rows: %d/%d (%.4f)\n\n", t.BodyAgreed, t.BodyCompared, t.BodyAgreement())
	b.WriteString("Tuples are `method host uri status`; `*` marks a component the baseline lacks, `-` an empty one.\n\n")
	b.WriteString("| trace | zeek rows | apitap rows | matched | missing tuples | extra tuples |\n")
	b.WriteString("|---|---:|---:|---:|---|---|\n")
	trs := r.sorted()
	for _, tr := range trs {
		missing := diffCell(tr.Missing, tr.Fields)
		if tr.Err != "" {
			missing = "apitap failed: " + mdEscape(tr.Err) + joinCell(missing)
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %s | %s |\n", mdEscape(tr.Trace), tr.ZeekRows, tr.APIRows, tr.Matched,
			missing, diffCell(tr.Extra, tr.Fields))
	}
	if t.TracesWithBodyMM > 0 {
		b.WriteString("\n## Body length mismatches\n\n| trace | tuple | field | zeek | apitap |\n|---|---|---|---:|---:|\n")
		for _, tr := range trs {
			for _, m := range tr.BodyMismatches {
				fmt.Fprintf(&b, "| %s | <code>%s</code> | %s | %d | %d |\n", mdEscape(tr.Trace),
					mdEscape(m.Tuple.Format(tr.Fields)), m.Field, m.Zeek, m.Apitap)
			}
		}
	}
	b.WriteString("\n## Baselines\n\n| trace | baseline | compared on |\n|---|---|---|\n")
	for _, tr := range trs {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", mdEscape(tr.Trace), mdEscape(tr.Baseline), tr.Fields)
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("conformance: write report: %w", err)
	}
	return nil
}

func diffCell(ds []Diff, f Fields) string {
	if len(ds) == 0 {
		return ""
	}
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = "<code>" + mdEscape(d.Tuple.Format(f)) + "</code>" + times(d.Count)
	}
	return strings.Join(parts, "<br>")
}

func joinCell(s string) string {
	if s == "" {
		return ""
	}
	return "<br>" + s
}

// mdEscape makes s safe inside a Markdown table cell.
func mdEscape(s string) string {
	s = html.EscapeString(s)
	s = strings.ReplaceAll(s, "|", "&#124;")
	s = strings.ReplaceAll(s, "\n", " ")
	return s
}
