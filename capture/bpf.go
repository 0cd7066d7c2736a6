//go:build cgo

package capture

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/net/bpf"
)

// compileFilter compiles a tcpdump expression for frames of linkType into
// a classic BPF program for the kernel (SO_ATTACH_FILTER), with libpcap.
// The program's accept value is snapLen, which makes the kernel keep at
// most snapLen bytes of a frame; an empty expression gives a program that
// accepts everything, also cut at snapLen.
func compileFilter(expr string, linkType LinkType, snapLen int) ([]bpf.RawInstruction, error) {
	if expr == "" {
		return acceptAll(snapLen), nil
	}
	dlt := layers.LinkType(linkType)
	if linkType == LinkTypeRaw {
		// libpcap wants the DLT_ value here, which for raw IP is not
		// the LINKTYPE_ value (101) but 12 (DLT_RAW on Linux).
		dlt = 12
	}
	insns, err := pcap.CompileBPFFilter(dlt, snapLen, expr)
	if err != nil {
		return nil, &liveError{
			msg:  fmt.Sprintf("capture: invalid BPF filter %q: %v", expr, err),
			kind: ErrBadFilter,
			err:  err,
		}
	}
	prog := make([]bpf.RawInstruction, len(insns))
	for i, in := range insns {
		prog[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return prog, nil
}
