package reassembly_test

import (
	"encoding/binary"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/apitap/apitap/capture"
	"github.com/apitap/apitap/reassembly"
	"github.com/apitap/apitap/reassembly/reassemblytest"
)

// keepAlive generates in-order keep-alive traffic over n established
// connections: per step, a request on one connection, its response and
// the client's ACK, round robin, 1 ms of packet time apart.
type keepAlive struct {
	flows      []flow
	keys       [][2]capture.FlowKey // client→server, server→client
	cseq, sseq []uint32
	req, resp  []byte
	p          capture.Packet
	now        time.Time
	next       int
	reorder    bool // send the response as two segments, second first
}

func newKeepAlive(n, reqLen, respLen int) *keepAlive {
	k := &keepAlive{req: make([]byte, reqLen), resp: make([]byte, respLen), now: t0}
	for i := range n {
		f := flow{
			cli:  netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(20000+i%40000)),
			srv:  netip.MustParseAddrPort("10.9.9.9:443"),
			cisn: uint32(i) * 7919, sisn: 0xFFFF0000 + uint32(i)*104729,
		}
		k.flows = append(k.flows, f)
		k.keys = append(k.keys, [2]capture.FlowKey{flowKey(f.cli, f.srv), flowKey(f.srv, f.cli)})
		k.cseq = append(k.cseq, f.cisn+1)
		k.sseq = append(k.sseq, f.sisn+1)
	}
	return k
}

// open sends every connection's handshake.
func (k *keepAlive) open(a *reassembly.Assembler) {
	for _, f := range k.flows {
		for _, p := range handshake {
			pk := f.packet(p)
			pk.Timestamp = k.now
			a.HandlePacket(pk)
		}
	}
}

func (k *keepAlive) send(a *reassembly.Assembler, i int, c2s bool, seq, ack uint32, payload []byte) {
	p := &k.p
	if c2s {
		p.Flow = k.keys[i][0]
	} else {
		p.Flow = k.keys[i][1]
	}
	p.Seq, p.Ack, p.Flags, p.Payload, p.Timestamp = seq, ack, fACK|fPSH, payload, k.now
	a.HandlePacket(p)
}

// step sends one request/response exchange; it returns the packets sent.
func (k *keepAlive) step(a *reassembly.Assembler) int {
	i := k.next
	k.next = (k.next + 1) % len(k.flows)
	k.now = k.now.Add(time.Millisecond)
	cs, ss := k.cseq[i], k.sseq[i]
	k.send(a, i, true, cs, ss, k.req)
	cs += uint32(len(k.req))
	n := 3
	if k.reorder {
		h := len(k.resp) / 2
		k.send(a, i, false, ss+uint32(h), cs, k.resp[h:])
		k.send(a, i, false, ss, cs, k.resp[:h])
		n++
	} else {
		k.send(a, i, false, ss, cs, k.resp)
	}
	ss += uint32(len(k.resp))
	k.send(a, i, true, cs, ss, nil)
	k.cseq[i], k.sseq[i] = cs, ss
	return n
}

func TestAssemblerSteadyStateAllocs(t *testing.T) {
	tests := []struct {
		name    string
		conns   int
		reorder bool
	}{
		{"one connection", 1, false},
		{"1000 connections", 1000, false},
		{"reordered responses", 100, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := reassemblytest.NewDiscard(tc.conns)
			// With metrics: publishing them must not allocate either.
			a, err := reassembly.NewAssembler(reassembly.Config{}, d, prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			k := newKeepAlive(tc.conns, 300, 1400)
			k.reorder = tc.reorder
			k.open(a)
			for range 3 * tc.conns { // every connection has a handler and buffers
				k.step(a)
			}
			allocs := testing.AllocsPerRun(2000, func() { k.step(a) })
			if allocs != 0 {
				t.Errorf("%.3f allocations per exchange in steady state, want 0", allocs)
			}
			s := a.Stats()
			if s.Gaps != 0 || s.Streams != uint64(tc.conns) || d.Bytes != int(s.DeliveredBytes) {
				t.Errorf("unexpected stats %+v (discard saw %d bytes)", s, d.Bytes)
			}
			if err := a.CheckInvariants(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestHalfOpenMemory measures the heap cost of a half-open connection (a
// SYN flood) and holds it under a bound that keeps a million of them far
// below 1 GiB.
func TestHalfOpenMemory(t *testing.T) {
	const n = 200_000
	a, err := reassembly.NewAssembler(reassembly.Config{}, reassemblytest.NewDiscard(0), nil)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	synFlood(a, new(capture.Packet), 0, n)
	runtime.GC()
	runtime.ReadMemStats(&after)
	perConn := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("half-open connection: %.0f heap bytes each (%d connections)", perConn, n)
	if s := a.Stats(); s.OpenConnections != n || s.Streams != 0 {
		t.Fatalf("stats %+v", s)
	}
	if perConn > 400 {
		t.Errorf("half-open connection costs %.0f bytes, want <= 400", perConn)
	}
	runtime.KeepAlive(a)
}

// synFlood sends n SYNs from distinct sources, starting at index from,
// using p (whose other fields it sets up on first use).
func synFlood(a *reassembly.Assembler, p *capture.Packet, from, n int) {
	if p.Flags == 0 {
		p.Flow.DstIP, p.Flow.DstPort = netip.MustParseAddr("10.9.9.9").As16(), 80
		p.Flow.SrcIP = netip.MustParseAddr("172.16.0.0").As16()
		p.Flags = fSYN
		p.Timestamp = t0
	}
	for i := from; i < from+n; i++ {
		binary.BigEndian.PutUint32(p.Flow.SrcIP[12:], 0xAC100000+uint32(i))
		p.Flow.SrcPort = uint16(1024 + i%60000)
		p.Seq = uint32(i) * 2654435761
		if i%1024 == 0 {
			p.Timestamp = p.Timestamp.Add(time.Millisecond)
		}
		a.HandlePacket(p)
	}
}

func BenchmarkAssembler(b *testing.B) {
	benches := []struct {
		name           string
		conns          int
		reqLen, respLn int
		reorder        bool
	}{
		{"bulk/1conn", 1, 0, 1448, false},
		{"keepalive/1conn", 1, 300, 1400, false},
		{"keepalive/10kconns", 10000, 300, 1400, false},
		{"reordered/1kconns", 1000, 300, 2800, true},
	}
	for _, bc := range benches {
		b.Run(bc.name, func(b *testing.B) {
			d := reassemblytest.NewDiscard(bc.conns)
			a, err := reassembly.NewAssembler(reassembly.Config{}, d, nil)
			if err != nil {
				b.Fatal(err)
			}
			k := newKeepAlive(bc.conns, bc.reqLen, bc.respLn)
			k.reorder = bc.reorder
			k.open(a)
			for range bc.conns {
				k.step(a)
			}
			before := a.Stats()
			b.SetBytes(int64(bc.reqLen + bc.respLn))
			b.ReportAllocs()
			b.ResetTimer()
			pkts := 0
			for b.Loop() {
				pkts += k.step(a)
			}
			b.StopTimer()
			b.ReportMetric(float64(pkts)/b.Elapsed().Seconds(), "pkts/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pkts), "ns/pkt")
			if s := a.Stats(); s.Gaps != before.Gaps {
				b.Fatalf("gaps in benchmark traffic: %+v", s)
			}
		})
	}
	b.Run("synflood", func(b *testing.B) {
		// Every SYN opens a half-open connection; beyond MaxConnections
		// each one evicts the oldest.
		a, err := reassembly.NewAssembler(reassembly.Config{MaxConnections: 1 << 16}, reassemblytest.NewDiscard(0), nil)
		if err != nil {
			b.Fatal(err)
		}
		var p capture.Packet
		synFlood(a, &p, 0, 1<<16)
		b.ReportAllocs()
		b.ResetTimer()
		i := 1 << 16
		for b.Loop() {
			synFlood(a, &p, i, 1)
			i++
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "syns/s")
		if s := a.Stats(); s.EvictedHalfOpen == 0 {
			b.Fatal("no evictions")
		}
	})
}
