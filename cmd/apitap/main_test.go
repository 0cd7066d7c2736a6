package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apitap/apitap/internal/lab"
	"github.com/apitap/apitap/internal/synth"
)

// exchange is the part of a transaction (or of a ground-truth record) that
// the tests compare.
type exchange struct {
	Method          string `json:"method"`
	Host            string `json:"host"`
	URI             string `json:"uri"`
	Status          int    `json:"status"`
	RequestBodyLen  int64  `json:"request_body_len"`
	ResponseBodyLen int64  `json:"response_body_len"`
}

func readExchanges(t *testing.T, data []byte) []exchange {
	t.Helper()
	var out []exchange
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e exchange
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, line)
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b exchange) int {
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
	return out
}

// TestDemo runs the README's first command on the shipped capture and
// compares every transaction with the ground truth recorded with it.
func TestDemo(t *testing.T) {
	dir := filepath.Join("testdata", "demo")
	truth, err := os.ReadFile(filepath.Join(dir, "demo.truth.jsonl"))
	if err != nil {
		t.Fatalf("the shipped demo truth is missing: %v", err)
	}
	for _, workers := range []string{"1", "2"} {
		t.Run("workers="+workers, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "tx.jsonl")
			var stdout, stderr bytes.Buffer
			code := run([]string{"analyze", filepath.Join(dir, "demo.pcap"), "--transactions", out, "--workers", workers}, nil, &stdout, &stderr)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			g, w := readExchanges(t, got), readExchanges(t, truth)
			if !slices.Equal(g, w) {
				t.Errorf("transactions differ from the truth:\ngot  %v\nwant %v", g, w)
			}
			for _, want := range []string{"transactions  91", "connections", "elapsed"} {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("summary lacks %q:\n%s", want, stderr.String())
				}
			}
		})
	}
}

// TestProfiles checks the profiling flags (docs/PERFORMANCE.md): each
// writes a gzip-compressed pprof file.
func TestProfiles(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "mem.prof")
	var stdout, stderr bytes.Buffer
	code := run([]string{"analyze", filepath.Join("testdata", "demo", "demo.pcap"), "--table=false", "--quiet",
		"--cpuprofile", cpu, "--memprofile", mem}, nil, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, path := range []string{cpu, mem} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 64 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s: %d bytes, not a gzip-compressed profile", filepath.Base(path), len(b))
		}
	}
}

// TestErrors checks that bad input and bad settings give one clear line
// naming the problem, and the right exit code.
func TestErrors(t *testing.T) {
	tmp := t.TempDir()
	text := filepath.Join(tmp, "notes.txt")
	os.WriteFile(text, []byte("hello, this is not a capture\n"), 0o644)
	demo := filepath.Join("testdata", "demo", "demo.pcap")
	data, err := os.ReadFile(demo)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(tmp, "cut.pcap")
	os.WriteFile(cut, data[:len(data)-100], 0o644)
	// The demo capture relabelled with link type 147 (USER0): every frame unknown.
	unknown := filepath.Join(tmp, "user0.pcap")
	relabelled := append([]byte(nil), data...)
	binary.LittleEndian.PutUint32(relabelled[20:], 147)
	os.WriteFile(unknown, relabelled, 0o644)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"missing file", []string{"analyze", filepath.Join(tmp, "nope.pcap")}, 1, []string{"nope.pcap", "no such file"}},
		{"not a capture", []string{"analyze", text}, 1, []string{"notes.txt", "not a pcap or pcapng file"}},
		{"directory", []string{"analyze", tmp}, 1, []string{"is a directory"}},
		{"no files", []string{"analyze"}, 1, []string{"requires at least 1 arg"}},
		{"bad workers", []string{"analyze", demo, "--workers", "0"}, 2, []string{"--workers"}},
		{"bad memprofile", []string{"analyze", demo, "--memprofile", filepath.Join(tmp, "no", "such", "mem.prof")}, 1, []string{"--memprofile", "no such file"}},
		{"bad reorder window", []string{"analyze", demo, "--reorder-window", "2m"}, 2, []string{"--reorder-window", "2m0s is not between 0 and 1m"}},
		{"bad size", []string{"analyze", demo, "--max-body-bytes", "lots"}, 2, []string{"--max-body-bytes", `"lots" is not a size`}},
		{"unknown flag", []string{"analyze", demo, "--frobnicate"}, 2, []string{"unknown flag: --frobnicate"}},
		{"bad progress", []string{"analyze", demo, "--progress", "sometimes"}, 2, []string{"--progress"}},
		{"sensor without interface", []string{"sensor"}, 2, []string{"--interface is required"}},
		{"sensor missing interface", []string{"sensor", "-i", "nosuch0"}, 1, []string{"interface nosuch0 not found"}},
		{"sensor bad bpf", []string{"sensor", "-i", "lo", "--bpf", "tcp port banana"}, 1, []string{`invalid BPF filter "tcp port banana"`, "unknown port"}},
		{"sensor bpf syntax", []string{"sensor", "-i", "lo", "--bpf", "tcp port 80 and"}, 1, []string{`invalid BPF filter "tcp port 80 and"`, "syntax error"}},
		{"sensor bad fanout", []string{"sensor", "-i", "lo", "--fanout", "0"}, 2, []string{"--fanout"}},
		// A truncated file is analyzed up to the damage: a warning, not a failure.
		{"truncated", []string{"analyze", cut}, 0, []string{"cut.pcap", "truncated", "transactions"}},
		{"unknown link type", []string{"analyze", unknown}, 1, []string{"user0.pcap", "218 frames have link type 147", "editcap"}},
		// Mixed with a readable file, unknown frames are a warning.
		{"unknown link type with a good file", []string{"analyze", unknown, demo}, 0, []string{"218 frames have link type 147", "level=WARN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, nil, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			for _, want := range tt.contains {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
			if strings.Contains(stderr.String(), "goroutine ") || strings.Contains(stderr.String(), "panic") {
				t.Errorf("stack trace on stderr:\n%s", stderr.String())
			}
			if tt.code != 0 && strings.Count(strings.TrimSuffix(stderr.String(), "\n"), "\n") != 0 {
				t.Errorf("a failure should print one line; stderr:\n%s", stderr.String())
			}
		})
	}
}

// TestStdin reads a capture from standard input, gzip-compressed, with the
// transactions on stdout.
func TestStdin(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "demo", "demo.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"analyze", "-", "-t", "-", "--quiet"}, bytes.NewReader(gzipBytes(t, data)), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if n := strings.Count(stdout.String(), "\n"); n != 91 {
		t.Errorf("%d transactions on stdout, want 91", n)
	}
	if stderr.Len() != 0 {
		t.Errorf("--quiet printed: %s", stderr.String())
	}
}

// TestStdinStreams feeds a capture through a pipe that stays open, as
// tcpdump -U -w - does: each transaction is written while the input waits
// for more, not when it ends.
func TestStdinStreams(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "demo", "demo.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []string{"1", "2"} {
		t.Run("workers="+workers, func(t *testing.T) {
			out := analyzeOpenPipe(t, data, 91, 10*time.Second, "-w", workers)
			if n := strings.Count(out, "\n"); n != 91 {
				t.Errorf("%d transactions in all, want 91", n)
			}
		})
	}
}

// TestStdinStreamsIdleTimeout checks that, while a streamed input is
// quiet, connections still time out: a request never answered is written,
// flagged no_response, after --idle-timeout of silence, before the input
// ends.
func TestStdinStreamsIdleTimeout(t *testing.T) {
	var capture bytes.Buffer
	st, err := synth.WriteFlood(&capture, synth.FloodConfig{Idle: 5, Normal: 2, Exchanges: 3, Duration: time.Second, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	out := analyzeOpenPipe(t, capture.Bytes(), int(st.Idle+st.Exchanges), 20*time.Second, "--idle-timeout", "2s")
	if n := strings.Count(out, "no_response"); n != int(st.Idle) {
		t.Errorf("%d transactions flagged no_response, want the %d unanswered requests", n, st.Idle)
	}
}

// analyzeOpenPipe runs apitap analyze - -t - (with args) on a pipe that
// carries data and stays open. It fails the test unless want transactions
// are written within timeout while the pipe is open; then it closes the
// pipe and returns everything written once apitap has exited.
func analyzeOpenPipe(t *testing.T, data []byte, want int, timeout time.Duration, args ...string) string {
	t.Helper()
	pr, pw := io.Pipe()
	defer pw.Close()
	var stdout lab.OutputBuffer
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(append([]string{"analyze", "-", "-t", "-", "--quiet"}, args...), pr, &stdout, &stderr)
	}()
	go pw.Write(data)
	lines := func() int { return strings.Count(stdout.String(), "\n") }
	if !waitLines(lines, want, timeout) {
		t.Fatalf("%d of %d transactions written %v after the capture went through the pipe, which stays open (%v):\n%s",
			lines(), want, timeout, args, stdout.String())
	}
	pw.Close()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	return stdout.String()
}

// waitLines waits until lines() reports at least n; false if it has not
// within timeout.
func waitLines(lines func() int, n int, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); lines() < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

func gzipBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
