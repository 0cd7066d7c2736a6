package lab

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apitap/apitap/internal/pcaptest"
)

type flowKey struct{ src, dst netip.AddrPort }

type flow struct {
	isn    uint32
	syn    bool
	data   []byte
	have   []bool
	first  int // index of the flow's first packet, for ordering
	server bool
}

// readCapture decodes every packet of a pcap with gopacket and rebuilds the
// byte stream of each connection direction (bytes placed at their sequence
// offsets). It fails on anything that does not decode as TCP over IP, on a
// direction without its SYN and on holes in a stream.
func readCapture(t *testing.T, path string) (map[flowKey]*flow, []flowKey) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flows := map[flowKey]*flow{}
	var order []flowKey
	pcaptest.ForEachTCP(t, f, func(s pcaptest.Segment) {
		i, tc := s.Index, s.TCP
		k := flowKey{s.Flow.Src, s.Flow.Dst}
		fl := flows[k]
		if fl == nil {
			fl = &flow{first: i}
			flows[k] = fl
			order = append(order, k)
		}
		if tc.SYN {
			fl.isn, fl.syn = tc.Seq, true
			fl.server = tc.ACK
			return
		}
		if !fl.syn {
			t.Fatalf("packet %d: %v without SYN", i, k)
		}
		if len(tc.Payload) == 0 {
			return
		}
		off := int(tc.Seq - fl.isn - 1)
		if end := off + len(tc.Payload); end > len(fl.data) {
			fl.data = append(fl.data, make([]byte, end-len(fl.data))...)
			fl.have = append(fl.have, make([]bool, end-len(fl.have))...)
		}
		copy(fl.data[off:], tc.Payload)
		for j := range tc.Payload {
			fl.have[off+j] = true
		}
	})
	for k, fl := range flows {
		if slices.Contains(fl.have, false) {
			t.Fatalf("%v: hole in the stream", k)
		}
	}
	return flows, order
}

// wireExchange is one exchange read from a capture with net/http.
type wireExchange struct {
	Method, Host, URI string
	Status            int
	ReqLen, RespLen   int64
}

func (w wireExchange) String() string {
	return fmt.Sprintf("%s %s %s → %d (%d/%d)", w.Method, w.Host, w.URI, w.Status, w.ReqLen, w.RespLen)
}

// exchangesOnWire parses every connection of a capture with net/http.
func exchangesOnWire(t *testing.T, path string) []wireExchange {
	t.Helper()
	flows, order := readCapture(t, path)
	var out []wireExchange
	for _, k := range order {
		c2s := flows[k]
		if c2s.server {
			continue
		}
		s2c := flows[flowKey{k.dst, k.src}]
		if s2c == nil {
			t.Fatalf("%v: no server side", k)
		}
		pcaptest.ForEachRequest(t, k, c2s.data, s2c.data, func(req *http.Request, reqBody []byte, resps *bufio.Reader) {
			w := wireExchange{Method: req.Method, Host: req.Host, URI: req.RequestURI, ReqLen: int64(len(reqBody))}
			for {
				if _, err := resps.Peek(1); err == io.EOF {
					break // no response (client gave up)
				}
				resp, err := http.ReadResponse(resps, req)
				if err != nil {
					t.Fatalf("%v: response to %v: %v", k, w, err)
				}
				body, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatalf("%v: response body: %v", k, err)
				}
				if resp.StatusCode == 100 {
					continue
				}
				w.Status, w.RespLen = resp.StatusCode, int64(len(body))
				break
			}
			out = append(out, w)
		})
	}
	return out
}

func truthToWire(truth []Exchange) []wireExchange {
	out := make([]wireExchange, len(truth))
	for i, x := range truth {
		out[i] = wireExchange{Method: x.Method, Host: x.Host, URI: x.URI, Status: x.Status, ReqLen: x.RequestBodyLen, RespLen: x.ResponseBodyLen}
	}
	return out
}

// sameExchanges compares two multisets of exchanges.
func sameExchanges(t *testing.T, wire, truth []wireExchange) {
	t.Helper()
	str := func(ws []wireExchange) []string {
		var s []string
		for _, w := range ws {
			s = append(s, w.String())
		}
		sort.Strings(s)
		return s
	}
	a, b := str(wire), str(truth)
	if !slices.Equal(a, b) {
		var only []string
		ca := map[string]int{}
		for _, s := range a {
			ca[s]++
		}
		for _, s := range b {
			ca[s]--
		}
		for s, n := range ca {
			if n != 0 {
				only = append(only, fmt.Sprintf("%+d %s", n, s))
			}
		}
		sort.Strings(only)
		t.Fatalf("capture (%d exchanges) and truth (%d) differ (+: only on the wire, -: only in truth):\n%s", len(a), len(b), strings.Join(only, "\n"))
	}
}

func TestRecordBasic(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	path, truth, err := Record(ctx, Config{Dir: dir, Logf: t.Logf}, BasicScenario())
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(path) != dir {
		t.Errorf("capture at %s, not in %s", path, dir)
	}
	bySource := map[string]int{}
	for _, x := range truth {
		bySource[x.Source]++
		if !x.Server.Addr().IsLoopback() || (x.Client.IsValid() && !x.Client.Addr().IsLoopback()) {
			t.Errorf("non-loopback endpoint in %+v", x)
		}
	}
	for src, min := range map[string]int{"go": 13, "raw": 4, "curl": 8, "proxy": 3, "wrk": 10} {
		if bySource[src] < min {
			t.Errorf("%d exchanges from %s, want at least %d (all: %v)", bySource[src], src, min, bySource)
		}
	}
	sameExchanges(t, exchangesOnWire(t, path), truthToWire(truth))

	// Features the scenario promises are in the truth.
	find := func(source, method, uriPrefix string) Exchange {
		for _, x := range truth {
			if x.Source == source && x.Method == method && strings.HasPrefix(x.URI, uriPrefix) {
				return x
			}
		}
		t.Fatalf("no %s %s %s in truth", source, method, uriPrefix)
		return Exchange{}
	}
	if x := find("go", "GET", "/large"); x.ResponseBodyLen != 1000000 {
		t.Errorf("large body %d", x.ResponseBodyLen)
	}
	if x := find("go", "PUT", "/echo?expect=1"); x.RequestBodyLen != 64<<10 || x.Status != 200 {
		t.Errorf("100-continue exchange %+v", x)
	}
	if x := find("go", "HEAD", "/json"); x.ResponseBodyLen != 0 {
		t.Errorf("HEAD %+v", x)
	}
	if x := find("go", "GET", "/cached"); x.Status != 304 {
		t.Errorf("cached %+v", x)
	}
	if x := find("proxy", "POST", "/echo?via=nginx"); x.Host != "goapp" || x.RequestBodyLen != int64(len(`{"through":"nginx"}`)) {
		t.Errorf("proxied %+v", x)
	}
	if x := find("wrk", "GET", "/static/users.json"); x.Status != 200 || x.ResponseBodyLen != int64(len(staticFiles["users.json"])) {
		t.Errorf("wrk %+v", x)
	}
}

func TestRecordIPv6(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sc := Scenario{Name: "ipv6", Run: func(ctx context.Context, env *Env) error {
		if _, err := env.Get(ctx, env.GoURL("/json?size=10")); err != nil {
			return err
		}
		return env.Curl(ctx, CurlRequest{URL: env.GoURL("/status/201")}, CurlRequest{URL: env.GoURL("/gzip?n=3"), Header: []string{"Accept-Encoding: gzip"}})
	}}
	path, truth, err := Record(ctx, Config{Dir: t.TempDir(), IPv6: true}, sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(truth) != 3 {
		t.Fatalf("%d exchanges, want 3", len(truth))
	}
	for _, x := range truth {
		if x.Server.Addr() != netip.IPv6Loopback() || x.Client.Addr() != netip.IPv6Loopback() {
			t.Errorf("endpoints %v → %v, want ::1", x.Client, x.Server)
		}
	}
	sameExchanges(t, exchangesOnWire(t, path), truthToWire(truth))
}

func TestRecordErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("scenario error", func(t *testing.T) {
		_, _, err := Record(ctx, Config{Dir: t.TempDir()}, Scenario{Name: "fails", Run: func(context.Context, *Env) error { return io.ErrUnexpectedEOF }})
		if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), `scenario "fails"`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no run", func(t *testing.T) {
		if _, _, err := Record(ctx, Config{}, Scenario{}); err == nil {
			t.Fatal("accepted")
		}
	})
	t.Run("wrk without nginx", func(t *testing.T) {
		_, _, err := Record(ctx, Config{Dir: t.TempDir()}, Scenario{Run: func(ctx context.Context, env *Env) error { return env.Wrk(ctx, WrkOptions{}) }})
		if err == nil || !strings.Contains(err.Error(), "must start nginx") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing tool", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		_, err := lookTool("curl")
		if !errors.Is(err, ErrToolMissing) || !strings.Contains(err.Error(), `Debian package "curl"`) {
			t.Fatalf("err = %v", err)
		}
		env := &Env{}
		if err := env.Curl(ctx, CurlRequest{URL: "http://127.0.0.1:1/"}); !errors.Is(err, ErrToolMissing) {
			t.Fatalf("Curl err = %v", err)
		}
		if err := env.Wrk(ctx, WrkOptions{}); !errors.Is(err, ErrToolMissing) {
			t.Fatalf("Wrk err = %v", err)
		}
	})
}

func TestCrossCheck(t *testing.T) {
	srv := netip.MustParseAddrPort("127.0.0.1:8080")
	a := Exchange{Source: "go", Server: srv, Method: "GET", URI: "/a", Status: 200}
	b := Exchange{Source: "curl", Server: srv, Method: "POST", URI: "/b", Status: 201}
	tests := []struct {
		name          string
		logged, truth []Exchange
		want          string
	}{
		{"equal", []Exchange{a, b}, []Exchange{b, a}, ""},
		{"missing from truth", []Exchange{a, b}, []Exchange{a}, "incomplete"},
		{"missing from log", []Exchange{a}, []Exchange{a, b}, "inconsistent"},
		{"other server ignored", []Exchange{a}, []Exchange{a, {Server: netip.MustParseAddrPort("127.0.0.1:1"), Method: "GET"}}, ""},
		{"wrk and proxy ignored", []Exchange{a}, []Exchange{a, {Source: "wrk", Server: srv}, {Source: "proxy", Server: srv}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := crossCheck("srv", tt.logged, tt.truth, srv)
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestShippedDemo checks the demo capture the README runs: it exists, is
// small, decodes, and holds exactly the exchanges of its truth file.
func TestShippedDemo(t *testing.T) {
	dir := filepath.Join("..", "..", "cmd", "apitap", "testdata", "demo")
	pcap := filepath.Join(dir, "demo.pcap")
	st, err := os.Stat(pcap)
	if err != nil {
		t.Fatalf("the shipped demo capture is missing (run go run ./internal/lab/cmd/record-demo): %v", err)
	}
	if st.Size() >= 300<<10 {
		t.Errorf("%s is %d bytes, want < 300 KiB", pcap, st.Size())
	}
	b, err := os.ReadFile(filepath.Join(dir, "demo.truth.jsonl"))
	if err != nil {
		t.Fatalf("the shipped demo truth is missing: %v", err)
	}
	var truth []Exchange
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var x Exchange
		if err := json.Unmarshal([]byte(line), &x); err != nil {
			t.Fatalf("truth line %d: %v", i+1, err)
		}
		truth = append(truth, x)
	}
	if len(truth) < 50 || len(truth) > 200 {
		t.Errorf("%d exchanges in the demo, want 50..200", len(truth))
	}
	statuses := map[int]bool{}
	methods := map[string]bool{}
	for _, x := range truth {
		statuses[x.Status] = true
		methods[x.Method] = true
	}
	for _, s := range []int{200, 201, 204, 401, 404, 500} {
		if !statuses[s] {
			t.Errorf("no %d in the demo", s)
		}
	}
	for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
		if !methods[m] {
			t.Errorf("no %s in the demo", m)
		}
	}
	sameExchanges(t, exchangesOnWire(t, pcap), truthToWire(truth))
}
