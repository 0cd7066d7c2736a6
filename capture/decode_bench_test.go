package capture

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func benchDecode(b *testing.B, link LinkType, frames ...[]byte) {
	d := NewDecoder(DecoderConfig{})
	fs := make([]Frame, len(frames))
	size := 0
	for i, data := range frames {
		fs[i] = Frame{Data: data, Length: len(data), LinkType: link, Timestamp: decTS}
		size += len(data)
	}
	var p Packet
	b.SetBytes(int64(size / len(frames)))
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; b.Loop(); i++ {
		if d.Decode(&fs[i%len(fs)], &p) {
			n++
		}
	}
	b.StopTimer()
	if n == 0 {
		b.Fatal("nothing decoded")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

func BenchmarkDecode(b *testing.B) {
	byName := map[string]decCase{}
	for _, tc := range decCases() {
		byName[tc.name] = tc
	}
	for _, c := range []struct{ bench, name string }{
		{"EthernetIPv4TCP", "ethernet/ipv4"},
		{"EthernetIPv6TCP", "ethernet/ipv6"},
		{"VLAN", "802.1Q"},
		{"QinQ", "QinQ 0x88a8"},
		{"MPLS", "MPLS two labels ipv4"},
		{"GRE", "GRE ipv4"},
		{"ERSPANII", "ERSPAN type II"},
		{"VXLAN", "VXLAN"},
		{"GENEVE", "GENEVE ethernet with options"},
		{"VXLANinGENEVE", "VXLAN in GENEVE"},
		{"GTPU", "GTP-U"},
		{"LinuxSLL2", "Linux SLL2"},
	} {
		b.Run(c.bench, func(b *testing.B) {
			tc, ok := byName[c.name]
			if !ok {
				b.Fatalf("no case %q", c.name)
			}
			benchDecode(b, tc.link, tc.frame(b))
		})
	}
	b.Run("IPv4Fragments4", func(b *testing.B) {
		pkt := decTCPPacket(b, false, decBigPayload(5000, 1))
		var frames [][]byte
		for _, f := range decFragment(b, pkt, false, 9, decPiece{0, 1480}, decPiece{1480, 2960}, decPiece{2960, 4440}, decPiece{4440, len(pkt) - 20}) {
			frames = append(frames, decEthFrame(f))
		}
		benchDecode(b, LinkTypeEthernet, frames...)
	})
}

// BenchmarkGopacketBaseline decodes the plain Ethernet/IPv4/TCP frame with
// gopacket's DecodingLayerParser and preallocated layers, for comparison
// with the hand-written decoder.
func BenchmarkGopacketBaseline(b *testing.B) {
	data := decSerialize(b, decInnerEth(false)...)
	var (
		eth     layers.Ethernet
		ip4     layers.IPv4
		ip6     layers.IPv6
		tcp     layers.TCP
		payload gopacket.Payload
	)
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp, &payload)
	parser.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 8)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := parser.DecodeLayers(data, &decoded); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}
