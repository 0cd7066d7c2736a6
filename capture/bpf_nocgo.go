//go:build !cgo

package capture

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// compileFilter needs libpcap, hence cgo, for any expression; without cgo
// only the empty expression (accept everything, cut at snapLen) is
// available.
func compileFilter(expr string, _ LinkType, snapLen int) ([]bpf.RawInstruction, error) {
	if expr == "" {
		return acceptAll(snapLen), nil
	}
	return nil, &liveError{
		msg:  fmt.Sprintf("capture: BPF filter %q needs apitap built with cgo and libpcap (CGO_ENABLED=1, libpcap-dev installed)", expr),
		kind: ErrBadFilter,
	}
}
