//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apitap/apitap/internal/synth"
)

// floodRun is one `apitap analyze` of a synthesized connection flood under
// a memory limit, run as a subprocess so that its peak RSS can be read.
type floodRun struct {
	flood synth.FloodConfig
	limit string   // --memory-limit; "" leaves the default
	args  []string // more flags
}

// floodResult is what a floodRun measured.
type floodResult struct {
	peakRSS   int64 // bytes (wait4 rusage Maxrss)
	evictions int64 // the summary's max-connections= count
	elapsed   time.Duration
	summary   string
	stats     synth.FloodStats
	captured  int64 // capture file size
}

// runFlood writes the capture, analyzes it in a subprocess and checks what
// the memory budget promises: the process stayed under the limit, the
// connection cap was hit and reported in the summary, every exchange of
// the normal traffic came out complete, and every idle connection's
// request came out as a transaction without response.
func runFlood(tb testing.TB, r floodRun, limit int64) floodResult {
	tb.Helper()
	dir := tb.TempDir()
	pcap := filepath.Join(dir, "flood.pcap")
	f, err := os.Create(pcap)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	st, err := synth.WriteFlood(w, r.flood)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		tb.Fatal(err)
	}
	out := filepath.Join(dir, "tx.jsonl")
	args := []string{"analyze", pcap, "--transactions", out, "--progress", "never"}
	if r.limit != "" {
		args = append(args, "--memory-limit", r.limit)
	}
	args = append(args, r.args...)
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	// The peak RSS: the high-water mark of the process's own memory
	// (VmHWM), polled here and reported by apitap's summary at its end.
	// Not wait4's ru_maxrss: os/exec starts the child sharing the test
	// process's memory until exec, and Linux counts that peak as the
	// child's.
	polled := make(chan int64)
	stop := make(chan struct{})
	go func() {
		var hwm int64
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			if b, err := os.ReadFile(status); err == nil {
				hwm = max(hwm, parseVmHWM(b))
			}
			select {
			case <-stop:
				polled <- hwm
				return
			case <-tick.C:
			}
		}
	}()
	err = cmd.Wait()
	close(stop)
	hwm := <-polled
	if err != nil {
		tb.Fatalf("apitap %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	res := floodResult{elapsed: time.Since(start), summary: stderr.String(), stats: st, captured: st.Bytes}
	m := regexp.MustCompile(`(?m)^memory\s+([0-9.]+)(GiB|MiB|KiB|B)\s`).FindStringSubmatch(res.summary)
	if m == nil {
		tb.Fatalf("the summary has no memory line:\n%s", res.summary)
	}
	reported, _ := strconv.ParseFloat(m[1], 64)
	reported *= map[string]float64{"GiB": 1 << 30, "MiB": 1 << 20, "KiB": 1 << 10, "B": 1}[m[2]]
	res.peakRSS = max(hwm, int64(reported))
	if m := regexp.MustCompile(`limits hit\s+\d+\s+.*\bmax-connections=(\d+)`).FindStringSubmatch(res.summary); m != nil {
		res.evictions, _ = strconv.ParseInt(m[1], 10, 64)
	}
	tb.Logf("apitap %s: peak RSS %s (limit %s), %d evictions, %v\n%s", strings.Join(args[4:], " "),
		formatSize(res.peakRSS), formatSize(limit), res.evictions, res.elapsed.Round(time.Millisecond), res.summary)

	if res.peakRSS >= limit {
		tb.Errorf("peak RSS %s is not under the %s limit", formatSize(res.peakRSS), formatSize(limit))
	}
	if res.evictions == 0 {
		tb.Errorf("the summary reports no max-connections eviction:\n%s", res.summary)
	}
	checkFloodTransactions(tb, out, r.flood, st)
	return res
}

// checkFloodTransactions reads the JSONL output: each normal exchange
// exactly once, answered; each idle request once, unanswered.
func checkFloodTransactions(tb testing.TB, path string, cfg synth.FloodConfig, st synth.FloodStats) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	type tx struct {
		Host   string   `json:"host"`
		URI    string   `json:"uri"`
		Status int      `json:"status"`
		Flags  []string `json:"flags"`
	}
	normal := map[string]int{}
	idle := map[string]int{}
	var other int
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var t tx
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
			tb.Fatalf("%s: %v", sc.Bytes(), err)
		}
		switch {
		case t.Host == synth.FloodHost && t.Status == 200 && len(t.Flags) == 0:
			normal[t.URI]++
		case t.Host == "idle.example.internal" && t.Status == 0 && strings.HasPrefix(t.URI, "/idle/"):
			idle[t.URI]++
		default:
			other++
			if other <= 5 {
				tb.Errorf("unexpected transaction %s", sc.Bytes())
			}
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	exchanges := cmpOr(cfg.Exchanges, 20)
	missing := 0
	for c := range cfg.Normal {
		for i := range exchanges {
			if n := normal[synth.FloodURI(c, i)]; n != 1 {
				missing++
				if missing <= 5 {
					tb.Errorf("normal exchange %s came out %d times, want once", synth.FloodURI(c, i), n)
				}
			}
		}
	}
	if int64(len(normal)) != st.Exchanges || missing > 0 {
		tb.Errorf("%d distinct normal exchanges out (%d wrong), want %d", len(normal), missing, st.Exchanges)
	}
	if int64(len(idle)) != st.Idle {
		tb.Errorf("%d idle requests out, want %d", len(idle), st.Idle)
	}
	for uri, n := range idle {
		if n != 1 {
			tb.Errorf("idle request %s came out %d times", uri, n)
			break
		}
	}
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// TestMemoryFlood is the scaled-down flood check of `make test`: 100k
// half-open and 10k idle connections with normal keep-alive traffic
// interleaved, analyzed under --memory-limit 64MiB with two workers. The
// full-size check is BenchmarkMemoryFlood.
func TestMemoryFlood(t *testing.T) {
	r := floodRun{
		flood: synth.FloodConfig{HalfOpen: 100_000, Idle: 10_000, Normal: 20, Exchanges: 50, Seed: 1},
		limit: "64MiB",
		args:  []string{"--workers", "2"},
	}
	runFlood(t, r, 64<<20)
}

// BenchmarkMemoryFlood is the full-size flood check (`make bench`): a
// million half-open connections (a SYN flood) and a hundred thousand idle
// ones, with normal keep-alive traffic interleaved, analyzed with the
// default settings (--memory-limit 1GiB, one worker per CPU) and under
// --memory-limit 256MiB; then the worst case for the connection budget,
// 400 000 idle connections each with a request in flight and no SYN flood
// to evict first, under the default limit. Each fails unless the peak RSS
// stays under the limit, evictions are reported and every normal exchange
// and every idle request comes out; it reports the peak RSS, the evictions
// and the analyze time. docs/PERFORMANCE.md ("Memory") records its figures.
func BenchmarkMemoryFlood(b *testing.B) {
	flood := synth.FloodConfig{HalfOpen: 1_000_000, Idle: 100_000, Normal: 100, Exchanges: 100, Seed: 1}
	idle := synth.FloodConfig{Idle: 400_000, Normal: 100, Exchanges: 100, Seed: 1}
	for _, bc := range []struct {
		name  string
		flood synth.FloodConfig
		limit string
		bytes int64
	}{
		{"syn=1M,idle=100k,limit=default-1GiB", flood, "", 1 << 30},
		{"syn=1M,idle=100k,limit=256MiB", flood, "256MiB", 256 << 20},
		{"idle=400k,limit=default-1GiB", idle, "", 1 << 30},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var res floodResult
			for b.Loop() {
				res = runFlood(b, floodRun{flood: bc.flood, limit: bc.limit}, bc.bytes)
			}
			b.SetBytes(res.captured)
			b.ReportMetric(float64(res.peakRSS)/(1<<20), "peak-RSS-MiB")
			b.ReportMetric(float64(res.evictions), "evictions")
			b.ReportMetric(res.elapsed.Seconds(), "analyze-s")
			fmt.Fprintf(os.Stderr, "%s: peak RSS %s of %s, %d evictions, analyze %v, capture %s\n", bc.name,
				formatSize(res.peakRSS), formatSize(bc.bytes), res.evictions, res.elapsed.Round(time.Millisecond), formatSize(res.captured))
		})
	}
}
