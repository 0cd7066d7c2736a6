package lab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Env is what a Scenario drives: the servers' addresses and the clients,
// each of which records the ground truth of the exchanges it makes.
type Env struct {
	// GoServer is the Go net/http server; Nginx is nginx (the zero value
	// when the scenario did not ask for it).
	GoServer, Nginx netip.AddrPort

	dir       string
	logf      func(string, ...any)
	loop      netip.Addr
	transport *http.Transport
	client    *http.Client
	// dial and command, when set (NewEnv), replace net.Dialer and
	// exec.CommandContext for the Go client and curl.
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	command func(ctx context.Context, name string, args ...string) *exec.Cmd

	truth syncList[Exchange]
	mu    sync.Mutex
	seq   int // for unique file names; guarded by mu
}

func (e *Env) initClient() {
	e.transport = &http.Transport{
		DisableCompression:    true, // keep bodies as sent; report encoded lengths
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       time.Minute,
		ExpectContinueTimeout: 2 * time.Second,
		ForceAttemptHTTP2:     false,
		DialContext:           e.dial,
	}
	e.client = &http.Client{
		Transport:     e.transport,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// URL returns "http://server" + pathAndQuery.
func URL(server netip.AddrPort, pathAndQuery string) string {
	return "http://" + server.String() + pathAndQuery
}

// GoURL returns the URL of pathAndQuery on the Go server.
func (e *Env) GoURL(pathAndQuery string) string { return URL(e.GoServer, pathAndQuery) }

// NginxURL returns the URL of pathAndQuery on nginx.
func (e *Env) NginxURL(pathAndQuery string) string { return URL(e.Nginx, pathAndQuery) }

// Result is what the Go client received.
type Result struct {
	Status int
	Header http.Header
	Body   []byte // as received: not decompressed
}

// Do sends req with the Go client (keep-alive, no transparent
// decompression, no redirects), reads the whole response and records the
// exchange. A request body of unknown length is sent chunked.
func (e *Env) Do(ctx context.Context, req *http.Request) (Result, error) {
	var local netip.AddrPort
	trace := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) {
		if a, ok := ci.Conn.LocalAddr().(*net.TCPAddr); ok {
			local = a.AddrPort()
		}
	}}
	req = req.WithContext(httptrace.WithClientTrace(ctx, trace))
	var cr *countingReader
	if req.Body != nil && req.Body != http.NoBody {
		cr = &countingReader{r: req.Body}
		req.Body = cr
		req.GetBody = nil
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("go client: %s %s: %w", req.Method, req.URL, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return Result{}, fmt.Errorf("go client: %s %s: read body: %w", req.Method, req.URL, err)
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	server, _ := netip.ParseAddrPort(req.URL.Host)
	x := Exchange{Source: "go", Client: local, Server: server, Method: req.Method, Host: host, URI: req.URL.RequestURI(),
		Status: resp.StatusCode, ResponseBodyLen: int64(len(body))}
	if cr != nil {
		x.RequestBodyLen = cr.n
	}
	e.truth.add(x)
	return Result{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// Get is Do for a GET with optional "Name: value" header lines.
func (e *Env) Get(ctx context.Context, url string, header ...string) (Result, error) {
	return e.Send(ctx, http.MethodGet, url, nil, header...)
}

// Send is Do for a request with a body (nil: none) and optional
// "Name: value" header lines.
func (e *Env) Send(ctx context.Context, method, url string, body []byte, header ...string) (Result, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return Result{}, err
	}
	for _, h := range header {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return Result{}, fmt.Errorf("header %q is not \"Name: value\"", h)
		}
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return e.Do(ctx, req)
}

// CurlRequest is one request of a curl run.
type CurlRequest struct {
	Method string // "": GET, or POST when Body is set; "HEAD" uses curl -I
	URL    string
	Header []string // "Name: value"
	Body   []byte   // sent with --data-binary
}

// curlWriteOut is curl's --write-out format: one line per transfer.
const curlWriteOut = `%{http_code} %{size_download} %{size_upload} %{local_ip} %{local_port} %{remote_ip} %{remote_port}\n`

// Curl runs one curl process that makes the requests in order, reusing one
// keep-alive connection per server (options separated by --next), and
// records each exchange from curl's --write-out report. Responses are not
// decompressed (no --compressed), so body lengths are the encoded ones.
func (e *Env) Curl(ctx context.Context, reqs ...CurlRequest) error {
	bin, err := lookTool("curl")
	if err != nil {
		return err
	}
	if len(reqs) == 0 {
		return nil
	}
	e.mu.Lock()
	e.seq++
	tag := strconv.Itoa(e.seq)
	e.mu.Unlock()
	var args []string
	for i, r := range reqs {
		if i > 0 {
			args = append(args, "--next")
		}
		args = append(args, "--silent", "--show-error", "--output", "/dev/null", "--write-out", curlWriteOut, "--max-time", "30")
		switch {
		case r.Method == "HEAD":
			args = append(args, "--head")
		case r.Method != "":
			args = append(args, "--request", r.Method)
		}
		for _, h := range r.Header {
			args = append(args, "--header", h)
		}
		if r.Body != nil {
			f := filepath.Join(e.dir, "curl-body-"+tag+"-"+strconv.Itoa(i))
			if err := os.WriteFile(f, r.Body, 0o644); err != nil {
				return err
			}
			args = append(args, "--data-binary", "@"+f)
		}
		args = append(args, r.URL)
	}
	newCmd := exec.CommandContext
	if e.command != nil {
		newCmd = e.command
	}
	cmd := newCmd(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("curl: %w: %s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != len(reqs) {
		return fmt.Errorf("curl: %d report lines for %d requests: %q", len(lines), len(reqs), stdout.String())
	}
	for i, line := range lines {
		f := strings.Fields(line)
		if len(f) != 7 {
			return fmt.Errorf("curl: unexpected report %q", line)
		}
		status, _ := strconv.Atoi(f[0])
		down, _ := strconv.ParseInt(f[1], 10, 64)
		up, _ := strconv.ParseInt(f[2], 10, 64)
		lport, _ := strconv.Atoi(f[4])
		rport, _ := strconv.Atoi(f[6])
		lip, _ := netip.ParseAddr(f[3])
		rip, _ := netip.ParseAddr(f[5])
		u, err := url.Parse(reqs[i].URL)
		if err != nil {
			return err
		}
		method := reqs[i].Method
		if method == "" {
			method = "GET"
			if reqs[i].Body != nil {
				method = "POST"
			}
		}
		host := u.Host
		for _, h := range reqs[i].Header {
			if name, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "Host") {
				host = strings.TrimSpace(v)
			}
		}
		e.truth.add(Exchange{Source: "curl", Client: netip.AddrPortFrom(lip, uint16(lport)), Server: netip.AddrPortFrom(rip, uint16(rport)),
			Method: method, Host: host, URI: u.RequestURI(), Status: status, RequestBodyLen: up, ResponseBodyLen: down})
	}
	return nil
}

// Pipeline opens one TCP connection to server, writes all requests in a
// single write (HTTP/1.1 pipelining), reads the responses in order and
// records each exchange.
func (e *Env) Pipeline(ctx context.Context, server netip.AddrPort, reqs ...*http.Request) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", server.String())
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	var buf bytes.Buffer
	reqLens := make([]int64, len(reqs))
	for i, r := range reqs {
		if r.Body != nil && r.ContentLength <= 0 {
			return errors.New("pipeline: request bodies need a known ContentLength")
		}
		reqLens[i] = max(r.ContentLength, 0)
		if err := r.Write(&buf); err != nil {
			return fmt.Errorf("pipeline: %w", err)
		}
	}
	if _, err := conn.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	local := conn.LocalAddr().(*net.TCPAddr).AddrPort()
	br := bufio.NewReader(conn)
	for i, r := range reqs {
		resp, err := http.ReadResponse(br, r)
		if err != nil {
			return fmt.Errorf("pipeline: response %d: %w", i, err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("pipeline: response %d body: %w", i, err)
		}
		host := r.Host
		if host == "" {
			host = r.URL.Host
		}
		e.truth.add(Exchange{Source: "raw", Client: local, Server: server, Method: r.Method, Host: host, URI: r.URL.RequestURI(),
			Status: resp.StatusCode, RequestBodyLen: reqLens[i], ResponseBodyLen: n})
	}
	return nil
}

// WrkOptions bound a wrk run. Every field's zero value has a default.
type WrkOptions struct {
	URL         string        // "": nginx's /static/users.json
	Threads     int           // -t; 0: 1
	Connections int           // -c; 0: 2
	Duration    time.Duration // -d, whole seconds; 0: 1s
	// Delay is the pause before each request on a connection (a wrk Lua
	// delay() hook), which bounds the request count. 0: 20ms; negative:
	// none (full speed: a large capture).
	Delay time.Duration
}

// Wrk runs wrk with the given bounds; requests carry
// "X-Lab-Client: wrk" so that nginx's access log, which must be the
// server, reports them as ground truth.
func (e *Env) Wrk(ctx context.Context, o WrkOptions) error {
	bin, err := lookTool("wrk")
	if err != nil {
		return err
	}
	if !e.Nginx.IsValid() {
		return errors.New("wrk: the scenario must start nginx (Scenario.Nginx), whose log is wrk's ground truth")
	}
	if o.URL == "" {
		o.URL = e.NginxURL("/static/users.json")
	}
	if o.Threads <= 0 {
		o.Threads = 1
	}
	if o.Connections <= 0 {
		o.Connections = 2
	}
	if o.Duration < time.Second {
		o.Duration = time.Second
	}
	if o.Delay == 0 {
		o.Delay = 20 * time.Millisecond
	}
	args := []string{"-t", strconv.Itoa(o.Threads), "-c", strconv.Itoa(o.Connections),
		"-d", strconv.Itoa(int(o.Duration/time.Second)) + "s", "-H", "X-Lab-Client: wrk"}
	if o.Delay > 0 {
		script := filepath.Join(e.dir, "wrk-delay.lua")
		lua := fmt.Sprintf("function delay()\n  return %d\nend\n", o.Delay.Milliseconds())
		if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
			return err
		}
		args = append(args, "-s", script)
	}
	args = append(args, o.URL)
	cmd := exec.CommandContext(ctx, bin, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("wrk: %w: %s", err, out)
	}
	e.logf("lab: wrk: %s", bytes.TrimSpace(out))
	return nil
}
