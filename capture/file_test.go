package capture

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// pcapngMulti writes a pcapng file with three interfaces of different link
// types through gopacket's writer, plus a statistics block to skip.
func pcapngMulti(t testing.TB) ([]byte, []testFrame) {
	t.Helper()
	var buf bytes.Buffer
	intf := pcapgo.DefaultNgInterface
	intf.LinkType = layers.LinkTypeEthernet
	w, err := pcapgo.NewNgWriterInterface(&buf, intf, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	links := []LinkType{LinkTypeEthernet, LinkTypeRaw, LinkTypeLinuxSLL2}
	for _, lt := range links[1:] {
		intf.LinkType = layers.LinkType(lt)
		if _, err := w.AddInterface(intf); err != nil {
			t.Fatal(err)
		}
	}
	fs := makeFrames("ng", 30, fileEpoch, 1500*time.Nanosecond, 0)
	for i := range fs {
		fs[i].Iface = i % 3
		fs[i].Link = links[i%3]
		ci := gopacket.CaptureInfo{Timestamp: fs[i].TS, CaptureLength: len(fs[i].Data), Length: fs[i].Len, InterfaceIndex: fs[i].Iface}
		if err := w.WritePacket(ci, fs[i].Data); err != nil {
			t.Fatal(err)
		}
		if i == 10 {
			if err := w.WriteInterfaceStats(1, pcapgo.NgInterfaceStatistics{LastUpdate: fileEpoch, PacketsReceived: 10}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), fs
}

// pcapngResolutions builds (by hand) a pcapng file whose interfaces use the
// default microsecond resolution, milliseconds, 2^-20 s with an offset, and
// picoseconds; each packet block type appears.
func pcapngResolutions(big bool) ([]byte, []testFrame) {
	n := newNG(big).
		iface(LinkTypeEthernet, 0, -1, 0).      // 0: default 10^-6
		iface(LinkTypeRaw, 0, 3, 0).            // 1: 10^-3
		iface(LinkTypeLinuxSLL, 0, 0x80|20, 7). // 2: 2^-20, +7 s
		iface(LinkTypeIPv6, 0, 12, 0)           // 3: 10^-12
	sec := uint64(fileEpoch.Unix())
	var want []testFrame
	add := func(ifid int, units uint64, ts time.Time, lt LinkType, data string) {
		n.epb(uint32(ifid), units, []byte(data), len(data)+4)
		want = append(want, testFrame{TS: ts, Data: []byte(data), Len: len(data) + 4, Link: lt})
	}
	add(0, sec*1e6+123456, time.Unix(int64(sec), 123456000), LinkTypeEthernet, "micro")
	add(1, sec*1e3+789, time.Unix(int64(sec), 789000000), LinkTypeRaw, "milli")
	add(2, sec<<20|1<<19, time.Unix(int64(sec)+7, 500000000), LinkTypeLinuxSLL, "binary-half")
	// 64 bits of picoseconds reach only 1970-08: a relative clock.
	add(3, 7000*1e12+123456789012, time.Unix(7000, 123456789), LinkTypeIPv6, "pico")
	n.nameResolution()
	n.opb(1, sec*1e3+999, []byte("obsolete"), 8)
	want = append(want, testFrame{TS: time.Unix(int64(sec), 999000000), Data: []byte("obsolete"), Len: 8, Link: LinkTypeRaw})
	// A simple packet block has no timestamp: it takes the previous one.
	n.spb([]byte("simple!"), 7)
	want = append(want, testFrame{TS: time.Unix(int64(sec), 999000000), Data: []byte("simple!"), Len: 7, Link: LinkTypeEthernet})
	return n.buf, want
}

// pcapngTwoSections has a little-endian section followed by a big-endian one
// whose interface 0 has another link type.
func pcapngTwoSections() ([]byte, []testFrame) {
	a := newNG(false).iface(LinkTypeEthernet, 0, 9, 0)
	b := newNG(true).iface(LinkTypeRaw, 0, 9, 0)
	ns := uint64(fileEpoch.UnixNano())
	a.epb(0, ns, []byte("first section"), 13)
	b.epb(0, ns+1, []byte("second section"), 14)
	want := []testFrame{
		{TS: fileEpoch, Data: []byte("first section"), Len: 13, Link: LinkTypeEthernet},
		{TS: fileEpoch.Add(1), Data: []byte("second section"), Len: 14, Link: LinkTypeRaw},
	}
	return append(a.buf, b.buf...), want
}

func TestOpenFilesFormats(t *testing.T) {
	pcapFrames := makeFrames("pcap", 25, fileEpoch, 333*time.Microsecond+7, LinkTypeEthernet)
	ngMulti, ngMultiWant := pcapngMulti(t)
	ngResLE, ngResWant := pcapngResolutions(false)
	ngResBE, _ := pcapngResolutions(true)
	ngSections, ngSectionsWant := pcapngTwoSections()
	// Frames larger than the initial read buffer (64 KiB) make it grow.
	jumbo := makeFrames("jumbo", 6, fileEpoch, time.Millisecond, LinkTypeEthernet)
	for i := range jumbo {
		jumbo[i].Data = append(jumbo[i].Data, make([]byte, (i%3)*100000)...)
		jumbo[i].Len = len(jumbo[i].Data)
	}
	ngJumbo := newNG(false).iface(LinkTypeEthernet, 0, 9, 0)
	for _, f := range jumbo {
		ngJumbo.epb(0, uint64(f.TS.UnixNano()), f.Data, f.Len)
	}

	tests := []struct {
		name string
		file []byte
		want []testFrame
	}{
		{"pcap micro little-endian (pcapgo)", pcapgoFile(t, false, LinkTypeEthernet, pcapFrames), truncTS(pcapFrames, time.Microsecond)},
		{"pcap nano little-endian (pcapgo)", pcapgoFile(t, true, LinkTypeEthernet, pcapFrames), pcapFrames},
		{"pcap micro big-endian", rawPcap(true, magicPcapMicro, LinkTypeEthernet, pcapFrames), truncTS(pcapFrames, time.Microsecond)},
		{"pcap nano big-endian", rawPcap(true, magicPcapNano, LinkTypeEthernet, pcapFrames), pcapFrames},
		{"pcap modified (24-byte records)", rawPcap(false, magicPcapModified, LinkTypeEthernet, pcapFrames), truncTS(pcapFrames, time.Microsecond)},
		{"pcap unknown link type passed through", rawPcap(false, magicPcapNano, 4242, pcapFrames[:3]), withLink(pcapFrames[:3], 4242)},
		{"pcap with no packets", rawPcap(false, magicPcapMicro, LinkTypeEthernet, nil), nil},
		{"pcapng multi-interface (pcapgo)", ngMulti, ngMultiWant},
		{"pcapng resolutions little-endian", ngResLE, ngResWant},
		{"pcapng resolutions big-endian", ngResBE, ngResWant},
		{"pcapng two sections, both byte orders", ngSections, ngSectionsWant},
		{"pcap with 200 KB frames", rawPcap(false, magicPcapNano, LinkTypeEthernet, jumbo), jumbo},
		{"pcapng with 200 KB frames", ngJumbo.buf, jumbo},
		{"gzip pcap", gzipBytes(t, pcapgoFile(t, true, LinkTypeEthernet, pcapFrames)), pcapFrames},
		{"gzip pcapng", gzipBytes(t, ngMulti), ngMultiWant},
		{"gzip big-endian pcap", gzipBytes(t, rawPcap(true, magicPcapMicro, LinkTypeEthernet, pcapFrames)), truncTS(pcapFrames, time.Microsecond)},
		{"gzip of two members", append(gzipBytes(t, ngSections[:len(ngSections)/2]), gzipBytes(t, ngSections[len(ngSections)/2:])...), ngSectionsWant},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The name never says gzip: detection is by content.
			p := writeCapture(t, dir, "capture"+string(rune('a'+i)), tt.file)
			src := mustOpen(t, []string{p}, FileConfig{})
			got, err := readFrames(src)
			if err != nil {
				t.Fatalf("ReadFrame: %v", err)
			}
			sameFrames(t, got, tt.want)
			if done, total := src.Progress(); done != total || total != int64(len(tt.file)) {
				t.Errorf("Progress() = %d, %d; want %d, %d", done, total, len(tt.file), len(tt.file))
			}
			var f Frame
			if err := src.ReadFrame(&f); err != io.EOF {
				t.Errorf("ReadFrame after the end = %v, want io.EOF", err)
			}
		})
	}
}

func withLink(fs []testFrame, lt LinkType) []testFrame {
	out := append([]testFrame(nil), fs...)
	for i := range out {
		out[i].Link = lt
	}
	return out
}

func TestOpenFilesStdin(t *testing.T) {
	fs := makeFrames("stdin", 40, fileEpoch, time.Millisecond, LinkTypeEthernet)
	plain := pcapgoFile(t, true, LinkTypeEthernet, fs)
	tests := []struct {
		name      string
		data      []byte
		osPipe    bool // an *os.File pipe rather than an io.Pipe
		wantTotal int64
	}{
		{"pcap through io.Pipe", plain, false, -1},
		{"gzip pcap through io.Pipe", gzipBytes(t, plain), false, -1},
		{"gzip pcap through an os pipe", gzipBytes(t, plain), true, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in io.Reader
			var wc io.WriteCloser
			if tt.osPipe {
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { r.Close() })
				in, wc = r, w
			} else {
				r, w := io.Pipe()
				in, wc = r, w
			}
			go func() {
				// Write in small pieces, as a slow producer would.
				for b := tt.data; len(b) > 0; {
					n := min(len(b), 100)
					if _, err := wc.Write(b[:n]); err != nil {
						return
					}
					b = b[n:]
				}
				wc.Close()
			}()
			src := mustOpen(t, []string{"-"}, FileConfig{Stdin: in})
			got, err := readFrames(src)
			if err != nil {
				t.Fatal(err)
			}
			sameFrames(t, got, fs)
			if done, total := src.Progress(); done != int64(len(tt.data)) || total != tt.wantTotal {
				t.Errorf("Progress() = %d, %d; want %d, %d", done, total, len(tt.data), tt.wantTotal)
			}
		})
	}
	t.Run("regular file as stdin reports its size", func(t *testing.T) {
		p := writeCapture(t, t.TempDir(), "in", plain)
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		src := mustOpen(t, []string{"-"}, FileConfig{Stdin: f})
		if _, total := src.Progress(); total != int64(len(plain)) {
			t.Errorf("total = %d, want %d", total, len(plain))
		}
	})
}

func TestOpenFilesMerge(t *testing.T) {
	// Three files whose packets interleave in time, with ties between
	// files; one file holds no packet at all.
	a := makeFrames("a", 20, fileEpoch, 3*time.Millisecond, LinkTypeEthernet)
	b := makeFrames("b", 15, fileEpoch.Add(time.Millisecond), 4*time.Millisecond, LinkTypeRaw)
	c := makeFrames("c", 10, fileEpoch, 6*time.Millisecond, LinkTypeLinuxSLL) // ties with a every 6ms
	ng := newNG(true).iface(LinkTypeLinuxSLL, 0, 9, 0)
	for _, f := range c {
		ng.epb(0, uint64(f.TS.UnixNano()), f.Data, f.Len)
	}
	dir := t.TempDir()
	paths := []string{
		writeCapture(t, dir, "a.pcap", pcapgoFile(t, true, LinkTypeEthernet, a)),
		writeCapture(t, dir, "empty.pcap", rawPcap(false, magicPcapMicro, LinkTypeEthernet, nil)),
		writeCapture(t, dir, "b.pcap.gz", gzipBytes(t, rawPcap(true, magicPcapNano, LinkTypeRaw, b))),
		writeCapture(t, dir, "c.pcapng", ng.buf),
	}
	// The expected order: by time, ties by position in the list.
	type keyed struct {
		f   testFrame
		pos int
	}
	var all []keyed
	for pos, fs := range [][]testFrame{a, nil, b, c} {
		for _, f := range fs {
			all = append(all, keyed{f, pos})
		}
	}
	sortStable(all, func(x, y keyed) bool {
		return x.f.TS.Before(y.f.TS) || x.f.TS.Equal(y.f.TS) && x.pos < y.pos
	})
	var want []testFrame
	for _, k := range all {
		want = append(want, k.f)
	}
	tests := []struct {
		name  string
		paths []string
		want  []testFrame
	}{
		{"four files", paths, want},
		{"one file", paths[:1], a},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := mustOpen(t, tt.paths, FileConfig{})
			got, err := readFrames(src)
			if err != nil {
				t.Fatal(err)
			}
			sameFrames(t, got, tt.want)
			var total int64
			for _, p := range tt.paths {
				fi, _ := os.Stat(p)
				total += fi.Size()
			}
			if done, tot := src.Progress(); done != total || tot != total {
				t.Errorf("Progress() = %d, %d; want %d, %d", done, tot, total, total)
			}
			if st := src.Stats(); st.Files != len(tt.paths) {
				t.Errorf("Stats().Files = %d, want %d", st.Files, len(tt.paths))
			}
		})
	}
}

// sortStable is an insertion sort: enough for test data.
func sortStable[T any](s []T, less func(a, b T) bool) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && less(s[j], s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// errFS opens every file with the given error.
func errOpener(err error) func(string) (fs.File, error) {
	return func(name string) (fs.File, error) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
}

func TestOpenFilesErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeCapture(t, dir, "good.pcap", pcapgoFile(t, false, LinkTypeEthernet, makeFrames("g", 2, fileEpoch, time.Second, LinkTypeEthernet)))
	text := writeCapture(t, dir, "x.txt", []byte("Hello, this is not a capture file\n"))
	gzText := writeCapture(t, dir, "x.txt.gz", gzipBytes(t, []byte("Hello, this is not a capture file either\n")))
	short := writeCapture(t, dir, "short.pcap", []byte{0xd4, 0xc3, 0xb2})
	empty := writeCapture(t, dir, "empty.pcap", nil)
	headerCut := writeCapture(t, dir, "headercut.pcap", rawPcap(false, magicPcapMicro, LinkTypeEthernet, nil)[:20])
	badVersion := rawPcap(false, magicPcapMicro, LinkTypeEthernet, nil)
	badVersion[4] = 9
	badVer := writeCapture(t, dir, "badversion.pcap", badVersion)
	gzCut := writeCapture(t, dir, "gzcut.pcap.gz", gzipBytes(t, []byte("abcdefgh"))[:5])
	ngBad := newNG(false).buf
	ngBad[8] = 0x99 // byte-order magic
	ngBadMagic := writeCapture(t, dir, "badmagic.pcapng", ngBad)
	sub := filepath.Join(dir, "subdir")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		paths  []string
		open   func(string) (fs.File, error)
		is     error
		substr []string
	}{
		{"missing file", []string{filepath.Join(dir, "nope.pcap")}, nil, fs.ErrNotExist,
			[]string{"nope.pcap", "no such file", "check the path"}},
		{"permission denied", []string{"secret.pcap"}, errOpener(fs.ErrPermission), fs.ErrPermission,
			[]string{"capture: secret.pcap: permission denied", "readable"}},
		{"directory", []string{sub}, nil, nil, []string{"subdir: is a directory", "capture files inside"}},
		{"text file", []string{text}, nil, ErrNotCapture, []string{"capture: " + text + ": not a pcap or pcapng file (magic 0x48656c6c); pass a capture"}},
		{"gzip of text", []string{gzText}, nil, ErrNotCapture, []string{"x.txt.gz: gzip-compressed, but not a pcap or pcapng file inside (magic 0x48656c6c)"}},
		{"three bytes", []string{short}, nil, ErrNotCapture, []string{"short.pcap: not a pcap or pcapng file: only 3 bytes long"}},
		{"empty file", []string{empty}, nil, ErrNotCapture, []string{"empty.pcap: not a pcap or pcapng file: only 0 bytes long"}},
		{"pcap header cut", []string{headerCut}, nil, ErrTruncated, []string{"headercut.pcap", "file header", "offset 0"}},
		{"pcap version 9", []string{badVer}, nil, ErrCorrupt, []string{"badversion.pcap", "unsupported pcap version 9.4"}},
		{"gzip header cut", []string{gzCut}, nil, ErrTruncated, []string{"gzcut.pcap.gz", "gzip header"}},
		{"pcapng byte-order magic", []string{ngBadMagic}, nil, ErrCorrupt, []string{"badmagic.pcapng", "byte-order magic"}},
		{"stdin twice", []string{"-", "-"}, nil, nil, []string{"standard input (-) is named more than once"}},
		{"no files", nil, nil, nil, []string{"no capture files given"}},
		{"all bad files are named", []string{good, text, filepath.Join(dir, "nope.pcap")}, nil, ErrNotCapture,
			[]string{"x.txt: not a pcap or pcapng file", "nope.pcap: no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := OpenFiles(tt.paths, FileConfig{Open: tt.open, Stdin: strings.NewReader("")})
			if err == nil {
				src.Close()
				t.Fatal("OpenFiles succeeded, want an error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
			for _, s := range tt.substr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if !strings.HasPrefix(err.Error(), "capture: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// damaged describes a file that goes bad after some good packets.
type damaged struct {
	name     string
	file     []byte
	good     int   // packets readable before the error
	is       error // ErrTruncated or ErrCorrupt
	substr   []string
	oversize uint64
}

func damagedFiles(t testing.TB) []damaged {
	fs := makeFrames("d", 10, fileEpoch, time.Millisecond, LinkTypeEthernet)
	pcap := pcapgoFile(t, true, LinkTypeEthernet, fs)
	recLen := func(i int) int { return 16 + len(fs[i].Data) }
	off := 24
	for i := range 7 {
		off += recLen(i)
	}
	// off is where record 7 starts.
	oversize := append([]byte(nil), pcap[:off]...)
	oversize = append(oversize, rawPcap(false, magicPcapNano, 1, []testFrame{{TS: fileEpoch, Data: make([]byte, 300000), Len: 300000}})[24:]...)
	zeroTail := append([]byte(nil), pcap[:off+8]...)

	ng := newNG(false).iface(LinkTypeEthernet, 0, 9, 0)
	for _, f := range fs {
		ng.epb(0, uint64(f.TS.UnixNano()), f.Data, f.Len)
	}
	ngCut := ng.buf[:len(ng.buf)-10]
	ngBadTrailer := append([]byte(nil), ng.buf...)
	ngBadTrailer[len(ngBadTrailer)-1] = 0x7f // last block's trailing length
	ngIface := newNG(false).iface(LinkTypeEthernet, 0, 9, 0)
	for i, f := range fs[:5] {
		ifid := uint32(0)
		if i == 4 {
			ifid = 3
		}
		ngIface.epb(ifid, uint64(f.TS.UnixNano()), f.Data, f.Len)
	}
	ngHuge := newNG(false).iface(LinkTypeEthernet, 0, 9, 0)
	for _, f := range fs[:3] {
		ngHuge.epb(0, uint64(f.TS.UnixNano()), f.Data, f.Len)
	}
	ngHuge.epb(0, 0, make([]byte, 300000), 300000)

	gzPcap := gzipBytes(t, pcap)
	gzCut := gzPcap[:len(gzPcap)*2/3]
	gzBadCRC := append([]byte(nil), gzPcap...)
	gzBadCRC[len(gzBadCRC)-8] ^= 0xff

	return []damaged{
		{"pcap cut in a record's data", pcap[:off+20], 7, ErrTruncated, []string{"the record at offset " + strconv.Itoa(off) + " ends early, after 7 good packets (the file was cut short"}, 0},
		{"pcap cut in a record header", zeroTail, 7, ErrTruncated, []string{"the record header at offset " + strconv.Itoa(off) + " ends early"}, 0},
		{"pcap record of 300000 bytes", oversize, 7, ErrCorrupt, []string{"at offset " + strconv.Itoa(off) + ": the record claims 300000 captured bytes, more than the 262144-byte limit, after 7 good packets (a repair tool"}, 1},
		{"pcapng cut in a block", ngCut, 9, ErrTruncated, []string{"ends early"}, 0},
		{"pcapng bad trailing length", ngBadTrailer, 9, ErrCorrupt, []string{"trailing length"}, 0},
		{"pcapng undeclared interface", ngIface.buf, 4, ErrCorrupt, []string{"a packet for interface 3, which the section does not describe (it describes 1)"}, 0},
		{"pcapng packet of 300000 bytes", ngHuge.buf, 3, ErrCorrupt, []string{"300000 captured bytes", "262144-byte limit"}, 1},
		{"gzip stream cut", gzCut, -1, ErrTruncated, []string{"the gzip stream is cut short: the record", "at uncompressed offset"}, 0},
		{"gzip checksum damaged", gzBadCRC, 10, ErrCorrupt, []string{"gzip data is damaged"}, 0},
	}
}

func TestReadDamagedFiles(t *testing.T) {
	dir := t.TempDir()
	for i, d := range damagedFiles(t) {
		t.Run(d.name, func(t *testing.T) {
			p := writeCapture(t, dir, "damaged"+strconv.Itoa(i)+".pcap", d.file)
			src := mustOpen(t, []string{p}, FileConfig{})
			got, err := readFrames(src)
			if !errors.Is(err, d.is) {
				t.Fatalf("error = %v, want one wrapping %v", err, d.is)
			}
			if d.good >= 0 && len(got) != d.good {
				t.Errorf("got %d packets before the error, want %d", len(got), d.good)
			}
			if d.good < 0 && len(got) == 0 {
				t.Errorf("got no packet before the error")
			}
			msg := err.Error()
			for _, s := range append([]string{"capture: " + p + ": "}, d.substr...) {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not contain %q", msg, s)
				}
			}
			st := src.Stats()
			if d.is == ErrTruncated && st.TruncatedFiles != 1 || d.is == ErrCorrupt && st.CorruptFiles != 1 {
				t.Errorf("Stats() = %+v after %v", st, d.is)
			}
			if st.OversizeRecords != d.oversize {
				t.Errorf("OversizeRecords = %d, want %d", st.OversizeRecords, d.oversize)
			}
			var f Frame
			if err := src.ReadFrame(&f); err != io.EOF {
				t.Errorf("ReadFrame after the error = %v, want io.EOF", err)
			}
		})
	}
}

func TestDamagedFileAmongOthers(t *testing.T) {
	dir := t.TempDir()
	cut := damagedFiles(t)[0] // 7 good packets, then truncated
	other := makeFrames("other", 12, fileEpoch.Add(-time.Second), time.Second, LinkTypeRaw)
	paths := []string{
		writeCapture(t, dir, "cut.pcap", cut.file),
		writeCapture(t, dir, "other.pcap", pcapgoFile(t, true, LinkTypeRaw, other)),
	}
	tests := []struct {
		name string
		warn bool
	}{
		{"Warn set: a warning, reading goes on", true},
		{"Warn nil: the error once, then the other file", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warnings []error
			cfg := FileConfig{MaxFrameSize: 1 << 16}
			if tt.warn {
				cfg.Warn = func(err error) { warnings = append(warnings, err) }
			}
			src := mustOpen(t, paths, cfg)
			var n int
			var errs []error
			var f Frame
			for {
				err := src.ReadFrame(&f)
				if err == io.EOF {
					break
				}
				if err != nil {
					errs = append(errs, err)
					continue
				}
				n++
			}
			if n != cut.good+len(other) {
				t.Errorf("read %d frames, want %d", n, cut.good+len(other))
			}
			got := errs
			if tt.warn {
				got = warnings
				if len(errs) != 0 {
					t.Errorf("ReadFrame returned %v despite Warn", errs)
				}
			}
			if len(got) != 1 || !errors.Is(got[0], ErrTruncated) || !strings.Contains(got[0].Error(), "cut.pcap") {
				t.Errorf("errors = %v, want one truncation of cut.pcap", got)
			}
		})
	}
}

func TestCloseWhileReading(t *testing.T) {
	fs := makeFrames("c", 2000, fileEpoch, time.Millisecond, LinkTypeEthernet)
	p := writeCapture(t, t.TempDir(), "c.pcap", pcapgoFile(t, true, LinkTypeEthernet, fs))
	src := mustOpen(t, []string{p}, FileConfig{})
	var wg sync.WaitGroup
	var readErr error
	wg.Go(func() {
		var f Frame
		for {
			if err := src.ReadFrame(&f); err != nil {
				if err != io.EOF {
					readErr = err
				}
				return
			}
		}
	})
	if err := src.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()
	if readErr != nil {
		t.Errorf("ReadFrame after Close: %v, want io.EOF", readErr)
	}
	if err := src.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestFileConfigErrors(t *testing.T) {
	if _, err := OpenFiles([]string{"x"}, FileConfig{MaxFrameSize: -1}); err == nil || !strings.Contains(err.Error(), "MaxFrameSize") {
		t.Errorf("MaxFrameSize -1: error %v", err)
	}
}

func TestTimestampConversion(t *testing.T) {
	tests := []struct {
		resol  uint8
		offset int64
		units  uint64
		sec    int64
		nsec   int64
	}{
		{6, 0, 1_700_000_000_123_456, 1_700_000_000, 123_456_000},
		{9, 0, 1_700_000_000_123_456_789, 1_700_000_000, 123_456_789},
		{0, 0, 42, 42, 0},
		{3, 10, 5_250, 15, 250_000_000},
		{12, 0, 7_000_000_000_001_500, 7_000, 1},
		{19, 0, 15_000_000_000_000_000_000, 1, 500_000_000},
		{0x80, 0, 9, 9, 0}, // binary, 2^-0 s
		{0x80 | 1, 0, 3, 1, 500_000_000},
		{0x80 | 30, 0, 5<<30 | 1<<29, 5, 500_000_000},
		{0x80 | 63, 0, 1 << 62, 0, 500_000_000},
	}
	for _, tt := range tests {
		c, ok := newTSConv(tt.resol&0x80 != 0, tt.resol&0x7f, tt.offset)
		if !ok {
			t.Errorf("resolution 0x%02x rejected", tt.resol)
			continue
		}
		if sec, nsec := c.split(tt.units); sec != tt.sec || nsec != tt.nsec {
			t.Errorf("resolution 0x%02x: split(%d) = %d, %d; want %d, %d", tt.resol, tt.units, sec, nsec, tt.sec, tt.nsec)
		}
	}
	for _, resol := range []uint8{20, 0x80 | 64} {
		if _, ok := newTSConv(resol&0x80 != 0, resol&0x7f, 0); ok {
			t.Errorf("resolution 0x%02x accepted", resol)
		}
	}
}
