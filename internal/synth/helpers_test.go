package synth

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/apitap/apitap/internal/pcaptest"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/layers"
)

// decoded is what the tests read back from one frame with gopacket.
type decoded struct {
	types    []gopacket.LayerType
	layers   []gopacket.Layer
	tcp      *layers.TCP
	src, dst netip.Addr // innermost IP addresses
}

func firstDecoder(lt LinkType) gopacket.Decoder {
	switch lt {
	case LinkTypeEthernet:
		return layers.LayerTypeEthernet
	case LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL
	case LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2
	case LinkTypeNull:
		return layers.LayerTypeLoopback
	case LinkTypeRaw:
		return layers.LinkTypeRaw
	}
	return nil
}

// decodeFrame decodes a frame with gopacket, following IPv4 fragments
// (through df) and ERSPAN III (which gopacket does not know). It returns
// ok=false while a fragmented packet is incomplete.
func decodeFrame(t *testing.T, df *ip4defrag.IPv4Defragmenter, data []byte, first gopacket.Decoder) (d decoded, ok bool) {
	t.Helper()
	p := gopacket.NewPacket(data, first, gopacket.Default)
	if el := p.ErrorLayer(); el != nil {
		t.Fatalf("gopacket cannot decode frame: %v\n%s", el.Error(), p.Dump())
	}
	for _, l := range p.Layers() {
		d.types = append(d.types, l.LayerType())
		d.layers = append(d.layers, l)
		switch v := l.(type) {
		case *layers.IPv4:
			d.src, _ = netip.AddrFromSlice(v.SrcIP)
			d.dst, _ = netip.AddrFromSlice(v.DstIP)
			if v.Flags&layers.IPv4MoreFragments != 0 || v.FragOffset != 0 {
				out, err := df.DefragIPv4(v)
				if err != nil {
					t.Fatalf("defragment: %v", err)
				}
				if out == nil {
					return d, false
				}
				rest, ok := decodeFrame(t, df, out.Payload, out.Protocol.LayerType())
				rest.types = append(d.types, rest.types...)
				rest.layers = append(d.layers, rest.layers...)
				if !rest.src.IsValid() {
					rest.src, rest.dst = d.src, d.dst
				}
				return rest, ok
			}
		case *layers.IPv6:
			d.src, _ = netip.AddrFromSlice(v.SrcIP)
			d.dst, _ = netip.AddrFromSlice(v.DstIP)
		case *layers.GRE:
			if v.Protocol == 0x22eb {
				if len(v.Payload) < 12 || v.Payload[0]>>4 != 2 {
					t.Fatalf("bad ERSPAN III header % x", v.Payload)
				}
				d.types = append(d.types, layerTypeERSPAN3)
				rest, ok := decodeFrame(t, df, v.Payload[12:], layers.LayerTypeEthernet)
				rest.types = append(d.types, rest.types...)
				rest.layers = append(d.layers, rest.layers...)
				return rest, ok
			}
		case *layers.TCP:
			d.tcp = v
			return d, true
		}
	}
	t.Fatalf("no TCP layer in frame: %v", d.types)
	return d, false
}

// layerTypeERSPAN3 stands for the ERSPAN III header in decoded.types.
var layerTypeERSPAN3 = gopacket.LayerType(100001)

// segment is one TCP segment read back from a capture.
type segment struct {
	src, dst   netip.AddrPort
	seq, ack   uint32
	syn, fin   bool
	rst, isAck bool
	payload    []byte
}

// readSegments decodes every frame of a capture.
func readSegments(t *testing.T, frames []Frame) []segment {
	t.Helper()
	df := ip4defrag.NewIPv4Defragmenter()
	var out []segment
	for _, f := range frames {
		d, ok := decodeFrame(t, df, f.Data, firstDecoder(f.LinkType))
		if !ok {
			continue
		}
		tc := d.tcp
		out = append(out, segment{
			src: netip.AddrPortFrom(d.src.Unmap(), uint16(tc.SrcPort)),
			dst: netip.AddrPortFrom(d.dst.Unmap(), uint16(tc.DstPort)),
			seq: tc.Seq, ack: tc.Ack, syn: tc.SYN, fin: tc.FIN, rst: tc.RST, isAck: tc.ACK,
			payload: slices.Clone(tc.Payload),
		})
	}
	return out
}

// stream is one direction of a connection rebuilt by the tests' simple
// reassembly: bytes placed at their sequence offsets (first copy wins).
type stream struct {
	isn    uint32 // sequence number of offset 0 minus one
	known  bool
	data   []byte
	have   []bool
	dupes  int // segments whose every byte was already present
	differ int // bytes seen again with different content
}

func (s *stream) add(seq uint32, p []byte) {
	if len(p) == 0 {
		return
	}
	off := int(seq - s.isn - 1)
	if end := off + len(p); end > len(s.data) {
		s.data = append(s.data, make([]byte, end-len(s.data))...)
		s.have = append(s.have, make([]bool, end-len(s.have))...)
	}
	fresh := false
	for i, b := range p {
		if s.have[off+i] {
			if s.data[off+i] != b {
				s.differ++
			}
			continue
		}
		fresh = true
		s.have[off+i] = true
		s.data[off+i] = b
	}
	if !fresh && len(p) > 0 {
		s.dupes++
	}
}

// holes returns the number of missing bytes.
func (s *stream) holes() int {
	n := 0
	for _, h := range s.have {
		if !h {
			n++
		}
	}
	return n
}

type flowKey struct{ src, dst netip.AddrPort }

// reassemble rebuilds the byte streams of every connection direction. isns
// gives the ISN of flows without a SYN (mid-stream).
func reassemble(segs []segment, isns map[flowKey]uint32) map[flowKey]*stream {
	out := map[flowKey]*stream{}
	for _, s := range segs {
		k := flowKey{s.src, s.dst}
		st := out[k]
		if st == nil {
			st = &stream{}
			if isn, ok := isns[k]; ok {
				st.isn, st.known = isn, true
			}
			out[k] = st
		}
		if s.syn {
			st.isn, st.known = s.seq, true
			continue
		}
		if !st.known {
			st.isn, st.known = s.seq-1, true
		}
		st.add(s.seq, s.payload)
	}
	return out
}

// parsedExchange is what net/http reads from a rebuilt connection.
type parsedExchange struct {
	method, host, uri string
	status            int
	reqBody, respBody []byte
	respHeader        http.Header
}

// parseHTTP reads requests from c2s and responses from s2c with net/http
// (pairing them in order) and fails on any parse error.
func parseHTTP(t *testing.T, c2s, s2c []byte) []parsedExchange {
	t.Helper()
	var out []parsedExchange
	rr := bufio.NewReader(bytes.NewReader(c2s))
	for {
		if _, err := rr.Peek(1); err == io.EOF {
			break
		}
		req, err := http.ReadRequest(rr)
		if err != nil {
			t.Fatalf("net/http cannot read request %d: %v", len(out), err)
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			t.Fatalf("request %d body: %v", len(out), err)
		}
		out = append(out, parsedExchange{method: req.Method, host: req.Host, uri: req.RequestURI, reqBody: body})
	}
	sr := bufio.NewReader(bytes.NewReader(s2c))
	for i := 0; ; i++ {
		if _, err := sr.Peek(1); err == io.EOF {
			break
		}
		var req *http.Request
		if i < len(out) {
			req = &http.Request{Method: out[i].method}
		}
		resp, err := http.ReadResponse(sr, req)
		if err != nil {
			t.Fatalf("net/http cannot read response %d: %v", i, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("response %d body: %v", i, err)
		}
		if resp.StatusCode == 100 {
			i--
			continue
		}
		if i >= len(out) {
			out = append(out, parsedExchange{})
		}
		out[i].status = resp.StatusCode
		out[i].respBody = body
		out[i].respHeader = resp.Header
	}
	return out
}

// be32 reads a big-endian uint32 (test helper for raw header checks).

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// readTCPv4 reads the Ethernet pcap b back (pcaptest.ForEachTCP) and calls
// fn with every segment, its timestamp and its flow. It also fails t
// when a packet is not IPv4, has a bad IPv4 checksum, or goes back in
// time. It returns the number of packets.
func readTCPv4(t *testing.T, b []byte, fn func(ts time.Time, k flowKey, tc *layers.TCP)) int64 {
	t.Helper()
	var packets int64
	var last time.Time
	pcaptest.ForEachTCP(t, bytes.NewReader(b), func(s pcaptest.Segment) {
		packets++
		if s.Timestamp.Before(last) {
			t.Fatalf("packet %d goes back in time", packets)
		}
		last = s.Timestamp
		if s.IPv4 == nil {
			t.Fatalf("packet %d does not decode: not IPv4", packets)
		}
		if checksumFold(checksumAdd(0, s.IPv4.Contents)) != 0xffff {
			t.Fatalf("packet %d: bad IPv4 checksum", packets)
		}
		fn(s.Timestamp, flowKey{s.Flow.Src, s.Flow.Dst}, s.TCP)
	})
	return packets
}
