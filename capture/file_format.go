package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// File magic numbers, as read little-endian from the first four bytes.
const (
	magicPcapMicro    = 0xa1b2c3d4
	magicPcapNano     = 0xa1b23c4d
	magicPcapModified = 0xa1b2cd34 // Alexey Kuznetzov's patched libpcap: 24-byte record headers
	magicPcapng       = 0x0a0d0d0a // section header block type (a palindrome)
	ngByteOrderMagic  = 0x1a2b3c4d
)

// pcapng block types.
const (
	ngBlockSection        = 0x0a0d0d0a
	ngBlockInterface      = 0x00000001
	ngBlockObsoletePacket = 0x00000002
	ngBlockSimplePacket   = 0x00000003
	ngBlockEnhancedPacket = 0x00000006
)

const (
	// ngBlockOverhead is the room a packet block may need beyond its
	// captured bytes (header, padding, options).
	ngBlockOverhead = 64 << 10
	// maxSkippedBlock bounds the length of blocks that are skipped
	// unread (name resolution, statistics, secrets, custom); a larger
	// length means the file is corrupt.
	maxSkippedBlock = 64 << 20
)

type fileFormat uint8

const (
	formatPcap fileFormat = iota + 1
	formatPcapng
)

// fileCounters are the counters a FileSource shares with its files.
type fileCounters struct {
	truncated atomic.Uint64
	corrupt   atomic.Uint64
	oversize  atomic.Uint64
}

// ngInterface is a pcapng interface description.
type ngInterface struct {
	linkType LinkType
	snapLen  uint32
	ts       tsConv
}

// tsConv converts pcapng timestamp units to seconds and nanoseconds.
type tsConv struct {
	binary      bool   // units are 2^-exp seconds (else 10^-exp)
	exp         uint8  // if_tsresol exponent
	unitsPerSec uint64 // decimal: 10^exp
	nsMul       uint64 // decimal, exp <= 9: 10^(9-exp)
	nsDiv       uint64 // decimal, exp > 9: 10^(exp-9)
	offset      int64  // if_tsoffset, seconds
}

func newTSConv(binary bool, exp uint8, offset int64) (tsConv, bool) {
	c := tsConv{binary: binary, exp: exp, offset: offset}
	if binary {
		return c, exp < 64
	}
	if exp > 19 {
		return c, false
	}
	c.unitsPerSec = pow10(exp)
	if exp <= 9 {
		c.nsMul = pow10(9 - exp)
	} else {
		c.nsDiv = pow10(exp - 9)
	}
	return c, true
}

func pow10(e uint8) uint64 {
	v := uint64(1)
	for range e {
		v *= 10
	}
	return v
}

// split returns the timestamp u as seconds and nanoseconds since the epoch.
func (c *tsConv) split(u uint64) (sec, nsec int64) {
	switch {
	case !c.binary && c.exp == 6: // the default: constant divisors compile to multiplications
		return int64(u/1e6) + c.offset, int64(u%1e6) * 1e3
	case !c.binary && c.exp == 9:
		return int64(u/1e9) + c.offset, int64(u % 1e9)
	case c.binary:
		if c.exp == 0 {
			return int64(u) + c.offset, 0
		}
		frac := u & (1<<c.exp - 1)
		hi, lo := bits.Mul64(frac, 1e9)
		return int64(u>>c.exp) + c.offset, int64(hi<<(64-c.exp) | lo>>c.exp)
	case c.nsMul != 0:
		return int64(u/c.unitsPerSec) + c.offset, int64(u % c.unitsPerSec * c.nsMul)
	default:
		return int64(u/c.unitsPerSec) + c.offset, int64(u % c.unitsPerSec / c.nsDiv)
	}
}

// fileReader reads the frames of one capture file (pcap or pcapng,
// possibly gzip-compressed). It is used by one goroutine; consumed is read
// by others for progress.
type fileReader struct {
	name  string // as shown in messages
	index int    // position on the command line: breaks timestamp ties
	buf   *recordBuffer
	close func() error
	gz    bool  // the input is gzip-compressed: offsets are in the uncompressed stream
	size  int64 // bytes of input, -1 when unknown

	consumed atomic.Int64 // bytes read from the input (compressed bytes for gzip)
	counters *fileCounters
	maxFrame int

	format fileFormat
	big    bool // big-endian file or section

	// pcap
	nano     bool
	recHdr   int
	linkType LinkType

	// pcapng
	ifaces []ngInterface
	lastTS time.Time // simple packet blocks carry no timestamp: they reuse the last one
	lastNS int64

	frames int64 // frames read, for messages

	// head is the next frame, read ahead for the time-ordered merge; key
	// is its timestamp in nanoseconds.
	head Frame
	key  int64
}

func (r *fileReader) u16(b []byte) uint16 {
	if r.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *fileReader) u32(b []byte) uint32 {
	if r.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// where describes offset off for messages.
func (r *fileReader) where(off int64) string {
	if r.gz {
		return fmt.Sprintf("uncompressed offset %d", off)
	}
	return fmt.Sprintf("offset %d", off)
}

// after says how many packets were read before an error.
func (r *fileReader) after() string {
	if r.frames == 0 {
		return ""
	}
	return fmt.Sprintf(", after %d good packets", r.frames)
}

// errTruncated reports a record cut short at offset off.
func (r *fileReader) errTruncated(what string, off int64) error {
	r.counters.truncated.Add(1)
	return fmt.Errorf("capture: %s: %w: %s at %s ends early%s (the file was cut short or is still being written)",
		r.name, ErrTruncated, what, r.where(off), r.after())
}

// errCorrupt reports a record that cannot be right.
func (r *fileReader) errCorrupt(off int64, format string, args ...any) error {
	r.counters.corrupt.Add(1)
	hint := "a repair tool such as pcapfix may recover the rest"
	if r.gz {
		hint = "the compressed data is damaged"
	}
	return fmt.Errorf("capture: %s: %w: at %s: %s%s (%s)",
		r.name, ErrCorrupt, r.where(off), fmt.Sprintf(format, args...), r.after(), hint)
}

// readErr turns the error of a short peek at offset off into the error
// ReadFrame returns; got is how many bytes of the record were there.
func (r *fileReader) readErr(err error, what string, off int64, got int) error {
	switch {
	case err == io.EOF && got == 0:
		return io.EOF
	case err == io.EOF:
		return r.errTruncated(what, off)
	case r.gz && errors.Is(err, io.ErrUnexpectedEOF):
		return r.errTruncated("the gzip stream is cut short: "+what, off)
	case r.gz && isGzipCorrupt(err):
		return r.errCorrupt(off, "the gzip data is damaged (%v)", err)
	case err == nil:
		panic("capture: readErr called without an error")
	}
	return fmt.Errorf("capture: %s: read error at %s: %w", r.name, r.where(off), err)
}

func isGzipCorrupt(err error) bool {
	var ce flate.CorruptInputError
	var ie flate.InternalError
	return errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) ||
		errors.As(err, &ce) || errors.As(err, &ie)
}

// readHeader reads the file header (pcap) or the first section header
// (pcapng). magic is the file's first four bytes, read little-endian.
func (r *fileReader) readHeader(magic uint32) error {
	switch magic {
	case magicPcapMicro, magicPcapNano, magicPcapModified:
		r.format = formatPcap
	case bits.ReverseBytes32(magicPcapMicro), bits.ReverseBytes32(magicPcapNano), bits.ReverseBytes32(magicPcapModified):
		r.format, r.big = formatPcap, true
		magic = bits.ReverseBytes32(magic)
	case magicPcapng:
		r.format = formatPcapng
		return r.readSection()
	default:
		format := "capture: %s: %w (magic 0x%08x); pass a capture written by tcpdump, dumpcap or Wireshark"
		if r.gz {
			format = "capture: %s: gzip-compressed, but %w inside (magic 0x%08x); pass a capture written by tcpdump, dumpcap or Wireshark"
		}
		return fmt.Errorf(format, r.name, ErrNotCapture, bits.ReverseBytes32(magic))
	}
	h, err := r.buf.peek(24)
	if err != nil {
		return r.readErr(err, "file header", 0, len(h))
	}
	r.nano = magic == magicPcapNano
	r.recHdr = 16
	if magic == magicPcapModified {
		r.recHdr = 24
	}
	if major := r.u16(h[4:]); major != 2 {
		return r.errCorrupt(0, "unsupported pcap version %d.%d", major, r.u16(h[6:]))
	}
	// The link type is the low 16 bits; the high bits may carry the FCS length.
	r.linkType = LinkType(r.u32(h[20:]))
	r.buf.discard(24)
	return nil
}

// next reads the next frame into r.head. It returns io.EOF at the clean end
// of the file.
func (r *fileReader) next() error {
	if r.format == formatPcap {
		return r.nextPcap()
	}
	return r.nextPcapng()
}

func (r *fileReader) nextPcap() error {
	off := r.buf.offset()
	h, err := r.buf.peek(r.recHdr)
	if err != nil {
		return r.readErr(err, "the record header", off, len(h))
	}
	sec, frac := r.u32(h[0:]), r.u32(h[4:])
	incl, orig := r.u32(h[8:]), r.u32(h[12:])
	if incl > uint32(r.maxFrame) {
		r.counters.oversize.Add(1)
		return r.errCorrupt(off, "the record claims %d captured bytes, more than the %d-byte limit", incl, r.maxFrame)
	}
	n := r.recHdr + int(incl)
	b, err := r.buf.peek(n)
	if err != nil {
		return r.readErr(err, "the record", off, len(b))
	}
	r.buf.discard(n)
	nsec := int64(frac)
	if !r.nano {
		nsec *= 1000
	}
	r.setHead(b[r.recHdr:], int64(sec), nsec, int(orig), r.linkType)
	return nil
}

func (r *fileReader) setHead(data []byte, sec, nsec int64, length int, lt LinkType) {
	r.head.Data = data
	r.head.Timestamp = time.Unix(sec, nsec).UTC()
	r.head.Length = length
	r.head.LinkType = lt
	r.key = sec*1e9 + nsec
	r.lastTS, r.lastNS = r.head.Timestamp, r.key
	r.frames++
}

// readSection reads a section header block: it sets the byte order and
// forgets the interfaces of the previous section.
func (r *fileReader) readSection() error {
	off := r.buf.offset()
	h, err := r.buf.peek(12)
	if err != nil {
		return r.readErr(err, "the section header", off, len(h))
	}
	switch binary.LittleEndian.Uint32(h[8:]) {
	case ngByteOrderMagic:
		r.big = false
	case bits.ReverseBytes32(ngByteOrderMagic):
		r.big = true
	default:
		return r.errCorrupt(off, "bad byte-order magic 0x%08x in the section header", binary.BigEndian.Uint32(h[8:]))
	}
	total := int(r.u32(h[4:]))
	if total < 28 || total%4 != 0 || total > r.buf.max {
		return r.errCorrupt(off, "the section header claims %d bytes", total)
	}
	b, err := r.buf.peek(total)
	if err != nil {
		return r.readErr(err, "the section header", off, len(b))
	}
	if major := r.u16(b[12:]); major != 1 {
		return r.errCorrupt(off, "unsupported pcapng version %d.%d", major, r.u16(b[14:]))
	}
	if r.u32(b[total-4:]) != uint32(total) {
		return r.errCorrupt(off, "the section header's trailing length does not match")
	}
	r.buf.discard(total)
	r.ifaces = r.ifaces[:0]
	return nil
}

func (r *fileReader) nextPcapng() error {
	for {
		off := r.buf.offset()
		h, err := r.buf.peek(8)
		if err != nil {
			return r.readErr(err, "the block header", off, len(h))
		}
		typ := r.u32(h)
		if typ == ngBlockSection {
			if err := r.readSection(); err != nil {
				return err
			}
			continue
		}
		total := int64(r.u32(h[4:]))
		if total < 12 || total%4 != 0 {
			return r.errCorrupt(off, "a block claims %d bytes", total)
		}
		switch typ {
		case ngBlockEnhancedPacket, ngBlockObsoletePacket, ngBlockSimplePacket, ngBlockInterface:
		default:
			if total > maxSkippedBlock {
				return r.errCorrupt(off, "a block of type 0x%08x claims %d bytes", typ, total)
			}
			if err := r.buf.skip(total - 4); err != nil {
				return r.readErr(err, "a block", off, 1)
			}
			t, err := r.buf.peek(4)
			if err != nil {
				return r.readErr(err, "a block", off, 1)
			}
			if int64(r.u32(t)) != total {
				return r.errCorrupt(off, "the trailing length of a block of type 0x%08x does not match", typ)
			}
			r.buf.discard(4)
			continue
		}
		if total > int64(r.maxFrame)+ngBlockOverhead {
			r.counters.oversize.Add(1)
			return r.errCorrupt(off, "a block claims %d bytes, more than the %d-byte frame limit allows", total, r.maxFrame)
		}
		n := int(total)
		b, err := r.buf.peek(n)
		if err != nil {
			return r.readErr(err, "the block", off, len(b))
		}
		if r.u32(b[n-4:]) != uint32(n) {
			return r.errCorrupt(off, "the trailing length of a block of type %d does not match", typ)
		}
		if typ == ngBlockInterface {
			if err := r.readInterface(b, off); err != nil {
				return err
			}
			r.buf.discard(n)
			continue
		}
		err = r.readPacketBlock(typ, b, off)
		r.buf.discard(n)
		return err
	}
}

// readInterface parses an interface description block b.
func (r *fileReader) readInterface(b []byte, off int64) error {
	if len(b) < 20 {
		return r.errCorrupt(off, "an interface description block of %d bytes is too short", len(b))
	}
	ifc := ngInterface{linkType: LinkType(r.u16(b[8:])), snapLen: r.u32(b[12:])}
	var (
		tsResol uint8 = 6 // microseconds unless if_tsresol says otherwise
		tsOff   int64
	)
	opts := b[16 : len(b)-4]
	for len(opts) >= 4 {
		code, l := r.u16(opts), int(r.u16(opts[2:]))
		if code == 0 { // opt_endofopt
			break
		}
		padded := (l + 3) &^ 3
		if 4+padded > len(opts) {
			return r.errCorrupt(off, "option %d of an interface description runs past the block", code)
		}
		v := opts[4 : 4+l]
		switch {
		case code == 9 && l == 1: // if_tsresol
			tsResol = v[0]
		case code == 14 && l == 8: // if_tsoffset
			if r.big {
				tsOff = int64(binary.BigEndian.Uint64(v))
			} else {
				tsOff = int64(binary.LittleEndian.Uint64(v))
			}
		}
		opts = opts[4+padded:]
	}
	ts, ok := newTSConv(tsResol&0x80 != 0, tsResol&0x7f, tsOff)
	if !ok {
		return r.errCorrupt(off, "unsupported timestamp resolution (if_tsresol 0x%02x)", tsResol)
	}
	ifc.ts = ts
	r.ifaces = append(r.ifaces, ifc)
	return nil
}

// readPacketBlock parses an enhanced, simple or obsolete packet block b
// into r.head.
func (r *fileReader) readPacketBlock(typ uint32, b []byte, off int64) error {
	if typ == ngBlockSimplePacket {
		if len(b) < 16 {
			return r.errCorrupt(off, "a simple packet block of %d bytes is too short", len(b))
		}
		if len(r.ifaces) == 0 {
			return r.errCorrupt(off, "a packet block before any interface description")
		}
		orig := r.u32(b[8:])
		data := b[12 : len(b)-4]
		if uint32(len(data)) > orig {
			data = data[:orig]
		}
		if s := r.ifaces[0].snapLen; s > 0 && uint32(len(data)) > s {
			data = data[:s]
		}
		if len(data) > r.maxFrame {
			r.counters.oversize.Add(1)
			return r.errCorrupt(off, "a packet of %d captured bytes is larger than the %d-byte limit", len(data), r.maxFrame)
		}
		r.head.Data = data
		r.head.Timestamp = r.lastTS
		r.head.Length = int(orig)
		r.head.LinkType = r.ifaces[0].linkType
		r.key = r.lastNS
		r.frames++
		return nil
	}
	if len(b) < 32 {
		return r.errCorrupt(off, "a packet block of %d bytes is too short", len(b))
	}
	var ifid uint32
	if typ == ngBlockEnhancedPacket {
		ifid = r.u32(b[8:])
	} else {
		ifid = uint32(r.u16(b[8:]))
	}
	if ifid >= uint32(len(r.ifaces)) {
		return r.errCorrupt(off, "a packet for interface %d, which the section does not describe (it describes %d)", ifid, len(r.ifaces))
	}
	ifc := &r.ifaces[ifid]
	ts := uint64(r.u32(b[12:]))<<32 | uint64(r.u32(b[16:]))
	capLen, orig := r.u32(b[20:]), r.u32(b[24:])
	if capLen > uint32(r.maxFrame) {
		r.counters.oversize.Add(1)
		return r.errCorrupt(off, "a packet claims %d captured bytes, more than the %d-byte limit", capLen, r.maxFrame)
	}
	if 28+int(capLen) > len(b)-4 {
		return r.errCorrupt(off, "a packet claims %d captured bytes in a block of %d bytes", capLen, len(b))
	}
	sec, nsec := ifc.ts.split(ts)
	r.setHead(b[28:28+capLen], sec, nsec, int(orig), ifc.linkType)
	return nil
}
