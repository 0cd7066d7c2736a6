package capture

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// bigPayload is a TCP payload that needs several fragments.
func decBigPayload(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

// tcpPacket returns a serialized IPv4 or IPv6 packet carrying the test
// segment with payload pl.
func decTCPPacket(t testing.TB, v6 bool, pl []byte) []byte {
	l := decInner(v6)
	l[2] = gopacket.Payload(pl)
	return decSerialize(t, l...)
}

type decPiece struct{ lo, hi int } // byte range of the IP payload (TCP header included)

// fragment cuts an IP packet into fragments covering the given ranges of
// its payload; it returns bare IP packets. For IPv6 the fragment header
// follows the fixed header.
func decFragment(t testing.TB, pkt []byte, v6 bool, id uint32, pieces ...decPiece) [][]byte {
	t.Helper()
	var out [][]byte
	if !v6 {
		hl := int(pkt[0]&0x0f) * 4
		pl := pkt[hl:]
		for _, p := range pieces {
			f := append(bytes.Clone(pkt[:hl]), pl[p.lo:p.hi]...)
			binary.BigEndian.PutUint16(f[2:], uint16(len(f)))
			binary.BigEndian.PutUint16(f[4:], uint16(id))
			ff := uint16(p.lo / 8)
			if p.hi < len(pl) {
				ff |= 0x2000
			}
			binary.BigEndian.PutUint16(f[6:], ff)
			out = append(out, f)
		}
		return out
	}
	nh, pl := pkt[6], pkt[40:]
	for _, p := range pieces {
		f := bytes.Clone(pkt[:40])
		f[6] = 44
		fh := []byte{nh, 0, 0, 0, 0, 0, 0, 0}
		off := uint16(p.lo/8) << 3
		if p.hi < len(pl) {
			off |= 1
		}
		binary.BigEndian.PutUint16(fh[2:], off)
		binary.BigEndian.PutUint32(fh[4:], id)
		f = append(append(f, fh...), pl[p.lo:p.hi]...)
		binary.BigEndian.PutUint16(f[4:], uint16(len(f)-40))
		out = append(out, f)
	}
	return out
}

func decEthFrame(pkt []byte) []byte {
	et := []byte{0x08, 0x00}
	if pkt[0]>>4 == 6 {
		et = []byte{0x86, 0xdd}
	}
	return append(append(append(bytes.Clone([]byte(decMacB)), decMacA...), et...), pkt...)
}

// feed decodes frames at the given times and returns the packets decoded,
// with their payloads copied.
func decFeed(d *Decoder, frames [][]byte, ts []time.Time) []Packet {
	var out []Packet
	for i, b := range frames {
		f := Frame{Data: b, Length: len(b), LinkType: LinkTypeEthernet, Timestamp: decTS}
		if ts != nil {
			f.Timestamp = ts[i]
		}
		var p Packet
		if d.Decode(&f, &p) {
			p.Payload = bytes.Clone(p.Payload)
			out = append(out, p)
		}
	}
	return out
}

func decReorder(in [][]byte, order ...int) [][]byte {
	out := make([][]byte, len(order))
	for i, j := range order {
		out[i] = in[j]
	}
	return out
}

func TestDecodeFragments(t *testing.T) {
	pl := decBigPayload(3000, 1)
	// TCP header (20 bytes) + 3000 bytes of payload = 3020 bytes of IP payload.
	cuts := []decPiece{{0, 1480}, {1480, 2960}, {2960, 3020}}
	cases := []struct {
		name  string
		v6    bool
		order []int
	}{
		{"ipv4 in order", false, []int{0, 1, 2}},
		{"ipv4 reversed", false, []int{2, 1, 0}},
		{"ipv4 middle first", false, []int{1, 2, 0}},
		{"ipv6 in order", true, []int{0, 1, 2}},
		{"ipv6 reversed", true, []int{2, 1, 0}},
		{"ipv6 last first", true, []int{2, 0, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			frags := decFragment(t, decTCPPacket(t, tc.v6, pl), tc.v6, 0xbeef, cuts...)
			var frames [][]byte
			for _, f := range decReorder(frags, tc.order...) {
				frames = append(frames, decEthFrame(f))
			}
			d := NewDecoder(DecoderConfig{})
			got := decFeed(d, frames, nil)
			if len(got) != 1 {
				t.Fatalf("decoded %d packets, want 1; stats %+v", len(got), d.Stats())
			}
			want := Packet{Timestamp: decTS, Flow: decFlow(tc.v6), Seq: decSeq, Ack: decAck, Flags: FlagPSH | FlagACK, Window: decWindow, Payload: pl}
			decCheckPacket(t, &got[0], &want)
			s := d.Stats()
			decInvariants(t, s)
			if s.Fragments != 3 || s.Reassembled != 1 || s.FragmentsPending != 2 || s.TCP != 1 ||
				s.FragmentsDropped != 0 || s.FragmentOverlaps != 0 || s.FragmentBytes != 0 || s.FragmentDatagrams != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestDecodeFragmentOverlaps(t *testing.T) {
	a, b := decBigPayload(2000, 1), decBigPayload(2000, 99)
	pa, pb := decTCPPacket(t, false, a), decTCPPacket(t, false, b)
	cases := []struct {
		name     string
		frags    [][]byte
		want     []byte
		overlaps uint64
	}{
		{
			name: "partial overlap keeps the first bytes",
			frags: [][]byte{
				decFragment(t, pa, false, 1, decPiece{0, 1008})[0],
				decFragment(t, pb, false, 1, decPiece{800, 2020})[0],
			},
			want:     append(bytes.Clone(a[:1008-20]), b[1008-20:]...),
			overlaps: 1,
		},
		{
			name: "later fragment inside earlier ones",
			frags: [][]byte{
				decFragment(t, pa, false, 1, decPiece{1000, 2020})[0],
				decFragment(t, pa, false, 1, decPiece{0, 1000})[0],
				decFragment(t, pb, false, 1, decPiece{504, 1504})[0],
			},
			want:     a,
			overlaps: 0, // the datagram completes before the third fragment
		},
		{
			name: "bridging fragment over two held ranges",
			frags: [][]byte{
				decFragment(t, pa, false, 1, decPiece{0, 400})[0],
				decFragment(t, pa, false, 1, decPiece{800, 1200})[0],
				decFragment(t, pb, false, 1, decPiece{200, 1600})[0],
				decFragment(t, pa, false, 1, decPiece{1600, 2020})[0],
			},
			want: func() []byte {
				w := bytes.Clone(a)
				copy(w[400-20:800-20], b[400-20:800-20])
				copy(w[1200-20:1600-20], b[1200-20:1600-20])
				return w
			}(),
			overlaps: 1,
		},
		{
			name: "exact duplicate",
			frags: [][]byte{
				decFragment(t, pa, false, 1, decPiece{0, 1480})[0],
				decFragment(t, pa, false, 1, decPiece{0, 1480})[0],
				decFragment(t, pa, false, 1, decPiece{1480, 2020})[0],
			},
			want:     a,
			overlaps: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var frames [][]byte
			for _, f := range tc.frags {
				frames = append(frames, decEthFrame(f))
			}
			d := NewDecoder(DecoderConfig{})
			got := decFeed(d, frames, nil)
			if len(got) != 1 {
				t.Fatalf("decoded %d packets, want 1; stats %+v", len(got), d.Stats())
			}
			if !bytes.Equal(got[0].Payload, tc.want) {
				t.Errorf("payload differs from the expected first-wins bytes")
			}
			s := d.Stats()
			decInvariants(t, s)
			if s.FragmentOverlaps != tc.overlaps {
				t.Errorf("FragmentOverlaps = %d, want %d", s.FragmentOverlaps, tc.overlaps)
			}
		})
	}
}

func TestDecodeFragmentLimits(t *testing.T) {
	pl := decBigPayload(3000, 3)
	pkt4 := decTCPPacket(t, false, pl)
	cuts := []decPiece{{0, 1480}, {1480, 2960}, {2960, 3020}}
	frags := func(id uint32) [][]byte {
		var out [][]byte
		for _, f := range decFragment(t, pkt4, false, id, cuts...) {
			out = append(out, decEthFrame(f))
		}
		return out
	}
	at := func(sec ...int) []time.Time {
		out := make([]time.Time, len(sec))
		for i, s := range sec {
			out[i] = decTS.Add(time.Duration(s) * time.Second)
		}
		return out
	}
	f1, f2, f3 := frags(1), frags(2), frags(3)

	cases := []struct {
		name   string
		cfg    DecoderConfig
		frames [][]byte
		ts     []time.Time
		want   int // packets decoded
		check  func(t *testing.T, s DecoderStats)
	}{
		{
			name:   "timeout by packet time",
			frames: [][]byte{f1[0], f1[1], f1[2]},
			ts:     at(0, 31, 32),
			want:   0,
			check: func(t *testing.T, s DecoderStats) {
				// The first fragment expires when the second arrives; the
				// remaining two start a datagram that never completes.
				if s.FragmentTimeouts != 1 || s.FragmentsDropped != 1 || s.FragmentDatagrams != 1 || s.FragmentsPending != 3 {
					t.Errorf("stats %+v", s)
				}
			},
		},
		{
			name:   "custom timeout",
			cfg:    DecoderConfig{FragmentTimeout: time.Minute},
			frames: [][]byte{f1[0], f1[1], f1[2]},
			ts:     at(0, 31, 59),
			want:   1,
			check: func(t *testing.T, s DecoderStats) {
				if s.FragmentTimeouts != 0 || s.Reassembled != 1 {
					t.Errorf("stats %+v", s)
				}
			},
		},
		{
			name:   "byte limit evicts the oldest",
			cfg:    DecoderConfig{MaxFragmentBytes: 4096},
			frames: [][]byte{f1[0], f2[0], f2[1], f2[2], f1[1], f1[2]},
			want:   1,
			check: func(t *testing.T, s DecoderStats) {
				// Datagram 1 holds a 2 KiB buffer; datagram 2 needs 4 KiB
				// and evicts it. Datagram 1's later fragments restart it.
				if s.FragmentEvictions != 1 || s.Reassembled != 1 || s.FragmentDatagrams != 1 {
					t.Errorf("stats %+v", s)
				}
			},
		},
		{
			name:   "byte limit below one datagram",
			cfg:    DecoderConfig{MaxFragmentBytes: 3000},
			frames: f1,
			want:   0,
			check: func(t *testing.T, s DecoderStats) {
				if s.FragmentsInvalid == 0 || s.FragmentBytes > 3000 {
					t.Errorf("stats %+v", s)
				}
			},
		},
		{
			name:   "datagram limit evicts the oldest",
			cfg:    DecoderConfig{MaxFragmentDatagrams: 2},
			frames: [][]byte{f1[0], f2[0], f3[0], f2[1], f2[2], f3[1], f3[2]},
			want:   2,
			check: func(t *testing.T, s DecoderStats) {
				if s.FragmentEvictions != 1 || s.Reassembled != 2 || s.FragmentsDropped != 1 {
					t.Errorf("stats %+v", s)
				}
			},
		},
		{
			name:   "fragments per datagram",
			cfg:    DecoderConfig{MaxFragmentsPerDatagram: 2},
			frames: f1,
			want:   0,
			check: func(t *testing.T, s DecoderStats) {
				if s.FragmentsInvalid != 1 || s.Reassembled != 0 {
					t.Errorf("stats %+v", s)
				}
			},
		},
		{
			name:   "reassembly disabled",
			cfg:    DecoderConfig{MaxFragmentBytes: -1},
			frames: f1,
			want:   0,
			check: func(t *testing.T, s DecoderStats) {
				if s.Fragments != 3 || s.FragmentsDropped != 3 || s.FragmentsPending != 3 {
					t.Errorf("stats %+v", s)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(tc.cfg)
			got := decFeed(d, tc.frames, tc.ts)
			if len(got) != tc.want {
				t.Errorf("decoded %d packets, want %d", len(got), tc.want)
			}
			for _, p := range got {
				if !bytes.Equal(p.Payload, pl) {
					t.Errorf("payload corrupted")
				}
			}
			s := d.Stats()
			decInvariants(t, s)
			tc.check(t, s)
		})
	}
}

func TestDecodeFragmentsInvalid(t *testing.T) {
	pl := decBigPayload(3000, 5)
	pkt := decTCPPacket(t, false, pl)
	cases := []struct {
		name   string
		frames func() [][]byte
		snap   bool
	}{
		{"beyond 65535 bytes", func() [][]byte {
			f := decFragment(t, pkt, false, 1, decPiece{0, 1480})[0]
			binary.BigEndian.PutUint16(f[6:], 0x2000|8190) // offset 65520 + 1480
			return [][]byte{f}
		}, false},
		{"two different ends", func() [][]byte {
			fs := decFragment(t, pkt, false, 1, decPiece{1480, 3020})
			g := decFragment(t, pkt, false, 1, decPiece{1480, 2960})[0]
			binary.BigEndian.PutUint16(g[6:], 1480/8) // MF cleared: a second end
			return append(fs, g)
		}, false},
		{"bytes beyond the end", func() [][]byte {
			fs := decFragment(t, pkt, false, 1, decPiece{1480, 2960}) // MF set
			g := decFragment(t, pkt, false, 1, decPiece{1480, 1488})[0]
			binary.BigEndian.PutUint16(g[6:], 1480/8) // last fragment ending at 1488 < 2960
			return append(fs, g)
		}, false},
		{"empty non-last fragment", func() [][]byte {
			f := decFragment(t, pkt, false, 1, decPiece{8, 8})[0]
			binary.BigEndian.PutUint16(f[6:], 0x2000|1)
			return [][]byte{f}
		}, false},
		{"fragment cut by snap length", func() [][]byte {
			f := decFragment(t, pkt, false, 1, decPiece{0, 1480})[0]
			return [][]byte{f[:100]}
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(DecoderConfig{})
			for _, f := range tc.frames() {
				b := decEthFrame(f)
				n := len(b)
				if tc.snap {
					n += 1400
				}
				var p Packet
				if d.Decode(&Frame{Data: b, Length: n, LinkType: LinkTypeEthernet, Timestamp: decTS}, &p) {
					t.Fatalf("Decode = true")
				}
			}
			s := d.Stats()
			decInvariants(t, s)
			if s.FragmentsInvalid != 1 || s.Reassembled != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestDecodeFragmentedTunnels(t *testing.T) {
	pl := decBigPayload(1200, 9)
	t.Run("outer ipv4 of VXLAN fragmented", func(t *testing.T) {
		o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
		l := decCat(decLayers{o, decUDP(o, 51000, 4789), &layers.VXLAN{ValidIDFlag: true, VNI: 1}, decEth(layers.EthernetTypeIPv4)}, decInner(false))
		l[len(l)-1] = gopacket.Payload(pl)
		pkt := decSerialize(t, l...)
		n := len(pkt) - 20
		frags := decFragment(t, pkt, false, 77, decPiece{0, 800}, decPiece{800, n})
		d := NewDecoder(DecoderConfig{})
		got := decFeed(d, [][]byte{decEthFrame(frags[1]), decEthFrame(frags[0])}, nil)
		if len(got) != 1 || !bytes.Equal(got[0].Payload, pl) || got[0].Flow != decFlow(false) {
			t.Fatalf("got %d packets; stats %+v", len(got), d.Stats())
		}
		if s := d.Stats(); s.Tunnels[TunnelVXLAN] != 1 || s.Reassembled != 1 {
			t.Errorf("stats %+v", s)
		}
	})
	t.Run("outer ipv6 and inner ipv4 both fragmented", func(t *testing.T) {
		// Inner IPv4 datagram in two fragments, each carried in a GRE
		// packet over IPv6 whose outer packet is itself fragmented.
		innerPkt := decTCPPacket(t, false, pl)
		inFrags := decFragment(t, innerPkt, false, 5, decPiece{0, 600}, decPiece{600, len(innerPkt) - 20})
		var frames [][]byte
		for i, in := range inFrags {
			o := decIP6(decOutA6, decOutB6, layers.IPProtocolGRE)
			outer := decSerialize(t, o, &layers.GRE{Protocol: layers.EthernetTypeIPv4}, gopacket.Payload(in))
			n := len(outer) - 40
			for _, f := range decFragment(t, outer, true, uint32(100+i), decPiece{0, 304}, decPiece{304, n}) {
				frames = append(frames, decEthFrame(f))
			}
		}
		d := NewDecoder(DecoderConfig{})
		got := decFeed(d, frames, nil)
		if len(got) != 1 || !bytes.Equal(got[0].Payload, pl) {
			t.Fatalf("got %d packets; stats %+v", len(got), d.Stats())
		}
		if s := d.Stats(); s.Reassembled != 3 || s.Fragments != 6 || s.Tunnels[TunnelGRE] != 2 {
			t.Errorf("stats %+v", s)
		}
	})
	t.Run("ipv6 extension headers around the fragment header", func(t *testing.T) {
		pkt := decTCPPacket(t, true, pl)
		// Rebuild as: IPv6, hop-by-hop, fragment, destination options, TCP.
		hbh := []byte{44, 0, 1, 4, 0, 0, 0, 0}
		dst := []byte{6, 0, 1, 4, 0, 0, 0, 0}
		fragmentable := append(bytes.Clone(dst), pkt[40:]...)
		var frames [][]byte
		for i, pc := range []decPiece{{0, 512}, {512, len(fragmentable)}} {
			h := bytes.Clone(pkt[:40])
			h[6] = 0
			fh := []byte{60, 0, 0, 0, 0, 0, 0, 42}
			off := uint16(pc.lo/8) << 3
			if i == 0 {
				off |= 1
			}
			binary.BigEndian.PutUint16(fh[2:], off)
			f := append(append(append(h, hbh...), fh...), fragmentable[pc.lo:pc.hi]...)
			binary.BigEndian.PutUint16(f[4:], uint16(len(f)-40))
			frames = append(frames, decEthFrame(f))
		}
		d := NewDecoder(DecoderConfig{})
		got := decFeed(d, frames, nil)
		if len(got) != 1 || !bytes.Equal(got[0].Payload, pl) || got[0].Flow != decFlow(true) {
			t.Fatalf("got %d packets; stats %+v", len(got), d.Stats())
		}
	})
}

func TestDecodeFragmentsInterleaved(t *testing.T) {
	// Many datagrams from several flows, fragments interleaved; every
	// datagram must come out intact and nothing may stay held.
	const n = 40
	d := NewDecoder(DecoderConfig{})
	var frames [][]byte
	want := map[uint32][]byte{}
	var all [][][]byte
	for i := range n {
		pl := decBigPayload(500+i*97, byte(i))
		pkt := decTCPPacket(t, i%2 == 1, pl)
		hl := 20
		if i%2 == 1 {
			hl = 40
		}
		size := len(pkt) - hl
		var cuts []decPiece
		for lo := 0; lo < size; lo += 512 {
			cuts = append(cuts, decPiece{lo, min(lo+512, size)})
		}
		fs := decFragment(t, pkt, i%2 == 1, uint32(i), cuts...)
		if i%3 == 0 {
			for a, b := 0, len(fs)-1; a < b; a, b = a+1, b-1 {
				fs[a], fs[b] = fs[b], fs[a]
			}
		}
		all = append(all, fs)
		want[uint32(len(pl))] = pl
	}
	for round := 0; ; round++ {
		added := false
		for _, fs := range all {
			if round < len(fs) {
				frames = append(frames, decEthFrame(fs[round]))
				added = true
			}
		}
		if !added {
			break
		}
	}
	got := decFeed(d, frames, nil)
	if len(got) != n {
		t.Fatalf("decoded %d packets, want %d; stats %+v", len(got), n, d.Stats())
	}
	for _, p := range got {
		if w := want[uint32(len(p.Payload))]; !bytes.Equal(p.Payload, w) {
			t.Errorf("payload of %d bytes corrupted", len(p.Payload))
		}
	}
	s := d.Stats()
	decInvariants(t, s)
	if s.FragmentBytes != 0 || s.FragmentDatagrams != 0 || s.FragmentsDropped != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestDecodeFragmentsZeroAllocs(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		name := "ipv4"
		if v6 {
			name = "ipv6"
		}
		t.Run(name, func(t *testing.T) {
			pkt := decTCPPacket(t, v6, decBigPayload(5000, 1))
			hl := 20
			if v6 {
				hl = 40
			}
			size := len(pkt) - hl
			var frames [][]byte
			for _, f := range decFragment(t, pkt, v6, 9, decPiece{0, 1480}, decPiece{1480, 2960}, decPiece{2960, 4440}, decPiece{4440, size}) {
				frames = append(frames, decEthFrame(f))
			}
			d := NewDecoder(DecoderConfig{})
			var p Packet
			run := func() {
				ok := false
				for i := len(frames) - 1; i >= 0; i-- { // reversed: the buffer grows
					f := Frame{Data: frames[i], Length: len(frames[i]), LinkType: LinkTypeEthernet, Timestamp: decTS}
					ok = d.Decode(&f, &p)
				}
				if !ok || len(p.Payload) != 5000 {
					t.Fatal("not reassembled")
				}
			}
			run() // warm up: map, slots and buffers
			if allocs := testing.AllocsPerRun(200, run); allocs != 0 {
				t.Errorf("%v allocations per datagram", allocs)
			}
		})
	}
}
