package capture

import (
	"bytes"
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/prometheus/client_golang/prometheus"
)

// ---- Frame builders (gopacket serialization) ----

var (
	decMacA  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	decMacB  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
	decCli4  = net.IP{10, 1, 0, 1}
	decSrv4  = net.IP{10, 1, 0, 2}
	decCli6  = net.ParseIP("2001:db8::1")
	decSrv6  = net.ParseIP("2001:db8::2")
	decOutA4 = net.IP{192, 0, 2, 1}
	decOutB4 = net.IP{192, 0, 2, 2}
	decOutA6 = net.ParseIP("2001:db8:ffff::1")
	decOutB6 = net.ParseIP("2001:db8:ffff::2")
	decTS    = time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)
)

const (
	decSport  = 40000
	decDport  = 8080
	decSeq    = 0x01020304
	decAck    = 0x0a0b0c0d
	decWindow = 4321
)

var decPayload = []byte("GET /api/v1/items HTTP/1.1\r\nHost: example\r\n\r\n")

type decLayers = []gopacket.SerializableLayer

// serialize builds a frame with lengths and checksums fixed.
func decSerialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		t.Fatalf("serialize: %v", err)
	}
	return bytes.Clone(buf.Bytes())
}

func decCat(parts ...decLayers) decLayers {
	var out decLayers
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func decIP4(src, dst net.IP, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TTL: 64, Id: 0x1234, Protocol: proto, SrcIP: src, DstIP: dst}
}

func decIP6(src, dst net.IP, nh layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: nh, SrcIP: src, DstIP: dst}
}

func decUDP(nl gopacket.NetworkLayer, sport, dport uint16) *layers.UDP {
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	_ = u.SetNetworkLayerForChecksum(nl)
	return u
}

func decEth(et layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: decMacA, DstMAC: decMacB, EthernetType: et}
}

// inner returns the innermost IP/TCP/payload layers of the test segment.
func decInner(v6 bool) decLayers {
	tcp := &layers.TCP{SrcPort: decSport, DstPort: decDport, Seq: decSeq, Ack: decAck,
		PSH: true, ACK: true, Window: decWindow}
	var nl gopacket.NetworkLayer
	var ipl gopacket.SerializableLayer
	if v6 {
		l := decIP6(decCli6, decSrv6, layers.IPProtocolTCP)
		nl, ipl = l, l
	} else {
		l := decIP4(decCli4, decSrv4, layers.IPProtocolTCP)
		nl, ipl = l, l
	}
	_ = tcp.SetNetworkLayerForChecksum(nl)
	return decLayers{ipl, tcp, gopacket.Payload(decPayload)}
}

// innerEth is inner behind an Ethernet header.
func decInnerEth(v6 bool) decLayers {
	et := layers.EthernetTypeIPv4
	if v6 {
		et = layers.EthernetTypeIPv6
	}
	return decCat(decLayers{decEth(et)}, decInner(v6))
}

func decFlow(v6 bool) FlowKey {
	var k FlowKey
	if v6 {
		k.SrcIP = [16]byte(decCli6.To16())
		k.DstIP = [16]byte(decSrv6.To16())
	} else {
		k.SrcIP = [16]byte(decCli4.To16())
		k.DstIP = [16]byte(decSrv4.To16())
	}
	k.SrcPort, k.DstPort = decSport, decDport
	return k
}

func decRaw(b ...byte) gopacket.Payload { return gopacket.Payload(b) }

// ---- Helpers for checking outcomes ----

// outcome returns the name of the single outcome counter that is 1.
func decOutcome(s DecoderStats) string {
	names := []string{}
	for i, v := range []uint64{s.TCP, s.NonIP, s.UDP, s.ICMP, s.OtherIP, s.Malformed, s.UnknownLinkType, s.FragmentsPending} {
		for range v {
			names = append(names, resultNames[i])
		}
	}
	return strings.Join(names, "+")
}

func decInvariants(t testing.TB, s DecoderStats) {
	t.Helper()
	if s.Frames != s.TCP+s.NonTCP+s.Malformed+s.UnknownLinkType+s.FragmentsPending {
		t.Errorf("Frames %d != sum of outcomes in %+v", s.Frames, s)
	}
	if s.NonTCP != s.NonIP+s.UDP+s.ICMP+s.OtherIP {
		t.Errorf("NonTCP %d != sum of kinds in %+v", s.NonTCP, s)
	}
}

func decTunnels(kv ...any) [NumTunnelKinds]uint64 {
	var out [NumTunnelKinds]uint64
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(TunnelKind)] = uint64(kv[i+1].(int))
	}
	return out
}

// ---- Encapsulations that carry the test segment ----

type decCase struct {
	name    string
	link    LinkType
	frame   func(t testing.TB) []byte
	v6      bool // the inner segment is IPv6
	tunnels [NumTunnelKinds]uint64
}

func decCases() []decCase {
	T := decTunnels
	gre := func(proto layers.EthernetType) *layers.GRE { return &layers.GRE{Protocol: proto} }
	return []decCase{
		{name: "ethernet/ipv4", link: LinkTypeEthernet, frame: func(t testing.TB) []byte {
			return decSerialize(t, decInnerEth(false)...)
		}},
		{name: "ethernet/ipv6", link: LinkTypeEthernet, v6: true, frame: func(t testing.TB) []byte {
			return decSerialize(t, decInnerEth(true)...)
		}},
		{name: "ethernet/ipv4 with options", link: LinkTypeEthernet, frame: func(t testing.TB) []byte {
			l := decInnerEth(false)
			l[1].(*layers.IPv4).Options = []layers.IPv4Option{{OptionType: 7, OptionLength: 7, OptionData: []byte{4, 0, 0, 0, 0}}}
			return decSerialize(t, l...)
		}},
		{name: "ethernet padding and trailer", link: LinkTypeEthernet, frame: func(t testing.TB) []byte {
			b := decSerialize(t, decInnerEth(false)...)
			return append(b, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef) // e.g. an F5 or FCS trailer
		}},
		{name: "802.1Q", link: LinkTypeEthernet, tunnels: T(TunnelVLAN, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeIPv4}}, decInner(false))...)
		}},
		{name: "QinQ 0x88a8", link: LinkTypeEthernet, tunnels: T(TunnelVLAN, 2), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeQinQ),
				&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeDot1Q},
				&layers.Dot1Q{VLANIdentifier: 20, Type: layers.EthernetTypeIPv6}}, decInner(true))...)
		}, v6: true},
		{name: "QinQ 0x9100 three tags", link: LinkTypeEthernet, tunnels: T(TunnelVLAN, 3), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(0x9100),
				&layers.Dot1Q{VLANIdentifier: 1, Type: 0x9100},
				&layers.Dot1Q{VLANIdentifier: 2, Type: layers.EthernetTypeDot1Q},
				&layers.Dot1Q{VLANIdentifier: 3, Type: layers.EthernetTypeIPv4}}, decInner(false))...)
		}},
		{name: "PBB I-tag", link: LinkTypeEthernet, tunnels: T(TunnelVLAN, 1), frame: func(t testing.TB) []byte {
			itag := append([]byte{0, 0, 0, 7}, append(append(bytes.Clone(decMacB), decMacA...), 0x08, 0x00)...)
			return decSerialize(t, decCat(decLayers{decEth(0x88e7), gopacket.Payload(itag)}, decInner(false))...)
		}},
		{name: "MPLS two labels ipv4", link: LinkTypeEthernet, tunnels: T(TunnelMPLS, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeMPLSUnicast),
				&layers.MPLS{Label: 100, TTL: 64}, &layers.MPLS{Label: 200, StackBottom: true, TTL: 64}}, decInner(false))...)
		}},
		{name: "MPLS multicast ipv6", link: LinkTypeEthernet, v6: true, tunnels: T(TunnelMPLS, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeMPLSMulticast),
				&layers.MPLS{Label: 300, StackBottom: true, TTL: 64}}, decInner(true))...)
		}},
		{name: "MPLS explicit null", link: LinkTypeEthernet, tunnels: T(TunnelMPLS, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeMPLSUnicast),
				&layers.MPLS{Label: 0, StackBottom: true, TTL: 64}}, decInner(false))...)
		}},
		{name: "MPLS ethernet pseudowire with control word", link: LinkTypeEthernet, tunnels: T(TunnelMPLS, 1, TunnelEtherIP, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeMPLSUnicast),
				&layers.MPLS{Label: 16, StackBottom: true, TTL: 64}, decRaw(0, 0, 0, 0)}, decInnerEth(false))...)
		}},
		{name: "MPLS ethernet pseudowire without control word", link: LinkTypeEthernet, tunnels: T(TunnelMPLS, 1, TunnelEtherIP, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeMPLSUnicast),
				&layers.MPLS{Label: 16, StackBottom: true, TTL: 64}}, decInnerEth(false))...)
		}},
		{name: "VLAN then MPLS", link: LinkTypeEthernet, tunnels: T(TunnelVLAN, 1, TunnelMPLS, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 5, Type: layers.EthernetTypeMPLSUnicast},
				&layers.MPLS{Label: 77, StackBottom: true, TTL: 64}}, decInner(false))...)
		}},
		{name: "PPPoE session ipv4", link: LinkTypeEthernet, tunnels: T(TunnelPPPoE, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypePPPoESession),
				&layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession, SessionId: 9}, &layers.PPP{PPPType: layers.PPPTypeIPv4}}, decInner(false))...)
		}},
		{name: "PPPoE session ipv6", link: LinkTypeEthernet, v6: true, tunnels: T(TunnelPPPoE, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypePPPoESession),
				&layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession, SessionId: 9}, &layers.PPP{PPPType: layers.PPPTypeIPv6}}, decInner(true))...)
		}},
		{name: "802.3 LLC/SNAP", link: LinkTypeEthernet, frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeLLC),
				&layers.LLC{DSAP: 0xaa, SSAP: 0xaa, Control: 3}, &layers.SNAP{OrganizationalCode: []byte{0, 0, 0}, Type: layers.EthernetTypeIPv4}}, decInner(false))...)
		}},
		{name: "GRE ipv4", link: LinkTypeEthernet, tunnels: T(TunnelGRE, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolGRE), gre(layers.EthernetTypeIPv4)}, decInner(false))...)
		}},
		{name: "GRE checksum key sequence ipv6", link: LinkTypeEthernet, v6: true, tunnels: T(TunnelGRE, 1), frame: func(t testing.TB) []byte {
			g := &layers.GRE{Protocol: layers.EthernetTypeIPv6, ChecksumPresent: true, KeyPresent: true, Key: 7, SeqPresent: true, Seq: 99}
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolGRE), g}, decInner(true))...)
		}},
		{name: "GRE over ipv6", link: LinkTypeEthernet, tunnels: T(TunnelGRE, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv6), decIP6(decOutA6, decOutB6, layers.IPProtocolGRE), gre(layers.EthernetTypeIPv4)}, decInner(false))...)
		}},
		{name: "GRE transparent ethernet bridging", link: LinkTypeEthernet, tunnels: T(TunnelGRE, 1, TunnelVLAN, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolGRE),
				&layers.GRE{Protocol: layers.EthernetTypeTransparentEthernetBridging, KeyPresent: true, Key: 1},
				decEth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 3, Type: layers.EthernetTypeIPv4}}, decInner(false))...)
		}},
		{name: "GRE routing (RFC 1701)", link: LinkTypeEthernet, tunnels: T(TunnelGRE, 1), frame: func(t testing.TB) []byte {
			// R flag: checksum/offset present, then one SRE (AF 0x0800, length 4) and the null SRE.
			hdr := decRaw(0x40, 0, 0x08, 0, 0, 0, 0, 0, 0x08, 0x00, 0, 4, 1, 2, 3, 4, 0, 0, 0, 0)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolGRE), hdr}, decInner(false))...)
		}},
		{name: "GRE MPLS", link: LinkTypeEthernet, tunnels: T(TunnelGRE, 1, TunnelMPLS, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolGRE), gre(layers.EthernetTypeMPLSUnicast),
				&layers.MPLS{Label: 20, StackBottom: true, TTL: 9}}, decInner(false))...)
		}},
		{name: "PPTP enhanced GRE", link: LinkTypeEthernet, tunnels: T(TunnelGRE, 1), frame: func(t testing.TB) []byte {
			// Version 1, K, S and A set: key (payload length, call id), sequence, ack; PPP with ff03.
			hdr := decRaw(0x30, 0x81, 0x88, 0x0b, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 4, 0xff, 0x03, 0x00, 0x21)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolGRE), hdr}, decInner(false))...)
		}},
		{name: "ERSPAN type I", link: LinkTypeEthernet, tunnels: T(TunnelGRE, 1, TunnelERSPAN, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolGRE), gre(layers.EthernetTypeERSPAN)}, decInnerEth(false))...)
		}},
		{name: "ERSPAN type II", link: LinkTypeEthernet, tunnels: T(TunnelGRE, 1, TunnelERSPAN, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolGRE),
				&layers.GRE{Protocol: layers.EthernetTypeERSPAN, SeqPresent: true, Seq: 5},
				&layers.ERSPANII{Version: 1, VLANIdentifier: 10, SessionID: 100, Index: 3}}, decInnerEth(false))...)
		}},
		{name: "ERSPAN type III", link: LinkTypeEthernet, v6: true, tunnels: T(TunnelGRE, 1, TunnelERSPAN, 1), frame: func(t testing.TB) []byte {
			e3 := decRaw(0x20, 0x0a, 0x00, 0x64, 1, 2, 3, 4, 0, 0, 0x00, 0x00)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolGRE),
				&layers.GRE{Protocol: 0x22eb, SeqPresent: true, Seq: 5}, e3}, decInnerEth(true))...)
		}},
		{name: "ERSPAN type III platform subheader", link: LinkTypeEthernet, tunnels: T(TunnelGRE, 1, TunnelERSPAN, 1), frame: func(t testing.TB) []byte {
			e3 := decRaw(0x20, 0x0a, 0x00, 0x64, 1, 2, 3, 4, 0, 0, 0x00, 0x01, 0x08, 0, 0, 0, 0, 0, 0, 0)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolGRE),
				&layers.GRE{Protocol: 0x22eb, SeqPresent: true, Seq: 5}, e3}, decInnerEth(false))...)
		}},
		{name: "Aruba GRE 802.11 QoS data", link: LinkTypeEthernet, tunnels: T(TunnelGRE, 1), frame: func(t testing.TB) []byte {
			wlan := decRaw(0x88, 0x01, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 0x80, 0x7d, 0, 0,
				0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolGRE), gre(0x8200), wlan}, decInner(false))...)
		}},
		{name: "VXLAN", link: LinkTypeEthernet, tunnels: T(TunnelVXLAN, 1), frame: func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), o, decUDP(o, 51000, 4789), &layers.VXLAN{ValidIDFlag: true, VNI: 42}}, decInnerEth(false))...)
		}},
		{name: "VXLAN over ipv6 with inner VLAN", link: LinkTypeEthernet, v6: true, tunnels: T(TunnelVXLAN, 1, TunnelVLAN, 1), frame: func(t testing.TB) []byte {
			o := decIP6(decOutA6, decOutB6, layers.IPProtocolUDP)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv6), o, decUDP(o, 51000, 4789), &layers.VXLAN{ValidIDFlag: true, VNI: 42},
				decEth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 8, Type: layers.EthernetTypeIPv6}}, decInner(true))...)
		}},
		{name: "VXLAN-GPE ipv4", link: LinkTypeEthernet, tunnels: T(TunnelVXLAN, 1), frame: func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), o, decUDP(o, 51000, 4790), decRaw(0x0c, 0, 0, 1, 0, 0, 42, 0)}, decInner(false))...)
		}},
		{name: "GENEVE ethernet with options", link: LinkTypeEthernet, tunnels: T(TunnelGENEVE, 1), frame: func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			g := &layers.Geneve{Protocol: layers.EthernetTypeTransparentEthernetBridging, VNI: 7, Options: []*layers.GeneveOption{
				{Class: 0x0108, Type: 1, Data: []byte{1, 2, 3, 4}}, {Class: 0x0108, Type: 2, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}}}}
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), o, decUDP(o, 51000, 6081), g}, decInnerEth(false))...)
		}},
		{name: "GENEVE ipv6 payload", link: LinkTypeEthernet, v6: true, tunnels: T(TunnelGENEVE, 1), frame: func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), o, decUDP(o, 51000, 6081), &layers.Geneve{Protocol: layers.EthernetTypeIPv6, VNI: 7}}, decInner(true))...)
		}},
		{name: "VXLAN in GENEVE", link: LinkTypeEthernet, tunnels: T(TunnelGENEVE, 1, TunnelVXLAN, 1), frame: func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			m := decIP4(net.IP{172, 16, 0, 1}, net.IP{172, 16, 0, 2}, layers.IPProtocolUDP)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), o, decUDP(o, 51000, 6081),
				&layers.Geneve{Protocol: layers.EthernetTypeTransparentEthernetBridging, VNI: 7},
				decEth(layers.EthernetTypeIPv4), m, decUDP(m, 52000, 4789), &layers.VXLAN{ValidIDFlag: true, VNI: 9}}, decInnerEth(false))...)
		}},
		{name: "GRE over UDP", link: LinkTypeEthernet, tunnels: T(TunnelGRE, 1), frame: func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), o, decUDP(o, 51000, 4754), gre(layers.EthernetTypeIPv4)}, decInner(false))...)
		}},
		{name: "Teredo", link: LinkTypeEthernet, v6: true, tunnels: T(TunnelTeredo, 1), frame: func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), o, decUDP(o, 3544, 50000)}, decInner(true))...)
		}},
		{name: "Teredo on relay ports", link: LinkTypeEthernet, v6: true, tunnels: T(TunnelTeredo, 1), frame: func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), o, decUDP(o, 32900, 3797)}, decInner(true))...)
		}},
		{name: "Teredo origin indication", link: LinkTypeEthernet, v6: true, tunnels: T(TunnelTeredo, 1), frame: func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), o, decUDP(o, 3544, 50000), decRaw(0, 0, 0x12, 0x34, 1, 2, 3, 4)}, decInner(true))...)
		}},
		{name: "Teredo authentication and origin", link: LinkTypeEthernet, v6: true, tunnels: T(TunnelTeredo, 1), frame: func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			auth := decRaw(0, 1, 2, 3, 'i', 'd', 'a', 'u', 't', 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0x12, 0x34, 1, 2, 3, 4)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), o, decUDP(o, 50000, 3544), auth}, decInner(true))...)
		}},
		{name: "AYIYA ipv6", link: LinkTypeEthernet, v6: true, tunnels: T(TunnelAYIYA, 1), frame: func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			// IDLen 4 (16 bytes), SigLen 5 (20 bytes), forward, next header 41.
			h := append([]byte{0x41, 0x52, 0x11, 41, 0, 0, 0, 1}, make([]byte, 36)...)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), o, decUDP(o, 5072, 5072), gopacket.Payload(h)}, decInner(true))...)
		}},
		{name: "AYIYA ipv4", link: LinkTypeEthernet, tunnels: T(TunnelAYIYA, 1), frame: func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			h := append([]byte{0x01, 0x00, 0x01, 4, 0, 0, 0, 1}, 0x55) // 1-byte identity
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), o, decUDP(o, 40000, 5072), gopacket.Payload(h)}, decInner(false))...)
		}},
		{name: "GTP-U", link: LinkTypeEthernet, tunnels: T(TunnelGTPU, 1), frame: func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), o, decUDP(o, 2152, 2152),
				&layers.GTPv1U{Version: 1, ProtocolType: 1, MessageType: 255, TEID: 77}}, decInner(false))...)
		}},
		{name: "GTP-U sequence and extension header", link: LinkTypeEthernet, v6: true, tunnels: T(TunnelGTPU, 1), frame: func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			g := &layers.GTPv1U{Version: 1, ProtocolType: 1, MessageType: 255, TEID: 77, SequenceNumberFlag: true, SequenceNumber: 3,
				GTPExtensionHeaders: []layers.GTPExtensionHeader{{Type: 0x85, Content: []byte{0x10, 0x05}}}}
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), o, decUDP(o, 5906, 2152), g}, decInner(true))...)
		}},
		{name: "IPv4 in IPv4", link: LinkTypeEthernet, tunnels: T(TunnelIPinIP, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolIPv4)}, decInner(false))...)
		}},
		{name: "IPv6 in IPv4 (6in4)", link: LinkTypeEthernet, v6: true, tunnels: T(TunnelIPinIP, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolIPv6)}, decInner(true))...)
		}},
		{name: "IPv4 in IPv6", link: LinkTypeEthernet, tunnels: T(TunnelIPinIP, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv6), decIP6(decOutA6, decOutB6, layers.IPProtocolIPv4)}, decInner(false))...)
		}},
		{name: "EtherIP", link: LinkTypeEthernet, tunnels: T(TunnelEtherIP, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolEtherIP), decRaw(0x30, 0)}, decInnerEth(false))...)
		}},
		{name: "MPLS in IP", link: LinkTypeEthernet, tunnels: T(TunnelMPLS, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, 137), &layers.MPLS{Label: 5, StackBottom: true, TTL: 1}}, decInner(false))...)
		}},
		{name: "IPv4 authentication header", link: LinkTypeEthernet, frame: func(t testing.TB) []byte {
			l := decInner(false)
			l[0].(*layers.IPv4).Protocol = layers.IPProtocolAH
			ah := decRaw(6, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), l[0], ah}, l[1:])...)
		}},
		{name: "IPv6 extension headers", link: LinkTypeEthernet, v6: true, frame: func(t testing.TB) []byte {
			l := decInner(true)
			l[0].(*layers.IPv6).NextHeader = layers.IPProtocolIPv6HopByHop
			ext := decRaw(
				43, 0, 1, 4, 0, 0, 0, 0, // hop-by-hop: PadN
				60, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // routing type 0... (24 bytes)
				44, 0, 1, 4, 0, 0, 0, 0, // destination options
				51, 0, 0, 0, 0, 0, 0, 9, // atomic fragment
				6, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, // AH, 12 bytes
			)
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv6), l[0], ext}, l[1:])...)
		}},
		{name: "IPv4 total length 0 (segmentation offload)", link: LinkTypeEthernet, frame: func(t testing.TB) []byte {
			b := decSerialize(t, decInnerEth(false)...)
			b[16], b[17] = 0, 0
			return b
		}},
		// Link types.
		{name: "raw 101 ipv4", link: LinkTypeRaw, frame: func(t testing.TB) []byte { return decSerialize(t, decInner(false)...) }},
		{name: "raw 101 ipv6", link: LinkTypeRaw, v6: true, frame: func(t testing.TB) []byte { return decSerialize(t, decInner(true)...) }},
		{name: "raw DLT 12", link: 12, frame: func(t testing.TB) []byte { return decSerialize(t, decInner(false)...) }},
		{name: "raw DLT 14", link: 14, v6: true, frame: func(t testing.TB) []byte { return decSerialize(t, decInner(true)...) }},
		{name: "raw ipv4 228", link: LinkTypeIPv4, frame: func(t testing.TB) []byte { return decSerialize(t, decInner(false)...) }},
		{name: "raw ipv6 229", link: LinkTypeIPv6, v6: true, frame: func(t testing.TB) []byte { return decSerialize(t, decInner(true)...) }},
		{name: "null little-endian AF_INET", link: LinkTypeNull, frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decRaw(2, 0, 0, 0)}, decInner(false))...)
		}},
		{name: "null big-endian AF_INET6 (Darwin)", link: LinkTypeNull, v6: true, frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decRaw(0, 0, 0, 30)}, decInner(true))...)
		}},
		{name: "null AF_INET6 FreeBSD", link: LinkTypeNull, v6: true, frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decRaw(28, 0, 0, 0)}, decInner(true))...)
		}},
		{name: "loop AF_INET6 OpenBSD", link: LinkTypeLoop, v6: true, frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decRaw(0, 0, 0, 24)}, decInner(true))...)
		}},
		{name: "OpenBSD DLT_LOOP as 12", link: 12, frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decRaw(0, 0, 0, 2)}, decInner(false))...)
		}},
		{name: "Linux SLL", link: LinkTypeLinuxSLL, frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decRaw(0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0x0a, 0, 0, 0x08, 0x00)}, decInner(false))...)
		}},
		{name: "Linux SLL VLAN", link: LinkTypeLinuxSLL, tunnels: T(TunnelVLAN, 1), frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decRaw(0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0x0a, 0, 0, 0x81, 0x00, 0, 5, 0x86, 0xdd)}, decInner(true))...)
		}, v6: true},
		{name: "Linux SLL IPGRE", link: LinkTypeLinuxSLL, frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decRaw(0, 0, 0x03, 0x0a, 0, 4, 192, 0, 2, 1, 0, 0, 0, 0, 0x08, 0x00)}, decInner(false))...)
		}},
		{name: "Linux SLL2", link: LinkTypeLinuxSLL2, v6: true, frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decRaw(0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 0, 0, 0, 0x0a, 0, 0)}, decInner(true))...)
		}},
		{name: "NFLOG", link: LinkTypeNFLOG, frame: func(t testing.TB) []byte {
			in := decSerialize(t, decInner(false)...)
			h := []byte{2, 0, 0, 0x2a, 8, 0, 1, 0, 0, 0, 3, 0, 5, 0, 0x0a, 0, 0, 0, 0, 0} // header, PACKET_HDR, 5-byte attr padded
			pl := binary.LittleEndian.AppendUint16(nil, uint16(4+len(in)))
			pl = append(pl, 9, 0)
			return append(append(h, pl...), in...)
		}},
		{name: "NFLOG big-endian", link: LinkTypeNFLOG, v6: true, frame: func(t testing.TB) []byte {
			in := decSerialize(t, decInner(true)...)
			h := []byte{10, 0, 0, 1, 0, 8, 0, 1, 0, 0, 3, 0}
			pl := binary.BigEndian.AppendUint16(nil, uint16(4+len(in)))
			pl = append(pl, 0, 9)
			return append(append(h, pl...), in...)
		}},
		{name: "PPP", link: 9, frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decRaw(0xff, 0x03, 0x00, 0x21)}, decInner(false))...)
		}},
		{name: "PPP protocol compression", link: 50, frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decRaw(0x21)}, decInner(false))...)
		}},
		{name: "Cisco HDLC", link: 104, v6: true, frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decRaw(0x0f, 0, 0x86, 0xdd)}, decInner(true))...)
		}},
		{name: "802.11 four-address data", link: 105, frame: func(t testing.TB) []byte {
			h := append([]byte{0x08, 0x03}, make([]byte, 28)...)
			return decSerialize(t, decCat(decLayers{gopacket.Payload(h), decRaw(0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00)}, decInner(false))...)
		}},
	}
}

func TestDecodeEncapsulations(t *testing.T) {
	for _, tc := range decCases() {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.frame(t)
			d := NewDecoder(DecoderConfig{})
			f := Frame{Data: b, Timestamp: decTS, Length: len(b), LinkType: tc.link}
			var p Packet
			if !d.Decode(&f, &p) {
				t.Fatalf("Decode = false; stats %+v\nframe % x", d.Stats(), b)
			}
			want := Packet{Timestamp: decTS, Flow: decFlow(tc.v6), Seq: decSeq, Ack: decAck,
				Flags: FlagPSH | FlagACK, Window: decWindow, Payload: decPayload}
			decCheckPacket(t, &p, &want)
			s := d.Stats()
			decInvariants(t, s)
			if s.Frames != 1 || s.TCP != 1 || s.Truncated != 0 {
				t.Errorf("stats: %+v", s)
			}
			if s.Tunnels != tc.tunnels {
				t.Errorf("tunnels = %v, want %v", s.Tunnels, tc.tunnels)
			}
		})
	}
}

func decCheckPacket(t testing.TB, got, want *Packet) {
	t.Helper()
	if !got.Timestamp.Equal(want.Timestamp) {
		t.Errorf("Timestamp = %v, want %v", got.Timestamp, want.Timestamp)
	}
	if got.Flow != want.Flow {
		t.Errorf("Flow = %v -> %v, want %v -> %v", got.Flow.Src(), got.Flow.Dst(), want.Flow.Src(), want.Flow.Dst())
	}
	if got.Seq != want.Seq || got.Ack != want.Ack || got.Flags != want.Flags || got.Window != want.Window {
		t.Errorf("seq/ack/flags/window = %#x/%#x/%#x/%d, want %#x/%#x/%#x/%d",
			got.Seq, got.Ack, got.Flags, got.Window, want.Seq, want.Ack, want.Flags, want.Window)
	}
	if !bytes.Equal(got.Payload, want.Payload) {
		t.Errorf("Payload = %q, want %q", got.Payload, want.Payload)
	}
}

func TestDecodeTCPFields(t *testing.T) {
	cases := []struct {
		name  string
		tcp   layers.TCP
		flags TCPFlags
	}{
		{"syn", layers.TCP{SYN: true}, FlagSYN},
		{"syn-ack ece cwr", layers.TCP{SYN: true, ACK: true, ECE: true, CWR: true}, FlagSYN | FlagACK},
		{"fin-ack", layers.TCP{FIN: true, ACK: true}, FlagFIN | FlagACK},
		{"rst", layers.TCP{RST: true}, FlagRST},
		{"urg-psh", layers.TCP{URG: true, PSH: true, ACK: true}, FlagURG | FlagPSH | FlagACK},
		{"options", layers.TCP{SYN: true, Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}},
			{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}}}}, FlagSYN},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ip := decIP4(decSrv4, decCli4, layers.IPProtocolTCP)
			tcp := tc.tcp
			tcp.SrcPort, tcp.DstPort, tcp.Seq, tcp.Ack, tcp.Window = 443, 55000, 0xfffffff0, 7, 65535
			_ = tcp.SetNetworkLayerForChecksum(ip)
			b := decSerialize(t, decEth(layers.EthernetTypeIPv4), ip, &tcp, gopacket.Payload("x"))
			d := NewDecoder(DecoderConfig{})
			var p Packet
			if !d.Decode(&Frame{Data: b, Length: len(b), LinkType: LinkTypeEthernet, Timestamp: decTS}, &p) {
				t.Fatalf("Decode = false: %+v", d.Stats())
			}
			want := Packet{Timestamp: decTS, Seq: 0xfffffff0, Ack: 7, Flags: tc.flags, Window: 65535, Payload: []byte("x")}
			want.Flow = decFlow(false).Reverse()
			want.Flow.SrcPort, want.Flow.DstPort = 443, 55000
			decCheckPacket(t, &p, &want)
		})
	}
}

// ---- Frames without TCP ----

func TestDecodeNonTCP(t *testing.T) {
	udpFrame := func(t testing.TB, dport uint16, payload []byte) []byte {
		o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
		return decSerialize(t, decEth(layers.EthernetTypeIPv4), o, decUDP(o, 53000, dport), gopacket.Payload(payload))
	}
	cases := []struct {
		name    string
		link    LinkType
		frame   func(t testing.TB) []byte
		outcome string
		tunnels [NumTunnelKinds]uint64
	}{
		{"arp", LinkTypeEthernet, func(t testing.TB) []byte {
			return decSerialize(t, decEth(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
				HwAddressSize: 6, ProtAddressSize: 4, Operation: 1, SourceHwAddress: decMacA, SourceProtAddress: decCli4, DstHwAddress: decMacB, DstProtAddress: decSrv4})
		}, "non_ip", decTunnels()},
		{"stp over LLC", LinkTypeEthernet, func(t testing.TB) []byte {
			return decSerialize(t, decEth(layers.EthernetTypeLLC), &layers.LLC{DSAP: 0x42, SSAP: 0x42, Control: 3}, decRaw(0, 0, 0, 0))
		}, "non_ip", decTunnels()},
		{"CDP over SNAP", LinkTypeEthernet, func(t testing.TB) []byte {
			return decSerialize(t, decEth(layers.EthernetTypeLLC), &layers.LLC{DSAP: 0xaa, SSAP: 0xaa, Control: 3}, decRaw(0, 0, 0x0c, 0x20, 0, 1, 2))
		}, "non_ip", decTunnels()},
		{"dns", LinkTypeEthernet, func(t testing.TB) []byte { return udpFrame(t, 53, []byte("query")) }, "udp", decTunnels()},
		{"udp to 4789 without I flag", LinkTypeEthernet, func(t testing.TB) []byte { return udpFrame(t, 4789, make([]byte, 30)) }, "udp", decTunnels()},
		{"udp to 3544 that is not Teredo", LinkTypeEthernet, func(t testing.TB) []byte { return udpFrame(t, 3544, []byte("hello world")) }, "udp", decTunnels()},
		{"udp to 3544 with a payload like IPv6 of the wrong length", LinkTypeEthernet, func(t testing.TB) []byte {
			return udpFrame(t, 3544, append([]byte{0x60, 0, 0, 0, 0, 200, 6, 64}, make([]byte, 60)...))
		}, "udp", decTunnels()},
		{"udp on another port with a payload like IPv6 of the wrong length", LinkTypeEthernet, func(t testing.TB) []byte {
			return udpFrame(t, 40000, append([]byte{0x60, 0, 0, 0, 0, 200, 6, 64}, make([]byte, 60)...))
		}, "udp", decTunnels()},
		{"udp to 4789 with reserved VXLAN flags", LinkTypeEthernet, func(t testing.TB) []byte {
			return udpFrame(t, 4789, append([]byte{0x0c, 0, 0, 0, 0, 0, 1, 0}, make([]byte, 60)...))
		}, "udp", decTunnels()},
		{"GTP echo request", LinkTypeEthernet, func(t testing.TB) []byte {
			return udpFrame(t, 2152, []byte{0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0})
		}, "udp", decTunnels()},
		{"AYIYA heartbeat", LinkTypeEthernet, func(t testing.TB) []byte {
			return udpFrame(t, 5072, []byte{0x01, 0x00, 0x00, 41, 0, 0, 0, 1, 0, 0})
		}, "udp", decTunnels()},
		{"icmp", LinkTypeEthernet, func(t testing.TB) []byte {
			return decSerialize(t, decEth(layers.EthernetTypeIPv4), decIP4(decCli4, decSrv4, layers.IPProtocolICMPv4),
				&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)}, decRaw(1, 2, 3, 4))
		}, "icmp", decTunnels()},
		{"icmpv6", LinkTypeEthernet, func(t testing.TB) []byte {
			return decSerialize(t, decEth(layers.EthernetTypeIPv6), decIP6(decCli6, decSrv6, layers.IPProtocolICMPv6), decRaw(128, 0, 0, 0, 0, 1, 0, 1))
		}, "icmp", decTunnels()},
		{"esp", LinkTypeEthernet, func(t testing.TB) []byte {
			return decSerialize(t, decEth(layers.EthernetTypeIPv4), decIP4(decCli4, decSrv4, layers.IPProtocolESP), decRaw(0, 0, 0, 1, 0, 0, 0, 1, 9, 9))
		}, "other_ip", decTunnels()},
		{"ipv6 no next header", LinkTypeEthernet, func(t testing.TB) []byte {
			return decSerialize(t, decEth(layers.EthernetTypeIPv6), decIP6(decCli6, decSrv6, layers.IPProtocolNoNextHeader))
		}, "other_ip", decTunnels()},
		{"udp inside VXLAN", LinkTypeEthernet, func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			i := decIP4(decCli4, decSrv4, layers.IPProtocolUDP)
			return decSerialize(t, decEth(layers.EthernetTypeIPv4), o, decUDP(o, 51000, 4789), &layers.VXLAN{ValidIDFlag: true, VNI: 1},
				decEth(layers.EthernetTypeIPv4), i, decUDP(i, 1000, 53), decRaw(1, 2, 3))
		}, "udp", decTunnels(TunnelVXLAN, 1)},
		{"PPPoE LCP", LinkTypeEthernet, func(t testing.TB) []byte {
			return decSerialize(t, decEth(layers.EthernetTypePPPoESession), &layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession}, decRaw(0xc0, 0x21, 1, 1, 0, 4))
		}, "non_ip", decTunnels(TunnelPPPoE, 1)},
		{"PPPoE discovery", LinkTypeEthernet, func(t testing.TB) []byte {
			return decSerialize(t, decEth(layers.EthernetTypePPPoEDiscovery), decRaw(0x11, 0x09, 0, 0, 0, 0))
		}, "non_ip", decTunnels()},
		{"protected 802.11 in Aruba GRE", LinkTypeEthernet, func(t testing.TB) []byte {
			return decSerialize(t, decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolGRE), &layers.GRE{Protocol: 0x8210},
				gopacket.Payload(append([]byte{0x88, 0x41}, make([]byte, 40)...)))
		}, "non_ip", decTunnels(TunnelGRE, 1)},
		{"GRE keepalive", LinkTypeEthernet, func(t testing.TB) []byte {
			return decSerialize(t, decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolGRE), &layers.GRE{Protocol: 0})
		}, "non_ip", decTunnels(TunnelGRE, 1)},
		{"netlink in SLL", LinkTypeLinuxSLL, func(t testing.TB) []byte {
			return []byte{0, 4, 0x03, 0x38, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}
		}, "non_ip", decTunnels()},
		{"null AF_APPLETALK", LinkTypeNull, func(t testing.TB) []byte { return []byte{16, 0, 0, 0, 1, 2, 3} }, "non_ip", decTunnels()},
		{"NFLOG without payload", LinkTypeNFLOG, func(t testing.TB) []byte {
			return []byte{2, 0, 0, 1, 8, 0, 1, 0, 0, 0, 3, 0}
		}, "non_ip", decTunnels()},
		{"unknown link type", 147, func(t testing.TB) []byte { return decSerialize(t, decInner(false)...) }, "unknown_link_type", decTunnels()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.frame(t)
			d := NewDecoder(DecoderConfig{})
			var p Packet
			if d.Decode(&Frame{Data: b, Length: len(b), LinkType: tc.link}, &p) {
				t.Fatalf("Decode = true, want false")
			}
			s := d.Stats()
			decInvariants(t, s)
			if got := decOutcome(s); got != tc.outcome {
				t.Errorf("outcome = %s, want %s", got, tc.outcome)
			}
			if s.Tunnels != tc.tunnels {
				t.Errorf("tunnels = %v, want %v", s.Tunnels, tc.tunnels)
			}
			if p.Payload != nil || p.Flow != (FlowKey{}) {
				t.Errorf("p modified: %+v", p)
			}
		})
	}
}

// ---- Malformed and truncated frames ----

func TestDecodeMalformed(t *testing.T) {
	good := func(t testing.TB) []byte { return decSerialize(t, decInnerEth(false)...) }
	mod := func(f func(b []byte) []byte) func(t testing.TB) []byte {
		return func(t testing.TB) []byte { return f(good(t)) }
	}
	nest := func(t testing.TB, n int) []byte {
		l := decLayers{decEth(layers.EthernetTypeIPv4)}
		for range n {
			l = append(l, decIP4(decOutA4, decOutB4, layers.IPProtocolIPv4))
		}
		return decSerialize(t, decCat(l, decInner(false))...)
	}
	cases := []struct {
		name      string
		link      LinkType
		frame     func(t testing.TB) []byte
		snapped   bool // Length > len(Data)
		tooDeep   bool
		truncHdrs bool
	}{
		{name: "empty", link: LinkTypeEthernet, frame: func(testing.TB) []byte { return nil }},
		{name: "short ethernet", link: LinkTypeEthernet, frame: func(testing.TB) []byte { return make([]byte, 13) }},
		{name: "ipv4 header cut by snap length", link: LinkTypeEthernet, snapped: true, truncHdrs: true, frame: mod(func(b []byte) []byte { return b[:14+12] })},
		{name: "tcp header cut by snap length", link: LinkTypeEthernet, snapped: true, truncHdrs: true, frame: mod(func(b []byte) []byte { return b[:14+20+10] })},
		{name: "ipv4 wrong version", link: LinkTypeEthernet, frame: mod(func(b []byte) []byte { b[14] = 0x55; return b })},
		{name: "ipv4 ihl < 5", link: LinkTypeEthernet, frame: mod(func(b []byte) []byte { b[14] = 0x44; return b })},
		{name: "ipv4 ihl beyond frame", link: LinkTypeEthernet, frame: mod(func(b []byte) []byte { b[14] = 0x4f; return b[:14+40] })},
		{name: "ipv4 total length < ihl", link: LinkTypeEthernet, frame: mod(func(b []byte) []byte { b[16], b[17] = 0, 10; return b })},
		{name: "tcp data offset < 5", link: LinkTypeEthernet, frame: mod(func(b []byte) []byte { b[14+20+12] = 0x40; return b })},
		{name: "tcp data offset beyond segment", link: LinkTypeEthernet, frame: mod(func(b []byte) []byte { b[14+20+12] = 0xf0; return b[:14+20+40] })},
		{name: "ipv6 short", link: LinkTypeEthernet, frame: func(t testing.TB) []byte { return decSerialize(t, decInnerEth(true)...)[:14+39] }},
		{name: "ipv6 extension header overruns", link: LinkTypeEthernet, frame: func(t testing.TB) []byte {
			l := decInner(true)
			l[0].(*layers.IPv6).NextHeader = layers.IPProtocolIPv6Destination
			return decSerialize(t, decEth(layers.EthernetTypeIPv6), l[0], decRaw(6, 200, 0, 0, 0, 0, 0, 0))
		}},
		{name: "vlan tag cut", link: LinkTypeEthernet, frame: func(testing.TB) []byte { return append(make([]byte, 12), 0x81, 0, 0, 1) }},
		{name: "too many vlan tags", link: LinkTypeEthernet, tooDeep: true, frame: func(t testing.TB) []byte {
			b := append(make([]byte, 12), 0x81, 0)
			for range maxTags + 2 {
				b = append(b, 0, 1, 0x81, 0)
			}
			return append(b, make([]byte, 40)...)
		}},
		{name: "mpls without bottom of stack", link: LinkTypeEthernet, frame: func(t testing.TB) []byte {
			return append(append(make([]byte, 12), 0x88, 0x47), 0, 1, 0, 64, 0, 2, 0, 64)
		}},
		{name: "pppoe wrong version", link: LinkTypeEthernet, frame: func(t testing.TB) []byte {
			return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypePPPoESession), decRaw(0x21, 0, 0, 1, 0, 0, 0, 0x21)}, decInner(false))...)
		}},
		{name: "gre cut", link: LinkTypeEthernet, frame: func(t testing.TB) []byte {
			return decSerialize(t, decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolGRE), decRaw(0xb0, 0, 8, 0, 0, 0))
		}},
		{name: "gre routing without end", link: LinkTypeEthernet, frame: func(t testing.TB) []byte {
			return decSerialize(t, decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolGRE), decRaw(0x40, 0, 8, 0, 0, 0, 0, 0, 8, 0, 0, 8, 1, 2))
		}},
		{name: "erspan II cut", link: LinkTypeEthernet, frame: func(t testing.TB) []byte {
			return decSerialize(t, decEth(layers.EthernetTypeIPv4), decIP4(decOutA4, decOutB4, layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeERSPAN, SeqPresent: true}, decRaw(0x10, 0, 0))
		}},
		{name: "geneve options overrun", link: LinkTypeEthernet, frame: func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			return decSerialize(t, decEth(layers.EthernetTypeIPv4), o, decUDP(o, 1, 6081), decRaw(0x3f, 0, 0x65, 0x58, 0, 0, 1, 0, 1, 2))
		}},
		{name: "gtp extension header overrun", link: LinkTypeEthernet, frame: func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			return decSerialize(t, decEth(layers.EthernetTypeIPv4), o, decUDP(o, 2152, 2152), decRaw(0x34, 0xff, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0x85, 9, 1, 2, 3))
		}},
		{name: "vxlan inner ethernet cut", link: LinkTypeEthernet, frame: func(t testing.TB) []byte {
			o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
			return decSerialize(t, decEth(layers.EthernetTypeIPv4), o, decUDP(o, 1, 4789), &layers.VXLAN{ValidIDFlag: true}, decRaw(1, 2, 3))
		}},
		{name: "sll short", link: LinkTypeLinuxSLL, frame: func(testing.TB) []byte { return make([]byte, 15) }},
		{name: "sll2 short", link: LinkTypeLinuxSLL2, frame: func(testing.TB) []byte { return make([]byte, 19) }},
		{name: "null short", link: LinkTypeNull, frame: func(testing.TB) []byte { return []byte{2, 0} }},
		{name: "nflog bad tlv length", link: LinkTypeNFLOG, frame: func(testing.TB) []byte { return []byte{2, 0, 0, 0, 2, 0, 9, 0, 1} }},
		{name: "raw garbage", link: LinkTypeRaw, frame: func(testing.TB) []byte { return []byte{0x12, 0x34} }},
		{name: "encapsulation too deep", link: LinkTypeEthernet, tooDeep: true, frame: func(t testing.TB) []byte { return nest(t, DefaultMaxDepth+1) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.frame(t)
			n := len(b)
			if tc.snapped {
				n += 100
			}
			d := NewDecoder(DecoderConfig{})
			var p Packet
			if d.Decode(&Frame{Data: b, Length: n, LinkType: tc.link}, &p) {
				t.Fatalf("Decode = true, want false")
			}
			s := d.Stats()
			decInvariants(t, s)
			if got := decOutcome(s); got != "malformed" {
				t.Errorf("outcome = %s, want malformed", got)
			}
			if (s.TooDeep == 1) != tc.tooDeep || (s.TruncatedHeaders == 1) != tc.truncHdrs {
				t.Errorf("TooDeep = %d, TruncatedHeaders = %d", s.TooDeep, s.TruncatedHeaders)
			}
		})
	}

	t.Run("depth limit is exact", func(t *testing.T) {
		b := nest(t, DefaultMaxDepth)
		d := NewDecoder(DecoderConfig{})
		var p Packet
		if !d.Decode(&Frame{Data: b, Length: len(b), LinkType: LinkTypeEthernet}, &p) {
			t.Fatalf("%d nested tunnels not decoded: %+v", DefaultMaxDepth, d.Stats())
		}
		d = NewDecoder(DecoderConfig{MaxDepth: 2})
		if d.Decode(&Frame{Data: b, Length: len(b), LinkType: LinkTypeEthernet}, &p) || d.Stats().TooDeep != 1 {
			t.Fatalf("MaxDepth 2 not enforced: %+v", d.Stats())
		}
	})
}

func TestDecodeTruncatedPayload(t *testing.T) {
	cases := []struct {
		name string
		v6   bool
		cut  int // bytes removed from the end
	}{
		{"ipv4 payload cut", false, 10},
		{"ipv6 payload cut", true, 10},
		{"ipv4 whole payload cut", false, len(decPayload)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := decSerialize(t, decInnerEth(tc.v6)...)
			n := len(b)
			b = b[:n-tc.cut]
			d := NewDecoder(DecoderConfig{})
			var p Packet
			if !d.Decode(&Frame{Data: b, Length: n, LinkType: LinkTypeEthernet}, &p) {
				t.Fatalf("Decode = false: %+v", d.Stats())
			}
			if want := decPayload[:len(decPayload)-tc.cut]; !bytes.Equal(p.Payload, want) {
				t.Errorf("Payload = %q, want %q", p.Payload, want)
			}
			if s := d.Stats(); s.Truncated != 1 || s.TCP != 1 {
				t.Errorf("stats %+v", s)
			}
		})
	}
	t.Run("snapped padding only is not truncation", func(t *testing.T) {
		ipl := decIP4(decCli4, decSrv4, layers.IPProtocolTCP)
		tcp := &layers.TCP{SrcPort: 1, DstPort: 2, ACK: true}
		_ = tcp.SetNetworkLayerForChecksum(ipl)
		b := decSerialize(t, decEth(layers.EthernetTypeIPv4), ipl, tcp) // padded to 60 bytes
		if len(b) != 60 {
			t.Fatalf("frame is %d bytes, expected Ethernet padding to 60", len(b))
		}
		d := NewDecoder(DecoderConfig{})
		var p Packet
		if !d.Decode(&Frame{Data: b[:54], Length: 60, LinkType: LinkTypeEthernet}, &p) || len(p.Payload) != 0 {
			t.Fatalf("Decode failed or payload %q", p.Payload)
		}
		if s := d.Stats(); s.Truncated != 0 {
			t.Errorf("Truncated = %d", s.Truncated)
		}
	})
}

func TestDecoderConfigPorts(t *testing.T) {
	vx := func(t testing.TB, port uint16) []byte {
		o := decIP4(decOutA4, decOutB4, layers.IPProtocolUDP)
		return decSerialize(t, decCat(decLayers{decEth(layers.EthernetTypeIPv4), o, decUDP(o, 51000, port), &layers.VXLAN{ValidIDFlag: true, VNI: 42}}, decInnerEth(false))...)
	}
	cases := []struct {
		name string
		cfg  DecoderConfig
		port uint16
		want bool
	}{
		{"default port", DecoderConfig{}, 4789, true},
		{"non-default port ignored", DecoderConfig{}, 8472, false},
		{"custom port", DecoderConfig{VXLANPorts: []uint16{8472}}, 8472, true},
		{"custom replaces default", DecoderConfig{VXLANPorts: []uint16{8472}}, 4789, false},
		{"disabled", DecoderConfig{VXLANPorts: []uint16{}}, 4789, false},
		{"port taken from GENEVE", DecoderConfig{GENEVEPorts: []uint16{4789}, VXLANPorts: []uint16{}}, 4789, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := vx(t, tc.port)
			d := NewDecoder(tc.cfg)
			var p Packet
			if got := d.Decode(&Frame{Data: b, Length: len(b), LinkType: LinkTypeEthernet}, &p); got != tc.want {
				t.Errorf("Decode = %v, want %v (stats %+v)", got, tc.want, d.Stats())
			}
		})
	}
}

// ---- Stats and metrics ----

func TestDecoderStatsAdd(t *testing.T) {
	var a, b DecoderStats
	a.Frames, a.TCP, a.Tunnels[TunnelVXLAN], a.FragmentBytes = 3, 2, 1, 100
	b.Frames, b.TCP, b.Tunnels[TunnelVXLAN], b.Tunnels[TunnelGRE], b.FragmentBytes = 4, 1, 2, 5, 50
	a.Add(b)
	want := DecoderStats{Frames: 7, TCP: 3, FragmentBytes: 150}
	want.Tunnels[TunnelVXLAN], want.Tunnels[TunnelGRE] = 3, 5
	if a != want {
		t.Errorf("Add = %+v, want %+v", a, want)
	}
	for k := TunnelKind(0); k < NumTunnelKinds; k++ {
		if k.String() == "" || strings.HasPrefix(k.String(), "tunnel(") {
			t.Errorf("kind %d has no name", k)
		}
	}
	if NumTunnelKinds.String() != "tunnel(12)" {
		t.Errorf("String of an unknown kind = %q", NumTunnelKinds.String())
	}
}

func TestDecoderMetrics(t *testing.T) {
	if err := RegisterDecoderMetrics(nil, nil); err != nil {
		t.Fatalf("nil registerer: %v", err)
	}
	d1, d2 := NewDecoder(DecoderConfig{}), NewDecoder(DecoderConfig{})
	for _, tc := range decCases()[:3] {
		b := tc.frame(t)
		var p Packet
		d1.Decode(&Frame{Data: b, Length: len(b), LinkType: tc.link}, &p)
	}
	var p Packet
	d2.Decode(&Frame{Data: []byte{1}, Length: 1, LinkType: 999}, &p)

	reg := prometheus.NewPedanticRegistry()
	sum := func() DecoderStats {
		s := d1.Stats()
		s.Add(d2.Stats())
		return s
	}
	if err := RegisterDecoderMetrics(reg, sum); err != nil {
		t.Fatal(err)
	}
	if err := RegisterDecoderMetrics(reg, sum); err == nil || !strings.HasPrefix(err.Error(), "capture: ") {
		t.Errorf("second registration: %v", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "/" + l.GetValue()
			}
			if c := m.GetCounter(); c != nil {
				got[name] = c.GetValue()
			} else {
				got[name] = m.GetGauge().GetValue()
			}
		}
	}
	for name, want := range map[string]float64{
		"apitap_capture_decoder_frames_total/tcp":                   3,
		"apitap_capture_decoder_frames_total/unknown_link_type":     1,
		"apitap_capture_decoder_frames_total/malformed":             0,
		"apitap_capture_decoder_tunnel_headers_total/vxlan":         0,
		"apitap_capture_decoder_ip_datagrams_dropped_total/timeout": 0,
		"apitap_capture_decoder_ip_fragment_bytes":                  0,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
}

// ---- Allocations ----

func TestDecodeZeroAllocs(t *testing.T) {
	byName := map[string]decCase{}
	for _, tc := range decCases() {
		byName[tc.name] = tc
	}
	for _, name := range []string{"ethernet/ipv4", "802.1Q", "QinQ 0x88a8", "VXLAN", "ethernet/ipv6", "GENEVE ethernet with options",
		"MPLS two labels ipv4", "GRE checksum key sequence ipv6", "ERSPAN type II", "IPv6 extension headers", "Linux SLL2", "NFLOG", "GTP-U"} {
		tc, ok := byName[name]
		if !ok {
			t.Fatalf("no case %q", name)
		}
		t.Run(name, func(t *testing.T) {
			b := tc.frame(t)
			d := NewDecoder(DecoderConfig{})
			var p Packet
			allocs := testing.AllocsPerRun(1000, func() {
				// The Frame is a local: Decode must not make it escape.
				f := Frame{Data: b, Length: len(b), LinkType: tc.link, Timestamp: decTS}
				if !d.Decode(&f, &p) {
					t.Fatal("Decode = false")
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per frame", allocs)
			}
		})
	}
}

func TestDecoderStatsConcurrent(t *testing.T) {
	// Stats is read by metrics scrapes and progress reports while the
	// reader goroutine decodes (run with -race).
	b := decSerialize(t, decInnerEth(false)...)
	d := NewDecoder(DecoderConfig{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 10000; i++ {
			var p Packet
			d.Decode(&Frame{Data: b, Length: len(b), LinkType: LinkTypeEthernet}, &p)
		}
	}()
	var last uint64
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		s := d.Stats()
		if s.Frames < last {
			t.Fatalf("Frames went back from %d to %d", last, s.Frames)
		}
		last = s.Frames
	}
	if s := d.Stats(); s.Frames != 10000 || s.TCP != 10000 {
		t.Errorf("stats %+v", s)
	}
}
