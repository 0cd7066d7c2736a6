package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/gzip"
)

// testFrame is a frame as a test writes it and expects to read it back.
type testFrame struct {
	TS    time.Time
	Data  []byte
	Len   int
	Link  LinkType
	Iface int // pcapng interface index when writing
}

func (f testFrame) String() string {
	return fmt.Sprintf("{%s %q len=%d link=%d}", f.TS.Format(time.RFC3339Nano), f.Data, f.Len, f.Link)
}

// fileEpoch is the timestamp tests start from.
var fileEpoch = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

// makeFrames returns n frames with distinct contents, step apart from start.
func makeFrames(tag string, n int, start time.Time, step time.Duration, lt LinkType) []testFrame {
	out := make([]testFrame, n)
	for i := range out {
		d := []byte(fmt.Sprintf("%s-frame-%03d-%s", tag, i, bytes.Repeat([]byte{'x'}, i%7)))
		out[i] = testFrame{TS: start.Add(time.Duration(i) * step), Data: d, Len: len(d) + i%3, Link: lt}
	}
	return out
}

// truncTS returns frames with timestamps cut to the resolution res.
func truncTS(fs []testFrame, res time.Duration) []testFrame {
	out := append([]testFrame(nil), fs...)
	for i := range out {
		out[i].TS = out[i].TS.Truncate(res)
	}
	return out
}

// writeFile writes b to a new file in dir.
func writeCapture(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// pcapgoFile writes frames with gopacket's pcap writer (little-endian).
func pcapgoFile(t testing.TB, nano bool, lt LinkType, fs []testFrame) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if nano {
		w = pcapgo.NewWriterNanos(&buf)
	}
	if err := w.WriteFileHeader(65535, layers.LinkType(lt)); err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		ci := gopacket.CaptureInfo{Timestamp: f.TS, CaptureLength: len(f.Data), Length: f.Len}
		if err := w.WritePacket(ci, f.Data); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// rawPcap builds a pcap file by hand: any byte order and magic.
func rawPcap(big bool, magic uint32, lt LinkType, fs []testFrame) []byte {
	var bo binary.AppendByteOrder = binary.LittleEndian
	if big {
		bo = binary.BigEndian
	}
	var b []byte
	b = bo.AppendUint32(b, magic)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint16(b, 4)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, 262144)
	b = bo.AppendUint32(b, uint32(lt))
	for _, f := range fs {
		frac := uint32(f.TS.Nanosecond())
		if magic != magicPcapNano {
			frac /= 1000
		}
		b = bo.AppendUint32(b, uint32(f.TS.Unix()))
		b = bo.AppendUint32(b, frac)
		b = bo.AppendUint32(b, uint32(len(f.Data)))
		b = bo.AppendUint32(b, uint32(f.Len))
		if magic == magicPcapModified {
			b = append(b, 1, 2, 3, 4, 5, 6, 7, 8)
		}
		b = append(b, f.Data...)
	}
	return b
}

// ngBuilder builds pcapng files by hand, for what pcapgo cannot write:
// big-endian sections, other timestamp resolutions, simple and obsolete
// packet blocks.
type ngBuilder struct {
	bo  binary.AppendByteOrder
	buf []byte
}

func newNG(big bool) *ngBuilder {
	n := &ngBuilder{bo: binary.LittleEndian}
	if big {
		n.bo = binary.BigEndian
	}
	n.section()
	return n
}

func (n *ngBuilder) block(typ uint32, body []byte) *ngBuilder {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	total := uint32(12 + len(body))
	n.buf = n.bo.AppendUint32(n.buf, typ)
	n.buf = n.bo.AppendUint32(n.buf, total)
	n.buf = append(n.buf, body...)
	n.buf = n.bo.AppendUint32(n.buf, total)
	return n
}

// section starts a new section in the builder's byte order.
func (n *ngBuilder) section() *ngBuilder {
	var body []byte
	body = n.bo.AppendUint32(body, ngByteOrderMagic)
	body = n.bo.AppendUint16(body, 1)
	body = n.bo.AppendUint16(body, 0)
	body = n.bo.AppendUint64(body, ^uint64(0))
	return n.block(ngBlockSection, body)
}

func (n *ngBuilder) opt(code uint16, v []byte) []byte {
	var b []byte
	b = n.bo.AppendUint16(b, code)
	b = n.bo.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// iface adds an interface description; tsresol < 0 leaves the option out.
func (n *ngBuilder) iface(lt LinkType, snap uint32, tsresol int, tsoffset int64) *ngBuilder {
	var body []byte
	body = n.bo.AppendUint16(body, uint16(lt))
	body = n.bo.AppendUint16(body, 0)
	body = n.bo.AppendUint32(body, snap)
	body = append(body, n.opt(2, []byte("eth-test"))...) // if_name
	if tsresol >= 0 {
		body = append(body, n.opt(9, []byte{byte(tsresol)})...)
	}
	if tsoffset != 0 {
		body = append(body, n.opt(14, n.bo.AppendUint64(nil, uint64(tsoffset)))...)
	}
	body = append(body, n.opt(0, nil)...)
	return n.block(ngBlockInterface, body)
}

func (n *ngBuilder) epb(ifid uint32, units uint64, data []byte, orig int) *ngBuilder {
	var body []byte
	body = n.bo.AppendUint32(body, ifid)
	body = n.bo.AppendUint32(body, uint32(units>>32))
	body = n.bo.AppendUint32(body, uint32(units))
	body = n.bo.AppendUint32(body, uint32(len(data)))
	body = n.bo.AppendUint32(body, uint32(orig))
	body = append(body, data...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	body = append(body, n.opt(1, []byte("a comment"))...) // opt_comment
	body = append(body, n.opt(0, nil)...)
	return n.block(ngBlockEnhancedPacket, body)
}

func (n *ngBuilder) opb(ifid uint16, units uint64, data []byte, orig int) *ngBuilder {
	var body []byte
	body = n.bo.AppendUint16(body, ifid)
	body = n.bo.AppendUint16(body, 0)
	body = n.bo.AppendUint32(body, uint32(units>>32))
	body = n.bo.AppendUint32(body, uint32(units))
	body = n.bo.AppendUint32(body, uint32(len(data)))
	body = n.bo.AppendUint32(body, uint32(orig))
	body = append(body, data...)
	return n.block(ngBlockObsoletePacket, body)
}

func (n *ngBuilder) spb(data []byte, orig int) *ngBuilder {
	var body []byte
	body = n.bo.AppendUint32(body, uint32(orig))
	body = append(body, data...)
	return n.block(ngBlockSimplePacket, body)
}

// nameResolution adds a block the reader must skip.
func (n *ngBuilder) nameResolution() *ngBuilder {
	var body []byte
	body = n.bo.AppendUint16(body, 1) // nrb_record_ipv4
	body = n.bo.AppendUint16(body, 12)
	body = append(body, 10, 0, 0, 1)
	body = append(body, "host\x00\x00\x00\x00"...)
	body = n.bo.AppendUint32(body, 0)
	return n.block(4, body)
}

// gz compresses b.
func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readAll reads src to the end, copying each frame; err is the first
// error other than io.EOF.
func readFrames(src Source) ([]testFrame, error) {
	var out []testFrame
	var f Frame
	for {
		err := src.ReadFrame(&f)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, testFrame{TS: f.Timestamp, Data: append([]byte(nil), f.Data...), Len: f.Length, Link: f.LinkType})
	}
}

// sameFrames compares frames on timestamp, data, length and link type.
func sameFrames(t *testing.T, got, want []testFrame) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d frames, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if !g.TS.Equal(w.TS) || !bytes.Equal(g.Data, w.Data) || g.Len != w.Len || g.Link != w.Link {
			t.Errorf("frame %d:\n got  %v\n want %v", i, g, w)
		}
	}
}

// mustOpen opens files or fails the test.
func mustOpen(t testing.TB, paths []string, cfg FileConfig) *FileSource {
	t.Helper()
	src, err := OpenFiles(paths, cfg)
	if err != nil {
		t.Fatalf("OpenFiles: %v", err)
	}
	t.Cleanup(func() { src.Close() })
	return src.(*FileSource)
}
