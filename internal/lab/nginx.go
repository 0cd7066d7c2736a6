package lab

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// StaticFiles are the files nginx serves under /static/ (name → content).
var staticFiles = map[string]string{
	"users.json":  `{"data":[{"id":1,"name":"Ada Lovelace"},{"id":2,"name":"Grace Hopper"},{"id":3,"name":"Alan Turing"}],"total":3}` + "\n",
	"items.json":  `{"data":[` + strings.Repeat(`{"sku":"SKU-00042","price":19.99,"tags":["static","cached"]},`, 40) + `{"sku":"SKU-99999","price":1.5,"tags":[]}]}` + "\n",
	"health.json": `{"status":"ok"}` + "\n",
}

// nginxLogFormat logs one JSON object per request; $http_host is the Host
// header as sent, $content_length the request's declared body length.
const nginxLogFormat = `'{"method":"$request_method","host":"$http_host","uri":"$request_uri","status":$status,` +
	`"content_length":"$content_length","body_bytes_sent":$body_bytes_sent,` +
	`"remote_addr":"$remote_addr","remote_port":"$remote_port","lab_client":"$http_x_lab_client"}'`

type nginxProc struct {
	cmd     *exec.Cmd
	addr    netip.AddrPort
	dir     string
	stderr  *OutputBuffer
	done    chan struct{}
	waitErr error
	once    sync.Once
	stopErr error
	timeout time.Duration
}

func nginxConfig(dir string, listen, upstream netip.AddrPort) string {
	return fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log warn;
events { worker_connections 256; }
http {
    types { application/json json; }
    default_type application/octet-stream;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
    log_format lab escape=json %[4]s;
    access_log %[1]s/nginx-access.log lab;
    keepalive_requests 10000;
    upstream goapp {
        server %[3]s;
        keepalive 8;
    }
    server {
        listen %[2]s;
        location /static/ {
            root %[1]s/www;
        }
        location / {
            proxy_pass http://goapp;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Lab-Via nginx;
        }
    }
}
`, dir, listen, upstream, nginxLogFormat)
}

// startNginx writes a configuration into cfg.Dir and starts nginx on a
// free loopback port, retrying when another process takes the port first.
func startNginx(ctx context.Context, bin string, cfg Config, loop netip.Addr, upstream netip.AddrPort) (*nginxProc, error) {
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	for _, d := range []string{"tmp", "www/static"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
	}
	for name, content := range staticFiles {
		if err := os.WriteFile(filepath.Join(dir, "www/static", name), []byte(content), 0o644); err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freeTCPPort(loop)
		if err != nil {
			return nil, err
		}
		addr := netip.AddrPortFrom(loop, port)
		conf := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(conf, []byte(nginxConfig(dir, addr, upstream)), 0o644); err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
		os.Remove(filepath.Join(dir, "nginx-access.log"))
		cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "nginx-error.log"))
		n := &nginxProc{cmd: cmd, addr: addr, dir: dir, stderr: &OutputBuffer{}, done: make(chan struct{}), timeout: cfg.StartTimeout}
		cmd.Stdout, cmd.Stderr = n.stderr, n.stderr
		cmd.SysProcAttr = procAttr()
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("lab: start nginx: %w", err)
		}
		go func() { n.waitErr = cmd.Wait(); close(n.done) }()
		if lastErr = n.waitReady(ctx); lastErr == nil {
			return n, nil
		}
		n.stop()
	}
	return nil, lastErr
}

func (n *nginxProc) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(n.timeout)
	for time.Now().Before(deadline) {
		select {
		case <-n.done:
			errLog, _ := os.ReadFile(filepath.Join(n.dir, "nginx-error.log"))
			return fmt.Errorf("lab: nginx exited: %v: %s %s", n.waitErr, n.stderr.String(), errLog)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if c, err := net.DialTimeout("tcp", n.addr.String(), time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("lab: nginx did not accept connections on %v within %v", n.addr, n.timeout)
}

// stop ends nginx gracefully (SIGQUIT lets it finish and log requests in
// flight), killing it after the timeout. It is idempotent.
func (n *nginxProc) stop() error {
	n.once.Do(func() {
		select {
		case <-n.done:
			return
		default:
		}
		n.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-n.done:
		case <-time.After(n.timeout):
			n.cmd.Process.Kill()
			<-n.done
			n.stopErr = fmt.Errorf("lab: nginx did not stop on SIGQUIT within %v", n.timeout)
		}
	})
	return n.stopErr
}

// readLog parses nginx's access log into exchanges; requests that carried
// "X-Lab-Client: wrk" get Source "wrk", the others "nginx".
func (n *nginxProc) readLog() ([]Exchange, error) {
	f, err := os.Open(filepath.Join(n.dir, "nginx-access.log"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	defer f.Close()
	var out []Exchange
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e struct {
			Method        string `json:"method"`
			Host          string `json:"host"`
			URI           string `json:"uri"`
			Status        int    `json:"status"`
			ContentLength string `json:"content_length"`
			BodyBytesSent int64  `json:"body_bytes_sent"`
			RemoteAddr    string `json:"remote_addr"`
			RemotePort    string `json:"remote_port"`
			LabClient     string `json:"lab_client"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("lab: nginx access log line %q: %w", sc.Text(), err)
		}
		x := Exchange{Source: "nginx", Server: n.addr, Method: e.Method, Host: e.Host, URI: e.URI, Status: e.Status, ResponseBodyLen: e.BodyBytesSent}
		if e.LabClient == "wrk" {
			x.Source = "wrk"
		}
		x.RequestBodyLen, _ = strconv.ParseInt(e.ContentLength, 10, 64)
		if a, err := netip.ParseAddr(e.RemoteAddr); err == nil {
			p, _ := strconv.Atoi(e.RemotePort)
			x.Client = netip.AddrPortFrom(a, uint16(p))
		}
		// 499: the client closed before nginx answered; nothing was sent.
		if x.Status == 499 {
			x.Status, x.ResponseBodyLen = 0, 0
		}
		out = append(out, x)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("lab: nginx access log: %w", err)
	}
	return out, nil
}
