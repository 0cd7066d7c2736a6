package capture

import (
	"io"
	"math/rand/v2"
	"testing"
	"time"
)

// benchFrames returns n frames of realistic sizes (60 to 1514 bytes) with
// compressible contents.
func benchFrames(n int) []testFrame {
	rng := rand.New(rand.NewPCG(1, 2))
	fs := make([]testFrame, n)
	text := []byte(`{"id":12345,"name":"widget","tags":["a","b"],"price":9.99}` + "\r\n")
	for i := range fs {
		size := 60
		if rng.IntN(3) > 0 {
			size = 200 + rng.IntN(1315)
		}
		d := make([]byte, size)
		for j := range d {
			d[j] = text[(i+j)%len(text)]
		}
		fs[i] = testFrame{TS: fileEpoch.Add(time.Duration(i) * time.Microsecond), Data: d, Len: size, Link: LinkTypeEthernet}
	}
	return fs
}

// benchFiles are the inputs of the file reading benchmarks and alloc tests.
func benchFiles(t testing.TB, n int) map[string][]byte {
	fs := benchFrames(n)
	ng := newNG(false).iface(LinkTypeEthernet, 0, 9, 0)
	for _, f := range fs {
		ng.epb(0, uint64(f.TS.UnixNano()), f.Data, f.Len)
	}
	pcap := pcapgoFile(t, true, LinkTypeEthernet, fs)
	return map[string][]byte{
		"pcap":    pcap,
		"pcapng":  ng.buf,
		"pcap.gz": gzipBytes(t, pcap),
	}
}

// TestReadFrameAllocs proves that reading a frame allocates nothing, from a
// plain, a pcapng, a gzip-compressed file and a merge of three files.
func TestReadFrameAllocs(t *testing.T) {
	files := benchFiles(t, 6000)
	dir := t.TempDir()
	tests := []struct {
		name  string
		files []string
	}{
		{"pcap", []string{"pcap"}},
		{"pcapng", []string{"pcapng"}},
		{"pcap.gz", []string{"pcap.gz"}},
		{"merge of three", []string{"pcap", "pcapng", "pcap.gz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var paths []string
			for _, f := range tt.files {
				paths = append(paths, writeCapture(t, dir, f, files[f]))
			}
			src := mustOpen(t, paths, FileConfig{})
			var f Frame
			for range 500 { // warm up: first refills, gzip window
				if err := src.ReadFrame(&f); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			allocs := testing.AllocsPerRun(4000, func() {
				if e := src.ReadFrame(&f); e != nil {
					err = e
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if allocs != 0 {
				t.Errorf("ReadFrame allocates %v times per frame, want 0", allocs)
			}
		})
	}
}

// BenchmarkReadFile reads a whole capture file per iteration; the rate is
// of uncompressed capture bytes.
func BenchmarkReadFile(b *testing.B) {
	const frames = 20000
	files := benchFiles(b, frames)
	dir := b.TempDir()
	for _, name := range []string{"pcap", "pcapng", "pcap.gz"} {
		b.Run(name, func(b *testing.B) {
			p := writeCapture(b, dir, name, files[name])
			size := len(files[name])
			if name == "pcap.gz" {
				size = len(files["pcap"])
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			var f Frame
			n := 0
			for b.Loop() {
				src, err := OpenFiles([]string{p}, FileConfig{})
				if err != nil {
					b.Fatal(err)
				}
				for {
					err := src.ReadFrame(&f)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				src.Close()
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "frames/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/frame")
		})
	}
}
