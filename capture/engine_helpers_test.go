package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// tcpFrame builds an Ethernet/IPv4/TCP frame.
func ethTCPFrame(t testing.TB, src, dst netip.AddrPort, seq uint32, payload []byte) []byte {
	t.Helper()
	eth := &layers.Ethernet{
		SrcMAC:       net.HardwareAddr{2, 0, 0, 0, 0, 1},
		DstMAC:       net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4,
	}
	ip := &layers.IPv4{
		Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
		SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice(),
	}
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
		Seq: seq, Ack: 1, ACK: true, PSH: len(payload) > 0, Window: 512,
	}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// pktRec is what a handler saw of one packet.
type pktRec struct {
	Flow    FlowKey
	Seq     uint32
	Payload string
	TS      time.Time
}

// traffic is a synthetic capture: frames of several flows interleaved,
// with what each flow must deliver, in order.
type traffic struct {
	frames  []testFrame
	perFlow map[FlowKey][]pktRec // keyed by the client-to-server direction
	canon   map[FlowKey]FlowKey  // either direction -> the key of perFlow
	packets int
	bytes   int
}

// makeTraffic builds flows flows of perFlow packets each, alternating
// direction, interleaved round-robin, 1µs apart.
func makeTraffic(t testing.TB, flows, perFlow int, firstPort uint16) *traffic {
	t.Helper()
	tr := &traffic{perFlow: map[FlowKey][]pktRec{}, canon: map[FlowKey]FlowKey{}}
	server := netip.AddrPortFrom(netip.MustParseAddr("10.1.0.1"), 80)
	ts := fileEpoch
	for i := range perFlow {
		for f := range flows {
			client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(f >> 8), byte(f)}), firstPort+uint16(f))
			src, dst := client, server
			if i%2 == 1 {
				src, dst = server, client
			}
			payload := []byte(fmt.Sprintf("flow %d packet %d %s", f, i, string(make([]byte, (f+i)%50))))
			seq := uint32(1000 + i*100)
			data := ethTCPFrame(t, src, dst, seq, payload)
			tr.frames = append(tr.frames, testFrame{TS: ts, Data: data, Len: len(data), Link: LinkTypeEthernet})
			key := keyOf(client, server)
			tr.canon[key], tr.canon[key.Reverse()] = key, key
			tr.perFlow[key] = append(tr.perFlow[key], pktRec{Flow: keyOf(src, dst), Seq: seq, Payload: string(payload), TS: ts})
			tr.packets++
			tr.bytes += len(data)
			ts = ts.Add(time.Microsecond)
		}
	}
	return tr
}

// frameFlow returns the flow of an Ethernet/IPv4/TCP frame without options.
func frameFlow(b []byte) FlowKey {
	ip := b[14:]
	tcp := ip[20:]
	src := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[12:16])), binary.BigEndian.Uint16(tcp[0:]))
	dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[16:20])), binary.BigEndian.Uint16(tcp[2:]))
	return keyOf(src, dst)
}

func keyOf(src, dst netip.AddrPort) FlowKey {
	return FlowKey{SrcIP: src.Addr().As16(), DstIP: dst.Addr().As16(), SrcPort: src.Port(), DstPort: dst.Port()}
}

// sliceSource yields frames from memory. Each frame is copied into one
// reused buffer, so a consumer that keeps Data past the next ReadFrame sees
// it change.
type sliceSource struct {
	frames  []testFrame
	i       int
	scratch []byte
	end     error // returned after the last frame; nil means io.EOF
	closed  bool
}

func (s *sliceSource) ReadFrame(f *Frame) error {
	if s.i >= len(s.frames) {
		if s.end != nil {
			return s.end
		}
		return io.EOF
	}
	fr := s.frames[s.i]
	s.i++
	if cap(s.scratch) < len(fr.Data) {
		s.scratch = make([]byte, 0, 65536)
	}
	s.scratch = append(s.scratch[:0], fr.Data...)
	*f = Frame{Data: s.scratch, Timestamp: fr.TS, Length: fr.Len, LinkType: fr.Link}
	return nil
}

func (s *sliceSource) Close() error { s.closed = true; return nil }

// recHandler is a Handler that records what it gets and checks the engine's
// promises as it goes.
type recHandler struct {
	t       testing.TB
	index   int
	workers int

	mu        sync.Mutex // the test reads while the engine runs in some tests
	pkts      []pktRec
	flushes   int
	flushAt   time.Time
	late      int // packets after Flush
	wrong     int // packets of a flow that belongs to another worker
	ticks     int
	lateTicks int // ticks after Flush
	gate      chan struct{}

	inside  atomic.Int32 // calls in progress
	overlap atomic.Int32 // calls that began while another was in progress
}

// enter and leave bracket every call, to catch calls the engine makes
// concurrently.
func (r *recHandler) enter() {
	if r.inside.Add(1) != 1 {
		r.overlap.Add(1)
	}
}

func (r *recHandler) leave() { r.inside.Add(-1) }

func newRecorders(t testing.TB, workers int) ([]*recHandler, []Handler) {
	rs := make([]*recHandler, workers)
	hs := make([]Handler, workers)
	for i := range rs {
		rs[i] = &recHandler{t: t, index: i, workers: workers}
		hs[i] = rs[i]
	}
	return rs, hs
}

func (r *recHandler) HandlePacket(p *Packet) {
	r.enter()
	defer r.leave()
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.flushes > 0 {
		r.late++
	}
	if int(p.Flow.Hash()%uint64(r.workers)) != r.index {
		r.wrong++
	}
	r.pkts = append(r.pkts, pktRec{Flow: p.Flow, Seq: p.Seq, Payload: string(p.Payload), TS: p.Timestamp})
}

func (r *recHandler) Flush(now time.Time) {
	r.enter()
	defer r.leave()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushes++
	r.flushAt = now
}

func (r *recHandler) Tick(time.Time) {
	r.enter()
	defer r.leave()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ticks++
	if r.flushes > 0 {
		r.lateTicks++
	}
}

func (r *recHandler) tickCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ticks
}

func (r *recHandler) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pkts)
}
