package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "1GB", want: 1e9},
		{in: "1gb", want: 1e9},
		{in: "512MiB", want: 512 << 20},
		{in: "1.5 MB", want: 1.5e6},
		{in: "100KiB", want: 100 << 10},
		{in: "2G", want: 2e9},
		{in: "12345", want: 12345},
		{in: "10B", want: 10},
		{in: "", bad: true},
		{in: "-1GB", bad: true},
		{in: "lots", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if (err != nil) != tt.bad || (!tt.bad && got != tt.want) {
				t.Fatalf("parseSize(%q) = %d, %v", tt.in, got, err)
			}
		})
	}
}

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
