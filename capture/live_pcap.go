//go:build cgo

package capture

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/gopacket/gopacket/pcap"
	"github.com/prometheus/client_golang/prometheus"
)

// PcapSource is a live capture through libpcap: the fallback for systems
// or interfaces where OpenInterface's AF_PACKET ring does not fit. Frames
// are read without copying, valid until the next ReadFrame; the link type
// is whatever libpcap reports for the interface.
//
// Close may be called from any goroutine, concurrently with ReadFrame,
// with the same guarantees as AFPacketSource.Close (libpcap's buffer
// stays allocated while the reader may hold a frame); LiveStats may be
// called at any time.
type PcapSource struct {
	liveBase

	// handle is nil once released; ReadFrame uses it under gate.mu,
	// LiveStats under statsMu; release takes both.
	handle *pcap.Handle
}

var (
	_ Source          = (*PcapSource)(nil)
	_ LiveStatsReader = (*PcapSource)(nil)
)

// OpenPcapLive opens live capture on cfg.Interface through libpcap. It
// uses Interface, SnapLen, Promiscuous, BPF (compiled by libpcap for the
// interface's link type), BlockTimeout and the ring size (RingBytes, or
// BlockSize × NumBlocks) as libpcap's buffer size; the fanout settings do
// not apply. Its counters are exported on reg (nil: no metrics) like
// OpenInterface's, with member "0". Errors are as OpenInterface's.
func OpenPcapLive(cfg LiveConfig, reg prometheus.Registerer) (Source, error) {
	cfg, err := cfg.withDefaults(4096)
	if err != nil {
		return nil, err
	}
	if _, err := lookupUpInterface(cfg.Interface); err != nil {
		return nil, err
	}
	inactive, err := pcap.NewInactiveHandle(cfg.Interface)
	if err != nil {
		return nil, fmt.Errorf("capture: opening %s with libpcap: %w", cfg.Interface, err)
	}
	defer inactive.CleanUp()
	for _, set := range []struct {
		what string
		err  error
	}{
		{"snap length", inactive.SetSnapLen(cfg.SnapLen)},
		{"promiscuous mode", inactive.SetPromisc(cfg.Promiscuous)},
		// The timeout bounds each wait for packets, hence Close's latency.
		{"timeout", inactive.SetTimeout(cfg.pollInterval())},
		{"buffer size", inactive.SetBufferSize(int(min(cfg.RingBytes, 1<<30)))},
	} {
		if set.err != nil {
			return nil, fmt.Errorf("capture: opening %s with libpcap: setting the %s: %w", cfg.Interface, set.what, set.err)
		}
	}
	h, err := inactive.Activate()
	if err != nil {
		if msg := strings.ToLower(err.Error()); strings.Contains(msg, "permission") || strings.Contains(msg, "not permitted") {
			return nil, permissionError(cfg.Interface, err)
		}
		return nil, fmt.Errorf("capture: opening %s with libpcap: %w", cfg.Interface, err)
	}
	if cfg.BPF != "" {
		if err := h.SetBPFFilter(cfg.BPF); err != nil {
			h.Close()
			return nil, &liveError{
				msg:  fmt.Sprintf("capture: invalid BPF filter %q: %v", cfg.BPF, err),
				kind: ErrBadFilter,
				err:  err,
			}
		}
	}
	s := &PcapSource{
		liveBase: liveBase{iface: cfg.Interface, linkType: LinkType(h.LinkType()), group: &liveGroup{}},
		handle:   h,
	}
	s.init(s)
	// libpcap handles have no finalizer: free one that a reader never gave
	// back (see Close) when the source is collected.
	runtime.AddCleanup(s, func(h *pcap.Handle) { h.Close() }, h)
	if err := s.group.register(cfg.Interface, reg, []LiveStatsReader{s}); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// ReadFrame fills f with the next frame; f.Data points into libpcap's
// buffer and is valid until the next ReadFrame (or Close). It blocks until
// a frame arrives, the source is closed (io.EOF), or libpcap fails.
func (s *PcapSource) ReadFrame(f *Frame) error {
	if !s.gate.enter() {
		return io.EOF
	}
	for {
		data, ci, err := s.handle.ZeroCopyReadPacketData()
		if err != nil {
			if errors.Is(err, pcap.NextErrorTimeoutExpired) {
				if s.gate.stopping() {
					return s.gate.stopEOF()
				}
				continue
			}
			s.gate.leave(false)
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return fmt.Errorf("capture: reading %s (libpcap): %w", s.iface, err)
		}
		s.lend(f, data, ci.Timestamp, ci.Length)
		return nil
	}
}

// quiesce installs a drop-all filter; called by the gate with gate.mu
// held, so no ReadFrame is inside libpcap.
func (s *PcapSource) quiesce() {
	ret := dropAll()[0]
	_ = s.handle.SetBPFInstructionFilter([]pcap.BPFInstruction{{Code: ret.Op, Jt: ret.Jt, Jf: ret.Jf, K: ret.K}})
}

// closeLocked closes the handle; see liveHandle.
func (s *PcapSource) closeLocked() {
	s.handle.Close()
	s.handle = nil
}

// readCountersLocked reads libpcap's cumulative counters into st; see
// liveHandle.
func (s *PcapSource) readCountersLocked(st *LiveStats) error {
	ps, err := s.handle.Stats()
	if err != nil {
		return fmt.Errorf("capture: reading the counters of %s (libpcap): %w", s.iface, err)
	}
	st.Received = uint64(uint32(ps.PacketsReceived))
	st.Dropped = uint64(uint32(ps.PacketsDropped))
	st.InterfaceDrops = uint64(uint32(ps.PacketsIfDropped))
	return nil
}
