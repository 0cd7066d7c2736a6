// Package pcaptest reads captures back in tests: the TCP segments of an
// Ethernet pcap, decoded with gopacket (an implementation independent of
// apitap's decoder), and the HTTP/1.x requests of a byte stream read with
// net/http. It is test support: only tests import it.
package pcaptest

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Flow is one direction of a TCP connection.
type Flow struct{ Src, Dst netip.AddrPort }

// Segment is one packet of a capture, decoded as TCP over IP.
type Segment struct {
	Index     int // the packet's position in the capture, from 0
	Timestamp time.Time
	Flow      Flow
	IPv4      *layers.IPv4 // nil when the packet is IPv6
	TCP       *layers.TCP
}

// ForEachTCP reads the pcap in r and calls fn with every packet, in order.
// It fails t (Fatal) when r is not a pcap of link type Ethernet, cannot be
// read to the end, or holds a packet that does not decode as TCP over IPv4
// or IPv6; fn may fail t too.
func ForEachTCP(t testing.TB, r io.Reader, fn func(Segment)) {
	t.Helper()
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	if pr.LinkType() != layers.LinkTypeEthernet {
		t.Fatalf("link type %v", pr.LinkType())
	}
	for i := 0; ; i++ {
		data, ci, err := pr.ReadPacketData()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		tc, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tc == nil || p.ErrorLayer() != nil {
			t.Fatalf("packet %d is not TCP: %v", i, p)
		}
		s := Segment{Index: i, Timestamp: ci.Timestamp, TCP: tc}
		var src, dst netip.Addr
		switch ip := p.NetworkLayer().(type) {
		case *layers.IPv4:
			s.IPv4 = ip
			src, _ = netip.AddrFromSlice(ip.SrcIP)
			dst, _ = netip.AddrFromSlice(ip.DstIP)
		case *layers.IPv6:
			src, _ = netip.AddrFromSlice(ip.SrcIP)
			dst, _ = netip.AddrFromSlice(ip.DstIP)
		}
		s.Flow = Flow{netip.AddrPortFrom(src, uint16(tc.SrcPort)), netip.AddrPortFrom(dst, uint16(tc.DstPort))}
		fn(s)
	}
}

// ForEachRequest reads the HTTP/1.x requests in the client-to-server
// stream c2s with net/http and calls fn with each request and its body,
// in order; fn reads the responses from resps, a reader over the
// server-to-client stream s2c, which is returned at the end for the caller
// to look at what is left. It fails t (Fatal) when a request or its body
// cannot be read, naming the connection conn.
func ForEachRequest(t testing.TB, conn any, c2s, s2c []byte, fn func(req *http.Request, body []byte, resps *bufio.Reader)) (resps *bufio.Reader) {
	t.Helper()
	reqs := bufio.NewReader(bytes.NewReader(c2s))
	resps = bufio.NewReader(bytes.NewReader(s2c))
	for {
		if _, err := reqs.Peek(1); err == io.EOF {
			return resps
		}
		req, err := http.ReadRequest(reqs)
		if err != nil {
			t.Fatalf("%v: request: %v", conn, err)
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			t.Fatalf("%v: request body: %v", conn, err)
		}
		fn(req, body, resps)
	}
}
