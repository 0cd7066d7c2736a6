//go:build conformance

package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// sharedData is ../shared/data seen from the repository root, which is the
// parent of this package's directory.
const sharedData = "../../shared/data"

// TestFilesAgainstPcapgo reads every capture of the Zeek test suite with
// OpenFiles and with gopacket's pcapgo readers, and requires the same
// frames: timestamps, bytes, wire lengths and link types.
func TestFilesAgainstPcapgo(t *testing.T) {
	root := filepath.Join(sharedData, "zeek", "traces")
	var paths []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if !d.IsDir() && (strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng") ||
			strings.HasSuffix(name, ".pcap.gz") || strings.HasSuffix(name, ".pcapng.gz") || strings.HasSuffix(name, ".trace")) {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the Zeek traces must be at %s: %v", root, err)
	}
	if len(paths) < 100 {
		t.Fatalf("found %d captures under %s, expected about 150", len(paths), root)
	}
	var frames int
	for _, p := range paths {
		name, _ := filepath.Rel(root, p)
		t.Run(name, func(t *testing.T) {
			want, wantErr := readWithPcapgo(t, p)
			src, err := OpenFiles([]string{p}, FileConfig{})
			if err != nil {
				t.Fatalf("OpenFiles: %v", err)
			}
			defer src.Close()
			got, gotErr := readFrames(src)
			if (wantErr == nil) != (gotErr == nil) {
				t.Errorf("pcapgo error %v, ours %v", wantErr, gotErr)
			}
			if gotErr != nil && !errors.Is(gotErr, ErrTruncated) && !errors.Is(gotErr, ErrCorrupt) {
				t.Errorf("error %v wraps neither ErrTruncated nor ErrCorrupt", gotErr)
			}
			sameFrames(t, got, want)
			frames += len(got)
		})
	}
	t.Logf("%d captures, %d frames agree", len(paths), frames)
}

// readWithPcapgo reads a capture with gopacket's readers.
func readWithPcapgo(t *testing.T, p string) ([]testFrame, error) {
	t.Helper()
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	var out []testFrame
	if bytes.HasPrefix(raw, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.NgReaderOptions{})
		if err != nil {
			t.Fatalf("pcapgo: %v", err)
		}
		for {
			data, ci, err := r.ReadPacketData()
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return out, err
			}
			ifc, err := r.Interface(ci.InterfaceIndex)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, testFrame{TS: ci.Timestamp, Data: data, Len: ci.Length, Link: LinkType(ifc.LinkType)})
		}
	}
	r, err := pcapgo.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("pcapgo: %v", err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, testFrame{TS: ci.Timestamp, Data: data, Len: ci.Length, Link: LinkType(r.LinkType())})
	}
}
