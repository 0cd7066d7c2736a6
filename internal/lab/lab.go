package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Config configures Record. The zero value records over IPv4 loopback into
// a new temporary directory.
type Config struct {
	// Dir receives the capture (capture.pcap) and the working files
	// (nginx configuration and logs, tool output). "": a new temporary
	// directory, which the caller removes (it is filepath.Dir of the
	// returned path).
	Dir string
	// IPv6 makes servers and clients use ::1 instead of 127.0.0.1.
	IPv6 bool
	// Interface is the interface tcpdump listens on. "": "lo".
	Interface string
	// StartTimeout bounds the wait for tcpdump and nginx to be ready and
	// for the capture to be flushed at the end. Zero: 15s.
	StartTimeout time.Duration
	// Logf receives progress messages; nil discards them.
	Logf func(format string, args ...any)
}

// Scenario is what to record: Run drives clients through the Env.
type Scenario struct {
	Name string
	// Nginx starts nginx with static JSON under /static/ and everything
	// else proxied to the Go server.
	Nginx bool
	// Run makes the requests. Its error fails Record.
	Run func(ctx context.Context, env *Env) error
}

// Exchange is the ground truth of one HTTP request/response on the wire.
// JSON names match the pipeline's transaction output.
type Exchange struct {
	// Source says who reported it: "go" (Go client), "curl", "raw"
	// (pipelined requests on a raw connection), "wrk" (nginx's log of
	// wrk's requests) or "proxy" (the Go server's log of what nginx
	// proxied to it).
	Source string         `json:"source"`
	Client netip.AddrPort `json:"client"`
	Server netip.AddrPort `json:"server"`
	Method string         `json:"method"`
	Host   string         `json:"host"`
	URI    string         `json:"uri"`
	// Status is the final status; 0 when no response was sent (the client
	// gave up first).
	Status int `json:"status"`
	// Entity bytes after de-chunking, before content decoding.
	RequestBodyLen  int64 `json:"request_body_len"`
	ResponseBodyLen int64 `json:"response_body_len"`
}

// Debian packages that provide each tool.
var toolPackages = map[string]string{"tcpdump": "tcpdump", "curl": "curl", "nginx": "nginx", "wrk": "wrk"}

// ErrToolMissing reports that a tool Record needs is not installed.
var ErrToolMissing = errors.New("tool not installed")

// lookTool finds a tool in PATH (and /usr/sbin, where Debian puts nginx and
// tcpdump).
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("lab: %s: %w: install the Debian package %q (apt-get install %s)", name, ErrToolMissing, toolPackages[name], toolPackages[name])
}

// Record runs the scenario on loopback while tcpdump captures the servers'
// ports, and returns the capture's path and the ground truth of every
// exchange in it (clients' reports first, in the order they completed,
// then wrk's and the proxied requests). Connections without HTTP data
// (keep-alive closes) may appear in the capture; the readiness probes do
// not (they are removed from the file).
func Record(ctx context.Context, cfg Config, sc Scenario) (pcapPath string, truth []Exchange, err error) {
	if sc.Run == nil {
		return "", nil, errors.New("lab: scenario has no Run function")
	}
	if cfg.Interface == "" {
		cfg.Interface = "lo"
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 15 * time.Second
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	tcpdump, err := lookTool("tcpdump")
	if err != nil {
		return "", nil, err
	}
	var nginxBin string
	if sc.Nginx {
		if nginxBin, err = lookTool("nginx"); err != nil {
			return "", nil, err
		}
	}
	if cfg.Dir == "" {
		if cfg.Dir, err = os.MkdirTemp("", "apitap-lab-"); err != nil {
			return "", nil, fmt.Errorf("lab: %w", err)
		}
	} else if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return "", nil, fmt.Errorf("lab: %w", err)
	}
	loop := netip.MustParseAddr("127.0.0.1")
	if cfg.IPv6 {
		loop = netip.IPv6Loopback()
	}

	// The Go server.
	slog := &serverLog{}
	ln, err := net.Listen("tcp", netip.AddrPortFrom(loop, 0).String())
	if err != nil {
		return "", nil, fmt.Errorf("lab: listen on loopback: %w", err)
	}
	goAddr := ln.Addr().(*net.TCPAddr).AddrPort()
	srv := &http.Server{Handler: logged(newHandler(), slog), ReadHeaderTimeout: 10 * time.Second}
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		<-srvDone
	}()

	env := &Env{GoServer: goAddr, dir: cfg.Dir, logf: cfg.Logf, loop: loop}
	env.initClient()
	defer env.transport.CloseIdleConnections()

	var ngx *nginxProc
	if sc.Nginx {
		if ngx, err = startNginx(ctx, nginxBin, cfg, loop, goAddr); err != nil {
			return "", nil, err
		}
		defer ngx.stop()
		env.Nginx = ngx.addr
	}

	// tcpdump on the servers' ports plus a UDP probe port.
	probeConn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loop, 0)))
	if err != nil {
		return "", nil, fmt.Errorf("lab: open the probe port: %w", err)
	}
	defer probeConn.Close()
	go io.Copy(io.Discard, readerFunc(func(b []byte) (int, error) { n, _, err := probeConn.ReadFromUDP(b); return n, err }))
	probePort := probeConn.LocalAddr().(*net.UDPAddr).AddrPort().Port()
	filter := fmt.Sprintf("tcp port %d or udp port %d", goAddr.Port(), probePort)
	if ngx != nil {
		filter = fmt.Sprintf("tcp port %d or tcp port %d or udp port %d", goAddr.Port(), ngx.addr.Port(), probePort)
	}
	pcapPath = filepath.Join(cfg.Dir, "capture.pcap")
	os.Remove(pcapPath)
	td, err := startTcpdump(ctx, tcpdump, cfg, pcapPath, filter, netip.AddrPortFrom(loop, probePort))
	if err != nil {
		return "", nil, err
	}
	defer td.kill()
	cfg.Logf("lab: recording %q: go server %v, nginx %v, filter %q", sc.Name, goAddr, env.Nginx, filter)

	if err := sc.Run(ctx, env); err != nil {
		return "", nil, fmt.Errorf("lab: scenario %q: %w", sc.Name, err)
	}

	// Close every connection so their ends are in the capture, then let
	// tcpdump write everything and stop it.
	env.transport.CloseIdleConnections()
	if ngx != nil {
		if err := ngx.stop(); err != nil {
			return "", nil, err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	srv.Shutdown(sctx)
	cancel()
	if err := td.stop(ctx); err != nil {
		return "", nil, err
	}
	if err := stripProbes(pcapPath, probePort); err != nil {
		return "", nil, err
	}

	truth = env.truth.all()
	if ngx != nil {
		entries, err := ngx.readLog()
		if err != nil {
			return "", nil, err
		}
		var direct []Exchange
		for _, e := range entries {
			if e.Source == "wrk" {
				truth = append(truth, e)
			} else {
				direct = append(direct, e)
			}
		}
		if err := crossCheck("nginx", direct, truth, ngx.addr); err != nil {
			return "", nil, err
		}
	}
	var direct []Exchange
	for _, e := range slog.all() {
		x := Exchange{Method: e.Method, Host: e.Host, URI: e.URI, Status: e.Status,
			RequestBodyLen: e.ReqBody, ResponseBodyLen: e.RespBody, Server: goAddr}
		if ap, err := netip.ParseAddrPort(e.Remote); err == nil {
			x.Client = ap
		}
		if e.ViaNginx {
			x.Source = "proxy"
			truth = append(truth, x)
		} else {
			direct = append(direct, x)
		}
	}
	if err := crossCheck("the Go server", direct, truth, goAddr); err != nil {
		return "", nil, err
	}
	return pcapPath, truth, nil
}

// crossCheck verifies that every request a server logged (other than wrk's
// and the proxied ones) is in the clients' truth, and the reverse.
func crossCheck(server string, logged, truth []Exchange, addr netip.AddrPort) error {
	type key struct {
		method, uri string
		status      int
	}
	count := map[key]int{}
	for _, e := range logged {
		count[key{e.Method, e.URI, e.Status}]++
	}
	for _, e := range truth {
		if e.Server == addr && e.Source != "wrk" && e.Source != "proxy" {
			count[key{e.Method, e.URI, e.Status}]--
		}
	}
	for k, n := range count {
		if n > 0 {
			return fmt.Errorf("lab: ground truth incomplete: %s logged %d more %s %s → %d than the clients reported", server, n, k.method, k.uri, k.status)
		}
		if n < 0 {
			return fmt.Errorf("lab: ground truth inconsistent: clients reported %d more %s %s → %d than %s logged", -n, k.method, k.uri, k.status, server)
		}
	}
	return nil
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

func freeTCPPort(loop netip.Addr) (uint16, error) {
	ln, err := net.Listen("tcp", netip.AddrPortFrom(loop, 0).String())
	if err != nil {
		return 0, fmt.Errorf("lab: pick a port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).AddrPort().Port(), nil
}

// OutputBuffer collects a child process's output (it is the process's
// Stdout and Stderr) while the caller reads what has come so far: Write
// and String are safe to call concurrently. The zero value is empty and
// ready to use.
type OutputBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p; it never fails.
func (b *OutputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *OutputBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type tcpdumpProc struct {
	cmd     *exec.Cmd
	path    string
	probe   netip.AddrPort
	stderr  *OutputBuffer
	done    chan struct{}
	waitErr error
	timeout time.Duration
}

func startTcpdump(ctx context.Context, bin string, cfg Config, path, filter string, probe netip.AddrPort) (*tcpdumpProc, error) {
	args := []string{"-i", cfg.Interface, "-w", path, "-U", "-n", "-s", "0", "-B", "131072"}
	if os.Geteuid() == 0 {
		args = append(args, "-Z", "root") // keep the rights to write into a private directory
	}
	args = append(args, filter)
	cmd := exec.Command(bin, args...)
	td := &tcpdumpProc{cmd: cmd, path: path, probe: probe, stderr: &OutputBuffer{}, done: make(chan struct{}), timeout: cfg.StartTimeout}
	cmd.Stderr = td.stderr
	cmd.Stdout = td.stderr
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("lab: start tcpdump: %w", err)
	}
	go func() { td.waitErr = cmd.Wait(); close(td.done) }()
	// Ready when a probe datagram sent now shows up in the file.
	if err := td.probeSeen(ctx); err != nil {
		td.kill()
		return nil, fmt.Errorf("lab: tcpdump did not start capturing on %s: %w (tcpdump said: %s); capturing needs root or CAP_NET_RAW", cfg.Interface, err, td.stderr.String())
	}
	return td, nil
}

// probeSeen sends UDP probes with a fresh nonce until the capture file
// holds one: everything captured before it has been written.
func (td *tcpdumpProc) probeSeen(ctx context.Context) error {
	var nb [12]byte
	rand.Read(nb[:])
	nonce := []byte("apitap-lab-probe-" + hex.EncodeToString(nb[:]))
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(td.probe))
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline := time.Now().Add(td.timeout)
	for time.Now().Before(deadline) {
		select {
		case <-td.done:
			return fmt.Errorf("tcpdump exited: %v", td.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		conn.Write(nonce)
		time.Sleep(50 * time.Millisecond)
		if b, err := os.ReadFile(td.path); err == nil && bytes.Contains(b, nonce) {
			return nil
		}
	}
	return errors.New("timed out")
}

var droppedRE = regexp.MustCompile(`(\d+) packets? dropped by kernel`)

// stop waits until the capture is flushed, stops tcpdump with SIGINT and
// checks that the kernel dropped nothing.
func (td *tcpdumpProc) stop(ctx context.Context) error {
	if err := td.probeSeen(ctx); err != nil {
		return fmt.Errorf("lab: flushing the capture: %w (tcpdump said: %s)", err, td.stderr.String())
	}
	td.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-td.done:
	case <-time.After(td.timeout):
		td.kill()
		return fmt.Errorf("lab: tcpdump did not stop on SIGINT within %v", td.timeout)
	}
	if m := droppedRE.FindStringSubmatch(td.stderr.String()); m == nil {
		return fmt.Errorf("lab: tcpdump did not report its statistics (it said: %s)", td.stderr.String())
	} else if n, _ := strconv.Atoi(m[1]); n > 0 {
		return fmt.Errorf("lab: the kernel dropped %d packets: the capture is incomplete", n)
	}
	return nil
}

func (td *tcpdumpProc) kill() {
	select {
	case <-td.done:
	default:
		td.cmd.Process.Kill()
		<-td.done
	}
}

// stripProbes rewrites the capture without the UDP probe datagrams.
func stripProbes(path string, probePort uint16) error {
	in, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	r, err := pcapgo.NewReader(bytes.NewReader(in))
	if err != nil {
		return fmt.Errorf("lab: read capture %s: %w", path, err)
	}
	var out bytes.Buffer
	w := pcapgo.NewWriter(&out)
	if err := w.WriteFileHeader(r.Snaplen(), r.LinkType()); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("lab: read capture %s: %w", path, err)
		}
		p := gopacket.NewPacket(data, r.LinkType(), gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		if u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); ok && (uint16(u.DstPort) == probePort || uint16(u.SrcPort) == probePort) {
			continue
		}
		if err := w.WritePacket(ci, data); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}
