package synth

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

var (
	tep1 = netip.MustParseAddr("172.16.0.1")
	tep2 = netip.MustParseAddr("172.16.0.2")
	tep6 = netip.MustParseAddr("fd00::1")
	tep7 = netip.MustParseAddr("fd00::2")
	cli6 = netip.MustParseAddrPort("[2001:db8::10]:51000")
	srv6 = netip.MustParseAddrPort("[2001:db8::20]:8080")
)

// scriptBasic scripts a GET and a multi-segment POST on a connection and
// closes it.
func scriptBasic(c *Capture, cfg ConnConfig) *Conn {
	cn := c.NewConn(cfg)
	cn.Exchange(Request{URI: "/api/users/42", Header: []Header{{"Accept", "application/json"}}},
		Response{Body: []byte(`{"id":42,"name":"ada"}`), Header: []Header{{"Content-Type", "application/json"}}})
	cn.Exchange(Request{Method: "POST", URI: "/api/orders?x=1", Body: bytes.Repeat([]byte(`{"sku":"a1"},`), 300)},
		Response{Status: 201, Body: bytes.Repeat([]byte("z"), 4000)})
	cn.Close()
	return cn
}

// checkChecksums verifies the IPv4 header checksums and, for unfragmented
// inner packets, the TCP checksum of a decoded frame.
func checkChecksums(t *testing.T, d decoded) {
	t.Helper()
	for _, l := range d.layers {
		if ip, ok := l.(*layers.IPv4); ok {
			if got := checksumFold(checksumAdd(0, ip.Contents)); got != 0xffff {
				t.Errorf("IPv4 header checksum does not verify (sum %#x)", got)
			}
		}
	}
	tc := d.tcp
	seg := append(slices.Clone(tc.Contents), tc.Payload...)
	var sum uint32
	if d.src.Is4() {
		s, dd := d.src.As4(), d.dst.As4()
		sum = checksumAdd(checksumAdd(sum, s[:]), dd[:])
	} else {
		s, dd := d.src.As16(), d.dst.As16()
		sum = checksumAdd(checksumAdd(sum, s[:]), dd[:])
	}
	sum += 6 + uint32(len(seg))
	if got := checksumFold(checksumAdd(sum, seg)); got != 0xffff {
		t.Errorf("TCP checksum does not verify (sum %#x)", got)
	}
}

// checkAgainstTruth rebuilds every connection's streams, parses them with
// net/http and compares with the capture's ground truth.
func checkAgainstTruth(t *testing.T, c *Capture) {
	t.Helper()
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
	streams := reassemble(readSegments(t, c.Frames()), nil)
	truth := c.Truth()
	for _, cn := range c.conns {
		c2s := streams[flowKey{cn.Client(), cn.Server()}]
		s2c := streams[flowKey{cn.Server(), cn.Client()}]
		if c2s == nil || s2c == nil {
			t.Fatalf("connection %d: a direction is missing from the capture", cn.Index())
		}
		if c2s.holes() != 0 || s2c.holes() != 0 {
			t.Fatalf("connection %d: holes in the rebuilt streams", cn.Index())
		}
		got := parseHTTP(t, c2s.data, s2c.data)
		var want []Exchange
		for _, x := range truth {
			if x.Conn == cn.Index() {
				want = append(want, x)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("connection %d: net/http read %d exchanges, truth has %d", cn.Index(), len(got), len(want))
		}
		for i, w := range want {
			g := got[i]
			if g.method != w.Method || g.uri != w.URI || g.host != w.Host || g.status != w.Status ||
				int64(len(g.reqBody)) != w.RequestBodyLen || int64(len(g.respBody)) != w.ResponseBodyLen {
				t.Errorf("exchange %d: net/http read %s %s host=%q status=%d req=%d resp=%d; truth %s %s host=%q status=%d req=%d resp=%d",
					i, g.method, g.uri, g.host, g.status, len(g.reqBody), len(g.respBody),
					w.Method, w.URI, w.Host, w.Status, w.RequestBodyLen, w.ResponseBodyLen)
			}
			if w.Request != Captured || w.Response != Captured {
				t.Errorf("exchange %d: coverage %v/%v, want captured", i, w.Request, w.Response)
			}
		}
	}
}

func TestStacks(t *testing.T) {
	E, V, M, I4, I6, U, G, T := layers.LayerTypeEthernet, layers.LayerTypeDot1Q, layers.LayerTypeMPLS,
		layers.LayerTypeIPv4, layers.LayerTypeIPv6, layers.LayerTypeUDP, layers.LayerTypeGRE, layers.LayerTypeTCP
	tests := []struct {
		name       string
		cfg        ConnConfig
		want       []gopacket.LayerType // layers of the first client frame
		wantServer []gopacket.LayerType // of the first server frame (nil: same)
		link       LinkType
		linkSet    bool // link is given (LinkTypeNull is 0)
		fragments  bool
		check      func(t *testing.T, d decoded)
	}{
		{name: "ethernet", want: []gopacket.LayerType{E, I4, T}},
		{name: "ipv6", cfg: ConnConfig{Client: cli6, Server: srv6}, want: []gopacket.LayerType{E, I6, T}},
		{name: "raw", cfg: ConnConfig{ClientStack: []Layer{RawIP{}}}, want: []gopacket.LayerType{I4, T}, link: LinkTypeRaw},
		{name: "raw-ipv6", cfg: ConnConfig{Client: cli6, Server: srv6, ClientStack: []Layer{RawIP{}}}, want: []gopacket.LayerType{I6, T}, link: LinkTypeRaw},
		{name: "linux-sll", cfg: ConnConfig{ClientStack: []Layer{LinuxSLL{}}}, want: []gopacket.LayerType{layers.LayerTypeLinuxSLL, I4, T}, link: LinkTypeLinuxSLL},
		{name: "linux-sll2", cfg: ConnConfig{ClientStack: []Layer{LinuxSLL2{IfIndex: 3}}, ServerStack: []Layer{LinuxSLL2{IfIndex: 3, PacketType: 4}}},
			want: []gopacket.LayerType{layers.LayerTypeLinuxSLL2, I4, T}, link: LinkTypeLinuxSLL2,
			check: func(t *testing.T, d decoded) {
				if l := d.layers[0].(*layers.LinuxSLL2); l.InterfaceIndex != 3 || l.ProtocolType != layers.EthernetTypeIPv4 {
					t.Errorf("SLL2 %+v", l)
				}
			}},
		{name: "bsd-loopback", cfg: ConnConfig{Client: cli6, Server: srv6, ClientStack: []Layer{Null{}}}, want: []gopacket.LayerType{layers.LayerTypeLoopback, I6, T}, link: LinkTypeNull, linkSet: true},
		{name: "802.1Q", cfg: ConnConfig{ClientStack: []Layer{Ethernet{}, VLAN{ID: 100, Priority: 3}}}, want: []gopacket.LayerType{E, V, I4, T},
			check: func(t *testing.T, d decoded) {
				if v := d.layers[1].(*layers.Dot1Q); v.VLANIdentifier != 100 || v.Priority != 3 {
					t.Errorf("VLAN %d prio %d", v.VLANIdentifier, v.Priority)
				}
			}},
		{name: "QinQ", cfg: ConnConfig{ClientStack: []Layer{Ethernet{}, VLAN{ID: 10, TPID: 0x88a8}, VLAN{ID: 20}}}, want: []gopacket.LayerType{E, V, V, I4, T},
			check: func(t *testing.T, d decoded) {
				if e := d.layers[0].(*layers.Ethernet); e.EthernetType != 0x88a8 {
					t.Errorf("outer TPID %#x", uint16(e.EthernetType))
				}
				if v := d.layers[2].(*layers.Dot1Q); v.VLANIdentifier != 20 {
					t.Errorf("inner VLAN %d", v.VLANIdentifier)
				}
			}},
		{name: "MPLS", cfg: ConnConfig{ClientStack: []Layer{Ethernet{}, MPLS{Label: 100}, MPLS{Label: 200}}}, want: []gopacket.LayerType{E, M, M, I4, T},
			check: func(t *testing.T, d decoded) {
				a, b := d.layers[1].(*layers.MPLS), d.layers[2].(*layers.MPLS)
				if a.Label != 100 || a.StackBottom || b.Label != 200 || !b.StackBottom {
					t.Errorf("labels %d/%v %d/%v", a.Label, a.StackBottom, b.Label, b.StackBottom)
				}
			}},
		{name: "MPLS-ipv6", cfg: ConnConfig{Client: cli6, Server: srv6, ClientStack: []Layer{Ethernet{}, MPLS{Label: 7}}}, want: []gopacket.LayerType{E, M, I6, T}},
		{name: "GRE", cfg: ConnConfig{ClientStack: GRETunnel(tep1, tep2)}, want: []gopacket.LayerType{E, I4, G, I4, T}},
		{name: "GRE-key-ethernet", cfg: ConnConfig{ClientStack: []Layer{Ethernet{}, IP{Src: tep1, Dst: tep2}, GRE{KeyPresent: true, Key: 7}, Ethernet{}}},
			want: []gopacket.LayerType{E, I4, G, E, I4, T},
			check: func(t *testing.T, d decoded) {
				if g := d.layers[2].(*layers.GRE); !g.KeyPresent || g.Key != 7 || g.Protocol != 0x6558 {
					t.Errorf("GRE %+v", g)
				}
			}},
		{name: "GRE-MPLS", cfg: ConnConfig{ClientStack: []Layer{Ethernet{}, IP{Src: tep1, Dst: tep2}, GRE{}, MPLS{Label: 5}}}, want: []gopacket.LayerType{E, I4, G, M, I4, T}},
		{name: "ERSPAN-II", cfg: ConnConfig{ClientStack: ERSPANTunnel(2, tep1, tep2, 33)}, want: []gopacket.LayerType{E, I4, G, layers.LayerTypeERSPANII, E, I4, T},
			check: func(t *testing.T, d decoded) {
				if g := d.layers[2].(*layers.GRE); !g.SeqPresent || g.Protocol != 0x88be {
					t.Errorf("GRE %+v", g)
				}
				if e := d.layers[3].(*layers.ERSPANII); e.SessionID != 33 || e.Version != 1 {
					t.Errorf("ERSPAN %+v", e)
				}
			}},
		{name: "ERSPAN-III", cfg: ConnConfig{ClientStack: ERSPANTunnel(3, tep1, tep2, 44)}, want: []gopacket.LayerType{E, I4, G, layerTypeERSPAN3, E, I4, T},
			check: func(t *testing.T, d decoded) {
				g := d.layers[2].(*layers.GRE)
				if sid := uint16(g.Payload[2])<<8 | uint16(g.Payload[3]); sid&0x3ff != 44 {
					t.Errorf("ERSPAN III session %d", sid&0x3ff)
				}
			}},
		{name: "ERSPAN-II-ipv6-outer", cfg: ConnConfig{ClientStack: ERSPANTunnel(2, tep6, tep7, 1)}, want: []gopacket.LayerType{E, I6, G, layers.LayerTypeERSPANII, E, I4, T}},
		{name: "VXLAN", cfg: ConnConfig{ClientStack: VXLANTunnel(tep1, tep2, 4242)}, want: []gopacket.LayerType{E, I4, U, layers.LayerTypeVXLAN, E, I4, T},
			check: func(t *testing.T, d decoded) {
				if u := d.layers[2].(*layers.UDP); u.DstPort != 4789 {
					t.Errorf("UDP port %d", u.DstPort)
				}
				if v := d.layers[3].(*layers.VXLAN); v.VNI != 4242 || !v.ValidIDFlag {
					t.Errorf("VXLAN %+v", v)
				}
			}},
		{name: "VXLAN-ipv6", cfg: ConnConfig{Client: cli6, Server: srv6, ClientStack: VXLANTunnel(tep6, tep7, 1)}, want: []gopacket.LayerType{E, I6, U, layers.LayerTypeVXLAN, E, I6, T}},
		{name: "GENEVE", cfg: ConnConfig{ClientStack: GeneveTunnel(tep1, tep2, 77)}, want: []gopacket.LayerType{E, I4, U, layers.LayerTypeGeneve, E, I4, T},
			check: func(t *testing.T, d decoded) {
				if g := d.layers[3].(*layers.Geneve); g.VNI != 77 || g.Protocol != 0x6558 {
					t.Errorf("GENEVE %+v", g)
				}
			}},
		{name: "GENEVE-ip", cfg: ConnConfig{ClientStack: []Layer{Ethernet{}, IP{Src: tep1, Dst: tep2}, UDP{}, Geneve{VNI: 1}}}, want: []gopacket.LayerType{E, I4, U, layers.LayerTypeGeneve, I4, T}},
		{name: "VXLAN-in-GENEVE", cfg: ConnConfig{ClientStack: append(GeneveTunnel(tep1, tep2, 9), IP{Src: tep6, Dst: tep7}, UDP{}, VXLAN{VNI: 10}, Ethernet{})},
			want: []gopacket.LayerType{E, I4, U, layers.LayerTypeGeneve, E, I6, U, layers.LayerTypeVXLAN, E, I4, T}},
		{name: "IP-in-IP", cfg: ConnConfig{ClientStack: []Layer{Ethernet{}, IP{Src: tep1, Dst: tep2}}}, want: []gopacket.LayerType{E, I4, I4, T}},
		{name: "IPv6-in-IPv4", cfg: ConnConfig{Client: cli6, Server: srv6, ClientStack: []Layer{Ethernet{}, IP{Src: tep1, Dst: tep2}}}, want: []gopacket.LayerType{E, I4, I6, T}},
		{name: "inner-fragments", cfg: ConnConfig{FragmentSize: 576}, want: []gopacket.LayerType{E, I4, T}, fragments: true},
		{name: "inner-fragments-reversed", cfg: ConnConfig{FragmentSize: 300, ReverseFragments: true, ClientStack: VXLANTunnel(tep1, tep2, 3)},
			want: []gopacket.LayerType{E, I4, U, layers.LayerTypeVXLAN, E, I4, T}, fragments: true},
		{name: "outer-fragments", cfg: ConnConfig{ClientStack: []Layer{Ethernet{}, IP{Src: tep1, Dst: tep2, FragmentSize: 500}, UDP{}, VXLAN{VNI: 5}, Ethernet{}}},
			want: []gopacket.LayerType{E, I4, U, layers.LayerTypeVXLAN, E, I4, T}, fragments: true},
		{name: "outer-and-inner-fragments", cfg: ConnConfig{FragmentSize: 700, ClientStack: []Layer{Ethernet{}, IP{Src: tep1, Dst: tep2, FragmentSize: 400, ReverseFragments: true}, GRE{}}},
			want: []gopacket.LayerType{E, I4, G, I4, T}, fragments: true},
		{name: "asymmetric-tunnels", cfg: ConnConfig{ClientStack: VXLANTunnel(tep1, tep2, 100), ServerStack: []Layer{Ethernet{}, VLAN{ID: 200}}},
			want: []gopacket.LayerType{E, I4, U, layers.LayerTypeVXLAN, E, I4, T}, wantServer: []gopacket.LayerType{E, V, I4, T}},
		{name: "asymmetric-vxlan-vni", cfg: ConnConfig{ClientStack: VXLANTunnel(tep1, tep2, 100), ServerStack: VXLANTunnel(tep2, tep1, 200)},
			want: []gopacket.LayerType{E, I4, U, layers.LayerTypeVXLAN, E, I4, T},
			check: func(t *testing.T, d decoded) {
				vni := d.layers[3].(*layers.VXLAN).VNI
				if fromClient := d.tcp.DstPort == 80; (fromClient && vni != 100) || (!fromClient && vni != 200) {
					t.Errorf("VNI %d for direction to port %d", vni, d.tcp.DstPort)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCapture()
			cn := scriptBasic(c, tt.cfg)
			if err := c.Err(); err != nil {
				t.Fatal(err)
			}
			link := tt.link
			if link == 0 && !tt.linkSet {
				link = LinkTypeEthernet
			}
			frames := c.Frames()
			if frames[0].LinkType != link {
				t.Fatalf("link type %d, want %d", frames[0].LinkType, link)
			}
			df := ip4defrag.NewIPv4Defragmenter()
			var sawClient, sawServer, incomplete bool
			for i, f := range frames {
				d, ok := decodeFrame(t, df, f.Data, firstDecoder(f.LinkType))
				if !ok {
					incomplete = true
					continue
				}
				fromClient := netip.AddrPortFrom(d.src.Unmap(), uint16(d.tcp.SrcPort)) == cn.Client()
				want := tt.want
				if !fromClient && tt.wantServer != nil {
					want = tt.wantServer
				}
				// Reassembled fragments add their layers twice; compare
				// the layers after the last fragment boundary.
				got := d.types
				match := slices.Equal(got, want)
				if !match && tt.fragments {
					match = slices.Equal(got[len(got)-2:], want[len(want)-2:])
				}
				if !match {
					t.Fatalf("frame %d layers %v, want %v", i, got, want)
				}
				if (fromClient && !sawClient) || (!fromClient && !sawServer) {
					if !slices.Equal(got, want) {
						t.Fatalf("first frame of direction layers %v, want %v", got, want)
					}
				}
				sawClient = sawClient || fromClient
				sawServer = sawServer || !fromClient
				checkChecksums(t, d)
				if tt.check != nil {
					tt.check(t, d)
				}
			}
			if tt.fragments != incomplete {
				t.Errorf("fragments seen: %v, want %v", incomplete, tt.fragments)
			}
			checkAgainstTruth(t, c)
		})
	}
}

func TestStackErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  ConnConfig
		want string
	}{
		{"mixed families", ConnConfig{Client: cli6, Server: netip.MustParseAddrPort("10.0.0.1:80")}, "different address families"},
		{"link types differ", ConnConfig{ServerStack: []Layer{RawIP{}}}, "different link types"},
		{"SLL not first", ConnConfig{ClientStack: []Layer{Ethernet{}, LinuxSLL{}}}, "must be the first"},
		{"VXLAN before IP", ConnConfig{ClientStack: []Layer{Ethernet{}, IP{Src: tep1, Dst: tep2}, UDP{}, VXLAN{}}}, "unsupported layer order"},
		{"UDP without port", ConnConfig{ClientStack: []Layer{Ethernet{}, IP{Src: tep1, Dst: tep2}, UDP{}, Ethernet{}}}, "needs a DstPort"},
		{"tunnel families", ConnConfig{ClientStack: []Layer{Ethernet{}, IP{Src: tep1, Dst: tep7}, GRE{}}}, "one family"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCapture()
			scriptBasic(c, tt.cfg)
			if err := c.Err(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if _, err := c.WriteTo(&bytes.Buffer{}); err == nil {
				t.Fatal("WriteTo succeeded on a failed capture")
			}
		})
	}
	t.Run("send after FIN", func(t *testing.T) {
		c := NewCapture()
		cn := c.NewConn(ConnConfig{})
		cn.Fin(true)
		cn.ClientSend([]byte("x"))
		if err := c.Err(); err == nil || !strings.Contains(err.Error(), "after FIN") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("link types across connections", func(t *testing.T) {
		c := NewCapture()
		c.NewConn(ConnConfig{})
		c.NewConn(ConnConfig{ClientStack: []Layer{RawIP{}}})
		if err := c.Err(); err == nil || !strings.Contains(err.Error(), "one link type") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestImpairments(t *testing.T) {
	const mss = 100
	body := bytes.Repeat([]byte("0123456789abcdefghij"), 50) // request ≈ 1.1 KB: 12 segments
	tests := []struct {
		name        string
		client      []Action
		server      []Action
		req, resp   Coverage
		conflict    bool
		holes       int  // missing client bytes (-1: all)
		dupes       int  // client segments with nothing new
		differ      bool // client bytes seen again with other content
		outOfOrder  bool // client sequence numbers go backwards
		longestSeg  int  // longest client segment, 0: mss
		serverHoles int
	}{
		{name: "none", req: Captured, resp: Captured},
		{name: "drop", client: []Action{Drop(3)}, req: Partial, resp: Captured, holes: mss},
		{name: "drop two", client: []Action{Drop(0), Drop(7)}, req: Partial, resp: Captured, holes: 2 * mss},
		{name: "drop all", client: []Action{Drop(0), Drop(1), Drop(2), Drop(3), Drop(4), Drop(5), Drop(6), Drop(7), Drop(8), Drop(9), Drop(10), Drop(11)},
			req: NotCaptured, resp: Captured, holes: -1},
		{name: "duplicate", client: []Action{Duplicate(2)}, req: Captured, resp: Captured, dupes: 1},
		{name: "reorder", client: []Action{Reorder(4)}, req: Captured, resp: Captured, outOfOrder: true},
		{name: "retransmit overlapping", client: []Action{Retransmit(5, 30)}, req: Captured, resp: Captured, dupes: 1, outOfOrder: true, longestSeg: mss + 60},
		{name: "conflicting overlap", client: []Action{Conflict(5, 30)}, req: Captured, resp: Captured, conflict: true, dupes: 1, differ: true, outOfOrder: true, longestSeg: mss + 60},
		{name: "recover", client: []Action{Recover(6)}, req: Captured, resp: Captured, outOfOrder: true},
		{name: "drop then retransmit over it", client: []Action{Drop(3), Retransmit(4, 100)}, req: Captured, resp: Captured, outOfOrder: true, longestSeg: mss + 200},
		{name: "drop, retransmission short of it", client: []Action{Drop(3), Retransmit(4, 50)}, req: Partial, resp: Captured, holes: 50, outOfOrder: true, longestSeg: mss + 100},
		{name: "server drop", server: []Action{Drop(0)}, req: Captured, resp: Partial, serverHoles: mss},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCapture()
			cn := c.NewConn(ConnConfig{MSS: mss})
			req := Request{Method: "POST", URI: "/upload", Body: body}
			cn.Request(req, tt.client...)
			cn.Response(Response{Body: bytes.Repeat([]byte("r"), 250)}, tt.server...)
			cn.Close()
			if err := c.Err(); err != nil {
				t.Fatal(err)
			}
			truth := c.Truth()
			if len(truth) != 1 {
				t.Fatalf("%d exchanges in truth", len(truth))
			}
			x := truth[0]
			if x.Request != tt.req || x.Response != tt.resp || x.Conflict != tt.conflict {
				t.Errorf("truth coverage %v/%v conflict %v, want %v/%v %v", x.Request, x.Response, x.Conflict, tt.req, tt.resp, tt.conflict)
			}
			segs := readSegments(t, c.Frames())
			st := reassemble(segs, nil)
			c2s, s2c := st[flowKey{cn.Client(), cn.Server()}], st[flowKey{cn.Server(), cn.Client()}]
			reqLen := int(x.RequestBytes)
			holes := c2s.holes() + reqLen - len(c2s.data)
			if tt.holes < 0 {
				tt.holes = reqLen
			}
			if holes != tt.holes || c2s.dupes != tt.dupes || (c2s.differ > 0) != tt.differ {
				t.Errorf("client stream: holes %d dupes %d differ %d, want %d %d %v", holes, c2s.dupes, c2s.differ, tt.holes, tt.dupes, tt.differ)
			}
			if got := s2c.holes() + int(x.ResponseBytes) - len(s2c.data); got != tt.serverHoles {
				t.Errorf("server stream holes %d, want %d", got, tt.serverHoles)
			}
			var prev uint32
			outOfOrder, longest, first := false, 0, true
			var lastAck uint32
			for _, s := range segs {
				if s.src == cn.Client() && len(s.payload) > 0 {
					if !first && int32(s.seq-prev) < 0 {
						outOfOrder = true
					}
					prev, first = s.seq, false
					longest = max(longest, len(s.payload))
				}
				if s.src == cn.Server() && len(s.payload) == 0 && !s.syn && !s.fin && lastAck == 0 {
					lastAck = s.ack // the server's ACK of the request
				}
			}
			if outOfOrder != tt.outOfOrder {
				t.Errorf("out of order %v, want %v", outOfOrder, tt.outOfOrder)
			}
			wantLongest := tt.longestSeg
			if wantLongest == 0 {
				wantLongest = mss
			}
			if longest != wantLongest && !(tt.req == NotCaptured && longest == 0) {
				t.Errorf("longest client segment %d, want %d", longest, wantLongest)
			}
			if want := c2s.isn + 1 + uint32(reqLen); lastAck != want {
				t.Errorf("server ACK %d, want %d (covering all sent data)", lastAck, want)
			}
			if tt.req == Captured && !tt.differ {
				if got := parseHTTP(t, c2s.data, s2c.data[:0]); len(got) != 1 || !bytes.Equal(got[0].reqBody, body) {
					t.Errorf("request does not round-trip")
				}
			}
		})
	}
}

// scriptRandom scripts a connection with random impairments.
func scriptRandom(seed uint64) *Capture {
	c := NewCapture()
	im := Impairments{Drop: 0.05, Duplicate: 0.05, Reorder: 0.05, Retransmit: 0.05, Conflict: 0.02, Recover: 0.05, MaxOverlap: 40}
	cn := c.NewConn(ConnConfig{Seed: seed, MSS: 200, ClientImpair: im, ServerImpair: im})
	for i := 0; i < 20; i++ {
		cn.Exchange(Request{Method: "PUT", URI: fmt.Sprintf("/items/%d", i), Body: bytes.Repeat([]byte("abc"), 100+i*40)},
			Response{Body: bytes.Repeat([]byte("xyz"), 200+i*50), Chunked: i%3 == 0})
	}
	cn.Close()
	return c
}

func TestRandomImpairments(t *testing.T) {
	write := func(c *Capture) []byte {
		var b bytes.Buffer
		if _, err := c.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b, other := scriptRandom(7), scriptRandom(7), scriptRandom(8)
	if !bytes.Equal(write(a), write(b)) {
		t.Fatal("same seed, different captures")
	}
	if bytes.Equal(write(a), write(other)) {
		t.Fatal("different seeds, same capture")
	}
	for _, seed := range []uint64{1, 2, 3, 7, 8} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			c := scriptRandom(seed)
			truth := c.Truth()
			st := reassemble(readSegments(t, c.Frames()), nil)
			cn := c.conns[0]
			c2s, s2c := st[flowKey{cn.Client(), cn.Server()}], st[flowKey{cn.Server(), cn.Client()}]
			var gapsReq, gapsResp, conflicts int
			for _, x := range truth {
				if x.Request != Captured {
					gapsReq++
				}
				if x.Response != Captured {
					gapsResp++
				}
				if x.Conflict {
					conflicts++
				}
			}
			// Holes in the rebuilt streams exactly when the truth says a
			// message is not fully captured.
			if (c2s.holes() > 0) != (gapsReq > 0) || (s2c.holes() > 0) != (gapsResp > 0) {
				t.Errorf("holes %d/%d but truth has %d/%d incomplete messages", c2s.holes(), s2c.holes(), gapsReq, gapsResp)
			}
			if (c2s.differ+s2c.differ > 0) != (conflicts > 0) {
				t.Errorf("conflicting bytes %d but %d conflicting exchanges", c2s.differ+s2c.differ, conflicts)
			}
		})
	}
}

func TestHTTPFeatures(t *testing.T) {
	c := NewCapture()
	cn := c.NewConn(ConnConfig{Client: cli6, Server: srv6})
	json := []byte(`{"users":[{"id":1},{"id":2}]}`)
	cn.Exchange(Request{URI: "/a?b=c", Host: "api.example.com"}, Response{Body: json})
	cn.Exchange(Request{Method: "POST", URI: "/p", Body: json}, Response{Status: 201, Body: json, Chunked: true, ChunkSize: 7, Trailer: []Header{{"X-Checksum", "1"}}})
	cn.Exchange(Request{URI: "/gz", Header: []Header{{"Accept-Encoding", "gzip"}}}, Response{Body: bytes.Repeat(json, 50), Gzip: true})
	cn.Exchange(Request{Method: "HEAD", URI: "/head"}, Response{Body: json})
	cn.Exchange(Request{Method: "DELETE", URI: "/d/1"}, Response{Status: 204})
	cn.Exchange(Request{URI: "/cached"}, Response{Status: 304})
	cn.Exchange(Request{Method: "PUT", URI: "/big", Body: bytes.Repeat([]byte("b"), 5000), Expect100: true}, Response{Status: 200})
	cn.Exchange(Request{Method: "POST", URI: "/chunked-req", Body: bytes.Repeat([]byte("c"), 3000), Chunked: true, ChunkSize: 1000}, Response{Status: 202})
	cn.Exchange(Request{URI: "/v10", Version: "1.0"}, Response{Version: "1.0", Body: json})
	cn.Pipeline(
		[]Request{{URI: "/p1"}, {Method: "HEAD", URI: "/p2"}, {Method: "POST", URI: "/p3", Body: json}},
		[]Response{{Status: 404, Body: []byte("nope")}, {Body: json}, {Status: 500, Body: json, Chunked: true}},
	)
	cn.Exchange(Request{URI: "/last"}, Response{Body: bytes.Repeat([]byte("e"), 3333), CloseDelimited: true})
	cn.Close()
	checkAgainstTruth(t, c)

	truth := c.Truth()
	if len(truth) != 13 {
		t.Fatalf("%d exchanges in truth, want 13", len(truth))
	}
	byURI := map[string]Exchange{}
	for _, x := range truth {
		byURI[x.URI] = x
	}
	for _, tc := range []struct {
		uri            string
		status         int
		reqLen, respLn int64
	}{
		{"/a?b=c", 200, 0, int64(len(json))},
		{"/head", 200, 0, 0},
		{"/d/1", 204, 0, 0},
		{"/cached", 304, 0, 0},
		{"/big", 200, 5000, 0},
		{"/chunked-req", 202, 3000, 0},
		{"/p2", 200, 0, 0},
		{"/p3", 500, int64(len(json)), int64(len(json))},
		{"/last", 200, 0, 3333},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			x := byURI[tc.uri]
			if x.Status != tc.status || x.RequestBodyLen != tc.reqLen || x.ResponseBodyLen != tc.respLn {
				t.Errorf("truth %+v", x)
			}
		})
	}
	if gz := byURI["/gz"]; gz.ResponseBodyLen >= int64(50*len(json)) || gz.ResponseBodyLen == 0 {
		t.Errorf("gzip body length %d should be the compressed length", gz.ResponseBodyLen)
	}
	if h := byURI["/a?b=c"].Host; h != "api.example.com" {
		t.Errorf("host %q", h)
	}
	if h := byURI["/p"].Host; h != "[2001:db8::20]:8080" {
		t.Errorf("default host %q", h)
	}
}

func TestHTTP09AndOrphans(t *testing.T) {
	c := NewCapture()
	cn := c.NewConn(ConnConfig{})
	// A response whose request was sent before the capture started.
	cn.SetCapture(false)
	cn.Request(Request{URI: "/before"})
	cn.SetCapture(true)
	cn.Response(Response{Body: []byte("late")})
	cn.Exchange(Request{URI: "/old", Version: "0.9"}, Response{})
	cn.Response(Response{Status: 503}) // no request at all
	cn.Request(Request{URI: "/unanswered"})
	cn.Reset(false)
	truth := c.Truth()
	want := []struct {
		method, uri string
		status      int
		req, resp   Coverage
	}{
		{"GET", "/before", 200, NotCaptured, Captured},
		{"GET", "/old", 200, Captured, Captured},
		{"", "", 503, NotSent, Captured},
		{"GET", "/unanswered", 0, Captured, NotSent},
	}
	if len(truth) != len(want) {
		t.Fatalf("%d exchanges, want %d", len(truth), len(want))
	}
	for i, w := range want {
		x := truth[i]
		if x.Method != w.method || x.URI != w.uri || x.Status != w.status || x.Request != w.req || x.Response != w.resp {
			t.Errorf("exchange %d: %s %s %d %v/%v, want %+v", i, x.Method, x.URI, x.Status, x.Request, x.Response, w)
		}
	}
	if h := truth[1].Host; h != "" {
		t.Errorf("HTTP/0.9 host %q", h)
	}
	segs := readSegments(t, c.Frames())
	if last := segs[len(segs)-1]; !last.rst || last.src != cn.Server() {
		t.Errorf("last segment %+v, want the server's RST", last)
	}
}

func TestLifecycle(t *testing.T) {
	tests := []struct {
		name  string
		cfg   ConnConfig
		close func(cn *Conn)
		head  []string // flags of the first segments
		tail  []string // flags of the last segments
	}{
		{"handshake and FIN", ConnConfig{}, (*Conn).Close, []string{"S", "SA", "A"}, []string{"FA", "FA", "A"}},
		{"mid-stream", ConnConfig{NoHandshake: true}, (*Conn).Close, []string{"A", "A"}, []string{"FA", "FA", "A"}},
		{"client RST", ConnConfig{}, func(cn *Conn) { cn.Reset(true) }, []string{"S", "SA", "A"}, []string{"A", "RA"}},
		{"server half-close", ConnConfig{}, func(cn *Conn) { cn.Fin(false); cn.Close() }, []string{"S", "SA", "A"}, []string{"FA", "A", "FA", "A"}},
		{"no acks", ConnConfig{NoAcks: true}, (*Conn).Close, []string{"S", "SA", "A"}, []string{"A", "FA", "FA"}},
		{"sequence wrap", ConnConfig{ClientISN: 0xffffff00, ServerISN: 0xfffffff0, MSS: 64}, (*Conn).Close, []string{"S", "SA", "A"}, []string{"FA", "FA", "A"}},
	}
	flagStr := func(s segment) string {
		f := ""
		if s.syn {
			f += "S"
		}
		if s.fin {
			f += "F"
		}
		if s.rst {
			f += "R"
		}
		if s.isAck {
			f += "A"
		}
		return f
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCapture()
			cn := c.NewConn(tt.cfg)
			cn.Exchange(Request{URI: "/x"}, Response{Body: bytes.Repeat([]byte("y"), 700)})
			tt.close(cn)
			if err := c.Err(); err != nil {
				t.Fatal(err)
			}
			segs := readSegments(t, c.Frames())
			var got []string
			for _, s := range segs {
				got = append(got, flagStr(s))
			}
			if !slices.Equal(got[:len(tt.head)], tt.head) || !slices.Equal(got[len(got)-len(tt.tail):], tt.tail) {
				t.Fatalf("flags %v, want head %v tail %v", got, tt.head, tt.tail)
			}
			// Sequence and acknowledgement numbers are consistent: every
			// ACK acknowledges exactly what the peer sent so far.
			next := map[netip.AddrPort]uint32{}
			for i, s := range segs {
				peer := s.dst
				if s.syn {
					next[s.src] = s.seq + 1
				} else if n, ok := next[s.src]; ok && s.seq != n && len(s.payload) > 0 {
					t.Fatalf("segment %d seq %d, want %d", i, s.seq, n)
				} else if !ok {
					next[s.src] = s.seq
				}
				if len(s.payload) > 0 {
					next[s.src] = s.seq + uint32(len(s.payload))
				}
				if s.fin {
					next[s.src] = s.seq + uint32(len(s.payload)) + 1
				}
				if s.isAck && !s.syn {
					if n, ok := next[peer]; ok && s.ack != n {
						t.Fatalf("segment %d (%s) ack %d, want %d", i, flagStr(s), s.ack, n)
					}
				}
			}
			if tt.cfg.NoHandshake {
				c2s := readSegments(t, c.Frames())[0]
				isn := map[flowKey]uint32{{cn.Client(), cn.Server()}: c2s.seq - 1}
				st := reassemble(segs, isn)
				if got := parseHTTP(t, st[flowKey{cn.Client(), cn.Server()}].data, st[flowKey{cn.Server(), cn.Client()}].data); len(got) != 1 || got[0].status != 200 {
					t.Fatalf("mid-stream exchange: %+v", got)
				}
			} else {
				checkAgainstTruth(t, c)
			}
		})
	}
}

func TestClockAndOrder(t *testing.T) {
	c := NewCapture()
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	a := c.NewConn(ConnConfig{Start: start, RTT: 10 * time.Millisecond, ServerTime: 50 * time.Millisecond, Think: time.Second})
	b := c.NewConn(ConnConfig{Start: start.Add(5 * time.Millisecond)})
	for i := 0; i < 3; i++ {
		a.Exchange(Request{URI: "/a"}, Response{Body: []byte("a")})
		b.Exchange(Request{URI: "/b"}, Response{Body: []byte("b")})
	}
	a.Close()
	b.Close()
	fs := c.Frames()
	if !fs[0].Timestamp.Equal(start) {
		t.Errorf("first frame at %v, want %v", fs[0].Timestamp, start)
	}
	for i := 1; i < len(fs); i++ {
		if fs[i].Timestamp.Before(fs[i-1].Timestamp) {
			t.Fatalf("frame %d goes back in time", i)
		}
	}
	tr := a.Truth()
	if d := tr[0].ResponseTime.Sub(tr[0].RequestTime); d < 50*time.Millisecond || d > 70*time.Millisecond {
		t.Errorf("response %v after request, want ≈ server time 50ms + RTT/2", d)
	}
	if d := tr[1].RequestTime.Sub(tr[0].RequestTime); d < time.Second {
		t.Errorf("next request %v after the first, want ≥ think time 1s", d)
	}
	checkAgainstTruth(t, c)
}

func TestPcapRoundTrip(t *testing.T) {
	for _, nanos := range []bool{false, true} {
		t.Run(fmt.Sprint("nanos=", nanos), func(t *testing.T) {
			c := NewCapture()
			c.SetNanos(nanos)
			scriptBasic(c, ConnConfig{Start: time.Date(2024, 5, 5, 5, 5, 5, 123456789, time.UTC), ClientStack: []Layer{LinuxSLL{}}})
			var b bytes.Buffer
			if _, err := c.WriteTo(&b); err != nil {
				t.Fatal(err)
			}
			r, err := pcapgo.NewReader(&b)
			if err != nil {
				t.Fatal(err)
			}
			if r.LinkType() != layers.LinkTypeLinuxSLL {
				t.Errorf("link type %v", r.LinkType())
			}
			want := c.Frames()
			for i := range want {
				data, ci, err := r.ReadPacketData()
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				wt := want[i].Timestamp
				if !nanos {
					wt = wt.Truncate(time.Microsecond)
				}
				if !bytes.Equal(data, want[i].Data) || !ci.Timestamp.Equal(wt) {
					t.Fatalf("frame %d differs (ts %v want %v)", i, ci.Timestamp, wt)
				}
			}
			if _, _, err := r.ReadPacketData(); err == nil {
				t.Fatal("extra frames")
			}
		})
	}
	if _, err := WritePcap(&bytes.Buffer{}, []Frame{{LinkType: 1}, {LinkType: 101}}, false); err == nil {
		t.Fatal("mixed link types accepted")
	}
}

func TestWriteFileAndSend(t *testing.T) {
	c := NewCapture()
	cn := c.NewConn(ConnConfig{})
	cn.Send(true, []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	cn.Wait(time.Millisecond)
	before := cn.Now()
	cn.Send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), Duplicate(0))
	if !cn.Now().After(before) {
		t.Error("clock did not advance")
	}
	cn.Close()
	path := filepath.Join(t.TempDir(), "x.pcap")
	if err := c.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, b.Bytes()) {
		t.Fatalf("WriteFile differs from WriteTo (%v)", err)
	}
	if err := c.WriteFile(filepath.Join(t.TempDir(), "missing", "x.pcap")); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
	if s := ImpairConflict.String(); s != "conflict" {
		t.Errorf("String() = %q", s)
	}
}
