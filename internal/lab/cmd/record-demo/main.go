// Command record-demo records the demo capture shipped with apitap: a
// small JSON REST API session on loopback (lab.DemoScenario), written as
// DIR/demo.pcap with its ground truth in DIR/demo.truth.jsonl (one JSON
// object per exchange: method, host, uri, status, request_body_len,
// response_body_len, plus source, client and server).
//
//	go run ./internal/lab/cmd/record-demo -dir cmd/apitap/testdata/demo
//
// It needs tcpdump and curl, and root or CAP_NET_RAW.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/apitap/apitap/internal/lab"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "record-demo:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("record-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", filepath.Join("cmd", "apitap", "testdata", "demo"), "output directory")
	maxSize := fs.Int64("max-size", 300<<10, "fail when the capture is this many bytes or more")
	if err := fs.Parse(args); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "record-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pcap, truth, err := lab.Record(ctx, lab.Config{Dir: work}, lab.DemoScenario())
	if err != nil {
		return err
	}
	data, err := os.ReadFile(pcap)
	if err != nil {
		return err
	}
	if int64(len(data)) >= *maxSize {
		return fmt.Errorf("the capture is %d bytes, limit %d", len(data), *maxSize)
	}
	var jl bytes.Buffer
	enc := json.NewEncoder(&jl)
	enc.SetEscapeHTML(false)
	for _, x := range truth {
		if err := enc.Encode(x); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, "demo.pcap"), data, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, "demo.truth.jsonl"), jl.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (%d bytes) and %d exchanges to %s\n",
		filepath.Join(*dir, "demo.pcap"), len(data), len(truth), filepath.Join(*dir, "demo.truth.jsonl"))
	return nil
}
