package speclab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apitap/apitap/internal/lab"
)

// Config configures Record.
type Config struct {
	// Spec is the path of the OpenAPI document (required).
	Spec string
	// Seed: everything random derives from it; the same seed gives the
	// same requests and responses, in the same order on each connection.
	Seed uint64
	// CallsPerOperation is how many calls each operation gets, with varied
	// parameters and bodies. Zero: 40.
	CallsPerOperation int
	// Host is the Host header the client sends. "": a realistic name from
	// the spec's server URL or title ("unify.apideck.com",
	// "vampi.example.com"), never "localhost".
	Host string
	// BasePath overrides the base path the operations are served under.
	// "": the path of the spec's first server URL ("" for most specs);
	// "/": none.
	BasePath string
	// Dir is where the capture (capture.pcap) and the ground truth
	// (calls.jsonl) go (required; created when missing).
	Dir string
	// Check validates every request and response against the spec with
	// kin-openapi's openapi3filter; any failure fails Record. Zero: off
	// (validation compiles schemas per call and is slow on large specs).
	Check bool
	// Logf receives progress messages; nil discards them.
	Logf func(format string, args ...any)
}

// Result is what Record did.
type Result struct {
	Pcap       string   // the capture (tcpdump on lo, whole packets)
	Truth      string   // calls.jsonl: one Call per line, in Calls order
	Host       string   // the Host used
	BasePath   string   // base path the operations were served under ("" or "/api/v1")
	Operations int      // operations in the spec
	Called     int      // operations called at least once with a documented response
	Calls      int      // requests made
	Succeeded  int      // requests answered with a 2xx
	Skipped    []string // "METHOD /path: reason" for operations that could not be exercised
	// Problems lists what went wrong on the server side (requests no
	// operation matches, generation errors and, with Check, validation
	// failures); Record fails when it is not empty.
	Problems []string
	// Log is the ground truth of every request, by connection then order.
	Log []Call
}

// ErrUndocumented reports a call answered with a status its operation does
// not document (a bug of the lab).
var ErrUndocumented = errors.New("speclab: undocumented response status")

// Record serves the spec on 127.0.0.1 (a kernel-chosen port), captures the
// port with tcpdump on lo, calls every operation CallsPerOperation times
// from four keep-alive connections (source addresses 127.0.0.11-14, one
// client identity each) and returns when the capture is complete. It fails
// when tcpdump is missing (naming the Debian package), when capturing is not
// permitted (root or CAP_NET_RAW), on any transport error, and when a call
// gets an undocumented status or the server met a request it could not
// route (or, with Check, an invalid request or response).
//
// Record may run concurrently with itself (each call has its own server,
// port and capture) as long as the Dirs differ.
func Record(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Spec == "" {
		return Result{}, errors.New("speclab: Config.Spec is required")
	}
	if cfg.Dir == "" {
		return Result{}, errors.New("speclab: Config.Dir is required")
	}
	if cfg.CallsPerOperation <= 0 {
		cfg.CallsPerOperation = 40
	}
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	spec, err := LoadSpec(cfg.Spec)
	if err != nil {
		return Result{}, err
	}
	res := Result{Host: cfg.Host, BasePath: spec.BasePath, Operations: len(spec.Operations)}
	if res.Host == "" {
		res.Host = spec.Host
	}
	switch cfg.BasePath {
	case "":
	case "/":
		res.BasePath = ""
	default:
		res.BasePath = "/" + strings.Trim(cfg.BasePath, "/")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return Result{}, fmt.Errorf("speclab: %w", err)
	}

	rt := newRouter(spec, res.BasePath)
	ids := newIdentities(spec, cfg.Seed)
	perConn, skipped := plan(spec, rt, ids, cfg.Seed, cfg.CallsPerOperation)
	res.Skipped = skipped

	srv := NewServer(spec, res.BasePath, cfg.Seed, cfg.Check)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Result{}, fmt.Errorf("speclab: listen on loopback: %w", err)
	}
	addr := ln.Addr().(*net.TCPAddr).AddrPort()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	shutdown := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}
	defer shutdown()

	res.Pcap = filepath.Join(cfg.Dir, "capture.pcap")
	capt, err := lab.StartCapture(ctx, lab.CaptureConfig{Path: res.Pcap, Ports: []uint16{addr.Port()}})
	if err != nil {
		return Result{}, fmt.Errorf("speclab: %w", err)
	}
	defer capt.Close()
	logf("speclab: %s: %d operations, serving %s%s on %v as %s", spec.Title, len(spec.Operations), res.Host, res.BasePath, addr, res.Host)

	calls, err := runClients(ctx, addr, res.Host, ids, perConn)
	if err != nil {
		return Result{}, err
	}
	// The clients closed their connections; stop the server so every FIN
	// is on the wire, then let tcpdump write everything.
	shutdown()
	<-served
	if err := capt.Stop(ctx); err != nil {
		return Result{}, fmt.Errorf("speclab: %w", err)
	}

	res.Log = calls
	res.Calls = len(calls)
	called := map[string]bool{}
	var undocumented []string
	for _, c := range calls {
		if c.Documented {
			called[c.Operation] = true
		} else {
			undocumented = append(undocumented, fmt.Sprintf("%s → %d", c.URI, c.Status))
		}
		if c.Status >= 200 && c.Status < 300 {
			res.Succeeded++
		}
	}
	res.Called = len(called)
	res.Truth = filepath.Join(cfg.Dir, "calls.jsonl")
	if err := writeCalls(res.Truth, calls); err != nil {
		return res, err
	}
	res.Problems = srv.Failures()
	if f := res.Problems; len(f) > 0 {
		return res, fmt.Errorf("speclab: the server met %d problems, first: %s", len(f), f[0])
	}
	if len(undocumented) > 0 {
		return res, fmt.Errorf("%w: %d calls, first: %s", ErrUndocumented, len(undocumented), undocumented[0])
	}
	if n := len(srv.Served()); n != len(calls) {
		return res, fmt.Errorf("speclab: the server answered %d requests, the clients made %d", n, len(calls))
	}
	logf("speclab: %d calls, %d of %d operations called, %d skipped, capture %s", res.Calls, res.Called, res.Operations, len(res.Skipped), res.Pcap)
	return res, nil
}

func writeCalls(path string, calls []Call) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("speclab: %w", err)
	}
	enc := json.NewEncoder(f)
	for _, c := range calls {
		if err := enc.Encode(c); err != nil {
			f.Close()
			return fmt.Errorf("speclab: write %s: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("speclab: write %s: %w", path, err)
	}
	return nil
}
