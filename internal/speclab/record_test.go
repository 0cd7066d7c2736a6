package speclab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apitap/apitap/capture"
	"github.com/apitap/apitap/internal/lab"
	"github.com/apitap/apitap/reassembly"
	"github.com/apitap/apitap/reassembly/http1"
)

// collect keeps every transaction the HTTP parser produces.
type collect struct {
	mu  sync.Mutex
	txs []*reassembly.Transaction
}

func (c *collect) HandleTransaction(t *reassembly.Transaction) {
	c.mu.Lock()
	c.txs = append(c.txs, t)
	c.mu.Unlock()
}

// decodeCapture runs a capture through apitap's own capture, reassembly
// and HTTP/1 stages and returns the transactions, ordered by client
// address, then time.
func decodeCapture(t *testing.T, path string) []*reassembly.Transaction {
	t.Helper()
	sink := &collect{}
	f, err := http1.NewFactory(http1.Config{MaxBodyBytes: 8 << 20}, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := reassembly.NewAssembler(reassembly.Config{}, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenFiles([]string{path}, capture.FileConfig{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := capture.NewEngine(capture.EngineConfig{Workers: 1}, []capture.Handler{a}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(t.Context(), src); err != nil {
		t.Fatal(err)
	}
	txs := sink.txs
	slices.SortStableFunc(txs, func(a, b *reassembly.Transaction) int {
		if c := a.Client.Addr().Compare(b.Client.Addr()); c != 0 {
			return c
		}
		return a.RequestStart.Compare(b.RequestStart)
	})
	return txs
}

// record runs Record and fails the test on any error, naming the Debian
// package when tcpdump is missing.
func record(t *testing.T, cfg Config) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	cfg.Logf = t.Logf
	res, err := Record(ctx, cfg)
	if errors.Is(err, lab.ErrToolMissing) {
		t.Fatalf("the lab needs tcpdump: %v", err)
	}
	if err != nil {
		t.Fatalf("Record: %v (problems: %v)", err, res.Problems)
	}
	return res
}

// checkResult asserts what every recording must hold: nothing skipped,
// every operation called with documented statuses, ≥ 85% successes, and a
// capture that holds exactly the calls of the ground truth.
func checkResult(t *testing.T, s *Spec, res Result, calls int) {
	t.Helper()
	if len(res.Skipped) > 0 {
		t.Errorf("skipped operations: %v", res.Skipped)
	}
	if res.Operations != len(s.Operations) || res.Called != res.Operations {
		t.Errorf("called %d of %d operations (spec has %d)", res.Called, res.Operations, len(s.Operations))
	}
	if res.Calls != calls*len(s.Operations) || len(res.Log) != res.Calls {
		t.Errorf("%d calls, %d logged, want %d", res.Calls, len(res.Log), calls*len(s.Operations))
	}
	if rate := float64(res.Succeeded) / float64(res.Calls); rate < 0.85 {
		t.Errorf("success rate %.3f < 0.85", rate)
	}
	ops := map[string]*Operation{}
	for _, o := range s.Operations {
		ops[o.ID()] = o
	}
	perOp := map[string]int{}
	for _, c := range res.Log {
		o := ops[c.Operation]
		if o == nil {
			t.Fatalf("call of an unknown operation %q", c.Operation)
		}
		if !c.Documented || !o.Documents(c.Status) {
			t.Errorf("%s %s answered %d, which %s does not document", c.Method, c.URI, c.Status, c.Operation)
		}
		if !strings.HasPrefix(c.URI, res.BasePath+"/") {
			t.Errorf("%s is not under the base path %q", c.URI, res.BasePath)
		}
		perOp[c.Operation]++
	}
	for id := range ops {
		if perOp[id] != calls {
			t.Errorf("%s called %d times, want %d", id, perOp[id], calls)
		}
	}

	// The capture holds the calls, per client connection in order.
	txs := decodeCapture(t, res.Pcap)
	if len(txs) != res.Calls {
		t.Fatalf("capture holds %d transactions, the lab made %d calls", len(txs), res.Calls)
	}
	byClient := map[string][]Call{}
	for _, c := range res.Log {
		byClient[c.Client] = append(byClient[c.Client], c)
	}
	next := map[string]int{}
	for _, tx := range txs {
		ip := tx.Client.Addr().String()
		i := next[ip]
		next[ip]++
		if i >= len(byClient[ip]) {
			t.Fatalf("capture has more transactions from %s than the lab made", ip)
		}
		want := byClient[ip][i]
		if tx.Method != want.Method || tx.URI != want.URI || tx.Status != want.Status || tx.Host != res.Host {
			t.Errorf("transaction %d from %s: %s %s%s → %d, want %s %s%s → %d", i, ip, tx.Method, tx.Host, tx.URI, tx.Status,
				want.Method, res.Host, want.URI, want.Status)
		}
		if tx.Flags&(reassembly.FlagGap|reassembly.FlagTruncated|reassembly.FlagMalformed|reassembly.FlagNoResponse) != 0 {
			t.Errorf("transaction %s %s: flags %v", tx.Method, tx.URI, tx.Flags.Names())
		}
		if int(tx.RequestBodyLen) != want.ReqBytes || int(tx.ResponseBodyLen) != want.RespBytes {
			t.Errorf("%s %s: bodies %d/%d bytes, want %d/%d", tx.Method, tx.URI, tx.RequestBodyLen, tx.ResponseBodyLen, want.ReqBytes, want.RespBytes)
		}
	}
	// The ground truth file matches the log.
	b, err := os.ReadFile(res.Truth)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != len(res.Log) {
		t.Fatalf("%s has %d lines, want %d", res.Truth, len(lines), len(res.Log))
	}
	var first Call
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first != res.Log[0] {
		t.Errorf("first line of %s = %+v (%v), want %+v", res.Truth, first, err, res.Log[0])
	}
}

// TestRecord records the hand-written specs with request and response
// validation on, and checks the capture against the ground truth.
func TestRecord(t *testing.T) {
	for _, tc := range []struct {
		spec, host, base   string
		wantHost, wantBase string
	}{
		{spec: "petstore30.yaml", wantHost: "api.petstore.example", wantBase: "/v2"},
		{spec: "search31.json", wantHost: "search-engine.example.com", wantBase: ""},
		{spec: "search31.json", host: "search.internal.example", base: "/api/v1", wantHost: "search.internal.example", wantBase: "/api/v1"},
	} {
		t.Run(tc.spec+tc.base, func(t *testing.T) {
			s := loadTestdata(t, tc.spec)
			res := record(t, Config{Spec: filepath.Join("testdata", tc.spec), Seed: 42, CallsPerOperation: 5, Host: tc.host, BasePath: tc.base, Check: true})
			if res.Host != tc.wantHost || res.BasePath != tc.wantBase {
				t.Errorf("host %q base %q, want %q %q", res.Host, res.BasePath, tc.wantHost, tc.wantBase)
			}
			checkResult(t, s, res, 5)
		})
	}
}

// wire is what a capture says about one exchange, bytes included.
func wire(tx *reassembly.Transaction) string {
	return fmt.Sprintf("%s %s %s %q %d %q %q", tx.Client.Addr(), tx.Method, tx.URI, tx.RequestBody, tx.Status, tx.ResponseBody, tx.ResponseHeaders)
}

// TestRecordDeterministic: the same seed gives byte-identical exchanges on
// every connection; another seed gives other ones.
func TestRecordDeterministic(t *testing.T) {
	run := func(seed uint64) []string {
		res := record(t, Config{Spec: filepath.Join("testdata", "petstore30.yaml"), Seed: seed, CallsPerOperation: 4})
		var out []string
		for _, tx := range decodeCapture(t, res.Pcap) {
			out = append(out, wire(tx))
		}
		return out
	}
	a, b, c := run(7), run(7), run(8)
	if len(a) == 0 || !slices.Equal(a, b) {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("same seed, exchange %d differs:\n%s\n%s", i, a[i], b[i])
			}
		}
		t.Fatalf("same seed, %d and %d exchanges", len(a), len(b))
	}
	if slices.Equal(a, c) {
		t.Fatal("seeds 7 and 8 gave the same exchanges")
	}
}

func TestRecordConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no spec", Config{Dir: t.TempDir()}, "Spec is required"},
		{"no dir", Config{Spec: "testdata/petstore30.yaml"}, "Dir is required"},
		{"missing spec", Config{Spec: "testdata/nope.yaml", Dir: t.TempDir()}, "nope.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Record(t.Context(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestRecordWithoutTcpdump: without tcpdump Record fails and names the
// Debian package (with tcpdump hidden from PATH; when it also sits in an
// sbin directory, which lab always searches, Record must work instead).
func TestRecordWithoutTcpdump(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	inSbin := false
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		if _, err := os.Stat(filepath.Join(d, "tcpdump")); err == nil {
			inSbin = true
		}
	}
	_, err := Record(t.Context(), Config{Spec: filepath.Join("testdata", "petstore30.yaml"), Dir: t.TempDir(), CallsPerOperation: 1})
	switch {
	case inSbin && err != nil:
		t.Fatalf("tcpdump is in sbin, Record failed: %v", err)
	case !inSbin && (!errors.Is(err, lab.ErrToolMissing) || !strings.Contains(err.Error(), "apt-get install tcpdump")):
		t.Fatalf("err = %v, want ErrToolMissing naming the tcpdump package", err)
	}
}
