//go:build conformance

package main_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestConformanceDockerTemplates runs the Docker Engine API conversation of
// the Zeek traces (docker-http-upgrade.pcap: docker run over TCP 2375)
// through analyze: the calls on the new container are one endpoint per
// operation with the container id as a parameter, not one per container.
func TestConformanceDockerTemplates(t *testing.T) {
	trace := filepath.Join(zeekData(t), "traces", "http", "docker-http-upgrade.pcap")
	inv := filepath.Join(t.TempDir(), "inv.json")
	cmd := exec.Command(buildApitap(t), "analyze", trace, "--inventory", inv, "--quiet", "--table=false")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("apitap analyze: %v: %s", err, stderr.String())
	}
	b, err := os.ReadFile(inv)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Endpoints []struct{ Method, Template string }
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range doc.Endpoints {
		got[e.Method+" "+e.Template] = true
		for _, seg := range strings.Split(e.Template, "/") {
			if len(seg) >= 12 && strings.Trim(seg, "0123456789abcdef") == "" {
				t.Errorf("a container id stayed literal: %s %s", e.Method, e.Template)
			}
		}
	}
	for _, want := range []string{
		"HEAD /_ping",
		"POST /v1.41/containers/create",
		"POST /v1.41/containers/{containerId}/attach",
		"POST /v1.41/containers/{containerId}/start",
		"POST /v1.41/containers/{containerId}/wait",
	} {
		if !got[want] {
			t.Errorf("missing endpoint %s; have %v", want, got)
		}
	}
}
