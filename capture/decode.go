package capture

import (
	"encoding/binary"
	"time"
)

// Link types the decoder accepts beyond the named LinkType constants. Old
// or BSD-written captures carry the DLT_ value instead of the LINKTYPE_ one.
const (
	linkTypePPP       LinkType = 9   // PPP, optional HDLC address/control
	linkTypeRawDLT12  LinkType = 12  // DLT_RAW on most BSDs (DLT_LOOP on OpenBSD)
	linkTypeRawDLT14  LinkType = 14  // DLT_RAW on OpenBSD
	linkTypePPPHDLC   LinkType = 50  // PPP in HDLC-like framing
	linkTypeCHDLC     LinkType = 104 // Cisco HDLC
	linkTypeIEEE80211 LinkType = 105 // 802.11 without radio header
)

// Default values of DecoderConfig.
const (
	DefaultMaxDepth                = 8
	DefaultMaxFragmentBytes        = 16 << 20
	DefaultMaxFragmentDatagrams    = 4096
	DefaultMaxFragmentsPerDatagram = 128
	DefaultFragmentTimeout         = 30 * time.Second
)

// Default UDP ports of the UDP-based encapsulations.
const (
	DefaultVXLANPort    = 4789
	DefaultVXLANGPEPort = 4790
	DefaultGENEVEPort   = 6081
	DefaultGREUDPPort   = 4754
	DefaultTeredoPort   = 3544
	DefaultAYIYAPort    = 5072
	DefaultGTPUPort     = 2152
)

// maxTags bounds the Ethernet tags (VLAN and the like) read in a row;
// more are counted as TooDeep.
const maxTags = 16

// DecoderConfig configures a Decoder. The zero value is ready to use.
type DecoderConfig struct {
	// MaxDepth is the most nested encapsulations removed from one frame:
	// every tunnel (GRE, VXLAN, GENEVE, Teredo, AYIYA, GTP-U, IP in IP,
	// EtherIP, an Ethernet pseudowire) and every IP reassembly counts one;
	// VLAN tags and MPLS labels do not (the frame's length bounds them).
	// Deeper frames are counted as TooDeep and Malformed.
	// 0 (or negative) means DefaultMaxDepth (8).
	MaxDepth int

	// MaxFragmentBytes bounds the buffer bytes held for IPv4 and IPv6
	// fragment reassembly; the oldest incomplete datagrams are evicted
	// (FragmentEvictions) to make room. 0 means DefaultMaxFragmentBytes
	// (16 MiB); negative disables reassembly (every fragment is counted
	// and dropped).
	MaxFragmentBytes int
	// MaxFragmentDatagrams bounds the incomplete datagrams held; the oldest
	// is evicted to make room. 0 (or negative) means 4096.
	MaxFragmentDatagrams int
	// MaxFragmentsPerDatagram bounds the fragments accepted for one
	// datagram; further ones are invalid. 0 (or negative) means 128.
	MaxFragmentsPerDatagram int
	// FragmentTimeout discards an incomplete datagram this long (in packet
	// time) after its first fragment. 0 (or negative) means 30s.
	FragmentTimeout time.Duration

	// UDP destination (or, failing that, source) ports that identify each
	// UDP encapsulation. nil means the default port (VXLAN 4789,
	// VXLAN-GPE 4790, GENEVE 6081, GRE-in-UDP 4754, Teredo 3544, AYIYA
	// 5072, GTP-U 2152); an empty non-nil slice disables the
	// encapsulation; port 0 is ignored. A port listed twice goes to the
	// first of VXLAN, GENEVE, VXLAN-GPE, GRE-in-UDP, Teredo, AYIYA, GTP-U.
	// A UDP payload whose header does not fit the encapsulation is counted
	// as plain UDP.
	VXLANPorts    []uint16
	VXLANGPEPorts []uint16
	GENEVEPorts   []uint16
	GREUDPPorts   []uint16
	TeredoPorts   []uint16
	AYIYAPorts    []uint16
	GTPUPorts     []uint16

	// NoTeredoDetection turns off the recognition of Teredo on any port.
	// False (the default) decodes a UDP datagram on a port that matches no
	// encapsulation as Teredo when its payload is exactly one IPv6 packet
	// carrying TCP, as Zeek does: Teredo relays use arbitrary ports once a
	// qualification exchange on 3544 has set the tunnel up.
	NoTeredoDetection bool
}

// UDP encapsulations, as stored in Decoder.udpPorts (0: none).
const (
	udpNone uint8 = iota
	udpVXLAN
	udpVXLANGPE
	udpGENEVE
	udpGRE
	udpTeredo
	udpAYIYA
	udpGTPU
)

// Decoder turns captured frames into the innermost TCP segment they carry.
//
// It understands the link types Ethernet, Linux cooked (SLL, SLL2), raw IP
// (101, 228, 229, and the DLT values 12 and 14), BSD loopback (0, 108),
// NFLOG, PPP, Cisco HDLC and 802.11 data frames; the encapsulations 802.1Q
// and QinQ (0x8100, 0x88a8, 0x9100, 0x9200), PBB, VN-tag and E-tag, MPLS
// (with IPv4, IPv6 or Ethernet pseudowire payloads), PPPoE, LLC/SNAP, GRE
// (with checksum, key, sequence, routing; transparent Ethernet bridging,
// Aruba 802.11, PPTP), ERSPAN I, II and III, VXLAN, VXLAN-GPE, GENEVE,
// GRE over UDP, Teredo, AYIYA, GTP-U, IP in IP (4, 41), EtherIP and MPLS
// in IP; IPv4 options, IPv6 extension headers and IPv4/IPv6 fragments,
// which it reassembles. It verifies no checksum.
//
// A Decoder is used by one goroutine at a time; Stats may be called
// concurrently from any goroutine. Decoding allocates nothing in the steady
// state, except when reassembly needs more buffers than it has pooled.
type Decoder struct {
	maxDepth      int
	udpPorts      *[65536]uint8
	teredoAnyPort bool
	frag          *defragmenter // nil when reassembly is disabled

	// Per-frame state.
	ts       time.Time // of the frame (never keep the *Frame: it would escape)
	depth    int
	cut      bool     // a length field claimed more bytes than were captured
	src, dst [16]byte // addresses of the innermost IP header so far (IPv4-mapped)

	// reassembled reports that the packet just decoded came from a datagram
	// that fragment reassembly completed: its payload is in the decoder's
	// buffer, valid until the next Decode, not in the frame.
	reassembled bool

	ctr decoderCounters
}

// NewDecoder returns a Decoder configured by cfg.
func NewDecoder(cfg DecoderConfig) *Decoder {
	d := &Decoder{
		maxDepth:      cfg.MaxDepth,
		udpPorts:      new([65536]uint8),
		teredoAnyPort: !cfg.NoTeredoDetection,
	}
	if d.maxDepth <= 0 {
		d.maxDepth = DefaultMaxDepth
	}
	ports := []struct {
		list []uint16
		def  uint16
		kind uint8
	}{
		// Later entries win when the same port is given twice (see
		// DecoderConfig).
		{cfg.GTPUPorts, DefaultGTPUPort, udpGTPU},
		{cfg.AYIYAPorts, DefaultAYIYAPort, udpAYIYA},
		{cfg.TeredoPorts, DefaultTeredoPort, udpTeredo},
		{cfg.GREUDPPorts, DefaultGREUDPPort, udpGRE},
		{cfg.VXLANGPEPorts, DefaultVXLANGPEPort, udpVXLANGPE},
		{cfg.GENEVEPorts, DefaultGENEVEPort, udpGENEVE},
		{cfg.VXLANPorts, DefaultVXLANPort, udpVXLAN},
	}
	for _, p := range ports {
		if p.list == nil {
			d.udpPorts[p.def] = p.kind
			continue
		}
		for _, port := range p.list {
			if port != 0 {
				d.udpPorts[port] = p.kind
			}
		}
	}
	if cfg.MaxFragmentBytes >= 0 {
		d.frag = newDefragmenter(cfg, &d.ctr)
	}
	return d
}

// Stats returns the decoder's counters. It is safe to call concurrently
// with Decode.
func (d *Decoder) Stats() DecoderStats { return d.ctr.snapshot() }

// Decode decodes frame f into p. It returns true when p now holds the
// innermost TCP segment of f (or of the datagram that f's fragment
// completed). It returns false, leaving p untouched, for frames that carry
// no TCP (counted by kind), fragments held for reassembly, malformed or
// truncated frames and unknown link types (all counted; see DecoderStats).
//
// p.Payload points into f.Data or into the decoder's reassembly buffer; it
// is valid until the next Decode call. When the frame was cut short (snap
// length), the payload holds what was captured and Truncated is counted.
func (d *Decoder) Decode(f *Frame, p *Packet) bool {
	if d.frag != nil && d.frag.busy() {
		d.frag.tick(f.Timestamp)
	}
	d.ts = f.Timestamp
	d.depth = 0
	d.cut = false
	d.reassembled = false
	b := f.Data

	var r result
	switch f.LinkType {
	case LinkTypeEthernet:
		r = d.ether(b, p)
	case LinkTypeRaw, linkTypeRawDLT14:
		r = d.rawIP(b, p)
	case LinkTypeIPv4:
		r = d.ipv4(b, p)
	case LinkTypeIPv6:
		r = d.ipv6(b, p)
	case LinkTypeLinuxSLL:
		r = d.sll(b, p)
	case LinkTypeLinuxSLL2:
		r = d.sll2(b, p)
	case LinkTypeNull:
		r = d.null(b, p, false)
	case LinkTypeLoop:
		r = d.null(b, p, true)
	case linkTypeRawDLT12:
		// DLT_RAW, except on OpenBSD where 12 is DLT_LOOP.
		if len(b) >= 4 && b[0]>>4 != 4 && b[0]>>4 != 6 {
			r = d.null(b, p, true)
		} else {
			r = d.rawIP(b, p)
		}
	case LinkTypeNFLOG:
		r = d.nflog(b, p)
	case linkTypePPP, linkTypePPPHDLC:
		r = d.ppp(b, p)
	case linkTypeCHDLC:
		r = d.chdlc(b, p)
	case linkTypeIEEE80211:
		r = d.dot11(b, p)
	default:
		r = resUnknownLink
		d.ctr.lastUnknownLink.Store(uint32(f.LinkType))
	}

	switch r {
	case resTCP:
		d.ctr.results[resTCP].Add(1)
		p.Timestamp = f.Timestamp
		if d.cut {
			d.ctr.truncated.Add(1)
		}
		return true
	case resTooDeep:
		d.ctr.tooDeep.Add(1)
		r = resMalformed
	}
	if r == resMalformed && f.Length > len(f.Data) {
		d.ctr.truncatedHeaders.Add(1)
	}
	d.ctr.results[r].Add(1)
	return false
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// nest enters one more level of encapsulation; false means too deep.
func (d *Decoder) nest() bool {
	d.depth++
	return d.depth <= d.maxDepth
}

// enter is nest plus counting a tunnel of kind k.
func (d *Decoder) enter(k TunnelKind) bool {
	if !d.nest() {
		return false
	}
	d.ctr.tunnels[k].Add(1)
	return true
}

func (d *Decoder) count(k TunnelKind) { d.ctr.tunnels[k].Add(1) }

// ---- Link layers ----

func (d *Decoder) ether(b []byte, p *Packet) result {
	if len(b) < 14 {
		return resMalformed
	}
	et := be16(b[12:])
	b = b[14:]
	if et < 0x0600 {
		return d.ieee8023(et, b, p)
	}
	return d.ethertype(et, b, p)
}

// ieee8023 handles an Ethernet length field (802.3 framing): LLC follows.
func (d *Decoder) ieee8023(n uint16, b []byte, p *Packet) result {
	if n > 1500 {
		return resNonIP
	}
	if int(n) <= len(b) {
		b = b[:n]
	}
	return d.llc(b, p)
}

// ethertype dispatches on an EtherType, removing any tags first.
func (d *Decoder) ethertype(et uint16, b []byte, p *Packet) result {
	for tags := 0; ; tags++ {
		if tags > maxTags {
			return resTooDeep
		}
		switch et {
		case 0x0800:
			return d.ipv4(b, p)
		case 0x86dd:
			return d.ipv6(b, p)
		case 0x8100, 0x88a8, 0x9100, 0x9200, 0x9300: // 802.1Q, 802.1ad, legacy QinQ
			if len(b) < 4 {
				return resMalformed
			}
			d.count(TunnelVLAN)
			et = be16(b[2:])
			b = b[4:]
		case 0x88e7: // 802.1ah PBB I-tag: I-SID, customer addresses, EtherType
			if len(b) < 18 {
				return resMalformed
			}
			d.count(TunnelVLAN)
			et = be16(b[16:])
			b = b[18:]
		case 0x8926: // Cisco VN-tag
			if len(b) < 6 {
				return resMalformed
			}
			d.count(TunnelVLAN)
			et = be16(b[4:])
			b = b[6:]
		case 0x893f: // 802.1BR E-tag
			if len(b) < 8 {
				return resMalformed
			}
			d.count(TunnelVLAN)
			et = be16(b[6:])
			b = b[8:]
		case 0x8847, 0x8848:
			return d.mpls(b, p)
		case 0x8864:
			return d.pppoe(b, p)
		case 0x6558: // transparent Ethernet bridging
			if !d.nest() {
				return resTooDeep
			}
			return d.ether(b, p)
		default:
			if et < 0x0600 {
				return d.ieee8023(et, b, p)
			}
			return resNonIP
		}
	}
}

// llc handles an 802.2 LLC header, with SNAP.
func (d *Decoder) llc(b []byte, p *Packet) result {
	if len(b) < 3 {
		return resMalformed
	}
	hl := 3
	if b[2]&3 != 3 { // I- or S-format control field is 2 bytes
		hl = 4
	}
	switch {
	case b[0] == 0xaa && b[1] == 0xaa: // SNAP
		if len(b) < hl+5 {
			return resMalformed
		}
		oui := b[hl : hl+3]
		if oui[0] != 0 || oui[1] != 0 || (oui[2] != 0 && oui[2] != 0xf8) {
			return resNonIP // vendor protocol (CDP, ...)
		}
		et := be16(b[hl+3:])
		if et < 0x0600 {
			return resNonIP
		}
		return d.ethertype(et, b[hl+5:], p)
	case b[0] == 0x06 && b[1] == 0x06: // IP directly over LLC
		if len(b) < hl {
			return resMalformed
		}
		return d.ipv4(b[hl:], p)
	}
	return resNonIP
}

func (d *Decoder) rawIP(b []byte, p *Packet) result {
	if len(b) == 0 {
		return resMalformed
	}
	switch b[0] >> 4 {
	case 4:
		return d.ipv4(b, p)
	case 6:
		return d.ipv6(b, p)
	}
	return resMalformed
}

// Linux ARPHRD_ values seen in cooked captures.
const (
	arphrdIPGRE   = 778
	arphrdNetlink = 824
)

func (d *Decoder) sll(b []byte, p *Packet) result {
	if len(b) < 16 {
		return resMalformed
	}
	return d.cooked(be16(b[2:]), be16(b[14:]), b[16:], p)
}

func (d *Decoder) sll2(b []byte, p *Packet) result {
	if len(b) < 20 {
		return resMalformed
	}
	return d.cooked(be16(b[8:]), be16(b[0:]), b[20:], p)
}

// cooked handles the payload of a Linux cooked capture header.
func (d *Decoder) cooked(hatype, proto uint16, b []byte, p *Packet) result {
	if hatype == arphrdNetlink {
		return resNonIP
	}
	// For ARPHRD_IPGRE the protocol is the GRE protocol type of the GRE
	// payload, which is an EtherType as well.
	switch {
	case proto == 0x0004: // 802.2 LLC frames
		return d.llc(b, p)
	case proto < 0x0600: // Novell 802.3, CAN, ...
		return resNonIP
	}
	return d.ethertype(proto, b, p)
}

// null handles BSD loopback: a 4-byte address family, in the capturing
// host's byte order (LinkTypeNull) or in network order (LinkTypeLoop).
func (d *Decoder) null(b []byte, p *Packet, network bool) result {
	if len(b) < 4 {
		return resMalformed
	}
	fam := binary.LittleEndian.Uint32(b)
	if network || fam > 0xffff {
		fam = be32(b)
	}
	switch fam {
	case 2: // AF_INET
		return d.ipv4(b[4:], p)
	case 10, 23, 24, 28, 30: // AF_INET6: Linux, Windows, Net/OpenBSD, FreeBSD, Darwin
		return d.ipv6(b[4:], p)
	}
	return resNonIP
}

// nflog handles Linux NFLOG: a 4-byte header, then type-length-value
// attributes in host byte order; the packet is attribute NFULA_PAYLOAD.
func (d *Decoder) nflog(b []byte, p *Packet) result {
	if len(b) < 4 {
		return resMalformed
	}
	family := b[0]
	b = b[4:]
	order := binary.ByteOrder(binary.LittleEndian)
	if len(b) >= 4 {
		if l := int(binary.LittleEndian.Uint16(b)); l < 4 || l > len(b) {
			order = binary.BigEndian
		}
	}
	for len(b) >= 4 {
		l := int(order.Uint16(b))
		t := order.Uint16(b[2:]) & 0x3fff // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
		if l < 4 || l > len(b) {
			return resMalformed
		}
		if t == 9 { // NFULA_PAYLOAD
			v := b[4:l]
			switch family {
			case 2:
				return d.ipv4(v, p)
			case 10:
				return d.ipv6(v, p)
			}
			return d.rawIP(v, p)
		}
		l = (l + 3) &^ 3
		if l > len(b) {
			break
		}
		b = b[l:]
	}
	return resNonIP
}

// ppp handles a PPP header: optional HDLC address and control bytes, then a
// 1- or 2-byte protocol number.
func (d *Decoder) ppp(b []byte, p *Packet) result {
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0x03 {
		b = b[2:]
	}
	if len(b) < 1 {
		return resMalformed
	}
	var proto uint16
	if b[0]&1 == 1 { // protocol field compression
		proto = uint16(b[0])
		b = b[1:]
	} else {
		if len(b) < 2 {
			return resMalformed
		}
		proto = be16(b)
		b = b[2:]
	}
	switch proto {
	case 0x0021:
		return d.ipv4(b, p)
	case 0x0057:
		return d.ipv6(b, p)
	case 0x0281, 0x0283:
		return d.mpls(b, p)
	}
	return resNonIP
}

// chdlc handles Cisco HDLC: address, control, EtherType.
func (d *Decoder) chdlc(b []byte, p *Packet) result {
	if len(b) < 4 {
		return resMalformed
	}
	et := be16(b[2:])
	if et < 0x0600 {
		return resNonIP
	}
	return d.ethertype(et, b[4:], p)
}

// dot11 handles an 802.11 data frame (as carried by Aruba GRE); LLC follows.
func (d *Decoder) dot11(b []byte, p *Packet) result {
	if len(b) < 24 {
		return resMalformed
	}
	fc0, fc1 := b[0], b[1]
	if fc0&0x03 != 0 || (fc0>>2)&3 != 2 {
		return resNonIP // management, control, or an unknown version
	}
	if fc1&0x40 != 0 {
		return resNonIP // protected: encrypted payload
	}
	sub := fc0 >> 4
	if sub&0x4 != 0 {
		return resNonIP // null data: no payload
	}
	hl := 24
	if fc1&0x03 == 0x03 { // ToDS and FromDS: fourth address
		hl += 6
	}
	if sub&0x8 != 0 { // QoS data
		hl += 2
		if fc1&0x80 != 0 { // +HTC
			hl += 4
		}
	}
	if len(b) < hl {
		return resMalformed
	}
	return d.llc(b[hl:], p)
}

func (d *Decoder) mpls(b []byte, p *Packet) result {
	d.count(TunnelMPLS)
	var label uint32
	for {
		if len(b) < 4 {
			return resMalformed
		}
		e := be32(b)
		b = b[4:]
		label = e >> 12
		if e&0x100 != 0 { // bottom of stack
			break
		}
	}
	if len(b) == 0 {
		return resMalformed
	}
	switch label {
	case 0: // IPv4 explicit null
		return d.ipv4(b, p)
	case 2: // IPv6 explicit null
		return d.ipv6(b, p)
	}
	// The payload type is not signalled: guess from the first nibble, as
	// tcpdump and Wireshark do.
	switch b[0] >> 4 {
	case 4:
		if b[0]&0x0f >= 5 {
			return d.ipv4(b, p)
		}
	case 6:
		if len(b) >= 40 {
			return d.ipv6(b, p)
		}
	case 0:
		// An Ethernet pseudowire, with or without the 4-byte control word
		// (first nibble 0). Most MAC addresses also start with a 0 nibble,
		// so pick the reading that finds a known EtherType.
		if !(len(b) >= 14 && knownEtherType(be16(b[12:]))) && len(b) >= 18 && knownEtherType(be16(b[16:])) {
			b = b[4:]
		}
	}
	if !d.enter(TunnelEtherIP) {
		return resTooDeep
	}
	return d.ether(b, p)
}

func knownEtherType(et uint16) bool {
	switch et {
	case 0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x9100, 0x8847, 0x8848, 0x8864, 0x8863, 0x88cc:
		return true
	}
	return false
}

func (d *Decoder) pppoe(b []byte, p *Packet) result {
	if len(b) < 6 {
		return resMalformed
	}
	if b[0] != 0x11 || b[1] != 0 { // version 1, type 1, session data
		return resMalformed
	}
	d.count(TunnelPPPoE)
	n := int(be16(b[4:]))
	b = b[6:]
	if n <= len(b) {
		b = b[:n]
	} else {
		d.cut = true
	}
	return d.ppp(b, p)
}

// ---- Network layer ----

func (d *Decoder) ipv4(b []byte, p *Packet) result {
	if len(b) < 20 || b[0]>>4 != 4 {
		return resMalformed
	}
	ihl := int(b[0]&0x0f) << 2
	if ihl < 20 || len(b) < ihl {
		return resMalformed
	}
	cut := false
	switch tot := int(be16(b[2:])); {
	case tot > len(b):
		cut = true
		d.cut = true
	case tot >= ihl:
		b = b[:tot] // drop Ethernet padding and trailers
	case tot == 0:
		// Segmentation offload: the length is unknown; take what is there.
	default:
		return resMalformed
	}
	d.src = [16]byte{10: 0xff, 11: 0xff}
	d.dst = [16]byte{10: 0xff, 11: 0xff}
	*(*[4]byte)(d.src[12:]) = [4]byte(b[12:16])
	*(*[4]byte)(d.dst[12:]) = [4]byte(b[16:20])
	proto := b[9]
	if ff := be16(b[6:]); ff&0x3fff != 0 {
		return d.ipv4Fragment(b, ihl, ff, cut, p)
	}
	return d.transport(proto, b[ihl:], p)
}

func (d *Decoder) ipv4Fragment(b []byte, ihl int, ff uint16, cut bool, p *Packet) result {
	if d.frag == nil || cut {
		d.ctr.fragments.Add(1)
		d.ctr.fragDropped.Add(1)
		if cut {
			d.ctr.fragInvalid.Add(1)
		}
		return resFragment
	}
	k := fragKey{src: d.src, dst: d.dst, id: uint32(be16(b[4:])), proto: b[9]}
	data, proto, ok := d.frag.add(&k, int(ff&0x1fff)<<3, ff&0x2000 != 0, b[ihl:], b[9], d.ts)
	if !ok {
		return resFragment
	}
	d.reassembled = true
	if !d.nest() {
		return resTooDeep
	}
	return d.transport(proto, data, p)
}

func (d *Decoder) ipv6(b []byte, p *Packet) result {
	if len(b) < 40 || b[0]>>4 != 6 {
		return resMalformed
	}
	n := int(be16(b[4:]))
	nh := b[6]
	d.src, d.dst = [16]byte(b[8:24]), [16]byte(b[24:40])
	b = b[40:]
	cut := false
	switch {
	case n == 0:
		// Jumbogram or segmentation offload: take what is there.
	case n <= len(b):
		b = b[:n]
	default:
		cut = true
		d.cut = true
	}
	return d.ipv6Next(nh, b, cut, p)
}

// ipv6Next walks IPv6 extension headers from next header nh.
func (d *Decoder) ipv6Next(nh uint8, b []byte, cut bool, p *Packet) result {
	for {
		switch nh {
		case 0, 43, 51, 60: // hop-by-hop, routing, authentication header, destination options
			if len(b) < 8 {
				return resMalformed
			}
			hl := (int(b[1]) + 1) << 3 // 8-byte units, the first not counted
			if nh == 51 {
				hl = (int(b[1]) + 2) << 2 // 4-byte units, the first two not counted
			}
			if hl > len(b) {
				return resMalformed
			}
			nh = b[0]
			b = b[hl:]
		case 44: // fragment
			if len(b) < 8 {
				return resMalformed
			}
			next := b[0]
			off := int(be16(b[2:]) &^ 7)
			more := b[3]&1 != 0
			if off == 0 && !more { // atomic fragment
				nh = next
				b = b[8:]
				continue
			}
			if d.frag == nil || cut {
				d.ctr.fragments.Add(1)
				d.ctr.fragDropped.Add(1)
				if cut {
					d.ctr.fragInvalid.Add(1)
				}
				return resFragment
			}
			k := fragKey{src: d.src, dst: d.dst, id: be32(b[4:]), v6: true}
			data, proto, ok := d.frag.add(&k, off, more, b[8:], next, d.ts)
			if !ok {
				return resFragment
			}
			d.reassembled = true
			if !d.nest() {
				return resTooDeep
			}
			nh, b = proto, data
		default:
			return d.transport(nh, b, p)
		}
	}
}

// transport dispatches on an IP protocol number.
func (d *Decoder) transport(proto uint8, b []byte, p *Packet) result {
	switch proto {
	case 6:
		return d.tcp(b, p)
	case 17:
		return d.udp(b, p)
	case 1, 58:
		return resICMP
	case 47:
		if !d.enter(TunnelGRE) {
			return resTooDeep
		}
		return d.gre(b, p)
	case 4:
		if !d.enter(TunnelIPinIP) {
			return resTooDeep
		}
		return d.ipv4(b, p)
	case 41:
		if !d.enter(TunnelIPinIP) {
			return resTooDeep
		}
		return d.ipv6(b, p)
	case 51: // IPv4 authentication header (IPv6 AH is an extension header)
		if len(b) < 8 {
			return resMalformed
		}
		hl := (int(b[1]) + 2) << 2
		if hl > len(b) || b[0] == 51 {
			return resMalformed
		}
		return d.transport(b[0], b[hl:], p)
	case 97: // EtherIP
		if len(b) < 2 || b[0]>>4 != 3 {
			return resMalformed
		}
		if !d.enter(TunnelEtherIP) {
			return resTooDeep
		}
		return d.ether(b[2:], p)
	case 137: // MPLS in IP
		if !d.nest() {
			return resTooDeep
		}
		return d.mpls(b, p)
	}
	return resOtherIP
}

// tcp fills p from a TCP header; d.src and d.dst hold the IP addresses.
func (d *Decoder) tcp(b []byte, p *Packet) result {
	if len(b) < 20 {
		return resMalformed
	}
	off := int(b[12]>>4) << 2
	if off < 20 || off > len(b) {
		return resMalformed
	}
	p.Flow.SrcIP = d.src
	p.Flow.DstIP = d.dst
	p.Flow.SrcPort = be16(b[0:])
	p.Flow.DstPort = be16(b[2:])
	p.Seq = be32(b[4:])
	p.Ack = be32(b[8:])
	p.Flags = TCPFlags(b[13] & 0x3f)
	p.Window = be16(b[14:])
	p.Payload = b[off:]
	return resTCP
}

// ---- Tunnels ----

func (d *Decoder) udp(b []byte, p *Packet) result {
	if len(b) < 8 {
		return resMalformed
	}
	if n := int(be16(b[4:])); n >= 8 && n <= len(b) {
		b = b[:n]
	}
	sport, dport := be16(b[0:]), be16(b[2:])
	if k := d.udpPorts[dport]; k != udpNone {
		if r, ok := d.udpTunnel(k, b[8:], p); ok {
			return r
		}
	}
	if k := d.udpPorts[sport]; k != udpNone && sport != dport {
		if r, ok := d.udpTunnel(k, b[8:], p); ok {
			return r
		}
	}
	// Teredo on a port of the relay's choosing: only a bare IPv6 header
	// whose length fills the datagram exactly and whose next header is TCP.
	if pl := b[8:]; d.teredoAnyPort && len(pl) >= 60 && pl[0]>>4 == 6 && pl[6] == 6 && 40+int(be16(pl[4:])) == len(pl) {
		if r, ok := d.udpTunnel(udpTeredo, pl, p); ok {
			return r
		}
	}
	return resUDP
}

// udpTunnel decodes the UDP payload b as encapsulation k. ok is false when
// b does not look like that encapsulation (it is then plain UDP).
func (d *Decoder) udpTunnel(k uint8, b []byte, p *Packet) (r result, ok bool) {
	switch k {
	case udpVXLAN:
		// Flags: I (VNI valid) must be set; the reserved bits clear
		// (G, the group-based policy extension's flag, is allowed).
		if len(b) < 8 || b[0]&0x08 == 0 || b[0]&0x77 != 0 {
			return 0, false
		}
		if !d.enter(TunnelVXLAN) {
			return resTooDeep, true
		}
		return d.ether(b[8:], p), true

	case udpVXLANGPE:
		if len(b) < 8 || b[0]&0x30 != 0 { // version 0
			return 0, false
		}
		if !d.enter(TunnelVXLAN) {
			return resTooDeep, true
		}
		next := uint8(3) // Ethernet unless P is set
		if b[0]&0x04 != 0 {
			next = b[3]
		}
		switch next {
		case 1:
			return d.ipv4(b[8:], p), true
		case 2:
			return d.ipv6(b[8:], p), true
		case 3:
			return d.ether(b[8:], p), true
		case 5:
			return d.mpls(b[8:], p), true
		}
		return resNonIP, true

	case udpGENEVE:
		if len(b) < 8 || b[0]>>6 != 0 {
			return 0, false
		}
		if !d.enter(TunnelGENEVE) {
			return resTooDeep, true
		}
		hl := 8 + int(b[0]&0x3f)<<2
		if hl > len(b) {
			return resMalformed, true
		}
		if pt := be16(b[2:]); pt != 0x6558 {
			return d.ethertype(pt, b[hl:], p), true
		}
		return d.ether(b[hl:], p), true

	case udpGRE:
		if len(b) < 4 || be16(b)&0x0078 != 0 || be16(b)&7 > 1 {
			return 0, false
		}
		if !d.enter(TunnelGRE) {
			return resTooDeep, true
		}
		return d.gre(b, p), true

	case udpTeredo:
		off := 0
		if len(b) >= 4 && b[0] == 0 && b[1] == 1 { // authentication indicator
			off = 4 + int(b[2]) + int(b[3]) + 8 + 1
		}
		if len(b) >= off+8 && b[off] == 0 && b[off+1] == 0 { // origin indication
			off += 8
		}
		if len(b) < off+40 || b[off]>>4 != 6 {
			return 0, false
		}
		// The IPv6 packet fills the datagram exactly (unless cut short).
		if n := 40 + int(be16(b[off+4:])); n != len(b)-off && !(d.cut && n > len(b)-off) {
			return 0, false
		}
		if !d.enter(TunnelTeredo) {
			return resTooDeep, true
		}
		return d.ipv6(b[off:], p), true

	case udpAYIYA:
		if len(b) < 8 {
			return 0, false
		}
		idLen, sigLen, opcode, next := b[0]>>4, b[1]>>4, b[2]&0x0f, b[3]
		if idLen > 8 || (next != 4 && next != 41) {
			return 0, false
		}
		if opcode != 1 { // not "forward": no payload
			return resUDP, true
		}
		hl := 8 + 1<<idLen + int(sigLen)<<2
		if hl > len(b) {
			return resMalformed, true
		}
		if !d.enter(TunnelAYIYA) {
			return resTooDeep, true
		}
		if next == 4 {
			return d.ipv4(b[hl:], p), true
		}
		return d.ipv6(b[hl:], p), true

	case udpGTPU:
		if len(b) < 8 || b[0]>>5 != 1 || b[0]&0x10 == 0 { // version 1, protocol type GTP
			return 0, false
		}
		if b[1] != 0xff { // not a G-PDU: signalling (echo, error indication...)
			return resUDP, true
		}
		if !d.enter(TunnelGTPU) {
			return resTooDeep, true
		}
		n := int(be16(b[2:]))
		hl := 8
		if 8+n <= len(b) {
			b = b[:8+n]
		}
		if b[0]&0x07 != 0 { // sequence number, N-PDU number, extension headers
			if len(b) < 12 {
				return resMalformed, true
			}
			ext := b[11]
			hl = 12
			for ext != 0 {
				if hl >= len(b) {
					return resMalformed, true
				}
				el := int(b[hl]) << 2
				if el == 0 || hl+el > len(b) {
					return resMalformed, true
				}
				ext = b[hl+el-1]
				hl += el
			}
		}
		b = b[hl:]
		if len(b) == 0 {
			return resMalformed, true
		}
		switch b[0] >> 4 {
		case 4:
			return d.ipv4(b, p), true
		case 6:
			return d.ipv6(b, p), true
		}
		return resNonIP, true
	}
	return 0, false
}

// gre decodes a GRE header (already counted) and its payload.
func (d *Decoder) gre(b []byte, p *Packet) result {
	if len(b) < 4 {
		return resMalformed
	}
	fl, proto := be16(b), be16(b[2:])
	ver := fl & 7
	if ver > 1 {
		return resOtherIP
	}
	hl := 4
	if fl&0xc000 != 0 { // checksum and offset, present with C or R
		hl += 4
	}
	if fl&0x2000 != 0 { // key
		hl += 4
	}
	if fl&0x1000 != 0 { // sequence number
		hl += 4
	}
	if ver == 1 && fl&0x0080 != 0 { // PPTP acknowledgment number
		hl += 4
	}
	if len(b) < hl {
		return resMalformed
	}
	if fl&0x4000 != 0 { // RFC 1701 source route entries, up to a null one
		for {
			if len(b) < hl+4 {
				return resMalformed
			}
			af, n := be16(b[hl:]), int(b[hl+3])
			hl += 4 + n
			if hl > len(b) {
				return resMalformed
			}
			if af == 0 && n == 0 {
				break
			}
		}
	}
	b = b[hl:]
	if ver == 1 {
		if proto != 0x880b {
			return resNonIP
		}
		return d.ppp(b, p)
	}
	switch {
	case proto == 0x6558:
		return d.ether(b, p)
	case proto == 0x88be:
		d.count(TunnelERSPAN)
		if fl&0x1000 == 0 { // type I: no ERSPAN header
			return d.ether(b, p)
		}
		if len(b) < 8 || b[0]>>4 != 1 {
			return resMalformed
		}
		return d.ether(b[8:], p)
	case proto == 0x22eb:
		d.count(TunnelERSPAN)
		if len(b) < 12 || b[0]>>4 != 2 {
			return resMalformed
		}
		hl := 12
		if b[11]&0x01 != 0 { // platform-specific subheader
			hl += 8
		}
		if len(b) < hl {
			return resMalformed
		}
		switch ft := (b[10] >> 2) & 0x1f; ft {
		case 0:
			return d.ether(b[hl:], p)
		case 2:
			return d.rawIP(b[hl:], p)
		}
		return resNonIP
	case proto >= 0x8200 && proto <= 0x83f0 && proto&0x000f == 0: // Aruba: 802.11
		return d.dot11(b, p)
	case proto == 0x880b:
		return d.ppp(b, p)
	}
	if proto < 0x0600 {
		return resNonIP
	}
	return d.ethertype(proto, b, p)
}
