package accuracy

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/apitap/apitap/internal/docgen"
)

// Targets are the scores apitap must reach with learned templates on
// every spec.
type Targets struct {
	EndpointF1, PropertyRecall, PropertyPrecision, TypeAccuracy float64
}

// DefaultTargets returns the targets of issue 3: endpoint F1 ≥ 0.97,
// property recall ≥ 0.95, property precision ≥ 0.95, type accuracy ≥ 0.98.
func DefaultTargets() Targets {
	return Targets{EndpointF1: 0.97, PropertyRecall: 0.95, PropertyPrecision: 0.95, TypeAccuracy: 0.98}
}

// Failure is a score of a learned row under its target.
type Failure struct {
	Spec   string
	Score  string // "endpoint F1", "property recall", "property precision", "type accuracy"
	Value  float64
	Target float64
}

func (f Failure) String() string {
	return fmt.Sprintf("%s: %s %s is below the target %g", f.Spec, f.Score, score(f.Value), f.Target)
}

// checks lists the targeted scores of s with their targets.
func (t Targets) checks(s Scores) []Failure {
	return []Failure{
		{Score: "endpoint F1", Value: s.Endpoints.F1, Target: t.EndpointF1},
		{Score: "property recall", Value: s.Properties.Recall, Target: t.PropertyRecall},
		{Score: "property precision", Value: s.Properties.Precision, Target: t.PropertyPrecision},
		{Score: "type accuracy", Value: s.Types.Accuracy, Target: t.TypeAccuracy},
	}
}

// Failures lists the scores of the learned rows that miss their targets,
// in row order. The literal rows are the baseline and have no targets.
func (r *Result) Failures(t Targets) []Failure {
	var out []Failure
	for _, row := range r.Rows {
		if row.Mode != ModeLearned {
			continue
		}
		for _, c := range t.checks(row.Scores) {
			if c.Value < c.Target {
				c.Spec = row.Spec
				out = append(out, c)
			}
		}
	}
	return out
}

// score formats a ratio truncated (not rounded) to three decimals, so
// that a value shown at or above a target of at most three decimals is
// at or above it.
func score(v float64) string {
	return fmt.Sprintf("%.3f", math.Floor(v*1000+1e-9)/1000)
}

// WriteMarkdown writes the tables of docs/ACCURACY.md: the scores, one
// row per spec and mode, then the details. The output depends only on
// the Result (no clock, no paths), so the same run gives the same bytes.
func (r *Result) WriteMarkdown(w io.Writer, t Targets) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Lab seed %d, %d calls per operation. `learned`: apitap's path templates (the default); "+
		"`literal`: every distinct path is an endpoint (`--path-templates literal`, the naive baseline). "+
		"Properties and types are scored on the responses the lab produced at least %d times. "+
		"Ratios are truncated to three decimals; ✗ marks a learned score under its target "+
		"(endpoint F1 %g, property recall %g, property precision %g, type accuracy %g).\n\n",
		r.Seed, r.Calls, r.MinSamples, t.EndpointF1, t.PropertyRecall, t.PropertyPrecision, t.TypeAccuracy)

	b.WriteString("| Spec | Templates | Endpoints matched / documented / inferred | Endpoint precision | Endpoint recall | Endpoint F1 " +
		"| Split / merged | Parameters found / documented | Parameter recall " +
		"| Properties matched / documented / inferred | Property recall | Property precision " +
		"| Types agreeing / compared | Type accuracy |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, row := range r.Rows {
		s := row.Scores
		mark := func(v, target float64) string {
			if row.Mode == ModeLearned && v < target {
				return score(v) + " ✗"
			}
			return score(v)
		}
		fmt.Fprintf(&b, "| %s | %s | %d / %d / %d | %s | %s | %s | %d / %d | %d / %d | %s | %d / %d / %d | %s | %s | %d / %d | %s |\n",
			row.Spec, row.Mode,
			s.Endpoints.Matched, s.Endpoints.Expected, s.Endpoints.Inferred,
			score(s.Endpoints.Precision), score(s.Endpoints.Recall), mark(s.Endpoints.F1, t.EndpointF1),
			s.Endpoints.Split, s.Endpoints.Merged,
			s.Params.Found, s.Params.Expected, score(s.Params.Recall),
			s.Properties.Matched, s.Properties.Expected, s.Properties.Inferred,
			mark(s.Properties.Recall, t.PropertyRecall), mark(s.Properties.Precision, t.PropertyPrecision),
			s.Types.Agree, s.Types.Compared, mark(s.Types.Accuracy, t.TypeAccuracy))
	}

	b.WriteString("\nDetails: what the lab exercised, and what the scores above leave out.\n\n")
	b.WriteString("| Spec | Templates | Operations called / in spec | Calls | Responses scored / seen / documented " +
		"| Properties of responses too rare to score | Undocumented statuses " +
		"| Nullable found / documented | Nullable extra | Integer vs number |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, row := range r.Rows {
		s, rec := row.Scores, row.Recording
		fmt.Fprintf(&b, "| %s | %s | %d / %d | %d | %d / %d / %d | %d | %d | %d / %d | %d | %d |\n",
			row.Spec, row.Mode, rec.Called, rec.Operations, rec.Calls,
			s.Responses.Compared-s.Responses.Sparse, s.Responses.Compared, s.Responses.Documented,
			s.Responses.SparseProperties, s.Responses.Undocumented,
			s.Nullable.Found, s.Nullable.Expected, s.Nullable.Extra, s.Types.IntegerNumber)
	}
	var skipped []string
	for _, row := range r.Rows {
		if row.Mode != ModeLearned {
			continue
		}
		for _, s := range row.Recording.Skipped {
			skipped = append(skipped, fmt.Sprintf("- %s: %s", row.Spec, s))
		}
	}
	if len(skipped) > 0 {
		b.WriteString("\nOperations the lab could not exercise:\n\n")
		b.WriteString(strings.Join(skipped, "\n"))
		b.WriteByte('\n')
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Markers delimit the generated part of docs/ACCURACY.md.
const (
	BeginMarker = "<!-- apitap-accuracy:begin -->"
	EndMarker   = "<!-- apitap-accuracy:end -->"
)

// ErrNoMarkers is returned by Splice when doc lacks the markers.
var ErrNoMarkers = docgen.ErrNoMarkers

// Splice returns doc with the text between BeginMarker and EndMarker
// replaced by section (the markers stay, each on its own line).
func Splice(doc, section []byte) ([]byte, error) {
	return docgen.Splice(doc, section, BeginMarker, EndMarker)
}
