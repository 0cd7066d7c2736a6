package perf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
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

	outPath string
}

// Summary aggregates the runs of one command.
type Summary struct {
	Command             string
	Runs                int
	Median, Min, Max    time.Duration // wall time
	MBps                float64       // capture bytes / median wall time, in MB/s (10^6 bytes)
	MedianCPU           time.Duration
	MaxRSS              int64
	Requests, Responses int64 // of the last run
}

// Check is one of the promised ratios.
type Check struct {
	Name   string  // "tshark / apitap -w1"
	Ratio  float64 // ratio of the medians
	Target float64
	Pass   bool // Ratio >= Target
	// PairedMin and PairedMax bound the ratio computed round by round
	// (only for the worker check, whose commands run in every round).
	PairedMin, PairedMax float64
}

// CommandLine is the shell form of a timed command.
type CommandLine struct {
	Name, Line string
}

// Result is what Run measured.
type Result struct {
	Env            Env
	Capture        CaptureInfo
	Rounds         int
	TsharkRuns     int
	MinTsharkRatio float64
	MinWorkerRatio float64
	Commands       []CommandLine
	Runs           []RunResult // in the order they ran
	Summaries      []Summary   // apitap -w1, apitap -w2, tshark
	Checks         []Check
}

// Passed reports whether every ratio met its target.
func (r *Result) Passed() bool {
	for _, c := range r.Checks {
		if !c.Pass {
			return false
		}
	}
	return len(r.Checks) > 0
}

// summarize fills Summaries and Checks from Runs.
func (r *Result) summarize() {
	r.Summaries = r.Summaries[:0]
	medians := map[string]time.Duration{}
	for _, name := range []string{CmdApitap1, CmdApitap2, CmdTshark} {
		var walls, cpus []time.Duration
		s := Summary{Command: name}
		for _, run := range r.Runs {
			if run.Command != name {
				continue
			}
			walls = append(walls, run.Wall)
			cpus = append(cpus, run.CPU)
			s.MaxRSS = max(s.MaxRSS, run.MaxRSS)
			s.Requests, s.Responses = run.Requests, run.Responses
		}
		if len(walls) == 0 {
			continue
		}
		s.Runs = len(walls)
		s.Median, s.MedianCPU = median(walls), median(cpus)
		s.Min, s.Max = slices.Min(walls), slices.Max(walls)
		s.MBps = mbps(r.Capture.Bytes, s.Median)
		medians[name] = s.Median
		r.Summaries = append(r.Summaries, s)
	}
	r.Checks = r.Checks[:0]
	add := func(num, den string, target float64) *Check {
		n, okN := medians[num]
		d, okD := medians[den]
		if !okN || !okD || d <= 0 {
			return nil
		}
		c := Check{Name: num + " / " + den, Ratio: float64(n) / float64(d), Target: target}
		c.Pass = c.Ratio >= target
		r.Checks = append(r.Checks, c)
		return &r.Checks[len(r.Checks)-1]
	}
	add(CmdTshark, CmdApitap1, r.MinTsharkRatio)
	if c := add(CmdApitap1, CmdApitap2, r.MinWorkerRatio); c != nil {
		c.PairedMin, c.PairedMax = r.pairedRange(CmdApitap1, CmdApitap2)
	}
}

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
func median(ds []time.Duration) time.Duration {
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
	fmt.Fprintf(&b, "Method: %d rounds, each running apitap with one and with two workers (alternating which goes first), "+
		"tshark in %d of them; before each run, outside the timed region, the capture read into the page cache, the previous output removed "+
		"and dirty pages written out (sync); every output written to a new file next to the capture.\n\n",
		r.Rounds, r.TsharkRuns)

	b.WriteString("| command | runs | median wall | min – max | throughput | median CPU (user+sys) | peak RSS | output |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, s := range r.Summaries {
		out := fmt.Sprintf("%d transactions", s.Requests)
		if s.Command == CmdTshark {
			out = fmt.Sprintf("%d request + %d response lines", s.Requests, s.Responses)
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s – %s | %.1f MB/s | %s | %d MiB | %s |\n",
			s.Command, s.Runs, secs(s.Median), secs(s.Min), secs(s.Max), s.MBps, secs(s.MedianCPU), s.MaxRSS>>20, out)
	}
	b.WriteString("\n| check | ratio of medians | per round | target | result |\n|---|---:|---:|---:|---|\n")
	for _, ch := range r.Checks {
		paired := "–"
		if ch.PairedMax > 0 {
			paired = fmt.Sprintf("%.2f× – %.2f×", ch.PairedMin, ch.PairedMax)
		}
		verdict := "pass"
		if !ch.Pass {
			verdict = "**FAIL**"
		}
		fmt.Fprintf(&b, "| %s | %.2f× | %s | ≥ %g× | %s |\n", ch.Name, ch.Ratio, paired, ch.Target, verdict)
	}
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
		b.WriteString(strings.Replace(cl.Line, baseName(c.Path), "FILE", 1))
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
var ErrNoMarkers = errors.New("perf: the document has no " + BeginMarker + " … " + EndMarker + " section")

// Splice returns doc with the text between BeginMarker and EndMarker
// replaced by section (the markers stay).
func Splice(doc, section []byte) ([]byte, error) {
	i := bytes.Index(doc, []byte(BeginMarker))
	j := bytes.Index(doc, []byte(EndMarker))
	if i < 0 || j < i {
		return nil, ErrNoMarkers
	}
	i += len(BeginMarker)
	out := make([]byte, 0, len(doc)+len(section))
	out = append(out, doc[:i]...)
	out = append(out, '\n')
	out = append(out, section...)
	if len(section) > 0 && section[len(section)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, doc[j:]...), nil
}
