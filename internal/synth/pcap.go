package synth

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// LinkType is a pcap LINKTYPE_ value.
type LinkType uint16

// The link types the generators write.
const (
	LinkTypeNull      LinkType = 0   // BSD loopback (host byte order family)
	LinkTypeEthernet  LinkType = 1   // Ethernet II
	LinkTypeRaw       LinkType = 101 // raw IPv4/IPv6
	LinkTypeLinuxSLL  LinkType = 113 // Linux cooked capture v1
	LinkTypeLinuxSLL2 LinkType = 276 // Linux cooked capture v2
)

// DefaultSnapLen is the snap length written in pcap file headers.
const DefaultSnapLen = 262144

const (
	pcapMagicMicros = 0xa1b2c3d4
	pcapMagicNanos  = 0xa1b23c4d
	pcapFileHdrLen  = 24
	pcapRecHdrLen   = 16
)

// appendPcapFileHeader appends a little-endian pcap global header.
func appendPcapFileHeader(b []byte, lt LinkType, nanos bool) []byte {
	var h [pcapFileHdrLen]byte
	magic := uint32(pcapMagicMicros)
	if nanos {
		magic = pcapMagicNanos
	}
	binary.LittleEndian.PutUint32(h[0:], magic)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], DefaultSnapLen)
	binary.LittleEndian.PutUint32(h[20:], uint32(lt))
	return append(b, h[:]...)
}

// putPcapRecordHeader fills a 16-byte pcap record header.
func putPcapRecordHeader(h []byte, ts time.Time, capLen, origLen int, nanos bool) {
	sec := ts.Unix()
	frac := int64(ts.Nanosecond())
	if !nanos {
		frac /= 1000
	}
	binary.LittleEndian.PutUint32(h[0:], uint32(sec))
	binary.LittleEndian.PutUint32(h[4:], uint32(frac))
	binary.LittleEndian.PutUint32(h[8:], uint32(capLen))
	binary.LittleEndian.PutUint32(h[12:], uint32(origLen))
}

// Frame is one generated link-layer frame.
type Frame struct {
	Timestamp time.Time
	LinkType  LinkType
	Data      []byte
}

// WritePcap writes frames as a pcap file (microsecond timestamps when
// nanos is false). All frames must share one link type.
func WritePcap(w io.Writer, frames []Frame, nanos bool) (int64, error) {
	lt := LinkTypeEthernet
	if len(frames) > 0 {
		lt = frames[0].LinkType
	}
	buf := appendPcapFileHeader(make([]byte, 0, 64<<10), lt, nanos)
	var total int64
	for i := range frames {
		f := &frames[i]
		if f.LinkType != lt {
			return total, fmt.Errorf("synth: frame %d has link type %d, capture has %d: a pcap file holds one link type", i, f.LinkType, lt)
		}
		var h [pcapRecHdrLen]byte
		putPcapRecordHeader(h[:], f.Timestamp, len(f.Data), len(f.Data), nanos)
		buf = append(buf, h[:]...)
		buf = append(buf, f.Data...)
		if len(buf) >= 32<<10 {
			n, err := w.Write(buf)
			total += int64(n)
			if err != nil {
				return total, fmt.Errorf("synth: write pcap: %w", err)
			}
			buf = buf[:0]
		}
	}
	n, err := w.Write(buf)
	total += int64(n)
	if err != nil {
		return total, fmt.Errorf("synth: write pcap: %w", err)
	}
	return total, nil
}
