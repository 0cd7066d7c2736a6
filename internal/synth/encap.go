package synth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Layer is one header of an encapsulation stack. A stack ([]Layer) lists
// the headers outermost first; the connection's own IP and TCP headers
// follow its last layer. The first layer decides the capture's link type:
// Ethernet, LinuxSLL, RawIP (or an IP layer directly) or Null. An empty
// stack means a single Ethernet header.
//
// Fields that name the next protocol (EtherTypes, IP protocol numbers, GRE
// and GENEVE protocol types, UDP destination ports, MPLS bottom-of-stack)
// are derived from the layer that follows, so a stack only says what is
// there, not how it is chained.
type Layer interface {
	kind() layerKind
}

type layerKind uint8

const (
	kEthernet layerKind = iota + 1
	kSLL
	kSLL2
	kRaw
	kNull
	kVLAN
	kMPLS
	kIPv4
	kIPv6
	kUDP
	kGRE
	kERSPAN2
	kERSPAN3
	kVXLAN
	kGeneve
)

// MAC is an Ethernet address.
type MAC [6]byte

// Default MAC addresses of the client and the server side; an Ethernet
// layer with zero addresses uses them according to the packet's direction.
var (
	defaultClientMAC = MAC{0x02, 0, 0, 0, 0, 0x01}
	defaultServerMAC = MAC{0x02, 0, 0, 0, 0, 0x02}
)

// Ethernet is an Ethernet II header. Zero addresses mean the default
// client and server MACs (02:00:00:00:00:01 and :02), source and
// destination chosen by the packet's direction.
type Ethernet struct{ Src, Dst MAC }

// LinuxSLL is a Linux cooked-capture (v1) header; it must come first.
// PacketType is the sll_pkttype (0 = to us, 4 = outgoing); zero means 0.
type LinuxSLL struct{ PacketType uint16 }

// LinuxSLL2 is a Linux cooked-capture v2 header; it must come first.
// PacketType is the sll2_pkttype, IfIndex the interface index.
type LinuxSLL2 struct {
	PacketType uint8
	IfIndex    uint32
}

// RawIP selects the raw IP link type (no link header); it must come first.
type RawIP struct{}

// Null is a BSD loopback header (4-byte address family in little-endian
// host order, 2 for IPv4, 24 for IPv6); it must come first.
type Null struct{}

// VLAN is an 802.1Q tag. TPID is the EtherType announcing the tag, written
// by the preceding header: 0 means 0x8100; use 0x88a8 for the outer (S-)tag
// of QinQ.
type VLAN struct {
	ID       uint16
	Priority uint8
	TPID     uint16
}

// MPLS is one label stack entry; TTL 0 means 64. The bottom-of-stack bit is
// set when the next layer is not MPLS. The next layer must be MPLS or IP.
type MPLS struct {
	Label uint32
	TTL   uint8
}

// IP is an outer (tunnel) IPv4 or IPv6 header; the address family comes
// from Src and Dst, which must agree. FragmentSize > 0 fragments IPv4
// packets larger than that many bytes (header included) into fragments of
// at most that size; ReverseFragments emits them last fragment first.
type IP struct {
	Src, Dst         netip.Addr
	FragmentSize     int
	ReverseFragments bool
}

// UDP is a UDP header. DstPort 0 means the tunnel's IANA port (4789 before
// VXLAN, 6081 before GENEVE); SrcPort 0 means a port derived from the inner
// flow, as tunnel endpoints do. The checksum is zero.
type UDP struct{ SrcPort, DstPort uint16 }

// GRE is a GRE header (RFC 2784/2890). The key is present when KeyPresent;
// a sequence number is present when Seq or when ERSPAN follows.
type GRE struct {
	Key        uint32
	KeyPresent bool
	Seq        bool
}

// ERSPAN2 is an ERSPAN type II header; the next layer must be Ethernet.
type ERSPAN2 struct {
	SessionID uint16 // 10 bits
	VLAN      uint16 // 12 bits
	Index     uint32 // 20 bits
}

// ERSPAN3 is an ERSPAN type III header (12 bytes, no platform-specific
// subheader); the next layer must be Ethernet.
type ERSPAN3 struct {
	SessionID  uint16 // 10 bits
	VLAN       uint16 // 12 bits
	Timestamp  uint32
	HardwareID uint8 // 6 bits
}

// VXLAN is a VXLAN header (RFC 7348); the next layer must be Ethernet.
type VXLAN struct{ VNI uint32 }

// Geneve is a GENEVE header without options (RFC 8926); the next layer is
// Ethernet (protocol 0x6558) or IP.
type Geneve struct{ VNI uint32 }

func (Ethernet) kind() layerKind  { return kEthernet }
func (LinuxSLL) kind() layerKind  { return kSLL }
func (LinuxSLL2) kind() layerKind { return kSLL2 }
func (RawIP) kind() layerKind     { return kRaw }
func (Null) kind() layerKind      { return kNull }
func (VLAN) kind() layerKind      { return kVLAN }
func (MPLS) kind() layerKind      { return kMPLS }
func (l IP) kind() layerKind {
	if l.Src.Is4() {
		return kIPv4
	}
	return kIPv6
}
func (UDP) kind() layerKind     { return kUDP }
func (GRE) kind() layerKind     { return kGRE }
func (ERSPAN2) kind() layerKind { return kERSPAN2 }
func (ERSPAN3) kind() layerKind { return kERSPAN3 }
func (VXLAN) kind() layerKind   { return kVXLAN }
func (Geneve) kind() layerKind  { return kGeneve }

// VXLANTunnel returns the layers of a VXLAN tunnel between two tunnel
// endpoints: Ethernet, IP, UDP, VXLAN and the inner Ethernet header.
func VXLANTunnel(src, dst netip.Addr, vni uint32) []Layer {
	return []Layer{Ethernet{}, IP{Src: src, Dst: dst}, UDP{}, VXLAN{VNI: vni}, Ethernet{}}
}

// GeneveTunnel returns the layers of a GENEVE tunnel carrying Ethernet.
func GeneveTunnel(src, dst netip.Addr, vni uint32) []Layer {
	return []Layer{Ethernet{}, IP{Src: src, Dst: dst}, UDP{}, Geneve{VNI: vni}, Ethernet{}}
}

// GRETunnel returns the layers of a GRE tunnel carrying IP directly.
func GRETunnel(src, dst netip.Addr) []Layer {
	return []Layer{Ethernet{}, IP{Src: src, Dst: dst}, GRE{}}
}

// ERSPANTunnel returns the layers of an ERSPAN session of type II
// (version 2) or III (version 3) carrying the mirrored Ethernet frame.
func ERSPANTunnel(version int, src, dst netip.Addr, session uint16) []Layer {
	var e Layer = ERSPAN2{SessionID: session}
	if version == 3 {
		e = ERSPAN3{SessionID: session}
	}
	return []Layer{Ethernet{}, IP{Src: src, Dst: dst}, GRE{Seq: true}, e, Ethernet{}}
}

// linkTypeOf returns the link type a stack produces.
func linkTypeOf(stack []Layer) (LinkType, error) {
	if len(stack) == 0 {
		return LinkTypeEthernet, nil
	}
	for i, l := range stack[1:] {
		switch l.kind() {
		case kSLL, kSLL2, kRaw, kNull:
			return 0, fmt.Errorf("synth: layer %d (%T) must be the first of the stack", i+1, l)
		}
	}
	switch stack[0].kind() {
	case kEthernet:
		return LinkTypeEthernet, nil
	case kSLL:
		return LinkTypeLinuxSLL, nil
	case kSLL2:
		return LinkTypeLinuxSLL2, nil
	case kRaw, kIPv4, kIPv6:
		return LinkTypeRaw, nil
	case kNull:
		return LinkTypeNull, nil
	}
	return 0, fmt.Errorf("synth: a stack cannot start with %T", stack[0])
}

// encoder wraps the IP packets of one direction of a connection in its
// encapsulation stack. It keeps the per-direction counters (IPv4 ids, GRE
// sequence numbers, ERSPAN timestamps).
type encoder struct {
	stack      []Layer
	linkType   LinkType
	fromClient bool
	flowPort   uint16 // UDP source port derived from the inner flow
	ipID       uint16
	greSeq     uint32
	ticks      uint32
}

func newEncoder(stack []Layer, fromClient bool, flowPort uint16, ipID uint16) (*encoder, error) {
	if len(stack) == 0 {
		stack = []Layer{Ethernet{}}
	}
	lt, err := linkTypeOf(stack)
	if err != nil {
		return nil, err
	}
	for _, l := range stack {
		if ip, ok := l.(IP); ok {
			if !ip.Src.IsValid() || !ip.Dst.IsValid() || ip.Src.Is4() != ip.Dst.Is4() {
				return nil, fmt.Errorf("synth: tunnel IP layer needs two addresses of one family, got %v and %v", ip.Src, ip.Dst)
			}
		}
	}
	return &encoder{stack: stack, linkType: lt, fromClient: fromClient, flowPort: flowPort, ipID: ipID}, nil
}

var errBadChain = errors.New("unsupported layer order")

// etherType is the EtherType announcing l.
func etherType(l Layer) (uint16, error) {
	switch v := l.(type) {
	case VLAN:
		if v.TPID == 0 {
			return 0x8100, nil
		}
		return v.TPID, nil
	case MPLS:
		return 0x8847, nil
	case IP:
		if v.Src.Is4() {
			return 0x0800, nil
		}
		return 0x86dd, nil
	}
	return 0, fmt.Errorf("synth: %T cannot follow an EtherType: %w", l, errBadChain)
}

// encap wraps one inner IP packet (inner describes its addresses) and
// returns the frames; outer IPv4 fragmentation may yield several.
func (e *encoder) encap(pkt []byte, inner IP) ([][]byte, error) {
	pkts := [][]byte{pkt}
	var next Layer = inner
	for i := len(e.stack) - 1; i >= 0; i-- {
		l := e.stack[i]
		out := pkts[:0:0]
		for _, p := range pkts {
			ps, err := e.wrap(l, next, p)
			if err != nil {
				return nil, fmt.Errorf("synth: layer %d (%T) before %T: %w", i, l, next, err)
			}
			out = append(out, ps...)
		}
		pkts = out
		next = l
	}
	return pkts, nil
}

func prepend(hdr []byte, p []byte) []byte {
	b := make([]byte, len(hdr)+len(p))
	copy(b, hdr)
	copy(b[len(hdr):], p)
	return b
}

func (e *encoder) macs() (src, dst MAC) {
	if e.fromClient {
		return defaultClientMAC, defaultServerMAC
	}
	return defaultServerMAC, defaultClientMAC
}

func (e *encoder) wrap(l, next Layer, p []byte) ([][]byte, error) {
	one := func(hdr []byte) ([][]byte, error) { return [][]byte{prepend(hdr, p)}, nil }
	switch v := l.(type) {
	case Ethernet:
		et, err := etherType(next)
		if err != nil {
			return nil, err
		}
		src, dst := e.macs()
		if v.Src != (MAC{}) {
			src = v.Src
		}
		if v.Dst != (MAC{}) {
			dst = v.Dst
		}
		var h [14]byte
		copy(h[0:6], dst[:])
		copy(h[6:12], src[:])
		binary.BigEndian.PutUint16(h[12:], et)
		return one(h[:])
	case LinuxSLL:
		et, err := etherType(next)
		if err != nil {
			return nil, err
		}
		src, _ := e.macs()
		var h [16]byte
		binary.BigEndian.PutUint16(h[0:], v.PacketType)
		binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(h[4:], 6)
		copy(h[6:12], src[:])
		binary.BigEndian.PutUint16(h[14:], et)
		return one(h[:])
	case LinuxSLL2:
		et, err := etherType(next)
		if err != nil {
			return nil, err
		}
		src, _ := e.macs()
		var h [20]byte
		binary.BigEndian.PutUint16(h[0:], et)
		binary.BigEndian.PutUint32(h[4:], v.IfIndex)
		binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
		h[10] = v.PacketType
		h[11] = 6
		copy(h[12:18], src[:])
		return one(h[:])
	case RawIP:
		if k := next.kind(); k != kIPv4 && k != kIPv6 {
			return nil, errBadChain
		}
		return [][]byte{p}, nil
	case Null:
		var h [4]byte
		switch next.kind() {
		case kIPv4:
			binary.LittleEndian.PutUint32(h[:], 2)
		case kIPv6:
			binary.LittleEndian.PutUint32(h[:], 24)
		default:
			return nil, errBadChain
		}
		return one(h[:])
	case VLAN:
		et, err := etherType(next)
		if err != nil {
			return nil, err
		}
		var h [4]byte
		binary.BigEndian.PutUint16(h[0:], uint16(v.Priority&7)<<13|v.ID&0x0fff)
		binary.BigEndian.PutUint16(h[2:], et)
		return one(h[:])
	case MPLS:
		k := next.kind()
		if k != kMPLS && k != kIPv4 && k != kIPv6 {
			return nil, errBadChain
		}
		ttl := v.TTL
		if ttl == 0 {
			ttl = 64
		}
		w := v.Label<<12 | uint32(ttl)
		if k != kMPLS {
			w |= 1 << 8
		}
		var h [4]byte
		binary.BigEndian.PutUint32(h[:], w)
		return one(h[:])
	case IP:
		var proto uint8
		switch next.kind() {
		case kUDP:
			proto = 17
		case kGRE:
			proto = 47
		case kIPv4:
			proto = 4
		case kIPv6:
			proto = 41
		default:
			return nil, errBadChain
		}
		e.ipID++
		return ipPackets(v, proto, e.ipID, p), nil
	case UDP:
		dport := v.DstPort
		if dport == 0 {
			switch next.kind() {
			case kVXLAN:
				dport = 4789
			case kGeneve:
				dport = 6081
			default:
				return nil, fmt.Errorf("UDP before %T needs a DstPort: %w", next, errBadChain)
			}
		}
		sport := v.SrcPort
		if sport == 0 {
			sport = e.flowPort
		}
		var h [8]byte
		binary.BigEndian.PutUint16(h[0:], sport)
		binary.BigEndian.PutUint16(h[2:], dport)
		binary.BigEndian.PutUint16(h[4:], uint16(8+len(p)))
		return one(h[:])
	case GRE:
		var proto uint16
		seq := v.Seq
		switch nv := next.(type) {
		case Ethernet:
			proto = 0x6558
		case ERSPAN2:
			proto, seq = 0x88be, true
		case ERSPAN3:
			proto, seq = 0x22eb, true
		default:
			et, err := etherType(nv)
			if err != nil {
				return nil, err
			}
			proto = et
		}
		h := make([]byte, 4, 12)
		if v.KeyPresent {
			h[0] |= 0x20
		}
		if seq {
			h[0] |= 0x10
		}
		binary.BigEndian.PutUint16(h[2:], proto)
		if v.KeyPresent {
			h = binary.BigEndian.AppendUint32(h, v.Key)
		}
		if seq {
			h = binary.BigEndian.AppendUint32(h, e.greSeq)
			e.greSeq++
		}
		return one(h)
	case ERSPAN2:
		if next.kind() != kEthernet {
			return nil, errBadChain
		}
		var h [8]byte
		binary.BigEndian.PutUint16(h[0:], 1<<12|v.VLAN&0x0fff)
		binary.BigEndian.PutUint16(h[2:], v.SessionID&0x03ff)
		binary.BigEndian.PutUint32(h[4:], v.Index&0x000fffff)
		return one(h[:])
	case ERSPAN3:
		if next.kind() != kEthernet {
			return nil, errBadChain
		}
		ts := v.Timestamp
		if ts == 0 {
			e.ticks++
			ts = e.ticks
		}
		var h [12]byte
		binary.BigEndian.PutUint16(h[0:], 2<<12|v.VLAN&0x0fff)
		binary.BigEndian.PutUint16(h[2:], v.SessionID&0x03ff)
		binary.BigEndian.PutUint32(h[4:], ts)
		// SGT 0, P 0, FT 0 (Ethernet), HW ID, D 0, Gra 0, O 0.
		binary.BigEndian.PutUint16(h[10:], uint16(v.HardwareID&0x3f)<<4)
		return one(h[:])
	case VXLAN:
		if next.kind() != kEthernet {
			return nil, errBadChain
		}
		var h [8]byte
		h[0] = 0x08
		binary.BigEndian.PutUint32(h[4:], v.VNI<<8)
		return one(h[:])
	case Geneve:
		var proto uint16
		if next.kind() == kEthernet {
			proto = 0x6558
		} else {
			et, err := etherType(next)
			if err != nil {
				return nil, err
			}
			proto = et
		}
		var h [8]byte
		binary.BigEndian.PutUint16(h[2:], proto)
		binary.BigEndian.PutUint32(h[4:], v.VNI<<8)
		return one(h[:])
	}
	return nil, fmt.Errorf("unknown layer %T: %w", l, errBadChain)
}

// ipPackets builds the IPv4 or IPv6 packet(s) carrying payload with the
// given protocol, fragmenting IPv4 as l.FragmentSize asks.
func ipPackets(l IP, proto uint8, id uint16, payload []byte) [][]byte {
	if !l.Src.Is4() {
		h := make([]byte, 40, 40+len(payload))
		h[0] = 0x60
		binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
		h[6] = proto
		h[7] = 64
		s, d := l.Src.As16(), l.Dst.As16()
		copy(h[8:24], s[:])
		copy(h[24:40], d[:])
		return [][]byte{append(h, payload...)}
	}
	if l.FragmentSize <= 0 || 20+len(payload) <= l.FragmentSize {
		return [][]byte{ipv4Packet(l, proto, id, 0, false, payload)}
	}
	chunk := (l.FragmentSize - 20) &^ 7
	if chunk < 8 {
		chunk = 8
	}
	var out [][]byte
	for off := 0; off < len(payload); off += chunk {
		end := min(off+chunk, len(payload))
		out = append(out, ipv4Packet(l, proto, id, off, end < len(payload), payload[off:end]))
	}
	if l.ReverseFragments {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

func ipv4Packet(l IP, proto uint8, id uint16, off int, more bool, payload []byte) []byte {
	b := make([]byte, 20+len(payload))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(b[4:], id)
	fo := uint16(off / 8)
	if more {
		fo |= 0x2000
	}
	binary.BigEndian.PutUint16(b[6:], fo)
	b[8] = 64
	b[9] = proto
	s, d := l.Src.As4(), l.Dst.As4()
	copy(b[12:16], s[:])
	copy(b[16:20], d[:])
	binary.BigEndian.PutUint16(b[10:], ^checksumFold(checksumAdd(0, b[:20])))
	copy(b[20:], payload)
	return b
}

// checksumAdd adds b to the running ones'-complement sum.
func checksumAdd(sum uint32, b []byte) uint32 {
	n := len(b) &^ 1
	for i := 0; i < n; i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)&1 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	return sum
}

func checksumFold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}

// tcpSegment builds a TCP header plus payload with a valid checksum for the
// pseudo-header of src and dst.
func tcpSegment(src, dst netip.AddrPort, seq, ack uint32, flags uint8, window uint16, mss uint16, payload []byte) []byte {
	hl := 20
	if mss != 0 {
		hl = 24
	}
	b := make([]byte, hl+len(payload))
	binary.BigEndian.PutUint16(b[0:], src.Port())
	binary.BigEndian.PutUint16(b[2:], dst.Port())
	binary.BigEndian.PutUint32(b[4:], seq)
	binary.BigEndian.PutUint32(b[8:], ack)
	b[12] = uint8(hl/4) << 4
	b[13] = flags
	binary.BigEndian.PutUint16(b[14:], window)
	if mss != 0 {
		b[20], b[21] = 2, 4
		binary.BigEndian.PutUint16(b[22:], mss)
	}
	copy(b[hl:], payload)
	var sum uint32
	if src.Addr().Is4() {
		s, d := src.Addr().As4(), dst.Addr().As4()
		sum = checksumAdd(sum, s[:])
		sum = checksumAdd(sum, d[:])
	} else {
		s, d := src.Addr().As16(), dst.Addr().As16()
		sum = checksumAdd(sum, s[:])
		sum = checksumAdd(sum, d[:])
	}
	sum += 6 + uint32(len(b))
	sum = checksumAdd(sum, b)
	binary.BigEndian.PutUint16(b[16:], ^checksumFold(sum))
	return b
}
