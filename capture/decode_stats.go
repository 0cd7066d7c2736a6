package capture

import (
	"fmt"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// TunnelKind names an encapsulation the decoder removes. It indexes
// DecoderStats.Tunnels.
type TunnelKind uint8

// The encapsulations the decoder counts. Each occurrence is counted once:
// a frame with two VLAN tags counts 2 for TunnelVLAN; an MPLS label stack
// counts 1 whatever its depth.
const (
	TunnelVLAN     TunnelKind = iota // 802.1Q, 802.1ad (QinQ, also 0x9100/0x9200), PBB I-tag, VN-tag, E-tag
	TunnelMPLS                       // an MPLS label stack (unicast or multicast)
	TunnelPPPoE                      // PPPoE session header
	TunnelGRE                        // GRE (v0 and PPTP v1), also GRE over UDP
	TunnelERSPAN                     // ERSPAN types I, II and III (inside GRE)
	TunnelVXLAN                      // VXLAN and VXLAN-GPE
	TunnelGENEVE                     // GENEVE
	TunnelTeredo                     // Teredo (IPv6 in UDP)
	TunnelAYIYA                      // AYIYA (IP in UDP)
	TunnelGTPU                       // GTP-U (3GPP user plane)
	TunnelIPinIP                     // IPv4 or IPv6 directly inside IPv4 or IPv6 (protocols 4 and 41)
	TunnelEtherIP                    // EtherIP (protocol 97) and Ethernet pseudowires over MPLS
	NumTunnelKinds                   // the number of kinds; not a kind
)

var tunnelKindNames = [NumTunnelKinds]string{
	"vlan", "mpls", "pppoe", "gre", "erspan", "vxlan", "geneve", "teredo", "ayiya", "gtpu", "ipinip", "etherip",
}

// String returns the kind's lower-case name, as used in metric labels.
func (k TunnelKind) String() string {
	if k < NumTunnelKinds {
		return tunnelKindNames[k]
	}
	return fmt.Sprintf("tunnel(%d)", uint8(k))
}

// DecoderStats are the counters of one Decoder (or, after Add, of several).
//
// Every frame passed to Decode ends in exactly one outcome, so
//
//	Frames == TCP + NonTCP + Malformed + UnknownLinkType + FragmentsPending
//	NonTCP == NonIP + UDP + ICMP + OtherIP
//
// The remaining fields give details of those outcomes. FragmentBytes and
// FragmentDatagrams are gauges (current values), the rest are counters.
type DecoderStats struct {
	Frames uint64 // frames passed to Decode

	// Outcomes.
	TCP             uint64 // TCP segments returned (a frame, or a frame that completed a fragmented datagram)
	NonTCP          uint64 // well-formed frames that carry no TCP: NonIP + UDP + ICMP + OtherIP
	NonIP           uint64 // link payloads that are not IP (ARP, LLDP, STP, PPP control, encrypted 802.11...)
	UDP             uint64 // UDP datagrams that are not a recognised tunnel
	ICMP            uint64 // ICMPv4 and ICMPv6 messages
	OtherIP         uint64 // other IP protocols (ESP, SCTP, OSPF, IPv6 "no next header"...)
	Malformed       uint64 // invalid headers, headers cut short, or encapsulation deeper than MaxDepth
	UnknownLinkType uint64 // frames of a link type the decoder does not know
	// LastUnknownLinkType is the link type of the latest such frame (for
	// the message that tells the user), valid when UnknownLinkType > 0.
	LastUnknownLinkType LinkType
	FragmentsPending    uint64 // IP fragments that did not complete a datagram (held for reassembly or dropped)

	// Details.
	Truncated        uint64 // TCP segments returned with their payload cut (snap length or short frame)
	TruncatedHeaders uint64 // Malformed frames that were cut by the snap length (len(Data) < Length)
	TooDeep          uint64 // Malformed frames with more than MaxDepth nested encapsulations, or more than 16 Ethernet tags in a row

	// IP fragment reassembly.
	Fragments         uint64 // IPv4 and IPv6 fragments seen (each also counted by the outcome of its frame)
	Reassembled       uint64 // datagrams completed from fragments
	FragmentsDropped  uint64 // fragments whose bytes were discarded: of expired or evicted datagrams, invalid ones, or all when reassembly is disabled
	FragmentTimeouts  uint64 // incomplete datagrams discarded after FragmentTimeout (packet time)
	FragmentEvictions uint64 // incomplete datagrams discarded to stay within MaxFragmentBytes or MaxFragmentDatagrams
	FragmentOverlaps  uint64 // fragments that overlapped bytes already held (duplicates included); the bytes received first are kept
	FragmentsInvalid  uint64 // fragments discarded as invalid: past 65535 bytes, beyond or inconsistent with the datagram's end, cut short, too many pieces, or too big for MaxFragmentBytes
	FragmentBytes     uint64 // gauge: buffer bytes currently held for reassembly
	FragmentDatagrams uint64 // gauge: incomplete datagrams currently held

	// Tunnels counts the encapsulation headers removed, indexed by TunnelKind.
	Tunnels [NumTunnelKinds]uint64
}

// Add adds the counters (and gauges) of o to s.
func (s *DecoderStats) Add(o DecoderStats) {
	s.Frames += o.Frames
	s.TCP += o.TCP
	s.NonTCP += o.NonTCP
	s.NonIP += o.NonIP
	s.UDP += o.UDP
	s.ICMP += o.ICMP
	s.OtherIP += o.OtherIP
	s.Malformed += o.Malformed
	s.UnknownLinkType += o.UnknownLinkType
	if o.UnknownLinkType > 0 {
		s.LastUnknownLinkType = o.LastUnknownLinkType
	}
	s.FragmentsPending += o.FragmentsPending
	s.Truncated += o.Truncated
	s.TruncatedHeaders += o.TruncatedHeaders
	s.TooDeep += o.TooDeep
	s.Fragments += o.Fragments
	s.Reassembled += o.Reassembled
	s.FragmentsDropped += o.FragmentsDropped
	s.FragmentTimeouts += o.FragmentTimeouts
	s.FragmentEvictions += o.FragmentEvictions
	s.FragmentOverlaps += o.FragmentOverlaps
	s.FragmentsInvalid += o.FragmentsInvalid
	s.FragmentBytes += o.FragmentBytes
	s.FragmentDatagrams += o.FragmentDatagrams
	for i := range s.Tunnels {
		s.Tunnels[i] += o.Tunnels[i]
	}
}

// result is the outcome of decoding one frame.
type result uint8

const (
	resTCP result = iota
	resNonIP
	resUDP
	resICMP
	resOtherIP
	resMalformed
	resUnknownLink
	resFragment // consumed by reassembly without completing a datagram
	numResults
	resTooDeep // reported as resMalformed (and counted as TooDeep)
)

var resultNames = [numResults]string{
	"tcp", "non_ip", "udp", "icmp", "other_ip", "malformed", "unknown_link_type", "fragment_pending",
}

// decoderCounters are written by the decoding goroutine only and read by
// Stats from any goroutine. One atomic add per frame is the whole cost on
// the common path.
type decoderCounters struct {
	results          [numResults]atomic.Uint64
	tunnels          [NumTunnelKinds]atomic.Uint64
	truncated        atomic.Uint64
	truncatedHeaders atomic.Uint64
	tooDeep          atomic.Uint64
	lastUnknownLink  atomic.Uint32

	fragments     atomic.Uint64
	reassembled   atomic.Uint64
	fragDropped   atomic.Uint64
	fragTimeouts  atomic.Uint64
	fragEvictions atomic.Uint64
	fragOverlaps  atomic.Uint64
	fragInvalid   atomic.Uint64
	fragBytes     atomic.Uint64
	fragDatagrams atomic.Uint64
}

func (c *decoderCounters) snapshot() DecoderStats {
	s := DecoderStats{
		TCP:                 c.results[resTCP].Load(),
		NonIP:               c.results[resNonIP].Load(),
		UDP:                 c.results[resUDP].Load(),
		ICMP:                c.results[resICMP].Load(),
		OtherIP:             c.results[resOtherIP].Load(),
		Malformed:           c.results[resMalformed].Load(),
		UnknownLinkType:     c.results[resUnknownLink].Load(),
		LastUnknownLinkType: LinkType(c.lastUnknownLink.Load()),
		FragmentsPending:    c.results[resFragment].Load(),
		Truncated:           c.truncated.Load(),
		TruncatedHeaders:    c.truncatedHeaders.Load(),
		TooDeep:             c.tooDeep.Load(),
		Fragments:           c.fragments.Load(),
		Reassembled:         c.reassembled.Load(),
		FragmentsDropped:    c.fragDropped.Load(),
		FragmentTimeouts:    c.fragTimeouts.Load(),
		FragmentEvictions:   c.fragEvictions.Load(),
		FragmentOverlaps:    c.fragOverlaps.Load(),
		FragmentsInvalid:    c.fragInvalid.Load(),
		FragmentBytes:       c.fragBytes.Load(),
		FragmentDatagrams:   c.fragDatagrams.Load(),
	}
	for i := range s.Tunnels {
		s.Tunnels[i] = c.tunnels[i].Load()
	}
	s.NonTCP = s.NonIP + s.UDP + s.ICMP + s.OtherIP
	s.Frames = s.TCP + s.NonTCP + s.Malformed + s.UnknownLinkType + s.FragmentsPending
	return s
}

// DecoderCollector exports decoder counters as Prometheus metrics
// (namespace "apitap", subsystem "capture", names starting with
// "decoder_"). It reads them through a function on every scrape, so one
// collector can report the sum of several decoders: pass a function that
// adds up their Stats.
type DecoderCollector struct {
	stats func() DecoderStats

	frames           *prometheus.Desc
	truncated        *prometheus.Desc
	truncatedHeaders *prometheus.Desc
	tooDeep          *prometheus.Desc
	tunnels          *prometheus.Desc
	fragments        *prometheus.Desc
	reassembled      *prometheus.Desc
	fragDropped      *prometheus.Desc
	fragDgDropped    *prometheus.Desc
	fragOverlaps     *prometheus.Desc
	fragInvalid      *prometheus.Desc
	fragBytes        *prometheus.Desc
	fragDatagrams    *prometheus.Desc
}

// NewDecoderCollector returns a collector that reports what stats returns.
// stats is called from the scraping goroutine; Decoder.Stats is safe for that.
func NewDecoderCollector(stats func() DecoderStats) *DecoderCollector {
	n := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName("apitap", "capture", name), help, labels, nil)
	}
	return &DecoderCollector{
		stats:            stats,
		frames:           n("decoder_frames_total", "Frames decoded, by outcome.", "result"),
		truncated:        n("decoder_truncated_total", "TCP segments returned with their payload cut by the snap length or a short frame."),
		truncatedHeaders: n("decoder_truncated_headers_total", "Malformed frames whose headers were cut by the snap length."),
		tooDeep:          n("decoder_too_deep_total", "Frames with more nested encapsulations than the configured maximum depth, or too many Ethernet tags."),
		tunnels:          n("decoder_tunnel_headers_total", "Encapsulation headers removed, by kind.", "kind"),
		fragments:        n("decoder_ip_fragments_total", "IPv4 and IPv6 fragments seen."),
		reassembled:      n("decoder_ip_reassembled_total", "IP datagrams completed from fragments."),
		fragDropped:      n("decoder_ip_fragments_dropped_total", "IP fragments whose bytes were discarded."),
		fragDgDropped:    n("decoder_ip_datagrams_dropped_total", "Incomplete IP datagrams discarded, by reason (timeout: FragmentTimeout; limit: MaxFragmentBytes or MaxFragmentDatagrams).", "reason"),
		fragOverlaps:     n("decoder_ip_fragment_overlaps_total", "IP fragments overlapping bytes already held (the first bytes are kept)."),
		fragInvalid:      n("decoder_ip_fragments_invalid_total", "IP fragments discarded as invalid."),
		fragBytes:        n("decoder_ip_fragment_bytes", "Buffer bytes currently held for IP reassembly."),
		fragDatagrams:    n("decoder_ip_fragment_datagrams", "Incomplete IP datagrams currently held."),
	}
}

// RegisterDecoderMetrics registers a DecoderCollector reading stats on reg.
// A nil reg is allowed and registers nothing.
func RegisterDecoderMetrics(reg prometheus.Registerer, stats func() DecoderStats) error {
	if reg == nil {
		return nil
	}
	if err := reg.Register(NewDecoderCollector(stats)); err != nil {
		return fmt.Errorf("capture: register decoder metrics: %w", err)
	}
	return nil
}

// Describe implements prometheus.Collector.
func (c *DecoderCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.frames, c.truncated, c.truncatedHeaders, c.tooDeep, c.tunnels,
		c.fragments, c.reassembled, c.fragDropped, c.fragDgDropped, c.fragOverlaps, c.fragInvalid,
		c.fragBytes, c.fragDatagrams} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *DecoderCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	outcomes := [numResults]uint64{s.TCP, s.NonIP, s.UDP, s.ICMP, s.OtherIP, s.Malformed, s.UnknownLinkType, s.FragmentsPending}
	for i, v := range outcomes {
		counter(c.frames, v, resultNames[i])
	}
	counter(c.truncated, s.Truncated)
	counter(c.truncatedHeaders, s.TruncatedHeaders)
	counter(c.tooDeep, s.TooDeep)
	for k := TunnelKind(0); k < NumTunnelKinds; k++ {
		counter(c.tunnels, s.Tunnels[k], k.String())
	}
	counter(c.fragments, s.Fragments)
	counter(c.reassembled, s.Reassembled)
	counter(c.fragDropped, s.FragmentsDropped)
	counter(c.fragDgDropped, s.FragmentTimeouts, "timeout")
	counter(c.fragDgDropped, s.FragmentEvictions, "limit")
	counter(c.fragOverlaps, s.FragmentOverlaps)
	counter(c.fragInvalid, s.FragmentsInvalid)
	ch <- prometheus.MustNewConstMetric(c.fragBytes, prometheus.GaugeValue, float64(s.FragmentBytes))
	ch <- prometheus.MustNewConstMetric(c.fragDatagrams, prometheus.GaugeValue, float64(s.FragmentDatagrams))
}
