//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apitap/apitap/internal/lab"
	"github.com/apitap/apitap/internal/netlab"
	"golang.org/x/sys/unix"
)

// runMainEnv, set to "1" in the environment, makes the test binary run
// apitap's main instead of the tests: the tests start `apitap sensor` as a
// subprocess (inside a network namespace) without building a second binary.
const runMainEnv = "GO_TEST_APITAP_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSensorMirror is the live end-to-end test of `apitap sensor`: a Go
// net/http server and its clients (the Go client on several keep-alive
// connections, and curl) in two network namespaces, every frame between
// them mirrored with tc to a veth in a third namespace where `apitap
// sensor` captures until SIGINT or SIGTERM. The sensor must exit 0, its
// transactions must equal what the clients sent and received, request for
// request, with none incomplete, and its summary must report them all
// written, no kernel drop and no limit hit.
func TestSensorMirror(t *testing.T) {
	tests := []struct {
		name   string
		subnet byte
		// args are the sensor's flags besides -i and -t; port is the
		// HTTP server's.
		args func(port uint16) []string
		// filtered starts a second server on another port, whose traffic
		// the sensor's BPF filter must leave out (with ARP, ICMP and the
		// UDP probes: nothing but TCP may reach the sensor).
		filtered bool
		// closeConns closes the Go client's keep-alive connections before
		// the sensor stops.
		closeConns bool
		// stop is the signal that stops the sensor.
		stop syscall.Signal
	}{
		{name: "fanout=2,workers=2,sigint", subnet: 60, closeConns: true, stop: syscall.SIGINT, args: func(uint16) []string {
			return []string{"--fanout", "2", "--workers", "2"}
		}},
		{name: "bpf,fanout=1,workers=1,sigterm", subnet: 61, filtered: true, stop: syscall.SIGTERM, args: func(port uint16) []string {
			return []string{"--bpf", fmt.Sprintf("tcp port %d", port), "--fanout", "1", "--workers", "1", "--ring-size", "4MiB"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 25*time.Second)
			defer cancel()
			m := netlab.New(t).MirrorPair(tt.subnet)
			server := startHTTPServer(t, m.Server, m.ServerAddr)
			var noise netip.AddrPort
			if tt.filtered {
				noise = startHTTPServer(t, m.Server, m.ServerAddr)
			}
			dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
				return m.Client.Dial(ctx, network, addr)
			}

			out := filepath.Join(t.TempDir(), "tx.jsonl")
			inv := filepath.Join(t.TempDir(), "inventory.json")
			args := append([]string{"sensor", "-i", m.SensorLink, "-t", out, "--inventory", inv}, tt.args(server.Port())...)
			s := startSensor(t, m.Sensor, args...)
			start := time.Now()

			env := lab.NewEnv(lab.EnvConfig{GoServer: server, Dir: t.TempDir(), DialContext: dial, Command: m.Client.Command})
			if err := driveClients(ctx, env); err != nil {
				t.Fatal(err)
			}
			if noise.IsValid() {
				// Requests the filter must leave out, on a client whose
				// exchanges are not part of the truth.
				other := lab.NewEnv(lab.EnvConfig{GoServer: noise, DialContext: dial})
				for i := range 5 {
					if _, err := other.Get(ctx, other.GoURL(fmt.Sprintf("/json?noise=%d", i))); err != nil {
						t.Fatal(err)
					}
				}
				other.CloseIdleConnections()
			}
			if tt.closeConns {
				env.CloseIdleConnections()
			} // else the sensor must flush the open connections on exit
			truth := env.Exchanges()
			waitMirrored(t, m)
			// Each exchange is written while the sensor runs, not at exit:
			// the output of a quiet link is current.
			lines := func() int {
				data, _ := os.ReadFile(out)
				return bytes.Count(data, []byte("\n"))
			}
			if !waitLines(lines, len(truth), 10*time.Second) {
				t.Fatalf("%s has %d of %d transactions 10s after the last exchange, while the sensor runs: its output lags behind the link", out, lines(), len(truth))
			}
			stderr := s.stop(t, tt.stop)
			t.Logf("apitap %s:\n%s", strings.Join(args, " "), stderr)

			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("the sensor wrote no transactions: %v", err)
			}
			got := readSensorTransactions(t, data)
			compareWithTruth(t, got, truth, start, time.Now())
			checkSummary(t, stderr, len(truth))
			checkSensorInventory(t, inv, len(truth))
			if m := summaryPacketsRE.FindStringSubmatch(stderr); tt.filtered && (m == nil || m[1] != "0") {
				t.Errorf("summary: %q; the filter should let nothing but TCP through", m)
			}
		})
	}
}

// clientRequest is one request of the Go client.
type clientRequest struct {
	method, path string
	host         string // Host header; "": the server's address
	header       []string
	body         []byte
	chunked      bool // send the body with no Content-Length (chunked)
}

// requestFor returns the i-th request of the Go clients: JSON of varied
// sizes (some over many segments), chunked and gzip responses, POST and
// PUT with bodies (one sent chunked), DELETE and 204, 304, 401, 404, 500,
// HEAD, and another Host header.
func requestFor(i int) clientRequest {
	auth := "Authorization: Bearer " + lab.DemoToken
	ctype := "Content-Type: application/json"
	switch i % 18 {
	case 0:
		return clientRequest{method: "GET", path: fmt.Sprintf("/json?size=%d", i*37%500)}
	case 1:
		return clientRequest{method: "GET", path: fmt.Sprintf("/json?size=%d", 5000+i*301)}
	case 2:
		return clientRequest{method: "GET", path: fmt.Sprintf("/chunked?n=%d&size=%d", 2+i%5, 50+i*13)}
	case 3:
		return clientRequest{method: "GET", path: fmt.Sprintf("/gzip?n=%d", 50+i), header: []string{"Accept-Encoding: gzip"}}
	case 4:
		return clientRequest{method: "POST", path: fmt.Sprintf("/echo?i=%d", i), body: bytes.Repeat([]byte("p"), 10+i*97), header: []string{"Content-Type: text/plain"}}
	case 5:
		body := fmt.Sprintf(`{"name":"User %d","email":"u%d@example.com","active":%t}`, i, i, i%2 == 0)
		return clientRequest{method: "POST", path: "/api/users", body: []byte(body), header: []string{auth, ctype}}
	case 6:
		body := fmt.Sprintf(`{"name":"Renamed %d","tags":["a","b"]}`, i)
		return clientRequest{method: "PUT", path: fmt.Sprintf("/api/users/%d", i), body: []byte(body), header: []string{auth, ctype}}
	case 7: // 204
		return clientRequest{method: "DELETE", path: fmt.Sprintf("/api/users/%d", i), header: []string{auth}}
	case 8: // 404
		return clientRequest{method: "GET", path: fmt.Sprintf("/api/users/%d", 900+i), header: []string{auth}}
	case 9:
		return clientRequest{method: "GET", path: fmt.Sprintf("/status/404?i=%d", i)}
	case 10:
		return clientRequest{method: "HEAD", path: fmt.Sprintf("/json?size=%d", 100+i)}
	case 11:
		return clientRequest{method: "GET", path: fmt.Sprintf("/status/204?i=%d", i)}
	case 12: // 304
		return clientRequest{method: "GET", path: fmt.Sprintf("/cached?i=%d", i), header: []string{`If-None-Match: "v1"`}}
	case 13:
		return clientRequest{method: "GET", path: fmt.Sprintf("/api/items?limit=%d", 5+i%20), header: []string{auth, "Accept-Encoding: gzip"}}
	case 14:
		body := fmt.Sprintf(`{"part":%d,"pad":"%s"}`, i, strings.Repeat("x", i*11))
		return clientRequest{method: "POST", path: fmt.Sprintf("/echo?chunked=%d", i), body: []byte(body), chunked: true}
	case 15:
		return clientRequest{method: "GET", path: fmt.Sprintf("/api/orders?status=paid&page=%d", i), host: "api.example.test", header: []string{auth}}
	case 16: // 500
		return clientRequest{method: "GET", path: "/api/reports/daily", header: []string{auth}}
	default: // 401
		return clientRequest{method: "GET", path: fmt.Sprintf("/api/users?limit=%d", i%7)}
	}
}

// send makes r with env's Go client, which records the exchange.
func send(ctx context.Context, env *lab.Env, r clientRequest) error {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
		if r.chunked { // a reader of unknown length
			body = io.MultiReader(body)
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.method, env.GoURL(r.path), body)
	if err != nil {
		return err
	}
	req.Host = r.host
	for _, h := range r.header {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Add(name, strings.TrimSpace(value))
	}
	_, err = env.Do(ctx, req)
	return err
}

// TestSensorStartErrors runs `apitap sensor` where it cannot capture (the
// cases TestErrors cannot make in-process): each must exit 1 with one line
// naming the interface and what to do.
func TestSensorStartErrors(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("setpriv not found: install util-linux (apt-get install util-linux): %v", err)
	}
	ns := netlab.New(t).Namespace("down")
	ns.IP("link", "set", "lo", "down")
	tests := []struct {
		name     string
		cmd      func(ctx context.Context) *exec.Cmd
		contains []string
	}{
		{"interface down", func(ctx context.Context) *exec.Cmd {
			return ns.Command(ctx, exe, "sensor", "-i", "lo", "-t", "-")
		}, []string{"interface lo is down", "ip link set lo up"}},
		{"no privilege", func(ctx context.Context) *exec.Cmd {
			// Root without any capability (an empty bounding set).
			return exec.CommandContext(ctx, setpriv, "--inh-caps=-all", "--bounding-set=-all", "--", exe, "sensor", "-i", "lo")
		}, []string{"opening lo needs root or CAP_NET_RAW"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			cmd := tt.cmd(ctx)
			cmd.Env = append(os.Environ(), runMainEnv+"=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Errorf("exit: %v, want status 1; stderr: %s", err, stderr.String())
			}
			msg := stderr.String()
			if strings.Count(strings.TrimSuffix(msg, "\n"), "\n") != 0 || !strings.HasPrefix(msg, "apitap: ") {
				t.Errorf("want one line starting with \"apitap: \"; stderr:\n%s", msg)
			}
			for _, want := range tt.contains {
				if !strings.Contains(msg, want) {
					t.Errorf("stderr lacks %q: %s", want, msg)
				}
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout: %q, want nothing", stdout.String())
			}
		})
	}
}

// driveClients makes about 100 requests with the Go client, four at a time
// on keep-alive connections, then a few with one curl process on one
// connection (--next).
func driveClients(ctx context.Context, env *lab.Env) error {
	const total, parallel = 100, 4
	errs := make([]error, parallel)
	var wg sync.WaitGroup
	for w := range parallel {
		wg.Go(func() {
			for i := w; i < total; i += parallel {
				if err := send(ctx, env, requestFor(i)); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// A large download and an Expect: 100-continue upload.
	for _, r := range []clientRequest{
		{method: "GET", path: "/large?size=300000"},
		{method: "PUT", path: "/echo?expect=1", body: bytes.Repeat([]byte("e"), 40000), header: []string{"Expect: 100-continue"}},
	} {
		if err := send(ctx, env, r); err != nil {
			return err
		}
	}
	auth := "Authorization: Bearer " + lab.DemoToken
	return env.Curl(ctx,
		lab.CurlRequest{URL: env.GoURL("/api/health")},
		lab.CurlRequest{URL: env.GoURL("/echo?from=curl"), Body: []byte(`{"hello":"curl"}`), Header: []string{"Content-Type: application/json"}},
		lab.CurlRequest{Method: "HEAD", URL: env.GoURL("/json?size=5")},
		lab.CurlRequest{URL: env.GoURL("/status/404")},
		lab.CurlRequest{Method: "DELETE", URL: env.GoURL("/status/204")},
		lab.CurlRequest{URL: env.GoURL("/chunked?n=3&size=2000")},
		lab.CurlRequest{Method: "PUT", URL: env.GoURL("/api/users/12"), Header: []string{auth, "Content-Type: application/json"},
			Body: []byte(`{"name":"Curl User","email":"curl@example.com"}`)},
	)
}

// startHTTPServer serves lab.Handler in ns on addr and a port the kernel
// picks, until the test ends.
func startHTTPServer(t *testing.T, ns *netlab.Namespace, addr net.IP) netip.AddrPort {
	t.Helper()
	ln, err := ns.Listen("tcp4", net.JoinHostPort(addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: lab.Handler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// waitMirrored returns once every frame the mirror carried before the
// call has been delivered to the packet sockets on the sensor's interface
// (the sensor's included): the sensor may then be stopped without a frame
// still on its way through the kernel. On their way to the sensor's
// interface, frames wait in per-CPU backlog queues, in order; so a UDP
// probe is sent from the client namespace on each CPU, and a packet socket
// of the test's own on the sensor's interface waits for them all.
func waitMirrored(t *testing.T, m *netlab.MirrorNet) {
	t.Helper()
	var fd int
	if err := m.Sensor.Do(func() error {
		ifi, err := net.InterfaceByName(m.SensorLink)
		if err != nil {
			return err
		}
		proto := int(htons(unix.ETH_P_ALL))
		if fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto); err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: uint16(proto), Ifindex: ifi.Index})
	}); err != nil {
		t.Fatalf("opening a packet socket on %s: %v", m.SensorLink, err)
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(int64(100 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}

	nonce := fmt.Sprintf("apitap-mirror-probe-%d-", time.Now().UnixNano())
	pending := map[string]bool{}
	if err := m.Client.Do(func() error {
		var orig unix.CPUSet
		if err := unix.SchedGetaffinity(0, &orig); err != nil {
			return err
		}
		// This thread returns to the Go scheduler: give its CPUs back.
		defer unix.SchedSetaffinity(0, &orig)
		sock, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(sock)
		dst := &unix.SockaddrInet4{Port: 9}
		copy(dst.Addr[:], m.ServerAddr.To4())
		for cpu := range 1024 {
			if !orig.IsSet(cpu) {
				continue
			}
			var one unix.CPUSet
			one.Set(cpu)
			if err := unix.SchedSetaffinity(0, &one); err != nil {
				return fmt.Errorf("pinning to CPU %d: %w", cpu, err)
			}
			probe := nonce + strconv.Itoa(cpu)
			if err := unix.Sendto(sock, []byte(probe), 0, dst); err != nil {
				return err
			}
			pending[probe] = true
		}
		return nil
	}); err != nil {
		t.Fatalf("sending the mirror probes: %v", err)
	}

	buf := make([]byte, 2048)
	deadline := time.Now().Add(10 * time.Second)
	for len(pending) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("mirror probes %v did not reach %s within 10s", slices.Sorted(maps.Keys(pending)), m.SensorLink)
		}
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.Fatalf("reading %s: %v", m.SensorLink, err)
		}
		if i := bytes.Index(buf[:n], []byte(nonce)); i >= 0 {
			end := i + len(nonce)
			for end < n && buf[end] >= '0' && buf[end] <= '9' {
				end++
			}
			delete(pending, string(buf[i:end]))
		}
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// sensorProc is a running `apitap sensor`.
type sensorProc struct {
	cmd    *exec.Cmd
	stderr *lab.OutputBuffer
	done   chan struct{}
	err    error // Wait's result, once done is closed
}

// startSensor starts apitap (this test binary running main) with args in
// ns and waits until it says it is capturing: its sockets are then bound,
// so every frame from now on reaches it.
func startSensor(t *testing.T, ns *netlab.Namespace, args ...string) *sensorProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s := &sensorProc{stderr: &lab.OutputBuffer{}, done: make(chan struct{})}
	s.cmd = ns.Start(func(c *exec.Cmd) {
		c.Env = append(os.Environ(), runMainEnv+"=1")
		c.Stdout = s.stderr
		c.Stderr = s.stderr
	}, exe, args...)
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	// Runs before netlab's own cleanup (which kills the process group and
	// waits again, harmlessly): only one Wait may be in progress.
	t.Cleanup(func() {
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.done
	})
	deadline := time.After(15 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(s.stderr.String(), `msg="capturing`) {
		select {
		case <-s.done:
			t.Fatalf("apitap %s exited before capturing (%v):\n%s", strings.Join(args, " "), s.err, s.stderr.String())
		case <-deadline:
			t.Fatalf("apitap %s did not start capturing within 15s:\n%s", strings.Join(args, " "), s.stderr.String())
		case <-tick.C:
		}
	}
	return s
}

// stop sends sig (SIGINT or SIGTERM), requires a clean exit within 15s and
// returns what the sensor wrote on stderr.
func (s *sensorProc) stop(t *testing.T, sig syscall.Signal) string {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signalling the sensor: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("the sensor did not exit within 15s of %v:\n%s", sig, s.stderr.String())
	}
	if s.err != nil {
		t.Fatalf("the sensor exited with %v, want 0:\n%s", s.err, s.stderr.String())
	}
	return s.stderr.String()
}

// sensorTx is a transaction as the sensor's JSONL has it.
type sensorTx struct {
	TS              string   `json:"ts"`
	Version         string   `json:"version"`
	ClientIP        string   `json:"client_ip"`
	ClientPort      uint16   `json:"client_port"`
	ServerIP        string   `json:"server_ip"`
	ServerPort      uint16   `json:"server_port"`
	Method          string   `json:"method"`
	Host            string   `json:"host"`
	URI             string   `json:"uri"`
	Status          int      `json:"status"`
	RequestBodyLen  int64    `json:"request_body_len"`
	ResponseBodyLen int64    `json:"response_body_len"`
	Flags           []string `json:"flags"`
}

func readSensorTransactions(t *testing.T, data []byte) []sensorTx {
	t.Helper()
	var out []sensorTx
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var tx sensorTx
		if err := json.Unmarshal([]byte(line), &tx); err != nil {
			t.Fatalf("transactions line %d: %v: %s", i+1, err, line)
		}
		out = append(out, tx)
	}
	return out
}

// exchangeKey is what must match between a transaction and the truth:
// the connection's endpoints, the request and the response.
type exchangeKey struct {
	Client, Server netip.AddrPort
	exchange
}

func (k exchangeKey) String() string {
	return fmt.Sprintf("%v→%v %s %s %q → %d (req %d B, resp %d B)", k.Client, k.Server, k.Method, k.Host, k.URI, k.Status, k.RequestBodyLen, k.ResponseBodyLen)
}

// incompleteFlags are flags no transaction of this clean, complete traffic
// may carry.
var incompleteFlags = []string{"gap", "truncated", "no_response", "no_request", "malformed"}

// compareWithTruth requires the transactions to be the truth's multiset
// exactly, none of them incomplete, all HTTP/1.1 and timestamped (capture
// time) between from and to.
func compareWithTruth(t *testing.T, got []sensorTx, truth []lab.Exchange, from, to time.Time) {
	t.Helper()
	count := map[exchangeKey]int{}
	for _, x := range truth {
		count[exchangeKey{x.Client, x.Server, exchange{Method: x.Method, Host: x.Host, URI: x.URI, Status: x.Status,
			RequestBodyLen: x.RequestBodyLen, ResponseBodyLen: x.ResponseBodyLen}}]++
	}
	for _, tx := range got {
		c, errC := netip.ParseAddr(tx.ClientIP)
		s, errS := netip.ParseAddr(tx.ServerIP)
		if errC != nil || errS != nil {
			t.Errorf("transaction with bad addresses: %+v", tx)
			continue
		}
		count[exchangeKey{netip.AddrPortFrom(c, tx.ClientPort), netip.AddrPortFrom(s, tx.ServerPort),
			exchange{Method: tx.Method, Host: tx.Host, URI: tx.URI, Status: tx.Status,
				RequestBodyLen: tx.RequestBodyLen, ResponseBodyLen: tx.ResponseBodyLen}}]--
		for _, f := range tx.Flags {
			if slices.Contains(incompleteFlags, f) {
				t.Errorf("transaction flagged %s: %+v", f, tx)
			}
		}
		if tx.Version != "1.1" {
			t.Errorf("transaction version %q, want 1.1: %+v", tx.Version, tx)
		}
		if ts, err := time.Parse(time.RFC3339Nano, tx.TS); err != nil || ts.Before(from) || ts.After(to) {
			t.Errorf("transaction ts %q (%v), want a time between %v and %v", tx.TS, err, from, to)
		}
	}
	var missing, extra []string
	for _, k := range slices.SortedFunc(maps.Keys(count), func(a, b exchangeKey) int { return strings.Compare(a.String(), b.String()) }) {
		for n := count[k]; n > 0; n-- {
			missing = append(missing, k.String())
		}
		for n := count[k]; n < 0; n++ {
			extra = append(extra, k.String())
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "%d transactions for %d exchanges; %d missing, %d extra", len(got), len(truth), len(missing), len(extra))
		for _, l := range missing {
			b.WriteString("\n  missing: " + l)
		}
		for _, l := range extra {
			b.WriteString("\n  extra:   " + l)
		}
		t.Error(b.String())
	}
	if len(truth) < 100 {
		t.Errorf("only %d exchanges in the truth; the clients should have made over 100", len(truth))
	}
}

var (
	summaryPacketsRE = regexp.MustCompile(`(?m)^packets +\d+ +\(\d+ TCP segments, (\d+) not TCP`)
	summaryTxRE      = regexp.MustCompile(`(?m)^transactions +(\d+) +\((\d+) written, (\d+) dropped\)`)
	summaryDropsRE   = regexp.MustCompile(`(?m)^kernel drops +(\d+)`)
	summaryLimitsRE  = regexp.MustCompile(`(?m)^limits hit +(\d+)(.*)$`)
)

// checkSummary checks the summary the sensor printed on exit: n
// transactions, all written, no kernel drop, no limit hit, and no warning
// or error logged.
func checkSummary(t *testing.T, stderr string, n int) {
	t.Helper()
	m := summaryTxRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no transactions line in the summary:\n%s", stderr)
	}
	want := strconv.Itoa(n)
	if m[1] != want || m[2] != want || m[3] != "0" {
		t.Errorf("summary: %s; want %d transactions, all written, none dropped", m[0], n)
	}
	if m := summaryDropsRE.FindStringSubmatch(stderr); m != nil && m[1] != "0" {
		t.Errorf("summary: %s; want no kernel drops", m[0])
	}
	if m := summaryLimitsRE.FindStringSubmatch(stderr); m == nil || m[1] != "0" {
		t.Errorf("summary: %q; want no limit hit", m)
	}
	for _, lvl := range []string{"level=WARN", "level=ERROR"} {
		if strings.Contains(stderr, lvl) {
			t.Errorf("the sensor logged %s:\n%s", lvl, stderr)
		}
	}
}

// checkSensorInventory reads the inventory the sensor wrote when it
// stopped: every transaction is in it, attributed to an endpoint.
func checkSensorInventory(t *testing.T, path string, transactions int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the sensor wrote no inventory: %v", err)
	}
	var inv struct {
		Transactions, Unattributed int
		Endpoints                  []struct{ Calls int }
	}
	if err := json.Unmarshal(b, &inv); err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, e := range inv.Endpoints {
		calls += e.Calls
	}
	if inv.Transactions != transactions || calls+inv.Unattributed != transactions || len(inv.Endpoints) == 0 {
		t.Errorf("inventory: %d transactions, %d in %d endpoints, %d unattributed; want %d transactions",
			inv.Transactions, calls, len(inv.Endpoints), inv.Unattributed, transactions)
	}
}
