package perf

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/apitap/apitap/internal/docgen"
)

// RunResult is one timed execution of a command.
type RunResult struct {
	Command string
	Round   int           // 1-based
	Wall    time.Duration // process start to exit
	CPU     time.Duration // user + system time of the process
	MaxRSS  int64         // peak resident memory in bytes (0: unknown)
	// Requests counts apitap's transactions, or tshark's request lines;
	// Responses counts tshark's response lines (0 for apitap).
	Requests, Responses int64
	// Endpoints counts apitap's transactions attributed to an endpoint
	// (their JSON line carries "endpoint"); 0 for tshark and for apitap
	// with --analyze=false.
	Endpoints int64

	outPaths []string // the output files, one per process
}

// Summary aggregates the runs of one command.
type Summary struct {
	Command                        string
	Runs                           int
	Median, Min, Max               time.Duration // wall time
	MBps                           float64       // capture bytes / median wall time, in MB/s (10^6 bytes)
	MedianCPU                      time.Duration
	MedianRSS, MaxRSS              int64 // of the runs' peak resident memory, in bytes
	Requests, Responses, Endpoints int64 // of the last run
}

// Check is one of the promised ratios, or one shown beside them.
type Check struct {
	Name   string // "tshark / apitap -w1": the numerator's median over the denominator's
	Group  string // what the ratio measures, for the report: "issue 2, analysis on"
	Ratio  float64
	Target float64
	Pass   bool // Ratio >= Target
	// Info marks a ratio shown for comparison only (the extraction-only
	// ones, the analysis ratio with one worker): Passed ignores it.
	Info bool
	// PairedMin and PairedMax bound the ratio computed round by round
	// (only for ratios of two apitap commands, which run in every round;
	// zero otherwise).
	PairedMin, PairedMax float64
}

// CommandLine is the shell form of a timed command.
type CommandLine struct {
	Name, Line string
}

// Result is what Run measured.
type Result struct {
	Env              Env
	Capture          CaptureInfo
	Rounds           int
	TsharkRuns       int
	MinTsharkRatio   float64
	MinWorkerRatio   float64
	MinAnalysisRatio float64
	Commands         []CommandLine
	Runs             []RunResult // in the order they ran
	// Summaries follow the order of commandNames: apitap -w1, -w2, then
	// both with --analyze=false, then tshark (a command without runs is
	// left out).
	Summaries []Summary
	// Checks: the tshark ratio, the worker ratio (each with analysis on,
	// judged, then extraction only, for comparison), and the analysis
	// ratio (with two workers, judged, then with one, for comparison).
	Checks []Check
}

// Passed reports whether every judged ratio (every check but the Info
// ones) met its target; false when there is none.
func (r *Result) Passed() bool {
	judged := 0
	for _, c := range r.Checks {
		if c.Info {
			continue
		}
		if !c.Pass {
			return false
		}
		judged++
	}
	return judged > 0
}

// summarize fills Summaries and Checks from Runs.
func (r *Result) summarize() {
	r.Summaries = r.Summaries[:0]
	medians := map[string]time.Duration{}
	for _, name := range commandNames() {
		var walls, cpus []time.Duration
		var rss []int64
		s := Summary{Command: name}
		for _, run := range r.Runs {
			if run.Command != name {
				continue
			}
			walls = append(walls, run.Wall)
			cpus = append(cpus, run.CPU)
			rss = append(rss, run.MaxRSS)
			s.Requests, s.Responses, s.Endpoints = run.Requests, run.Responses, run.Endpoints
		}
		if len(walls) == 0 {
			continue
		}
		s.Runs = len(walls)
		s.Median, s.MedianCPU = median(walls), median(cpus)
		s.MedianRSS, s.MaxRSS = median(rss), slices.Max(rss)
		s.Min, s.Max = slices.Min(walls), slices.Max(walls)
		s.MBps = mbps(r.Capture.Bytes, s.Median)
		medians[name] = s.Median
		r.Summaries = append(r.Summaries, s)
	}
	r.Checks = r.Checks[:0]
	add := func(group, num, den string, target float64, info bool) {
		n, okN := medians[num]
		d, okD := medians[den]
		if !okN || !okD || d <= 0 {
			return
		}
		c := Check{Name: num + " / " + den, Group: group, Ratio: float64(n) / float64(d), Target: target, Info: info}
		c.Pass = c.Ratio >= target
		if num != CmdTshark && den != CmdTshark {
			c.PairedMin, c.PairedMax = r.pairedRange(num, den)
		}
		r.Checks = append(r.Checks, c)
	}
	add(groupDefault, CmdTshark, CmdApitap1, r.MinTsharkRatio, false)
	add(groupExtract, CmdTshark, CmdApitap1Extract, r.MinTsharkRatio, true)
	add(groupDefault, CmdApitap1, CmdApitap2, r.MinWorkerRatio, false)
	add(groupExtract, CmdApitap1Extract, CmdApitap2Extract, r.MinWorkerRatio, true)
	add(groupAnalysis, CmdApitap2Extract, CmdApitap2, r.MinAnalysisRatio, false)
	add(groupAnalysis1, CmdApitap1Extract, CmdApitap1, r.MinAnalysisRatio, true)
	add(groupSharded, CmdApitap1, CmdSharded, r.MinWorkerRatio, true)
}

// The groups of the checks, as the report names them.
const (
	groupDefault   = "issue 2, analysis on (default)"
	groupExtract   = "issue 2, extraction only"
	groupAnalysis  = "issue 3, analysis, two workers"
	groupAnalysis1 = "issue 3, analysis, one worker"
	groupSharded   = "reference: two CPUs, work split beforehand"
)

// pairedRange returns the smallest and largest per-round ratio of num's
// wall time over den's.
func (r *Result) pairedRange(num, den string) (lo, hi float64) {
	byRound := map[int]map[string]time.Duration{}
	for _, run := range r.Runs {
		if byRound[run.Round] == nil {
			byRound[run.Round] = map[string]time.Duration{}
		}
		byRound[run.Round][run.Command] = run.Wall
	}
	first := true
	for _, m := range byRound {
		n, okN := m[num]
		d, okD := m[den]
		if !okN || !okD || d <= 0 {
			continue
		}
		v := float64(n) / float64(d)
		if first || v < lo {
			lo = v
		}
		if first || v > hi {
			hi = v
		}
		first = false
	}
	return lo, hi
}

// median returns the median of ds (the mean of the middle two for an even
// count); ds is not modified.
func median[T ~int64](ds []T) T {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

func mbps(bytes int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(bytes) / 1e6 / d.Seconds()
}

// WriteMarkdown writes the figures as Markdown: the setting, the table of
// medians, the checks, every run, and the command lines.
func (r *Result) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	e, c := r.Env, r.Capture
	fmt.Fprintf(&b, "Capture: `%s`, %s bytes (%.2f GB), %d packets, %d request/response exchanges (internal/synth bulk API traffic, seed %d).  \n",
		baseName(c.Path), group(c.Bytes), float64(c.Bytes)/1e9, c.Packets, c.Exchanges, c.Seed)
	fmt.Fprintf(&b, "Machine: %d CPUs (%s); one-minute load average %s before the first run, %s after the last.  \n",
		e.CPUs, e.CPUModel, load(e.LoadBefore), load(e.LoadAfter))
	fmt.Fprintf(&b, "Tools: %s (built with %s); %s.  \n", e.Apitap, e.GoVersion, e.Tshark)
	fmt.Fprintf(&b, "Method: %d rounds, each running apitap with one and with two workers, with analysis on (the default) and with "+
		"`--analyze=false` (transaction extraction only), and the sharded reference (`%s`: the capture cut beforehand by flow into the two halves "+
		"the two workers of `apitap -w2` get, and `apitap -w1` on each half, both at once; wall time to the exit of the last, CPU time and peak RSS summed), "+
		"in an order rotating by one command from round to round, "+
		"tshark in %d of them, last; before each run, outside the timed region, the capture read into the page cache, the previous output removed "+
		"and dirty pages written out (sync); every output written to a new file next to the capture.\n\n",
		r.Rounds, CmdSharded, r.TsharkRuns)

	b.WriteString("| command | runs | median wall | min – max | throughput | median CPU (user+sys) | peak RSS: median (max) | output |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, s := range r.Summaries {
		out := fmt.Sprintf("%d transactions", s.Requests)
		switch {
		case s.Command == CmdTshark:
			out = fmt.Sprintf("%d request + %d response lines", s.Requests, s.Responses)
		case analyzes(s.Command):
			out += fmt.Sprintf(", %d with an endpoint", s.Endpoints)
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s – %s | %.1f MB/s | %s | %d MiB (%d MiB) | %s |\n",
			s.Command, s.Runs, secs(s.Median), secs(s.Min), secs(s.Max), s.MBps, secs(s.MedianCPU), s.MedianRSS>>20, s.MaxRSS>>20, out)
	}
	b.WriteString("\n| what | ratio of medians (wall) | value | per round | target | result |\n|---|---|---:|---:|---:|---|\n")
	for _, ch := range r.Checks {
		paired := "–"
		if ch.PairedMax > 0 {
			paired = fmt.Sprintf("%.2f× – %.2f×", ch.PairedMin, ch.PairedMax)
		}
		var verdict string
		switch {
		case ch.Info && ch.Pass:
			verdict = "met (not judged)"
		case ch.Info:
			verdict = "missed (not judged)"
		case ch.Pass:
			verdict = "pass"
		default:
			verdict = "**FAIL**"
		}
		fmt.Fprintf(&b, "| %s | %s | %.2f× | %s | ≥ %g× | %s |\n", ch.Group, ch.Name, ch.Ratio, paired, ch.Target, verdict)
	}
	b.WriteString("\nJudged: issue 2's targets on the default commands (analysis on) and issue 3's analysis ratio with two workers; " +
		"the extraction-only ratios and the analysis ratio with one worker are shown beside them. " +
		"The analysis ratio is the extraction-only median over the default's: the share of the transaction-extraction throughput that apitap keeps " +
		"while it also attributes endpoints and learns the inventory and schemas. " +
		"The reference is what this machine gives two CPUs at best for the same work: nothing shared between the two processes and nothing handed " +
		"from one to the other, each one's reading, collecting and writing on its own; `apitap -w1` over it is the worker ratio that perfect sharding would reach here.\n")
	b.WriteString("\nEvery run, in order (wall time):\n\n")
	for round := 1; round <= r.Rounds; round++ {
		var parts []string
		for _, run := range r.Runs {
			if run.Round == round {
				parts = append(parts, fmt.Sprintf("%s %s", run.Command, secs(run.Wall)))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, "- round %d: %s\n", round, strings.Join(parts, ", "))
		}
	}
	b.WriteString("\nCommands (FILE is the capture; outputs in the same directory):\n\n```\n")
	for _, cl := range r.Commands {
		b.WriteString(strings.ReplaceAll(cl.Line, baseName(c.Path), "FILE"))
		b.WriteByte('\n')
	}
	b.WriteString("```\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func secs(d time.Duration) string {
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func load(v float64) string {
	if v < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.2f", v)
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// group writes n in groups of three digits: 1 000 063 896.
func group(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Markers delimit the generated part of docs/PERFORMANCE.md.
const (
	BeginMarker = "<!-- apitap-bench:begin -->"
	EndMarker   = "<!-- apitap-bench:end -->"
)

// ErrNoMarkers is returned by Splice when doc lacks the markers.
var ErrNoMarkers = docgen.ErrNoMarkers

// Splice returns doc with the text between BeginMarker and EndMarker
// replaced by section (the markers stay, each on its own line).
func Splice(doc, section []byte) ([]byte, error) {
	return docgen.Splice(doc, section, BeginMarker, EndMarker)
}
