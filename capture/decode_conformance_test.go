//go:build conformance

package capture

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

// decZeekDir is the Zeek trace collection, relative to this package's
// directory (the repository is checked out next to ../shared).
var decZeekDir = filepath.Join("..", "..", "shared", "data", "zeek")

// readTrace decodes every frame of a pcap or pcapng file (gzip allowed)
// with a fresh Decoder and returns its stats.
func decReadTrace(t *testing.T, path string) DecoderStats {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	d := NewDecoder(DecoderConfig{})
	var p Packet
	decode := func(data []byte, length int, lt LinkType, ts time.Time) {
		f := Frame{Data: data, Length: length, LinkType: lt, Timestamp: ts}
		d.Decode(&f, &p)
	}
	if r, err := pcapgo.NewReader(bytes.NewReader(raw)); err == nil {
		for {
			data, ci, err := r.ReadPacketData()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			decode(data, ci.Length, LinkType(r.LinkType()), ci.Timestamp)
		}
		return d.Stats()
	}
	r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatalf("%s: neither pcap nor pcapng: %v", path, err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		intf, err := r.Interface(ci.InterfaceIndex)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		decode(data, ci.Length, LinkType(intf.LinkType), ci.Timestamp)
	}
	return d.Stats()
}

// tsharkTCP counts the frames in which tshark (with IP reassembly, its
// default) finds a TCP header outside an ICMP error quotation.
func tsharkTCP(tshark, path string, decodeAs ...string) (uint64, error) {
	args := append([]string{"-n", "-r", path}, decodeAs...)
	args = append(args, "-Y", "tcp && !icmp && !icmpv6", "-T", "fields", "-e", "frame.number")
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		return 0, fmt.Errorf("tshark %s: %w", path, err)
	}
	return uint64(bytes.Count(out, []byte("\n"))), nil
}

// tsharkDecodeAs tells tshark about encapsulations it does not find by
// itself: Teredo.pcap carries Teredo between relay-chosen ports (32900 and
// 3797), which the decoder recognises by content, as Zeek does.
var tsharkDecodeAs = map[string][]string{
	"traces/tunnels/Teredo.pcap": {"-d", "udp.port==32900,teredo"},
}

// Traces where tshark and the decoder legitimately disagree, with the
// reason; the test checks the decoder's count stays as recorded.
var tsharkDifferences = map[string]struct {
	tcp    uint64
	reason string
}{}

// Encapsulations that must be seen in a trace.
var decTraceTunnels = map[string][]TunnelKind{
	"traces/erspan.pcap":                                        {TunnelGRE},
	"traces/http-qinq-0.pcap":                                   {TunnelVLAN},
	"traces/http-vlan-0.pcap":                                   {TunnelVLAN},
	"traces/vlan-qinqinq.pcap":                                  {TunnelVLAN},
	"traces/vlan-collisions.pcap":                               {TunnelVLAN},
	"traces/mixed-vlan-mpls.pcap":                               {TunnelVLAN, TunnelMPLS},
	"traces/mpls-in-vlan.pcap":                                  {TunnelVLAN, TunnelMPLS},
	"traces/tunnels/gre-aruba.pcap":                             {TunnelGRE, TunnelVLAN},
	"traces/tunnels/gre-over-udp-4754.pcap":                     {TunnelGRE},
	"traces/tunnels/vxlan-encapsulated-http.pcap":               {TunnelVXLAN},
	"traces/tunnels/geneve-many-options.pcap":                   {TunnelGENEVE},
	"traces/tunnels/Teredo.pcap":                                {TunnelTeredo},
	"traces/tunnels/ayiya3.pcap":                                {TunnelAYIYA},
	"traces/tunnels/gtp/gtp1_gn_normal_incl_fragmentation.pcap": {TunnelGTPU},
	"traces/tunnels/gtp/gtp2_different_udp_port.pcap":           {TunnelGTPU},
}

// TestDecodeConformanceZeek decodes every trace of the Zeek collection and
// compares the number of TCP segments with tshark's.
func TestDecodeConformanceZeek(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Fatalf("tshark is required for the conformance test: %v", err)
	}
	f, err := os.Open(filepath.Join(decZeekDir, "INDEX.tsv"))
	if err != nil {
		t.Fatalf("zeek traces: %v", err)
	}
	defer f.Close()
	var traces []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) > 0 && strings.HasPrefix(fields[0], "traces/") {
			traces = append(traces, fields[0])
		}
	}
	if len(traces) < 100 {
		t.Fatalf("INDEX.tsv lists only %d traces", len(traces))
	}
	// tshark takes about a second per trace, most of it waiting: ask it
	// about all the traces first, eight at a time.
	wants := make([]uint64, len(traces))
	errs := make([]error, len(traces))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, trace := range traces {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			wants[i], errs[i] = tsharkTCP(tshark, filepath.Join(decZeekDir, trace), tsharkDecodeAs[trace]...)
		})
	}
	wg.Wait()
	var total DecoderStats
	for i, trace := range traces {
		t.Run(trace, func(t *testing.T) {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			path := filepath.Join(decZeekDir, trace)
			s := decReadTrace(t, path)
			total.Add(s)
			want := wants[i]
			if diff, ok := tsharkDifferences[trace]; ok {
				if s.TCP != diff.tcp {
					t.Errorf("TCP = %d, recorded %d (tshark %d: %s)", s.TCP, diff.tcp, want, diff.reason)
				}
			} else if s.TCP != want {
				t.Errorf("TCP = %d, tshark finds %d; stats %+v", s.TCP, want, s)
			}
			for _, k := range decTraceTunnels[trace] {
				if s.Tunnels[k] == 0 {
					t.Errorf("no %s encapsulation decoded; stats %+v", k, s)
				}
			}
			if s.UnknownLinkType != 0 {
				t.Errorf("UnknownLinkType = %d", s.UnknownLinkType)
			}
		})
	}
	t.Logf("all traces: %+v", total)
}
