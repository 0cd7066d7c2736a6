package capture

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// Frame is one captured link-layer frame as a Source returns it.
//
// Data is borrowed from the Source and is valid only until the next call to
// ReadFrame on the same Source.
type Frame struct {
	Data      []byte
	Timestamp time.Time
	// Length is the frame's length on the wire; len(Data) may be shorter
	// when the capture used a snap length.
	Length   int
	LinkType LinkType
}

// LinkType is a pcap LINKTYPE_ value (https://www.tcpdump.org/linktypes.html).
type LinkType uint16

// The link types the decoder understands.
const (
	LinkTypeNull      LinkType = 0   // BSD loopback, host byte order family
	LinkTypeEthernet  LinkType = 1   // Ethernet II / 802.3
	LinkTypeRaw       LinkType = 101 // raw IPv4 or IPv6
	LinkTypeLoop      LinkType = 108 // OpenBSD loopback, network byte order family
	LinkTypeLinuxSLL  LinkType = 113 // Linux cooked capture v1
	LinkTypeIPv4      LinkType = 228 // raw IPv4
	LinkTypeIPv6      LinkType = 229 // raw IPv6
	LinkTypeNFLOG     LinkType = 239 // Linux netfilter NFLOG
	LinkTypeLinuxSLL2 LinkType = 276 // Linux cooked capture v2
)

// TCPFlags holds the TCP header flag bits (FIN is bit 0, as on the wire).
type TCPFlags uint8

// TCP flag bits.
const (
	FlagFIN TCPFlags = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
)

// Has reports whether all bits of f2 are set in f.
func (f TCPFlags) Has(f2 TCPFlags) bool { return f&f2 == f2 }

// FlowKey identifies one direction of a TCP connection by its innermost
// addresses and ports. Addresses are 16-byte; IPv4 addresses are stored in
// their IPv4-mapped IPv6 form, so a FlowKey is fixed-size, comparable and
// usable as a map key without allocation.
type FlowKey struct {
	SrcIP, DstIP     [16]byte
	SrcPort, DstPort uint16
}

// Src returns the source endpoint (IPv4 addresses unmapped).
func (k FlowKey) Src() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom16(k.SrcIP).Unmap(), k.SrcPort)
}

// Dst returns the destination endpoint (IPv4 addresses unmapped).
func (k FlowKey) Dst() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom16(k.DstIP).Unmap(), k.DstPort)
}

// Reverse returns the key of the opposite direction.
func (k FlowKey) Reverse() FlowKey {
	return FlowKey{SrcIP: k.DstIP, DstIP: k.SrcIP, SrcPort: k.DstPort, DstPort: k.SrcPort}
}

// Hash returns a symmetric hash of the key: k.Hash() == k.Reverse().Hash().
// Workers are chosen with it, so both directions of a connection meet in
// the same worker whichever tunnel or fanout member carried them.
func (k FlowKey) Hash() uint64 {
	a0 := binary.LittleEndian.Uint64(k.SrcIP[0:8])
	a1 := binary.LittleEndian.Uint64(k.SrcIP[8:16])
	b0 := binary.LittleEndian.Uint64(k.DstIP[0:8])
	b1 := binary.LittleEndian.Uint64(k.DstIP[8:16])
	// Addition and xor are commutative, so swapping the endpoints gives the
	// same value; the endpoints are mixed separately first so that the
	// address of one side cannot cancel the port of the other.
	ea := mix64(a0 ^ mix64(a1^uint64(k.SrcPort)))
	eb := mix64(b0 ^ mix64(b1^uint64(k.DstPort)))
	return mix64((ea + eb) ^ (ea^eb)<<1)
}

// mix64 is the splitmix64 finalizer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Packet is a decoded TCP segment: the innermost TCP/IP headers of a frame
// after every encapsulation has been removed.
//
// Payload is borrowed from the frame (or from the decoder's fragment
// reassembly buffer); a Handler must not keep it after HandlePacket returns.
type Packet struct {
	Timestamp time.Time
	Flow      FlowKey
	Seq, Ack  uint32
	Flags     TCPFlags
	Window    uint16
	Payload   []byte
}
