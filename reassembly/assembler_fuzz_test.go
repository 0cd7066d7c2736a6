package reassembly_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/apitap/apitap/capture"
	"github.com/apitap/apitap/reassembly"
)

// The fuzz target turns bytes into packets of four connections whose
// payload bytes are a function of their sequence number: the byte at
// sequence number s is byte(s). Whatever the order, loss, duplication,
// overlap, flags and timing, every handler must therefore see each side's
// bytes as runs of consecutive values, continuing across a Gap(n) by n;
// and it must see nothing after that side's Fin or after Close.

// fuzzRecordLen is the size of one packet record:
//
//	0: flow (bits 0-1), client-to-server (bit 2), flags (bits 3-7: SYN,
//	   FIN, ACK, RST when bits 6-7 are both set)
//	1-2: sequence offset (12 bits) and ISN generation (bit 12, for port reuse)
//	3: payload length (bit 7 set: (len&0x7f)*8)
//	4-5: acknowledgment offset (12 bits)
//	6: time advance in units of 50 ms
const fuzzRecordLen = 7

var fuzzFlows = [4]flow{
	{cli: netip.MustParseAddrPort("10.0.0.1:40000"), srv: netip.MustParseAddrPort("10.0.0.2:80")},
	{cli: netip.MustParseAddrPort("10.0.0.1:40001"), srv: netip.MustParseAddrPort("10.0.0.2:80")},
	{cli: netip.MustParseAddrPort("[2001:db8::1]:5555"), srv: netip.MustParseAddrPort("[2001:db8::2]:5555")},
	{cli: netip.MustParseAddrPort("10.0.0.3:1000"), srv: netip.MustParseAddrPort("10.0.0.4:2000")},
}

// fuzzISN is the ISN of one direction of one flow in one generation; they
// sit just below the wrap so that sequence numbers wrap within a stream.
func fuzzISN(flow int, c2s bool, gen int) uint32 {
	isn := uint32(0xFFFFF800) + uint32(flow)*0x40 + uint32(gen)*0x1000_0000
	if !c2s {
		isn += 0x400
	}
	return isn
}

// fuzzPackets decodes data into packets. Payload bytes are byte(seq).
func fuzzPackets(data []byte) []capture.Packet {
	var out []capture.Packet
	now := t0
	for len(data) >= fuzzRecordLen {
		r := data[:fuzzRecordLen]
		data = data[fuzzRecordLen:]
		fi := int(r[0] & 3)
		c2s := r[0]&4 != 0
		var flags capture.TCPFlags
		fb := r[0] >> 3
		if fb&1 != 0 {
			flags |= capture.FlagSYN
		}
		if fb&2 != 0 {
			flags |= capture.FlagFIN
		}
		if fb&4 != 0 {
			flags |= capture.FlagACK
		}
		if fb&0x18 == 0x18 {
			flags |= capture.FlagRST
		}
		gen := int(r[2]>>4) & 1
		seqOff := uint32(r[1]) | uint32(r[2]&0x0f)<<8
		n := int(r[3])
		if n&0x80 != 0 {
			n = (n & 0x7f) * 8
		}
		ackOff := uint32(r[4]) | uint32(r[5]&0x0f)<<8
		now = now.Add(time.Duration(r[6]) * 50 * time.Millisecond)

		f := fuzzFlows[fi]
		p := capture.Packet{Timestamp: now, Flags: flags}
		if c2s {
			p.Flow = flowKey(f.cli, f.srv)
		} else {
			p.Flow = flowKey(f.srv, f.cli)
		}
		p.Seq = fuzzISN(fi, c2s, gen) + seqOff
		if flags&capture.FlagACK != 0 {
			p.Ack = fuzzISN(fi, !c2s, gen) + ackOff
		}
		first := p.Seq
		if flags&capture.FlagSYN != 0 {
			first++
		}
		p.Payload = make([]byte, n)
		for i := range p.Payload {
			p.Payload[i] = byte(first + uint32(i))
		}
		out = append(out, p)
	}
	return out
}

// seqChecker is a StreamHandler checking the byte(seq) property.
type seqChecker struct {
	info      reassembly.ConnInfo
	errs      *[]string
	known     [2]bool
	expect    [2]byte
	fin       [2]bool
	closed    bool
	delivered *map[netip.AddrPort]int
}

type seqFactory struct {
	errs      []string
	handlers  []*seqChecker
	delivered map[netip.AddrPort]int // bytes delivered, by sending endpoint
}

func (f *seqFactory) New(info reassembly.ConnInfo, ts time.Time) reassembly.StreamHandler {
	h := &seqChecker{info: info, errs: &f.errs, delivered: &f.delivered}
	f.handlers = append(f.handlers, h)
	return h
}

func (h *seqChecker) fail(format string, args ...any) {
	*h.errs = append(*h.errs, fmt.Sprintf("%v→%v: ", h.info.Client, h.info.Server)+fmt.Sprintf(format, args...))
}

func (h *seqChecker) check(what string, s int) {
	if h.closed {
		h.fail("%s after Close", what)
	}
	if h.fin[s] {
		h.fail("%s of side %d after its Fin", what, s)
	}
}

func sideIdx(fromClient bool) int {
	if fromClient {
		return 0
	}
	return 1
}

func (h *seqChecker) Data(fromClient bool, data []byte, ts time.Time) bool {
	s := sideIdx(fromClient)
	h.check("Data", s)
	if len(data) == 0 {
		h.fail("empty Data")
		return true
	}
	if h.known[s] && data[0] != h.expect[s] {
		h.fail("side %d: Data starts with %#x, want %#x", s, data[0], h.expect[s])
	}
	for i := 1; i < len(data); i++ {
		if data[i] != data[i-1]+1 {
			h.fail("side %d: Data not consecutive at %d", s, i)
			break
		}
	}
	h.known[s], h.expect[s] = true, data[len(data)-1]+1
	sender := h.info.Server
	if fromClient {
		sender = h.info.Client
	}
	(*h.delivered)[sender] += len(data)
	return true
}

func (h *seqChecker) Gap(fromClient bool, n int, ts time.Time) {
	s := sideIdx(fromClient)
	h.check("Gap", s)
	if n <= 0 {
		h.fail("Gap(%d)", n)
	}
	h.expect[s] += byte(n)
}

func (h *seqChecker) Fin(fromClient bool, ts time.Time) {
	s := sideIdx(fromClient)
	h.check("Fin", s)
	h.fin[s] = true
}

func (h *seqChecker) Close(reason reassembly.CloseReason, ts time.Time) {
	if h.closed {
		h.fail("second Close")
	}
	h.closed = true
}

func FuzzAssembler(f *testing.F) {
	// Seeds beyond testdata/fuzz/FuzzAssembler: a clean exchange.
	f.Add([]byte{
		0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // C SYN seq 0
		0x28, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, // S SYN|ACK seq 0 ack 1
		0x24, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, // C ACK seq 1 ack 1
		0x24, 0x01, 0x00, 0x10, 0x01, 0x00, 0x01, // C 16 bytes
		0x20, 0x01, 0x00, 0x20, 0x11, 0x00, 0x01, // S 32 bytes ack 17
		0x34, 0x11, 0x00, 0x00, 0x21, 0x00, 0x01, // C FIN|ACK seq 17
		0x30, 0x21, 0x00, 0x00, 0x12, 0x00, 0x01, // S FIN|ACK seq 33
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		pkts := fuzzPackets(data)
		cfg := reassembly.Config{
			MaxConnections: 3, MaxBufferedBytesPerConn: 1024, MaxBufferedBytes: 1536,
			IdleTimeout: 5 * time.Second, HandshakeTimeout: 2 * time.Second, TimeWait: time.Second,
		}
		fac := &seqFactory{delivered: map[netip.AddrPort]int{}}
		a, err := reassembly.NewAssembler(cfg, fac, nil)
		if err != nil {
			t.Fatal(err)
		}
		sent := map[netip.AddrPort]int{}
		wall := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) // the wall clock of live capture's ticks
		for i := range pkts {
			p := &pkts[i]
			if p.Flags&capture.FlagRST == 0 {
				sent[p.Flow.Src()] += len(p.Payload)
			}
			a.HandlePacket(p)
			// Live capture ticks between packets; an odd sequence number
			// makes the link go quiet for up to 21s (past every timeout).
			a.Tick(wall)
			if p.Seq&1 == 1 {
				wall = wall.Add(time.Duration(p.Ack%8) * 3 * time.Second)
				a.Tick(wall)
			}
			wall = wall.Add(50 * time.Millisecond)
			if err := a.CheckInvariants(); err != nil {
				t.Fatalf("after packet %d: %v", i, err)
			}
			if len(fac.errs) > 0 {
				t.Fatalf("after packet %d: %v", i, fac.errs)
			}
		}
		end := t0.Add(time.Hour)
		if len(pkts) > 0 {
			end = pkts[len(pkts)-1].Timestamp.Add(time.Second)
		}
		a.Flush(end)
		if err := a.CheckInvariants(); err != nil {
			t.Fatalf("after Flush: %v", err)
		}
		if len(fac.errs) > 0 {
			t.Fatalf("%v", fac.errs)
		}
		for i, h := range fac.handlers {
			if !h.closed {
				t.Fatalf("handler %d not closed after Flush", i)
			}
		}
		for ep, n := range fac.delivered {
			if n > sent[ep] {
				t.Fatalf("%v: delivered %d bytes, sent %d", ep, n, sent[ep])
			}
		}
		s := a.Stats()
		if s.OpenConnections != 0 || s.BufferedBytes != 0 {
			t.Fatalf("after Flush: %d open, %d bytes buffered", s.OpenConnections, s.BufferedBytes)
		}
		if s.ConnectionsOpened != s.Closed() {
			t.Fatalf("opened %d, closed %d", s.ConnectionsOpened, s.Closed())
		}
		if s.Streams != uint64(len(fac.handlers)) {
			t.Fatalf("Streams %d, handlers %d", s.Streams, len(fac.handlers))
		}
	})
}
