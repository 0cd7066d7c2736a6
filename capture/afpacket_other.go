//go:build !linux

package capture

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// OpenInterface needs Linux's AF_PACKET; elsewhere use OpenPcapLive.
func OpenInterface(cfg LiveConfig, _ prometheus.Registerer) ([]Source, error) {
	return nil, fmt.Errorf("capture: AF_PACKET capture on %s needs Linux; use libpcap capture instead", cfg.Interface)
}
