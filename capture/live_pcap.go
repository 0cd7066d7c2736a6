//go:build cgo

package capture

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

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
	iface    string
	linkType LinkType
	gate     *liveGate
	group    *liveGroup

	// handle is nil once released; ReadFrame uses it under gate.mu,
	// LiveStats under statsMu; release takes both.
	handle *pcap.Handle

	statsMu sync.Mutex
	last    LiveStats // kernel counters last read; guarded by statsMu

	frames, truncated atomic.Uint64
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
	s := &PcapSource{iface: cfg.Interface, linkType: LinkType(h.LinkType()), group: &liveGroup{}, handle: h}
	s.gate = &liveGate{release: s.release, quiesce: s.quiesce}
	s.group.open.Add(1)
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
		f.Data = data
		f.Timestamp = ci.Timestamp
		f.Length = ci.Length
		f.LinkType = s.linkType
		if ci.Length > len(data) {
			s.truncated.Add(1)
		}
		s.frames.Add(1)
		s.gate.leave(true)
		return nil
	}
}

// Close stops the source; it always returns nil and may be called more
// than once, from any goroutine.
func (s *PcapSource) Close() error {
	if s.gate.close() {
		s.group.memberClosed()
	}
	return nil
}

// quiesce installs a drop-all filter; called by the gate with gate.mu
// held, so no ReadFrame is inside libpcap.
func (s *PcapSource) quiesce() {
	ret := dropAll()[0]
	_ = s.handle.SetBPFInstructionFilter([]pcap.BPFInstruction{{Code: ret.Op, Jt: ret.Jt, Jf: ret.Jf, K: ret.K}})
}

// release takes the final counters and closes the handle; called once by
// the gate with gate.mu held.
func (s *PcapSource) release() {
	s.statsMu.Lock()
	_ = s.refreshLocked()
	s.handle.Close()
	s.handle = nil
	s.statsMu.Unlock()
}

// LiveStats returns the source's counters; see LiveStatsReader.
func (s *PcapSource) LiveStats() (LiveStats, error) {
	s.statsMu.Lock()
	var err error
	if s.handle != nil {
		err = s.refreshLocked()
	}
	st := s.last
	s.statsMu.Unlock()
	st.Interface = s.iface
	st.Frames = s.frames.Load()
	st.Truncated = s.truncated.Load()
	return st, err
}

// refreshLocked reads libpcap's cumulative counters.
func (s *PcapSource) refreshLocked() error {
	ps, err := s.handle.Stats()
	if err != nil {
		return fmt.Errorf("capture: reading the counters of %s (libpcap): %w", s.iface, err)
	}
	s.last.Received = uint64(uint32(ps.PacketsReceived))
	s.last.Dropped = uint64(uint32(ps.PacketsDropped))
	s.last.InterfaceDrops = uint64(uint32(ps.PacketsIfDropped))
	return nil
}

// LinkType returns the link type of the frames this source returns.
func (s *PcapSource) LinkType() LinkType { return s.linkType }
