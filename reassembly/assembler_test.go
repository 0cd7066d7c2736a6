package reassembly_test

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/apitap/apitap/capture"
	"github.com/apitap/apitap/reassembly"
	"github.com/apitap/apitap/reassembly/reassemblytest"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

const (
	fSYN = capture.FlagSYN
	fACK = capture.FlagACK
	fFIN = capture.FlagFIN
	fRST = capture.FlagRST
	fPSH = capture.FlagPSH
)

// pkt is one packet of a test connection. seq is relative to the sender's
// ISN and ack to the receiver's, so the SYN has seq 0 and the first data
// byte seq 1.
type pkt struct {
	c2s   bool
	flags capture.TCPFlags
	seq   uint32
	ack   uint32
	data  string
	at    time.Duration // offset from t0
	flow  int           // index into the case's flows (0 by default)
}

// Shorthands for the common packets.
func syn() pkt    { return pkt{c2s: true, flags: fSYN} }
func synack() pkt { return pkt{flags: fSYN | fACK, ack: 1} }
func ack3() pkt   { return pkt{c2s: true, flags: fACK, seq: 1, ack: 1} }

// cd and sd are client and server data segments acknowledging nothing new.
func cd(seq uint32, data string) pkt {
	return pkt{c2s: true, flags: fACK | fPSH, seq: seq, ack: 1, data: data}
}
func sd(seq uint32, data string) pkt { return pkt{flags: fACK | fPSH, seq: seq, ack: 1, data: data} }

// cfin and sfin are FINs at relative seq.
func cfin(seq uint32) pkt { return pkt{c2s: true, flags: fFIN | fACK, seq: seq, ack: 1} }
func sfin(seq uint32) pkt { return pkt{flags: fFIN | fACK, seq: seq, ack: 1} }

func (p pkt) After(d time.Duration) pkt { p.at = d; return p }
func (p pkt) On(flow int) pkt           { p.flow = flow; return p }
func (p pkt) Ack(a uint32) pkt          { p.ack = a; return p }

// flow is the 4-tuple and ISNs of a test connection.
type flow struct {
	cli, srv   netip.AddrPort
	cisn, sisn uint32
}

var defaultFlow = flow{
	cli:  netip.MustParseAddrPort("10.0.0.1:40000"),
	srv:  netip.MustParseAddrPort("10.0.0.2:80"),
	cisn: 1000, sisn: 5000,
}

func flowN(i int) flow {
	f := defaultFlow
	f.cli = netip.AddrPortFrom(f.cli.Addr(), f.cli.Port()+uint16(i))
	return f
}

func flowKey(src, dst netip.AddrPort) capture.FlowKey {
	return capture.FlowKey{SrcIP: src.Addr().As16(), DstIP: dst.Addr().As16(), SrcPort: src.Port(), DstPort: dst.Port()}
}

func (f flow) packet(p pkt) *capture.Packet {
	out := &capture.Packet{Timestamp: t0.Add(p.at), Flags: p.flags, Payload: []byte(p.data)}
	if p.c2s {
		out.Flow = flowKey(f.cli, f.srv)
		out.Seq, out.Ack = f.cisn+p.seq, f.sisn+p.ack
	} else {
		out.Flow = flowKey(f.srv, f.cli)
		out.Seq, out.Ack = f.sisn+p.seq, f.cisn+p.ack
	}
	if p.flags&fACK == 0 {
		out.Ack = 0
	}
	return out
}

// run feeds the packets to a fresh assembler with a Recorder, checking the
// invariants after every packet, and flushes at flushAt (unless zero).
func run(t *testing.T, cfg reassembly.Config, rec *reassemblytest.Recorder, flows []flow, pkts []pkt, flushAt time.Duration) *reassembly.Assembler {
	t.Helper()
	a, err := reassembly.NewAssembler(cfg, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) == 0 {
		flows = []flow{defaultFlow}
	}
	for i, p := range pkts {
		a.HandlePacket(flows[p.flow].packet(p))
		if err := a.CheckInvariants(); err != nil {
			t.Fatalf("after packet %d: %v", i, err)
		}
	}
	if flushAt != 0 {
		a.Flush(t0.Add(flushAt))
		if err := a.CheckInvariants(); err != nil {
			t.Fatalf("after Flush: %v", err)
		}
	}
	checkStats(t, a.Stats())
	for _, v := range rec.Violations() {
		t.Error(v)
	}
	return a
}

func checkStats(t *testing.T, s reassembly.Stats) {
	t.Helper()
	if s.ConnectionsOpened != s.Closed()+uint64(s.OpenConnections) {
		t.Errorf("opened %d != closed %d + open %d", s.ConnectionsOpened, s.Closed(), s.OpenConnections)
	}
	if s.DeliveredBytes > s.PayloadBytes {
		t.Errorf("delivered %d bytes of %d sent", s.DeliveredBytes, s.PayloadBytes)
	}
}

func transcripts(rec *reassemblytest.Recorder) []string {
	out := make([]string, len(rec.Conns))
	for i, c := range rec.Conns {
		out[i] = c.Transcript()
	}
	return out
}

func eqStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// statsWant lists the counters a case checks; nil fields are not checked.
type statsWant map[string]uint64

func statField(s reassembly.Stats, name string) uint64 {
	switch name {
	case "Duplicates":
		return s.Duplicates
	case "Overlaps":
		return s.Overlaps
	case "OverlapConflicts":
		return s.OverlapConflicts
	case "OutOfOrder":
		return s.OutOfOrder
	case "Gaps":
		return s.Gaps
	case "GapsAck":
		return s.GapsAck
	case "GapsLimit":
		return s.GapsLimit
	case "GapsClose":
		return s.GapsClose
	case "BytesLost":
		return s.BytesLost
	case "ClosedFIN":
		return s.ClosedFIN
	case "ClosedRST":
		return s.ClosedRST
	case "ClosedIdle":
		return s.ClosedIdle
	case "ClosedEvicted":
		return s.ClosedEvicted
	case "ClosedEndOfInput":
		return s.ClosedEndOfInput
	case "EvictedHalfOpen":
		return s.EvictedHalfOpen
	case "ConnectionsOpened":
		return s.ConnectionsOpened
	case "Streams":
		return s.Streams
	case "PortReuses":
		return s.PortReuses
	case "IgnoredPackets":
		return s.IgnoredPackets
	case "IgnoredBytes":
		return s.IgnoredBytes
	case "ConnBufferLimitHits":
		return s.ConnBufferLimitHits
	case "TotalBufferLimitHits":
		return s.TotalBufferLimitHits
	case "DeliveredBytes":
		return s.DeliveredBytes
	case "OpenConnections":
		return uint64(s.OpenConnections)
	}
	panic("unknown stat " + name)
}

var handshake = []pkt{syn(), synack(), ack3()}

func with(prefix []pkt, rest ...pkt) []pkt {
	return append(append([]pkt(nil), prefix...), rest...)
}

func TestAssembler(t *testing.T) {
	const req = "GET / HTTP/1.1\r\n\r\n" // 18 bytes
	const resp = "HTTP/1.1 204 No Content\r\n\r\n"
	wrapFlow := defaultFlow
	wrapFlow.cisn, wrapFlow.sisn = 0xFFFFFFF8, 0xFFFFFFFF

	tests := []struct {
		name    string
		cfg     reassembly.Config
		flows   []flow
		pkts    []pkt
		flushAt time.Duration // 0: no Flush
		want    []string      // one transcript per handler created
		stats   statsWant
		info    *reassembly.ConnInfo // of the first connection, when checked
	}{
		{
			name: "in order with handshake and FINs",
			pkts: with(handshake, cd(1, req), sd(1, resp).Ack(19), cfin(19), sfin(28).Ack(20), pkt{c2s: true, flags: fACK, seq: 20, ack: 29}),
			want: []string{`C"GET / HTTP/1.1\r\n\r\n" S"HTTP/1.1 204 No Content\r\n\r\n" C<fin> S<fin> <close fin>`},
			stats: statsWant{"ClosedFIN": 1, "Streams": 1, "Gaps": 0, "Duplicates": 0, "OpenConnections": 0,
				"IgnoredPackets": 1, "DeliveredBytes": 18 + 27},
			info: &reassembly.ConnInfo{Client: defaultFlow.cli, Server: defaultFlow.srv, HandshakeSeen: true},
		},
		{
			name:    "reordered",
			pkts:    with(handshake, cd(7, "world"), cd(4, "lo "), cd(1, "hel")),
			flushAt: time.Second,
			want:    []string{`C"hello world" <close end_of_input>`},
			stats:   statsWant{"OutOfOrder": 2, "Gaps": 0, "ClosedEndOfInput": 1},
		},
		{
			name:    "duplicated",
			pkts:    with(handshake, cd(1, "abc"), cd(1, "abc"), cd(4, "def"), cd(4, "def"), cd(7, "g"), cd(7, "g")),
			flushAt: time.Second,
			want:    []string{`C"abcdefg" <close end_of_input>`},
			stats:   statsWant{"Duplicates": 3, "Overlaps": 0},
		},
		{
			name:    "duplicate of a buffered segment",
			pkts:    with(handshake, cd(4, "def"), cd(4, "def"), cd(1, "abc")),
			flushAt: time.Second,
			want:    []string{`C"abcdef" <close end_of_input>`},
			stats:   statsWant{"Duplicates": 1, "OutOfOrder": 1},
		},
		{
			name:    "overlap with delivered bytes",
			pkts:    with(handshake, cd(1, "hello"), cd(3, "llo world")),
			flushAt: time.Second,
			want:    []string{`C"hello world" <close end_of_input>`},
			stats:   statsWant{"Overlaps": 1, "Duplicates": 0},
		},
		{
			name:    "overlap with buffered bytes: first seen wins",
			pkts:    with(handshake, cd(7, "world"), cd(1, "hello XXXXX!")),
			flushAt: time.Second,
			want:    []string{`C"hello world!" <close end_of_input>`},
			stats:   statsWant{"Overlaps": 1, "OverlapConflicts": 1, "OutOfOrder": 1},
		},
		{
			name: "overlapping out-of-order segments merge",
			pkts: with(handshake, cd(5, "efgh"), cd(11, "klm"), cd(3, "cdXfghijkZ"), cd(1, "ab"),
				cd(12, "lmnop")),
			flushAt: time.Second,
			want:    []string{`C"abcdefghijklmnop" <close end_of_input>`},
			stats:   statsWant{"OverlapConflicts": 2, "Overlaps": 2, "OutOfOrder": 3, "Gaps": 0},
		},
		{
			name: "lost segment: gap when the peer acks it and later data waits",
			pkts: with(handshake, cd(1, "aaaa"), cd(9, "cccc"), sd(1, "ok").Ack(13),
				cd(13, "dd")),
			flushAt: time.Second,
			want:    []string{`C"aaaa" C<gap 4> C"cccc" S"ok" C"dd" <close end_of_input>`},
			stats:   statsWant{"Gaps": 1, "GapsAck": 1, "BytesLost": 4, "OutOfOrder": 1},
		},
		{
			// A pure acknowledgment does not order any data after the
			// bytes it acknowledges: the hole waits out the reorder window.
			name: "pure ack of a lost segment: gap once the reorder window has passed",
			pkts: with(handshake, cd(1, "aaaa"), cd(9, "cccc"), pkt{flags: fACK, seq: 1, ack: 13},
				pkt{flags: fACK, seq: 1, ack: 13}.After(reassembly.DefaultReorderWindow)),
			flushAt: time.Second,
			want:    []string{`C"aaaa" C<gap 4> C"cccc" <close end_of_input>`},
			stats:   statsWant{"Gaps": 1, "GapsAck": 1, "GapsClose": 0, "BytesLost": 4},
		},
		{
			// A mirror port, or the capturing host's CPUs, deliver a
			// segment after the acknowledgment of a later one.
			name: "pure ack, reordered: the acknowledged segment arrives within the reorder window, no gap",
			pkts: with(handshake, cd(1, "aaaa"), cd(9, "cccc"), pkt{flags: fACK, seq: 1, ack: 13},
				cd(5, "bbbb").After(reassembly.DefaultReorderWindow-time.Microsecond),
				pkt{flags: fACK, seq: 1, ack: 13}.After(time.Second)),
			flushAt: 2 * time.Second,
			want:    []string{`C"aaaabbbbcccc" <close end_of_input>`},
			stats:   statsWant{"Gaps": 0, "Duplicates": 0, "OutOfOrder": 1},
		},
		{
			name: "pure ack: the reorder window passes by the packets of other connections",
			pkts: with(handshake, cd(1, "aaaa"), cd(9, "cccc"), pkt{flags: fACK, seq: 1, ack: 13},
				cd(1, "x").On(1).After(reassembly.DefaultReorderWindow)),
			flows:   []flow{defaultFlow, flowN(1)},
			flushAt: time.Second,
			want:    []string{`C"aaaa" C<gap 4> C"cccc" <close end_of_input>`, `C"x" <close end_of_input>`},
			stats:   statsWant{"Gaps": 1, "GapsAck": 1, "GapsClose": 0},
		},
		{
			// Data carrying the acknowledgment is delivered after the
			// bytes it acknowledges: a waiting hole is skipped at once.
			name: "pure ack, then data acknowledging the same bytes: gap at once",
			pkts: with(handshake, cd(1, "aaaa"), cd(9, "cccc"), pkt{flags: fACK, seq: 1, ack: 13},
				sd(1, "ok").Ack(13)),
			flushAt: time.Second,
			want:    []string{`C"aaaa" C<gap 4> C"cccc" S"ok" <close end_of_input>`},
			stats:   statsWant{"Gaps": 1, "GapsAck": 1},
		},
		{
			name: "a full connection buffer skips a hole acknowledged by a pure ack at once",
			cfg:  reassembly.Config{MaxBufferedBytesPerConn: 100},
			pkts: with(handshake, cd(1, "a"), cd(3, strings.Repeat("c", 64)), pkt{flags: fACK, seq: 1, ack: 67},
				cd(67, strings.Repeat("d", 64))),
			flushAt: time.Second,
			want:    []string{`C"a" C<gap 1> C"` + strings.Repeat("c", 64) + strings.Repeat("d", 64) + `" <close end_of_input>`},
			stats:   statsWant{"Gaps": 1, "GapsAck": 1, "ConnBufferLimitHits": 0},
		},
		{
			name: "lost segment: ack arrives first, gap when later data arrives",
			pkts: with(handshake, cd(1, "aaaa"), sd(1, "ok").Ack(9), cd(9, "cccc")),
			// The ack alone (nothing waiting) reports no gap; the data after
			// the hole is delivered in order: the hole [5,9) was acked.
			flushAt: time.Second,
			want:    []string{`C"aaaa" S"ok" C<gap 4> C"cccc" <close end_of_input>`},
			stats:   statsWant{"Gaps": 1, "GapsAck": 1, "BytesLost": 4},
		},
		{
			name:  "lost last segment before FIN: acked FIN delivers the gap",
			pkts:  with(handshake, cd(1, "aaaa"), cfin(9), sfin(1).Ack(10)),
			want:  []string{`C"aaaa" C<gap 4> C<fin> S<fin> <close fin>`},
			stats: statsWant{"Gaps": 1, "GapsAck": 1, "ClosedFIN": 1},
		},
		{
			name:    "hole at end of input",
			pkts:    with(handshake, cd(1, "aaaa"), cd(9, "cccc")),
			flushAt: time.Minute,
			want:    []string{`C"aaaa" C<gap 4> C"cccc" <close end_of_input>`},
			stats:   statsWant{"Gaps": 1, "GapsClose": 1, "BytesLost": 4, "ClosedEndOfInput": 1},
		},
		{
			name:    "mid-stream: higher port is the client",
			pkts:    []pkt{sd(100, "HTTP/1.1 200 OK\r\n"), cd(50, "GET /x"), sd(117, "\r\n")},
			flushAt: time.Second,
			want:    []string{`S"HTTP/1.1 200 OK\r\n" C"GET /x" S"\r\n" <close end_of_input>`},
			info:    &reassembly.ConnInfo{Client: defaultFlow.cli, Server: defaultFlow.srv, HandshakeSeen: false},
		},
		{
			name: "mid-stream: equal ports, first sender is the client",
			flows: []flow{{cli: netip.MustParseAddrPort("10.0.0.9:8080"), srv: netip.MustParseAddrPort("10.0.0.3:8080"),
				cisn: 1, sisn: 2}},
			pkts:    []pkt{cd(10, "ping"), sd(10, "pong")},
			flushAt: time.Second,
			want:    []string{`C"ping" S"pong" <close end_of_input>`},
			info: &reassembly.ConnInfo{Client: netip.MustParseAddrPort("10.0.0.9:8080"),
				Server: netip.MustParseAddrPort("10.0.0.3:8080")},
		},
		{
			name:  "SYN lost: the SYN-ACK names the server",
			pkts:  []pkt{synack(), ack3(), cd(1, "hi"), sd(1, "yo"), cfin(3), sfin(3)},
			want:  []string{`C"hi" S"yo" C<fin> S<fin> <close fin>`},
			info:  &reassembly.ConnInfo{Client: defaultFlow.cli, Server: defaultFlow.srv, HandshakeSeen: true},
			stats: statsWant{"ClosedFIN": 1},
		},
		{
			name:  "server closes first",
			pkts:  with(handshake, cd(1, "q"), sd(1, "a"), sfin(2), cfin(2)),
			want:  []string{`C"q" S"a" S<fin> C<fin> <close fin>`},
			stats: statsWant{"ClosedFIN": 1},
		},
		{
			name:  "FIN carrying data",
			pkts:  with(handshake, cd(1, "q"), pkt{flags: fFIN | fACK | fPSH, seq: 1, ack: 2, data: "bye"}, cfin(2)),
			want:  []string{`C"q" S"bye" S<fin> C<fin> <close fin>`},
			stats: statsWant{"ClosedFIN": 1},
		},
		{
			name:  "FIN before the last data segment",
			pkts:  with(handshake, cd(1, "ab"), cfin(5), cd(3, "cd"), sfin(1)),
			want:  []string{`C"abcd" C<fin> S<fin> <close fin>`},
			stats: statsWant{"ClosedFIN": 1, "Gaps": 0},
		},
		{
			name:    "data after FIN is ignored",
			pkts:    with(handshake, cd(1, "ab"), cfin(3), cd(3, "zz"), sd(1, "ok")),
			want:    []string{`C"ab" C<fin> S"ok" <close end_of_input>`},
			stats:   statsWant{"IgnoredBytes": 2},
			flushAt: time.Second,
		},
		{
			name:  "RST mid-transfer",
			pkts:  with(handshake, cd(1, "GET"), pkt{flags: fRST | fACK, seq: 1, ack: 4}, sd(1, "late")),
			want:  []string{`C"GET" <close rst>`},
			stats: statsWant{"ClosedRST": 1, "IgnoredPackets": 1, "OpenConnections": 0},
		},
		{
			name:  "RST with a hole delivers what was buffered",
			pkts:  with(handshake, cd(1, "ab"), cd(5, "ef"), pkt{c2s: true, flags: fRST, seq: 7}),
			want:  []string{`C"ab" C<gap 2> C"ef" <close rst>`},
			stats: statsWant{"ClosedRST": 1, "GapsClose": 1},
		},
		{
			name:  "RST after one FIN",
			pkts:  with(handshake, cd(1, "q"), cfin(2), pkt{flags: fRST, seq: 1}),
			want:  []string{`C"q" C<fin> <close rst>`},
			stats: statsWant{"ClosedRST": 1},
		},
		{
			name:  "RST of an unknown connection is ignored",
			pkts:  []pkt{{flags: fRST | fACK, seq: 1, ack: 1}},
			stats: statsWant{"IgnoredPackets": 1, "ConnectionsOpened": 0},
		},
		{
			name:  "handshake without payload creates no handler",
			pkts:  with(handshake, cfin(1), sfin(1)),
			stats: statsWant{"Streams": 0, "ClosedFIN": 1, "ConnectionsOpened": 1},
		},
		{
			name: "idle timeout by packet time",
			cfg:  reassembly.Config{IdleTimeout: time.Minute},
			pkts: with(handshake, cd(1, "a"), cd(2, "b").After(59*time.Second),
				syn().On(1).After(118*time.Second),  // 59s idle: still open
				syn().On(2).After(120*time.Second)), // 61s idle: closed
			flows: []flow{flowN(0), flowN(1), flowN(2)},
			want:  []string{`C"ab" <close idle>`},
			stats: statsWant{"ClosedIdle": 1, "OpenConnections": 2},
		},
		{
			name: "half-open connections time out after HandshakeTimeout",
			cfg:  reassembly.Config{HandshakeTimeout: 5 * time.Second},
			pkts: []pkt{syn(), syn().On(1).After(3 * time.Second), syn().On(2).After(6 * time.Second),
				syn().On(2).After(9 * time.Second)},
			flows: []flow{flowN(0), flowN(1), flowN(2)},
			stats: statsWant{"ClosedIdle": 2, "OpenConnections": 1, "Streams": 0},
		},
		{
			name: "MaxConnections evicts the least recently active",
			cfg:  reassembly.Config{MaxConnections: 2},
			pkts: []pkt{cd(1, "a").On(0), cd(1, "b").On(1), cd(2, "c").On(0), cd(1, "x").On(2),
				cd(3, "d").On(0)},
			flows:   []flow{flowN(0), flowN(1), flowN(2)},
			flushAt: time.Second,
			want: []string{`C"acd" <close end_of_input>`, `C"b" <close evicted>`,
				`C"x" <close end_of_input>`},
			stats: statsWant{"ClosedEvicted": 1, "EvictedHalfOpen": 0},
		},
		{
			name:    "MaxConnections evicts half-open connections first",
			cfg:     reassembly.Config{MaxConnections: 2},
			pkts:    []pkt{cd(1, "a").On(0), syn().On(1), syn().On(2), cd(2, "b").On(0)},
			flows:   []flow{flowN(0), flowN(1), flowN(2)},
			flushAt: time.Second,
			want:    []string{`C"ab" <close end_of_input>`},
			stats:   statsWant{"ClosedEvicted": 1, "EvictedHalfOpen": 1, "ConnectionsOpened": 3},
		},
		{
			name: "MaxConnections reuses closed connections first",
			cfg:  reassembly.Config{MaxConnections: 2},
			pkts: []pkt{cd(1, "a").On(0), cd(1, "b").On(1), cfin(2).On(1), sfin(1).On(1),
				cd(1, "c").On(2), cd(2, "d").On(0)},
			flows:   []flow{flowN(0), flowN(1), flowN(2)},
			flushAt: time.Second,
			want: []string{`C"ad" <close end_of_input>`, `C"b" C<fin> S<fin> <close fin>`,
				`C"c" <close end_of_input>`},
			stats: statsWant{"ClosedEvicted": 0},
		},
		{
			name: "MaxBufferedBytesPerConn skips the oldest hole",
			cfg:  reassembly.Config{MaxBufferedBytesPerConn: 100},
			pkts: with(handshake, cd(1, "a"), cd(3, strings.Repeat("c", 64)), cd(68, strings.Repeat("d", 64)),
				cd(2, "b")),
			flushAt: time.Second,
			want: []string{`C"a" C<gap 1> C"` + strings.Repeat("c", 64) + `" C<gap 1> C"` + strings.Repeat("d", 64) +
				`" <close end_of_input>`},
			stats: statsWant{"ConnBufferLimitHits": 1, "GapsLimit": 1, "GapsClose": 1, "BytesLost": 2, "Duplicates": 1},
		},
		{
			name:    "a segment larger than MaxBufferedBytesPerConn is delivered after a gap",
			cfg:     reassembly.Config{MaxBufferedBytesPerConn: 64},
			pkts:    with(handshake, cd(1, "a"), cd(10, strings.Repeat("z", 100)), cd(2, "late")),
			flushAt: time.Second,
			want:    []string{`C"a" C<gap 8> C"` + strings.Repeat("z", 100) + `" <close end_of_input>`},
			stats:   statsWant{"ConnBufferLimitHits": 1, "GapsLimit": 1, "Duplicates": 1},
		},
		{
			name: "MaxBufferedBytes flushes the least recently buffering connection",
			cfg:  reassembly.Config{MaxBufferedBytesPerConn: 100, MaxBufferedBytes: 100},
			pkts: []pkt{cd(1, "a").On(0), cd(1, "b").On(1), cd(3, "A").On(0), cd(3, "B").On(1),
				cd(2, "x").On(0), cd(2, "y").On(1)},
			flows:   []flow{flowN(0), flowN(1)},
			flushAt: time.Second,
			want:    []string{`C"a" C<gap 1> C"A" <close end_of_input>`, `C"byB" <close end_of_input>`},
			stats:   statsWant{"TotalBufferLimitHits": 1, "GapsLimit": 1, "Duplicates": 1},
		},
		{
			name:  "sequence numbers wrap around",
			flows: []flow{wrapFlow},
			pkts: with(handshake, cd(1, "0123"), cd(9, "89"), cd(5, "4567"), cd(11, "abcdef"),
				sd(1, "xy"), sd(3, "z"), cfin(17), sfin(4)),
			want:  []string{`C"0123456789abcdef" S"xyz" C<fin> S<fin> <close fin>`},
			stats: statsWant{"OutOfOrder": 1, "Gaps": 0, "ClosedFIN": 1},
		},
		{
			name:    "lost segment across wraparound acked",
			flows:   []flow{wrapFlow},
			pkts:    with(handshake, cd(1, "0123"), cd(9, "89"), sd(1, "ok").Ack(11)),
			want:    []string{`C"0123" C<gap 4> C"89" S"ok" <close end_of_input>`},
			flushAt: time.Second,
			stats:   statsWant{"GapsAck": 1, "BytesLost": 4},
		},
		{
			name: "port reuse: new SYN after close starts a new connection",
			pkts: with(handshake, cd(1, "one"), cfin(4), sfin(1), pkt{c2s: true, flags: fACK, seq: 5, ack: 2},
				pkt{c2s: true, flags: fSYN, seq: 100000}.After(time.Second),
				pkt{flags: fSYN | fACK, seq: 70000, ack: 100001},
				pkt{c2s: true, flags: fACK | fPSH, seq: 100001, ack: 70001, data: "two"}),
			flushAt: 2 * time.Second,
			want:    []string{`C"one" C<fin> S<fin> <close fin>`, `C"two" <close end_of_input>`},
			stats:   statsWant{"PortReuses": 1, "ConnectionsOpened": 2, "IgnoredPackets": 1},
		},
		{
			name: "port reuse of a connection whose end was not seen",
			pkts: with(handshake, cd(1, "one"),
				pkt{c2s: true, flags: fSYN, seq: 100000}.After(time.Second),
				pkt{c2s: true, flags: fACK | fPSH, seq: 100001, ack: 70001, data: "two"}),
			flushAt: 2 * time.Second,
			want:    []string{`C"one" <close idle>`, `C"two" <close end_of_input>`},
			stats:   statsWant{"PortReuses": 1, "ConnectionsOpened": 2},
		},
		{
			name:    "retransmitted SYN is not port reuse",
			pkts:    []pkt{syn(), syn(), synack(), ack3(), cd(1, "x")},
			flushAt: time.Second,
			want:    []string{`C"x" <close end_of_input>`},
			stats:   statsWant{"PortReuses": 0, "ConnectionsOpened": 1},
		},
		{
			name:    "SYN with data (TCP Fast Open)",
			pkts:    []pkt{{c2s: true, flags: fSYN, data: "GET"}, synack().Ack(4), cd(4, " /")},
			flushAt: time.Second,
			want:    []string{`C"GET /" <close end_of_input>`},
		},
		{
			name:  "stale packets after close are ignored",
			pkts:  with(handshake, cd(1, "x"), cfin(2), sfin(1), cd(1, "x"), cfin(2)),
			want:  []string{`C"x" C<fin> S<fin> <close fin>`},
			stats: statsWant{"IgnoredPackets": 2, "ConnectionsOpened": 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &reassemblytest.Recorder{}
			a := run(t, tc.cfg, rec, tc.flows, tc.pkts, tc.flushAt)
			if got := transcripts(rec); !eqStrings(got, tc.want) {
				t.Errorf("transcripts:\n got %q\nwant %q", got, tc.want)
			}
			s := a.Stats()
			for name, want := range tc.stats {
				if got := statField(s, name); got != want {
					t.Errorf("Stats.%s = %d, want %d", name, got, want)
				}
			}
			if tc.info != nil {
				if len(rec.Conns) == 0 {
					t.Fatal("no connection")
				}
				if got := rec.Conns[0].Info; got != *tc.info {
					t.Errorf("ConnInfo = %+v, want %+v", got, *tc.info)
				}
			}
		})
	}
}

func TestAssemblerTimestamps(t *testing.T) {
	rec := &reassemblytest.Recorder{}
	run(t, reassembly.Config{}, rec, nil, with(handshake,
		cd(4, "def").After(2*time.Second), cd(1, "abc").After(3*time.Second),
		sd(1, "ok").After(4*time.Second)), 10*time.Second)
	c := rec.Conns[0]
	if !c.Opened.Equal(t0.Add(2 * time.Second)) {
		t.Errorf("handler created at %v, want the first payload's time", c.Opened)
	}
	want := []time.Duration{3 * time.Second, 2 * time.Second, 4 * time.Second, 10 * time.Second}
	if len(c.Events) != len(want) {
		t.Fatalf("events: %s", c.Transcript())
	}
	for i, w := range want {
		if !c.Events[i].TS.Equal(t0.Add(w)) {
			t.Errorf("event %d at %v, want t0+%v", i, c.Events[i].TS, w)
		}
	}
}

func TestAssemblerDecline(t *testing.T) {
	t.Run("Data returning false stops payload but not FIN and close", func(t *testing.T) {
		rec := &reassemblytest.Recorder{DeclineAfter: 3}
		a := run(t, reassembly.Config{}, rec, nil, with(handshake,
			cd(1, "abc"), cd(7, "ghi"), cd(4, "def"), sd(1, "nope"), cfin(10), sfin(5)), 0)
		if got, want := rec.Conns[0].Transcript(), `C"abc" C<fin> S<fin> <close fin>`; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
		if s := a.Stats(); s.IgnoredBytes != 10 || s.BufferedBytes != 0 {
			t.Errorf("IgnoredBytes %d (want 10), BufferedBytes %d", s.IgnoredBytes, s.BufferedBytes)
		}
	})
	t.Run("nil handler from the factory", func(t *testing.T) {
		rec := &reassemblytest.Recorder{Nil: true}
		a := run(t, reassembly.Config{}, rec, nil, with(handshake, cd(1, "abc"), cd(9, "x"), cfin(10), sfin(1)), 0)
		s := a.Stats()
		if s.Streams != 0 || s.DeliveredBytes != 0 || s.ClosedFIN != 1 || s.BufferedBytes != 0 {
			t.Errorf("stats %+v", s)
		}
	})
}

func TestNewAssemblerConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     reassembly.Config
		factory reassembly.StreamFactory
		wantErr string
	}{
		{"zero config", reassembly.Config{}, &reassemblytest.Recorder{}, ""},
		{"negative MaxConnections", reassembly.Config{MaxConnections: -1}, &reassemblytest.Recorder{}, "MaxConnections"},
		{"huge MaxConnections", reassembly.Config{MaxConnections: 1 << 31}, &reassemblytest.Recorder{}, "MaxConnections"},
		{"negative MaxBufferedBytesPerConn", reassembly.Config{MaxBufferedBytesPerConn: -5}, &reassemblytest.Recorder{}, "MaxBufferedBytesPerConn"},
		{"negative MaxBufferedBytes", reassembly.Config{MaxBufferedBytes: -5}, &reassemblytest.Recorder{}, "MaxBufferedBytes"},
		{"per-conn above total", reassembly.Config{MaxBufferedBytesPerConn: 2048, MaxBufferedBytes: 1024}, &reassemblytest.Recorder{}, "exceeds Config.MaxBufferedBytes"},
		{"negative IdleTimeout", reassembly.Config{IdleTimeout: -time.Second}, &reassemblytest.Recorder{}, "IdleTimeout"},
		{"negative HandshakeTimeout", reassembly.Config{HandshakeTimeout: -time.Second}, &reassemblytest.Recorder{}, "HandshakeTimeout"},
		{"negative TimeWait", reassembly.Config{TimeWait: -time.Second}, &reassemblytest.Recorder{}, "TimeWait"},
		{"negative ReorderWindow", reassembly.Config{ReorderWindow: -time.Millisecond}, &reassemblytest.Recorder{}, "ReorderWindow"},
		{"ReorderWindow over a minute", reassembly.Config{ReorderWindow: 2 * time.Minute}, &reassemblytest.Recorder{}, "ReorderWindow"},
		{"nil factory", reassembly.Config{}, nil, "nil StreamFactory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := reassembly.NewAssembler(tc.cfg, tc.factory, nil)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "reassembly: ")):
				t.Fatalf("error %v, want one naming %q", err, tc.wantErr)
			}
		})
	}
}

func TestAssemblerMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	var as []*reassembly.Assembler
	for range 2 { // two workers share the registry; their counts add up
		a, err := reassembly.NewAssembler(reassembly.Config{}, &reassemblytest.Recorder{}, reg)
		if err != nil {
			t.Fatal(err)
		}
		as = append(as, a)
	}
	for i, a := range as {
		f := flowN(i)
		for _, p := range with(handshake, cd(1, "ab"), cd(5, "ef"), sd(1, "ok").Ack(7)) {
			a.HandlePacket(f.packet(p))
		}
	}
	// Before a second of packet time has passed nothing is published...
	if got := gatherAll(t, reg)["apitap_reassembly_packets_total"]; got != 0 {
		t.Errorf("packets published early: %v", got)
	}
	// ...and open connections are visible once it has.
	for i, a := range as {
		a.HandlePacket(flowN(i).packet(cd(7, "g").After(2 * time.Second)))
	}
	if got := gatherAll(t, reg)["apitap_reassembly_open_connections"]; got != 2 {
		t.Errorf("open_connections = %v, want 2", got)
	}
	if got := as[0].StatsSnapshot(); got.Packets != 4+3 || got.OpenConnections != 1 {
		t.Errorf("snapshot after the first publication: %+v", got)
	}
	for _, a := range as {
		a.Flush(t0.Add(3 * time.Second))
	}
	if got, want := as[0].StatsSnapshot(), as[0].Stats(); got != want {
		t.Errorf("snapshot after Flush %+v, want %+v", got, want)
	}
	want := map[string]float64{
		"apitap_reassembly_packets_total":                                   14,
		`apitap_reassembly_connections_closed_total{reason="end_of_input"}`: 2,
		`apitap_reassembly_gaps_total{cause="ack"}`:                         2,
		"apitap_reassembly_bytes_lost_total":                                4,
		"apitap_reassembly_open_connections":                                0,
		"apitap_reassembly_delivered_bytes_total":                           14,
	}
	got := gatherAll(t, reg)
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s = %v, want %v", name, got[name], w)
		}
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n < 20 {
		t.Errorf("gathered %d metrics, err %v", n, err)
	}
}

// gatherAll returns every sample as name{label="value"} → value.
func gatherAll(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			if lp := m.GetLabel(); len(lp) > 0 {
				name += "{" + lp[0].GetName() + `="` + lp[0].GetValue() + `"}`
			}
			switch {
			case m.GetCounter() != nil:
				out[name] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[name] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func TestStatsAdd(t *testing.T) {
	var s reassembly.Stats
	v := reflect.ValueOf(&s).Elem()
	for i := range v.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.Uint64:
			f.SetUint(uint64(i + 1))
		case reflect.Int64:
			f.SetInt(int64(i + 1))
		default:
			t.Fatalf("field %s of unexpected kind %v", v.Type().Field(i).Name, f.Kind())
		}
	}
	var sum reassembly.Stats
	sum.Add(s)
	sum.Add(s)
	w := reflect.ValueOf(sum)
	for i := range w.NumField() {
		var got, want int64
		if f := w.Field(i); f.Kind() == reflect.Uint64 {
			got, want = int64(f.Uint()), 2*int64(i+1)
		} else {
			got, want = f.Int(), 2*int64(i+1)
		}
		if got != want {
			t.Errorf("Add: %s = %d, want %d", w.Type().Field(i).Name, got, want)
		}
	}
}

// TestAssemblerTick checks that on a quiet live link the reorder window of
// a hole acknowledged by a pure ACK passes with the wall clock (Tick),
// and that packets arriving between ticks keep packet time in charge.
func TestAssemblerTick(t *testing.T) {
	w0 := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC) // the wall clock, unrelated to packet time
	waiting := `C"aaaa"`
	skipped := `C"aaaa" C<gap 4> C"cccc"`
	step := func(t *testing.T, a *reassembly.Assembler, rec *reassemblytest.Recorder, tick time.Duration, want string) {
		t.Helper()
		a.Tick(w0.Add(tick))
		if err := a.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
		if got := rec.Conns[0].Transcript(); got != want {
			t.Fatalf("after Tick(+%v): %s, want %s", tick, got, want)
		}
	}

	t.Run("quiet link", func(t *testing.T) {
		rec := &reassemblytest.Recorder{}
		a := run(t, reassembly.Config{}, rec, nil, with(handshake, cd(1, "aaaa"), cd(9, "cccc"), pkt{flags: fACK, seq: 1, ack: 13}), 0)
		step(t, a, rec, 0, waiting)                   // the first tick only notes the packets
		step(t, a, rec, 5*time.Millisecond, waiting)  // quiet for 5ms: within the window
		step(t, a, rec, 20*time.Millisecond, skipped) // quiet for 20ms: the hole is lost
		a.HandlePacket(defaultFlow.packet(cd(13, "dd").After(time.Millisecond)))
		a.Flush(t0.Add(time.Second))
		if got, want := rec.Conns[0].Transcript(), `C"aaaa" C<gap 4> C"ccccdd" <close end_of_input>`; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
		if s := a.Stats(); s.GapsAck != 1 || s.Gaps != 1 {
			t.Errorf("stats: %d gaps, %d by acknowledgment; want 1 and 1", s.Gaps, s.GapsAck)
		}
	})

	t.Run("idle timeout on a quiet link", func(t *testing.T) {
		rec := &reassemblytest.Recorder{}
		a := run(t, reassembly.Config{IdleTimeout: 30 * time.Second}, rec, nil, with(handshake, cd(1, "GET")), 0)
		open := `C"GET"`
		step(t, a, rec, 0, open)
		step(t, a, rec, 20*time.Second, open)                 // quiet for 20s
		step(t, a, rec, 31*time.Second, open+` <close idle>`) // quiet past the idle timeout
		if s := a.Stats(); s.OpenConnections != 0 {
			t.Errorf("%d connections open after the idle timeout", s.OpenConnections)
		}
		// The next packet's time is the clock again: a packet 1s after the
		// last one opens a new connection that is not idle.
		a.HandlePacket(flowN(1).packet(cd(1, "x").After(time.Second)))
		if err := a.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
		if s := a.Stats(); s.OpenConnections != 1 {
			t.Errorf("%d connections open, want the new one", s.OpenConnections)
		}
	})

	t.Run("packets between ticks", func(t *testing.T) {
		rec := &reassemblytest.Recorder{}
		a := run(t, reassembly.Config{}, rec, []flow{defaultFlow, flowN(1)},
			with(handshake, cd(1, "aaaa"), cd(9, "cccc"), pkt{flags: fACK, seq: 1, ack: 13}), 0)
		step(t, a, rec, 0, waiting)
		a.HandlePacket(flowN(1).packet(cd(1, "x").After(time.Millisecond)))
		step(t, a, rec, 20*time.Millisecond, waiting) // not quiet: packet time (1ms) rules
		step(t, a, rec, 25*time.Millisecond, waiting) // quiet for 5ms: 6ms of the window
		step(t, a, rec, 40*time.Millisecond, skipped) // quiet for 20ms
	})
}
