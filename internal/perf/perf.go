package perf

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/apitap/apitap/internal/synth"
)

// Defaults of Config.
const (
	DefaultSize           = 1_000_000_000 // 1 GB
	DefaultRounds         = 5
	DefaultTsharkRuns     = 1
	DefaultMinTsharkRatio = 50
	DefaultMinWorkerRatio = 1.7
	// DefaultMinAnalysisRatio is issue 3's target: with analysis on,
	// apitap keeps at least 70 % of its transaction-extraction
	// throughput.
	DefaultMinAnalysisRatio = 0.70
)

// tsharkArgs is the tshark command line apitap is compared with, after
// "tshark -r FILE": the fields of every HTTP request and response.
func tsharkArgs() []string {
	return []string{"-Y", "http", "-T", "fields",
		"-e", "http.request.method", "-e", "http.host", "-e", "http.request.uri", "-e", "http.response.code"}
}

// Config configures Run. Every field's zero value has a documented meaning.
type Config struct {
	// CacheDir holds the capture (reused across runs when Size and Seed
	// match), the apitap binary Run builds and the commands' outputs.
	// Empty: apitap/bench under os.UserCacheDir.
	CacheDir string
	// Size is the target size of the capture in bytes (the synthesizer
	// ends slightly above it). Zero: 1 GB.
	Size int64
	// Seed seeds the synthesizer; zero is a seed like any other.
	Seed uint64
	// Apitap is the apitap binary to time. Empty: Run builds
	// github.com/apitap/apitap/cmd/apitap with `go build` into CacheDir
	// (the working directory must be inside this module).
	Apitap string
	// Tshark is the tshark binary, looked up in PATH when it has no slash.
	// Empty: "tshark".
	Tshark string
	// Rounds is the number of timed runs of each of the four apitap
	// commands. Zero: 5.
	Rounds int
	// TsharkRuns is the number of timed tshark runs, spread over the
	// rounds; it may not exceed Rounds. Zero: 1.
	TsharkRuns int
	// MinTsharkRatio is the target of tshark's median over apitap's with
	// one worker (analysis on; the extraction-only ratio is shown beside
	// it, not judged). Zero: 50.
	MinTsharkRatio float64
	// MinWorkerRatio is the target of apitap's median with one worker over
	// its median with two (analysis on; the extraction-only ratio is shown
	// beside it, not judged). Zero: 1.7.
	MinWorkerRatio float64
	// MinAnalysisRatio is the target of the median of apitap -w2
	// --analyze=false over the median of apitap -w2: the share of the
	// extraction throughput that analysis keeps (the same ratio with one
	// worker is shown beside it, not judged). Zero: 0.70.
	MinAnalysisRatio float64
	// Log receives one line per step and per run. Nil: no log.
	Log io.Writer
}

func (c Config) normalize() (Config, error) {
	if c.Size < 0 || c.Rounds < 0 || c.TsharkRuns < 0 || c.MinTsharkRatio < 0 || c.MinWorkerRatio < 0 || c.MinAnalysisRatio < 0 {
		return c, errors.New("perf: Size, Rounds, TsharkRuns and the ratios must not be negative")
	}
	if c.CacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return c, fmt.Errorf("perf: no cache directory (give one): %w", err)
		}
		c.CacheDir = filepath.Join(dir, "apitap", "bench")
	}
	if c.Size == 0 {
		c.Size = DefaultSize
	}
	if c.Tshark == "" {
		c.Tshark = "tshark"
	}
	if c.Rounds == 0 {
		c.Rounds = DefaultRounds
	}
	if c.TsharkRuns == 0 {
		c.TsharkRuns = DefaultTsharkRuns
	}
	if c.TsharkRuns > c.Rounds {
		return c, fmt.Errorf("perf: %d tshark runs do not fit in %d rounds; at most one tshark run per round", c.TsharkRuns, c.Rounds)
	}
	if c.MinTsharkRatio == 0 {
		c.MinTsharkRatio = DefaultMinTsharkRatio
	}
	if c.MinWorkerRatio == 0 {
		c.MinWorkerRatio = DefaultMinWorkerRatio
	}
	if c.MinAnalysisRatio == 0 {
		c.MinAnalysisRatio = DefaultMinAnalysisRatio
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c, nil
}

// The commands a run times: apitap as a user runs it (analysis on, the
// default), apitap extracting transactions only (--analyze=false), each
// with one and with two workers; the sharded reference; and tshark.
//
// The sharded reference measures what the machine gives two workers at
// best: the capture cut beforehand into the two halves that the two
// workers of apitap -w2 get (by the same flow hash), and two apitap -w1
// processes, one per half, run at the same time, with nothing shared and
// nothing handed between them. Its wall time runs from the start of both
// to the exit of the last; its CPU time and peak RSS are the sums of the
// two processes'.
const (
	CmdApitap1        = "apitap -w1"
	CmdApitap2        = "apitap -w2"
	CmdApitap1Extract = "apitap -w1 --analyze=false"
	CmdApitap2Extract = "apitap -w2 --analyze=false"
	CmdSharded        = "2 × apitap -w1 on shards"
	CmdTshark         = "tshark"
)

// apitapVariant is one of the timed apitap commands.
type apitapVariant struct {
	name    string
	workers int
	analyze bool
	out     string // output file's name in the cache directory
}

// apitapVariants returns the timed apitap commands, in the order of the
// first round and of the reports.
func apitapVariants() [4]apitapVariant {
	return [...]apitapVariant{
		{CmdApitap1, 1, true, "apitap-w1.jsonl"},
		{CmdApitap2, 2, true, "apitap-w2.jsonl"},
		{CmdApitap1Extract, 1, false, "apitap-w1-extract.jsonl"},
		{CmdApitap2Extract, 2, false, "apitap-w2-extract.jsonl"},
	}
}

// apitapNames lists the apitap commands every round runs: the variants,
// then the sharded reference.
func apitapNames() []string {
	var names []string
	for _, v := range apitapVariants() {
		names = append(names, v.name)
	}
	return append(names, CmdSharded)
}

// commandNames lists every command in the order of the reports.
func commandNames() []string {
	return append(apitapNames(), CmdTshark)
}

// analyzes reports whether the named command runs the analyze stage, so
// that its transactions carry their endpoint.
func analyzes(name string) bool {
	if name == CmdSharded {
		return true
	}
	for _, v := range apitapVariants() {
		if v.name == name {
			return v.analyze
		}
	}
	return false
}

// Run makes or reuses the capture, times the commands and returns the
// figures. It returns an error when a command fails or its output is
// incomplete; a ratio that misses its target is not an error (see
// Result.Passed).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	outDir := filepath.Join(cfg.CacheDir, "out")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("perf: cache directory: %w", err)
	}
	capInfo, err := ensureCapture(cfg)
	if err != nil {
		return nil, err
	}
	apitap := cfg.Apitap
	if apitap == "" {
		if apitap, err = buildApitap(ctx, cfg); err != nil {
			return nil, err
		}
	}
	tshark, err := exec.LookPath(cfg.Tshark)
	if err != nil {
		return nil, fmt.Errorf("perf: tshark not found (%w); install it (make setup installs it) or pass its path", err)
	}
	res := &Result{Capture: capInfo, Rounds: cfg.Rounds, TsharkRuns: cfg.TsharkRuns,
		MinTsharkRatio: cfg.MinTsharkRatio, MinWorkerRatio: cfg.MinWorkerRatio, MinAnalysisRatio: cfg.MinAnalysisRatio}
	res.Env = environment(ctx, apitap, tshark)

	shardPaths, err := ensureShards(cfg, capInfo)
	if err != nil {
		return nil, err
	}
	cmds := map[string]command{CmdTshark: tsharkCommand(tshark, capInfo.Path, filepath.Join(outDir, "tshark.tsv"))}
	for _, v := range apitapVariants() {
		cmds[v.name] = apitapCommand(apitap, capInfo.Path, filepath.Join(outDir, v.out), v.workers, v.analyze)
	}
	cmds[CmdSharded] = shardedCommand(apitap, shardPaths, outDir)
	for _, name := range commandNames() {
		res.Commands = append(res.Commands, CommandLine{Name: name, Line: cmds[name].line()})
	}
	res.Env.LoadBefore = loadAverage()
	for round, names := range schedule(cfg.Rounds, cfg.TsharkRuns) {
		for _, name := range names {
			// Every command finds the capture in the page cache: read
			// it again before each run, since the kernel may have
			// reclaimed pages of it meanwhile (proactive reclaim such
			// as DAMON's pages out what was not touched for a while).
			for _, in := range cmds[name].inputs {
				if err := readAll(in); err != nil {
					return nil, err
				}
			}
			r, err := cmds[name].run(ctx)
			if err != nil {
				return nil, err
			}
			r.Round = round + 1
			if err := checkOutput(&r, capInfo); err != nil {
				return nil, err
			}
			res.Runs = append(res.Runs, r)
			fmt.Fprintf(cfg.Log, "round %d: %-26s %8.3fs  %7.1f MB/s  cpu %.2fs  rss %d MiB\n", r.Round, r.Command,
				r.Wall.Seconds(), mbps(capInfo.Bytes, r.Wall), r.CPU.Seconds(), r.MaxRSS>>20)
		}
	}
	res.Env.LoadAfter = loadAverage()
	res.summarize()
	return res, nil
}

// schedule returns the commands of each round: the apitap commands in an
// order that rotates by one from round to round (round i starts with the
// i-th of apitapNames, modulo their number), and tshark on tsharkRuns
// rounds spread evenly, last.
func schedule(rounds, tsharkRuns int) [][]string {
	out := make([][]string, rounds)
	names := apitapNames()
	for i := range out {
		out[i] = make([]string, 0, len(names)+1)
		for k := range names {
			out[i] = append(out[i], names[(i+k)%len(names)])
		}
	}
	for j := range tsharkRuns {
		i := (2*j + 1) * rounds / (2 * tsharkRuns)
		out[i] = append(out[i], CmdTshark)
	}
	return out
}

// CaptureInfo describes the capture the commands read.
type CaptureInfo struct {
	Path      string
	Seed      uint64
	Bytes     int64 // file size
	Packets   int64
	Exchanges int64 // request/response pairs the synthesizer wrote
	Reused    bool  // found in the cache rather than written by this run
}

// ensureCapture returns the cached capture for cfg.Size and cfg.Seed,
// writing it (and its sidecar of synthesizer statistics) when it is
// missing or does not match its sidecar.
func ensureCapture(cfg Config) (CaptureInfo, error) {
	base := filepath.Join(cfg.CacheDir, fmt.Sprintf("bulk-%d-seed%d", cfg.Size, cfg.Seed))
	path, meta := base+".pcap", base+".json"
	info := CaptureInfo{Path: path, Seed: cfg.Seed}
	var st synth.Stats
	if b, err := os.ReadFile(meta); err == nil && json.Unmarshal(b, &st) == nil {
		if fi, err := os.Stat(path); err == nil && fi.Size() == st.Bytes && st.Exchanges > 0 {
			info.Bytes, info.Packets, info.Exchanges, info.Reused = st.Bytes, st.Packets, st.Exchanges, true
			fmt.Fprintf(cfg.Log, "reusing %s (%d bytes)\n", path, st.Bytes)
			return info, nil
		}
	}
	fmt.Fprintf(cfg.Log, "writing %s (%d bytes)\n", path, cfg.Size)
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return info, fmt.Errorf("perf: writing the capture: %w", err)
	}
	st, err = synth.WriteBulkAPI(f, synth.BulkConfig{Size: cfg.Size, Seed: cfg.Seed})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return info, fmt.Errorf("perf: writing the capture %s: %w", path, err)
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err == nil {
		err = os.WriteFile(meta, b, 0o644)
	}
	if err != nil {
		return info, fmt.Errorf("perf: writing the capture's statistics %s: %w", meta, err)
	}
	info.Bytes, info.Packets, info.Exchanges = st.Bytes, st.Packets, st.Exchanges
	return info, nil
}

// buildApitap builds cmd/apitap of this module into the cache directory.
func buildApitap(ctx context.Context, cfg Config) (string, error) {
	bin := filepath.Join(cfg.CacheDir, "apitap")
	fmt.Fprintf(cfg.Log, "building %s\n", bin)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/apitap/apitap/cmd/apitap")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("perf: building apitap (run from inside the apitap module): %w\n%s", err, out)
	}
	return bin, nil
}

// readAll reads path once, to bring it into the page cache.
func readAll(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("perf: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, f); err != nil {
		return fmt.Errorf("perf: reading %s: %w", path, err)
	}
	return nil
}

// command is one timed command: one process, or several started together
// (the sharded reference). Process i runs argvs[i] and writes outs[i]
// (its standard output when stdout is set); inputs are the files it
// reads, brought into the page cache before each run.
type command struct {
	name   string
	argvs  [][]string
	outs   []string
	inputs []string
	stdout bool // each output file is the process's standard output
}

// apitapCommand is `apitap analyze` writing its transactions to out, with
// the inventory table turned off (--table=false) and, unless analyze,
// the analyze stage too (--analyze=false). Its standard output is
// discarded.
func apitapCommand(bin, capture, out string, workers int, analyze bool) command {
	name := fmt.Sprintf("apitap -w%d", workers)
	if !analyze {
		name += " --analyze=false"
	}
	return command{name: name, argvs: [][]string{apitapArgv(bin, capture, out, workers, analyze)},
		outs: []string{out}, inputs: []string{capture}}
}

func apitapArgv(bin, capture, out string, workers int, analyze bool) []string {
	argv := []string{bin, "analyze", capture, "--transactions", out, "--workers", strconv.Itoa(workers)}
	if !analyze {
		argv = append(argv, "--analyze=false")
	}
	return append(argv, "--table=false", "--progress", "never", "--quiet")
}

// shardedCommand is the sharded reference: `apitap analyze --workers 1`
// (analysis on) on each shard, all at once.
func shardedCommand(bin string, shards []string, outDir string) command {
	c := command{name: CmdSharded, inputs: shards}
	for i, in := range shards {
		out := filepath.Join(outDir, fmt.Sprintf("apitap-shard%d.jsonl", i))
		c.argvs = append(c.argvs, apitapArgv(bin, in, out, 1, true))
		c.outs = append(c.outs, out)
	}
	return c
}

func tsharkCommand(bin, capture, out string) command {
	return command{name: CmdTshark, argvs: [][]string{append([]string{bin, "-r", capture}, tsharkArgs()...)},
		outs: []string{out}, inputs: []string{capture}, stdout: true}
}

// line is the shell form of the command, with the cache directory's paths
// shortened to their base names; processes started together are joined
// with " & ".
func (c command) line() string {
	procs := make([]string, len(c.argvs))
	for p, argv := range c.argvs {
		parts := make([]string, len(argv))
		for i, a := range argv {
			if filepath.IsAbs(a) {
				a = filepath.Base(a)
			}
			parts[i] = a
		}
		procs[p] = strings.Join(parts, " ")
		if c.stdout {
			procs[p] += " > " + filepath.Base(c.outs[p])
		}
	}
	return strings.Join(procs, " & ")
}

// run times one execution. Before the clock starts, the previous run's
// outputs are removed and dirty pages are written out, so that every run
// starts from the same state: new output files and no writeback in
// progress. The wall time covers starting the processes to the exit of
// the last, outputs written and closed; CPU time and peak RSS are summed
// over the processes.
func (c command) run(ctx context.Context) (RunResult, error) {
	r := RunResult{Command: c.name}
	for _, out := range c.outs {
		if err := os.Remove(out); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return r, fmt.Errorf("perf: %s: removing the previous output: %w", c.name, err)
		}
	}
	syncDisks()
	cmds := make([]*exec.Cmd, len(c.argvs))
	stderrs := make([]bytes.Buffer, len(c.argvs))
	for i, argv := range c.argvs {
		cmds[i] = exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmds[i].Stderr = &stderrs[i]
		if c.stdout {
			f, err := os.Create(c.outs[i])
			if err != nil {
				return r, fmt.Errorf("perf: %s: %w", c.name, err)
			}
			defer f.Close()
			cmds[i].Stdout = f
		}
	}
	start := time.Now()
	var startErr error
	for _, cmd := range cmds {
		if startErr = cmd.Start(); startErr != nil {
			break
		}
	}
	errs := make([]error, len(cmds))
	for i, cmd := range cmds {
		if cmd.Process != nil {
			errs[i] = cmd.Wait()
		}
	}
	r.Wall = time.Since(start)
	if startErr != nil {
		return r, fmt.Errorf("perf: %s: %w", c.line(), startErr)
	}
	for i, err := range errs {
		if err != nil {
			return r, fmt.Errorf("perf: %s failed: %w\n%s", c.line(), err, tail(stderrs[i].Bytes(), 2048))
		}
	}
	for i, cmd := range cmds {
		if f, ok := cmd.Stdout.(*os.File); ok {
			if err := f.Close(); err != nil {
				return r, fmt.Errorf("perf: %s: %w", c.name, err)
			}
		}
		r.CPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		r.MaxRSS += maxRSS(cmd.ProcessState)
		r.outPaths = append(r.outPaths, c.outs[i])
	}
	return r, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return b
}

// endpointField is how a JSON line of apitap's starts its "endpoint"
// field. It cannot occur inside a string value, where every quote is
// escaped.
const endpointField = `,"endpoint":"`

// checkOutput counts the records of a run's outputs (summed over its
// processes): apitap must have written one transaction per exchange of the
// capture, with analysis on at least one of them attributed to an endpoint
// (the line carries "endpoint"), with --analyze=false none; tshark's
// request and response lines are counted for the report.
func checkOutput(r *RunResult, capInfo CaptureInfo) error {
	for _, path := range r.outPaths {
		if err := countOutput(r, path); err != nil {
			return err
		}
	}
	if r.Command == CmdTshark {
		return nil
	}
	if r.Requests != capInfo.Exchanges {
		return fmt.Errorf("perf: %s wrote %d transactions; the capture holds %d exchanges", r.Command, r.Requests, capInfo.Exchanges)
	}
	switch an := analyzes(r.Command); {
	case an && r.Endpoints == 0:
		return fmt.Errorf("perf: %s attributed none of its %d transactions to an endpoint (no \"endpoint\" in its output): is the analyze stage on?", r.Command, r.Requests)
	case !an && r.Endpoints > 0:
		return fmt.Errorf("perf: %s attributed %d transactions to an endpoint: the analyze stage ran", r.Command, r.Endpoints)
	}
	return nil
}

// countOutput adds the records of one output file of a run to r.
func countOutput(r *RunResult, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("perf: %s output: %w", r.Command, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if r.Command != CmdTshark {
			r.Requests++
			if bytes.Contains(line, []byte(endpointField)) {
				r.Endpoints++
			}
			continue
		}
		// method, host, uri, code: a request line has a method, a
		// response line a code.
		if i := bytes.IndexByte(line, '\t'); i > 0 {
			r.Requests++
		} else if j := bytes.LastIndexByte(line, '\t'); j >= 0 && j+1 < len(line) {
			r.Responses++
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("perf: reading %s output: %w", r.Command, err)
	}
	return nil
}

// Env describes the machine and the tools of a run.
type Env struct {
	CPUs           int
	CPUModel       string
	GoVersion      string // of this benchmark's toolchain
	Apitap, Tshark string // first line of their version output
	// LoadBefore and LoadAfter are /proc/loadavg's one-minute averages
	// before the first and after the last timed run (-1: unknown).
	LoadBefore, LoadAfter float64
}

func environment(ctx context.Context, apitap, tshark string) Env {
	e := Env{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), CPUModel: cpuModel()}
	e.Apitap = firstLine(ctx, apitap, "version")
	e.Tshark = firstLine(ctx, tshark, "--version")
	return e
}

func firstLine(ctx context.Context, bin string, args ...string) string {
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSuffix(strings.TrimSpace(line), ".")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f, _, _ := strings.Cut(string(b), " ")
	v, err := strconv.ParseFloat(f, 64)
	if err != nil {
		return -1
	}
	return v
}
