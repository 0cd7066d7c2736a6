package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

func TestRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bulk.pcap")
	var stderr bytes.Buffer
	if err := run([]string{"-out", out, "-size", "300KB", "-seed", "3"}, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "exchanges") {
		t.Errorf("summary: %q", stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	if st.Size() < 300e3 {
		t.Errorf("file is %d bytes, want ≥ 300 kB", st.Size())
	}
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.ReadPacketData(); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-size", "1MB"}, &stderr); err == nil {
		t.Error("missing -out accepted")
	}
	if err := run([]string{"-out", out, "-size", "huge"}, &stderr); err == nil {
		t.Error("bad size accepted")
	}
}
