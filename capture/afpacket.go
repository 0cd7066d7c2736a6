//go:build linux

package capture

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Linux ARPHRD_* hardware types whose frames start with an Ethernet header.
const (
	arphrdEther    = 1
	arphrdLoopback = 772 // the loopback device fakes a 14-byte Ethernet header
)

// AFPacketSource is one member of a live AF_PACKET capture: a TPACKET_V3
// ring mapped into the process, read without copying.
//
// ReadFrame and Close follow the Source contract, with one addition: Close
// may be called from any goroutine, concurrently with ReadFrame. A
// ReadFrame blocked waiting for packets then returns io.EOF within the
// block timeout or 50ms, whichever is less, and every later call returns
// io.EOF. Closing never unmaps memory from under a reader: when no frame
// is out (ReadFrame has not returned one since its last error, or has not
// been called) Close closes the socket and unmaps the ring at once;
// otherwise the reader may still be decoding the last frame, so Close
// only stops the kernel from queueing packets (a drop-all filter: the
// counters stop) and the ring is unmapped by the next ReadFrame, which
// returns io.EOF, or by the garbage collector. A reader that stops on its
// own should therefore call ReadFrame once more after Close (or close
// after ReadFrame has returned an error) to free the ring at once.
// LiveStats may be called from any goroutine at any time.
//
// To stop without losing what the kernel has already accepted (the packets
// of a partly filled ring block wait up to the block timeout before the
// reader sees them), call Drain first, read until io.EOF, then Close.
type AFPacketSource struct {
	liveBase
	blockTimeout time.Duration

	// drainUntil is 0, or the wall-clock time (UnixNano) after which a
	// draining ReadFrame that finds the ring empty returns io.EOF.
	drainUntil atomic.Int64

	// tp is the socket and ring; nil once released. ReadFrame uses it
	// under gate.mu, LiveStats under statsMu; release takes both.
	tp *afpacket.TPacket

	last kernelCounters // guarded by statsMu
}

var (
	_ Source          = (*AFPacketSource)(nil)
	_ LiveStatsReader = (*AFPacketSource)(nil)
)

// kernelCounters are the kernel's PACKET_STATISTICS as last read. The
// kernel resets its counters on every read; gopacket sums them in 32 bits,
// so the 64-bit totals in LiveStats are built from the (wrapping)
// differences.
type kernelCounters struct {
	packets, drops, freezes uint32
}

// OpenInterface opens live capture on cfg.Interface through AF_PACKET
// TPACKET_V3 rings: cfg.FanoutMembers sockets in one fanout group, returned
// as Sources (*AFPacketSource) to be read by one goroutine each. Frames
// from Ethernet and loopback interfaces are LinkTypeEthernet; any other
// interface (tun, ipip, gre, ppp...) is captured from the network header on
// and its frames are LinkTypeRaw.
//
// The BPF filter, compiled with libpcap, and the snap length are run by the
// kernel before a packet enters a ring. The kernel moves the outer 802.1Q
// or 802.1ad tag of a received frame into the ring's metadata: frames
// arrive without it (an inner QinQ tag stays), the filter sees them that
// way too (so tcpdump's "vlan" primitive does not match), and gopacket
// then costs one small allocation per tagged frame. Checksums of packets
// the capturing host sends itself are typically not yet computed
// (checksum offload). Kernel counters are exported on reg
// (nil: no metrics) as apitap_capture_kernel_packets_total,
// apitap_capture_kernel_drops_total, apitap_capture_kernel_queue_freezes_total,
// apitap_capture_live_frames_total and apitap_capture_live_truncated_total,
// labelled with the interface and the member index, while any member is
// open.
//
// Errors are one line naming the interface and what to do about it; they
// match ErrNoInterface, ErrInterfaceDown, ErrPermission or ErrBadFilter
// with errors.Is where those apply.
func OpenInterface(cfg LiveConfig, reg prometheus.Registerer) ([]Source, error) {
	cfg, err := cfg.withDefaults(os.Getpagesize())
	if err != nil {
		return nil, err
	}
	ifi, err := lookupUpInterface(cfg.Interface)
	if err != nil {
		return nil, err
	}
	hwType, err := interfaceHardwareType(cfg.Interface)
	if err != nil {
		return nil, err
	}
	linkType, sockType := LinkTypeRaw, afpacket.SocketDgram
	if hwType == arphrdEther || hwType == arphrdLoopback {
		linkType, sockType = LinkTypeEthernet, afpacket.SocketRaw
	}
	filter, err := compileFilter(cfg.BPF, linkType, cfg.SnapLen)
	if err != nil {
		return nil, err
	}
	fanout := cfg.FanoutMembers > 1 || cfg.FanoutGroup != 0
	groupID := cfg.FanoutGroup
	if groupID == 0 {
		groupID = derivedFanoutGroup(os.Getpid(), ifi.Index)
	}

	group := &liveGroup{}
	srcs := make([]Source, 0, cfg.FanoutMembers)
	readers := make([]LiveStatsReader, 0, cfg.FanoutMembers)
	closeAll := func() {
		for _, s := range srcs {
			s.Close()
		}
	}
	for i := range cfg.FanoutMembers {
		s, err := openAFPacketMember(cfg, i, sockType, linkType, filter, fanout, groupID, group)
		if err != nil {
			closeAll()
			return nil, err
		}
		srcs = append(srcs, s)
		readers = append(readers, s)
	}
	if err := group.register(cfg.Interface, reg, readers); err != nil {
		closeAll()
		return nil, err
	}
	return srcs, nil
}

// openAFPacketMember opens, filters and (with fanout) joins one socket.
func openAFPacketMember(cfg LiveConfig, member int, sockType afpacket.OptSocketType, linkType LinkType,
	filter []bpf.RawInstruction, fanout bool, groupID uint16, group *liveGroup) (*AFPacketSource, error) {
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(cfg.Interface),
		afpacket.TPacketVersion3,
		sockType,
		afpacket.OptBlockSize(cfg.BlockSize),
		afpacket.OptNumBlocks(cfg.NumBlocks),
		afpacket.OptFrameSize(cfg.FrameSize),
		afpacket.OptBlockTimeout(cfg.BlockTimeout),
		afpacket.OptPollTimeout(cfg.pollInterval()),
	)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, permissionError(cfg.Interface, err)
		}
		return nil, fmt.Errorf("capture: opening %s with a %d MiB TPACKET_V3 ring (%d blocks of %d KiB): %w; a smaller ring (ring size) may help",
			cfg.Interface, cfg.RingBytes>>20, cfg.NumBlocks, cfg.BlockSize>>10, err)
	}
	// The filter is attached right after the socket is bound: packets that
	// arrive in between (microseconds) are not filtered.
	if err := tp.SetBPF(filter); err != nil {
		tp.Close()
		return nil, fmt.Errorf("capture: attaching the BPF filter %q to %s: %w", cfg.BPF, cfg.Interface, err)
	}
	if fanout {
		if err := tp.SetFanout(fanoutType(cfg.FanoutMode), groupID); err != nil {
			tp.Close()
			return nil, fmt.Errorf("capture: joining fanout group %d (mode %s) on %s: %w; another socket uses this group id with other settings: choose another fanout group",
				groupID, cfg.FanoutMode, cfg.Interface, err)
		}
	}
	if cfg.Promiscuous {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			return nil, fmt.Errorf("capture: putting %s in promiscuous mode: %w", cfg.Interface, err)
		}
	}
	s := &AFPacketSource{
		liveBase:     liveBase{iface: cfg.Interface, member: member, linkType: linkType, group: group},
		blockTimeout: cfg.BlockTimeout,
		tp:           tp,
	}
	s.init(s)
	return s, nil
}

// fanoutType maps a FanoutMode to the kernel's fanout type.
func fanoutType(m FanoutMode) afpacket.FanoutType {
	switch m {
	case FanoutLoadBalance:
		return afpacket.FanoutLoadBalance
	case FanoutCPU:
		return afpacket.FanoutCPU
	case FanoutQueueMapping:
		return afpacket.FanoutQueueMapping
	case FanoutRandom:
		return afpacket.FanoutRandom
	}
	// PACKET_FANOUT_HASH is 0: this is hash with defragmentation.
	return afpacket.FanoutHashWithDefrag
}

// derivedFanoutGroup is the fanout group id used when none is configured:
// distinct per process and, within one, per interface.
func derivedFanoutGroup(pid, ifindex int) uint16 {
	return uint16(pid) ^ uint16(ifindex*0x9e37)
}

// interfaceHardwareType returns the interface's ARPHRD_* type
// (SIOCGIFHWADDR), looked up in the calling thread's network namespace.
func interfaceHardwareType(name string) (uint16, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("capture: interface %s: link type: %w", name, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, fmt.Errorf("capture: interface %s: link type: %w", name, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, fmt.Errorf("capture: interface %s: link type (SIOCGIFHWADDR): %w", name, err)
	}
	// The union holds a struct sockaddr whose family is the ARPHRD type.
	return ifr.Uint16(), nil
}

// ReadFrame fills f with the next frame; f.Data points into the ring and
// is valid until the next ReadFrame (or Close). It blocks until a frame
// arrives, the source is closed (io.EOF), or the socket fails (for
// instance when the interface goes down or away).
func (s *AFPacketSource) ReadFrame(f *Frame) error {
	if !s.gate.enter() {
		return io.EOF
	}
	if s.tp == nil { // drained and released
		s.gate.leave(false)
		return io.EOF
	}
	for {
		data, ci, err := s.tp.ZeroCopyReadPacketData()
		if err != nil {
			if errors.Is(err, afpacket.ErrTimeout) || errors.Is(err, unix.EINTR) {
				if s.gate.stopping() || s.drained() {
					return s.gate.stopEOF()
				}
				continue
			}
			s.gate.leave(false)
			if errors.Is(err, afpacket.ErrPoll) {
				return fmt.Errorf("capture: reading %s: the socket reported an error: the interface went down or was removed: %w", s.iface, err)
			}
			return fmt.Errorf("capture: reading %s: %w", s.iface, err)
		}
		s.lend(f, data, ci.Timestamp, ci.Length)
		return nil
	}
}

// Drain stops the source gracefully: the kernel queues no more packets
// for it (a drop-all filter, so the counters stop too), and ReadFrame goes
// on returning the frames already in the ring, including those of the
// block the kernel was filling, which it hands over within two block
// timeouts. Once three have passed and the ring is empty, ReadFrame
// releases the socket and the ring and returns io.EOF, as does every later
// call. Close must still be called (it may also be called at any time to
// stop at once). Drain may be called from any goroutine, concurrently with
// ReadFrame, more than once; after Close it does nothing.
func (s *AFPacketSource) Drain() {
	s.statsMu.Lock() // keeps release from closing the socket under SetBPF
	defer s.statsMu.Unlock()
	if s.tp == nil || s.drainUntil.Load() != 0 {
		return
	}
	_ = s.tp.SetBPF(dropAll())
	// The kernel's retire timer fires every block timeout and closes a
	// block that was already open at its previous firing: two timeouts,
	// and a third for timer slack.
	s.drainUntil.Store(time.Now().Add(3 * s.blockTimeout).UnixNano())
}

// drained reports whether a Drain has run its course: called when the
// ring had nothing for a whole poll interval.
func (s *AFPacketSource) drained() bool {
	d := s.drainUntil.Load()
	return d != 0 && time.Now().UnixNano() >= d
}

// quiesce makes the kernel drop every packet before it reaches the ring
// (and before it is counted); the ring stays mapped. Called by the gate
// with gate.mu held, so no ReadFrame is running.
func (s *AFPacketSource) quiesce() {
	_ = s.tp.SetBPF(dropAll())
}

// closeLocked closes the socket and unmaps the ring; see liveHandle.
func (s *AFPacketSource) closeLocked() {
	s.tp.Close()
	s.tp = nil
}

// readCountersLocked adds what the kernel counted since the last read to
// st; see liveHandle.
func (s *AFPacketSource) readCountersLocked(st *LiveStats) error {
	_, v3, err := s.tp.SocketStats()
	if err != nil {
		return fmt.Errorf("capture: reading the kernel counters of %s: %w", s.iface, err)
	}
	k := &s.last
	p, d, f := uint32(v3.Packets()), uint32(v3.Drops()), uint32(v3.QueueFreezes())
	st.Received += uint64(p - k.packets)
	st.Dropped += uint64(d - k.drops)
	st.QueueFreezes += uint64(f - k.freezes)
	k.packets, k.drops, k.freezes = p, d, f
	return nil
}
