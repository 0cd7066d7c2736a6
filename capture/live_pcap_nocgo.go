//go:build !cgo

package capture

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// OpenPcapLive needs libpcap, hence cgo; this build has neither.
func OpenPcapLive(cfg LiveConfig, _ prometheus.Registerer) (Source, error) {
	return nil, fmt.Errorf("capture: capturing on %s with libpcap needs apitap built with cgo and libpcap (CGO_ENABLED=1, libpcap-dev installed); use the AF_PACKET capture instead", cfg.Interface)
}
