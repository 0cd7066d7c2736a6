package capture

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// LiveConfig configures live capture on a network interface, through an
// AF_PACKET ring (OpenInterface) or libpcap (OpenPcapLive). Every field's
// zero value is usable; only Interface is required.
type LiveConfig struct {
	// Interface is the name of the interface to capture on, e.g. "eth1".
	// Required.
	Interface string

	// FanoutMembers is the number of AF_PACKET sockets OpenInterface opens
	// in one fanout group; each is a Source to be read by its own
	// goroutine, and the kernel spreads packets over them according to
	// FanoutMode. 0 means 1 (no fanout group unless FanoutGroup is set).
	// Ignored by OpenPcapLive.
	FanoutMembers int
	// FanoutGroup is the fanout group id. 0 means one derived from the
	// process id and the interface index. Set it to share a group with
	// other processes, or to give two captures of the same interface in
	// one process separate groups. A non-zero FanoutGroup makes even a
	// single member join the group.
	FanoutGroup uint16
	// FanoutMode is how the kernel spreads packets over the members. The
	// zero value is FanoutHash.
	FanoutMode FanoutMode

	// BlockSize is the size of one ring block in bytes, a multiple of the
	// page size and of FrameSize. 0 means 1 MiB.
	BlockSize int
	// NumBlocks is the number of blocks in each member's ring. 0 means
	// RingBytes/BlockSize when RingBytes is set, else 64.
	NumBlocks int
	// RingBytes is the ring size of each member in bytes, rounded up to
	// whole blocks; an alternative to NumBlocks (set one or the other).
	// 0 means BlockSize × NumBlocks (64 MiB with the defaults).
	RingBytes int64
	// FrameSize is TPACKET_V3's nominal frame size: it only has to divide
	// BlockSize and be a multiple of 16 (packets are packed in blocks
	// regardless of it). 0 means 2048.
	FrameSize int
	// BlockTimeout is how long the kernel may keep a partly filled block
	// before handing it to the reader: the worst-case delivery latency on
	// a quiet link. Millisecond resolution. 0 means 100ms.
	BlockTimeout time.Duration

	// SnapLen is the number of bytes kept of each frame; longer frames are
	// truncated (Frame.Length keeps the length on the wire) and counted in
	// LiveStats.Truncated. 0 means 262144.
	SnapLen int
	// BPF is a capture filter in tcpdump syntax, e.g. "tcp port 80",
	// compiled with libpcap and run by the kernel. "" means no filter.
	BPF string
	// Promiscuous puts the interface in promiscuous mode while capturing,
	// which a SPAN or TAP port needs on a real NIC (it receives frames for
	// other MAC addresses). false leaves the interface's mode alone.
	Promiscuous bool
}

// FanoutMode selects how the kernel spreads packets over fanout members.
type FanoutMode uint8

// Fanout modes (PACKET_FANOUT_*).
const (
	// FanoutHash sends all packets of a flow to the same member, both
	// directions included (the kernel's symmetric flow hash); IP fragments
	// are reassembled first (PACKET_FANOUT_FLAG_DEFRAG) so they hash like
	// their flow.
	FanoutHash FanoutMode = iota
	// FanoutLoadBalance deals packets round-robin.
	FanoutLoadBalance
	// FanoutCPU picks the member by the CPU that received the packet.
	FanoutCPU
	// FanoutQueueMapping picks the member by the NIC receive queue.
	FanoutQueueMapping
	// FanoutRandom picks a member at random.
	FanoutRandom
)

// String returns the mode's name.
func (m FanoutMode) String() string {
	switch m {
	case FanoutHash:
		return "hash"
	case FanoutLoadBalance:
		return "lb"
	case FanoutCPU:
		return "cpu"
	case FanoutQueueMapping:
		return "queue"
	case FanoutRandom:
		return "random"
	}
	return "FanoutMode(" + strconv.Itoa(int(m)) + ")"
}

// Live capture defaults (see LiveConfig).
const (
	DefaultBlockSize    = 1 << 20
	DefaultNumBlocks    = 64
	DefaultFrameSize    = 2048
	DefaultBlockTimeout = 100 * time.Millisecond
	DefaultSnapLen      = 262144

	// maxPollInterval bounds how long a blocked ReadFrame waits in one
	// poll before it looks at the closed flag: the latency of Close.
	maxPollInterval = 50 * time.Millisecond
)

// withDefaults returns cfg with zero fields replaced by their defaults, or
// an error naming the interface and the bad field.
func (cfg LiveConfig) withDefaults(pageSize int) (LiveConfig, error) {
	if cfg.Interface == "" {
		return cfg, errors.New("capture: no interface given; name the interface to capture on (e.g. eth1)")
	}
	bad := func(format string, args ...any) (LiveConfig, error) {
		return cfg, fmt.Errorf("capture: interface %s: "+format, append([]any{cfg.Interface}, args...)...)
	}
	if cfg.FanoutMembers < 0 {
		return bad("fanout members %d must not be negative", cfg.FanoutMembers)
	}
	if cfg.FanoutMembers == 0 {
		cfg.FanoutMembers = 1
	}
	if cfg.FanoutMode > FanoutRandom {
		return bad("unknown fanout mode %d", cfg.FanoutMode)
	}
	if cfg.BlockSize == 0 {
		cfg.BlockSize = DefaultBlockSize
	}
	if cfg.FrameSize == 0 {
		cfg.FrameSize = DefaultFrameSize
	}
	switch {
	case cfg.BlockSize < 0 || cfg.BlockSize%pageSize != 0:
		return bad("ring block size %d must be a positive multiple of the page size %d", cfg.BlockSize, pageSize)
	case cfg.FrameSize < 128 || cfg.FrameSize%16 != 0 || cfg.BlockSize%cfg.FrameSize != 0:
		return bad("ring frame size %d must be a multiple of 16, at least 128, dividing the block size %d", cfg.FrameSize, cfg.BlockSize)
	case cfg.NumBlocks < 0 || cfg.RingBytes < 0:
		return bad("ring size must not be negative")
	case cfg.NumBlocks != 0 && cfg.RingBytes != 0:
		return bad("set either the ring size (%d bytes) or the number of ring blocks (%d), not both", cfg.RingBytes, cfg.NumBlocks)
	}
	if cfg.RingBytes != 0 {
		n := (cfg.RingBytes + int64(cfg.BlockSize) - 1) / int64(cfg.BlockSize)
		if n > 1<<20 {
			return bad("ring size %d bytes is too large", cfg.RingBytes)
		}
		cfg.NumBlocks = int(n)
	}
	if cfg.NumBlocks == 0 {
		cfg.NumBlocks = DefaultNumBlocks
	}
	cfg.RingBytes = int64(cfg.BlockSize) * int64(cfg.NumBlocks)
	switch {
	case cfg.BlockTimeout == 0:
		cfg.BlockTimeout = DefaultBlockTimeout
	case cfg.BlockTimeout < time.Millisecond || cfg.BlockTimeout > time.Minute:
		return bad("ring block timeout %v must be between 1ms and 1m", cfg.BlockTimeout)
	}
	switch {
	case cfg.SnapLen == 0:
		cfg.SnapLen = DefaultSnapLen
	case cfg.SnapLen < 64 || cfg.SnapLen > DefaultSnapLen:
		return bad("snap length %d must be between 64 and %d", cfg.SnapLen, DefaultSnapLen)
	}
	return cfg, nil
}

// pollInterval is how long one wait for packets may last before ReadFrame
// looks at the closed flag again.
func (cfg LiveConfig) pollInterval() time.Duration {
	return min(cfg.BlockTimeout, maxPollInterval)
}

// LiveStats are the counters of one live source, cumulative since it was
// opened. After Close they keep their final values.
type LiveStats struct {
	// Interface and Member identify the source (Member is its index in
	// the fanout group, 0 without one).
	Interface string
	Member    int
	// Received counts the packets the kernel accepted for this socket
	// (after the BPF filter), including those it then had to drop.
	Received uint64
	// Dropped counts packets the kernel dropped because the ring (or
	// libpcap's buffer) was full: the reader did not keep up.
	Dropped uint64
	// QueueFreezes counts the times the TPACKET_V3 ring filled up (every
	// block waiting for the reader). AF_PACKET only.
	QueueFreezes uint64
	// InterfaceDrops counts packets the interface or driver dropped, as
	// libpcap reports them (ps_ifdrop). libpcap only.
	InterfaceDrops uint64
	// Frames counts the frames ReadFrame returned.
	Frames uint64
	// Truncated counts the frames cut short by the snap length.
	Truncated uint64
}

// add accumulates o's counters into s.
func (s *LiveStats) add(o LiveStats) {
	s.Received += o.Received
	s.Dropped += o.Dropped
	s.QueueFreezes += o.QueueFreezes
	s.InterfaceDrops += o.InterfaceDrops
	s.Frames += o.Frames
	s.Truncated += o.Truncated
}

// LiveStatsReader is implemented by the live sources. LiveStats is safe to
// call from any goroutine, concurrently with ReadFrame and Close; it reads
// the kernel's counters, and returns the last values it read (with the
// error) when that fails.
type LiveStatsReader interface {
	LiveStats() (LiveStats, error)
}

// TotalLiveStats sums the LiveStats of the sources that are live sources
// (others are skipped); Interface is the first live source's and Member is
// 0. The first error met is returned with the sum of what could be read.
func TotalLiveStats(sources []Source) (LiveStats, error) {
	var (
		total    LiveStats
		firstErr error
		named    bool
	)
	for _, s := range sources {
		r, ok := s.(LiveStatsReader)
		if !ok {
			continue
		}
		st, err := r.LiveStats()
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if !named {
			total.Interface, named = st.Interface, true
		}
		total.add(st)
	}
	return total, firstErr
}

// liveCollector exports the LiveStats of a set of live sources as
// Prometheus counters, read when the registry is scraped.
type liveCollector struct {
	members []LiveStatsReader

	received, dropped, freezes, ifDrops, frames, truncated *prometheus.Desc
}

func newLiveCollector(iface string, members []LiveStatsReader) *liveCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName("apitap", "capture", name), help,
			[]string{"member"}, prometheus.Labels{"interface": iface})
	}
	return &liveCollector{
		members:   members,
		received:  desc("kernel_packets_total", "Packets the kernel accepted for a live capture socket (after the BPF filter), dropped ones included."),
		dropped:   desc("kernel_drops_total", "Packets the kernel dropped because a live capture ring or buffer was full."),
		freezes:   desc("kernel_queue_freezes_total", "Times a TPACKET_V3 ring filled up completely."),
		ifDrops:   desc("interface_drops_total", "Packets the interface or driver dropped, as libpcap reports them."),
		frames:    desc("live_frames_total", "Frames read from a live capture source."),
		truncated: desc("live_truncated_total", "Frames cut short by the snap length on a live capture source."),
	}
}

// Describe implements prometheus.Collector.
func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.received, c.dropped, c.freezes, c.ifDrops, c.frames, c.truncated} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A member whose kernel counters
// cannot be read reports the last values read.
func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.members {
		st, _ := m.LiveStats()
		member := strconv.Itoa(st.Member)
		for _, v := range []struct {
			d *prometheus.Desc
			v uint64
		}{
			{c.received, st.Received}, {c.dropped, st.Dropped}, {c.freezes, st.QueueFreezes},
			{c.ifDrops, st.InterfaceDrops}, {c.frames, st.Frames}, {c.truncated, st.Truncated},
		} {
			ch <- prometheus.MustNewConstMetric(v.d, prometheus.CounterValue, float64(v.v), member)
		}
	}
}

// liveGroup ties the members opened by one call together for metrics: the
// collector is registered until every member has been closed.
type liveGroup struct {
	reg       prometheus.Registerer // nil: no metrics
	collector *liveCollector
	open      atomic.Int32
}

// register registers the group's collector on reg (nil: none).
func (g *liveGroup) register(iface string, reg prometheus.Registerer, members []LiveStatsReader) error {
	if reg == nil {
		return nil
	}
	c := newLiveCollector(iface, members)
	if err := reg.Register(c); err != nil {
		return fmt.Errorf("capture: registering the metrics of interface %s (is it captured twice with the same registry?): %w", iface, err)
	}
	g.reg, g.collector = reg, c
	return nil
}

// memberClosed is called once per member, on its first Close; the last
// one unregisters the metrics.
func (g *liveGroup) memberClosed() {
	if g.open.Add(-1) == 0 && g.reg != nil {
		g.reg.Unregister(g.collector)
	}
}

// liveGate serialises a live source's reader with Close and decides when
// the capture handle is released, so that the memory of a frame the reader
// may still be using is never unmapped under it.
//
// ReadFrame holds mu while it waits for and takes a frame; between polls
// it looks at closed. Close sets closed and takes mu (waiting at most one
// poll interval). If no frame is out it releases the handle at once;
// otherwise it only quiesces it (the kernel queues no more packets, so the
// counters stop moving and nothing is dropped) and leaves the release to
// the reader's next ReadFrame, which returns io.EOF, or, if the reader
// never calls it again, to the garbage collector.
type liveGate struct {
	closed atomic.Bool
	mu     sync.Mutex
	// lent is true while the caller may hold a frame: from a successful
	// ReadFrame to the next ReadFrame. Guarded by mu.
	lent bool
	// released is true once release has run. Guarded by mu.
	released bool
	release  func() // frees the handle; run once, with mu held
	quiesce  func() // stops packet delivery, the handle stays mapped; with mu held
}

// enter starts a ReadFrame: it takes mu; the frame lent before is now
// given back. It returns false (with mu released and the handle freed)
// when the source is closed.
func (g *liveGate) enter() bool {
	g.mu.Lock()
	g.lent = false
	if g.closed.Load() {
		g.releaseLocked()
		g.mu.Unlock()
		return false
	}
	return true
}

// leave ends a ReadFrame started by enter; lent says whether it returned
// a frame.
func (g *liveGate) leave(lent bool) {
	g.lent = lent
	g.mu.Unlock()
}

// stopEOF ends a ReadFrame that noticed the close while waiting: it
// releases the handle (no frame is out) and returns io.EOF.
func (g *liveGate) stopEOF() error {
	g.releaseLocked()
	g.leave(false)
	return io.EOF
}

// stopping reports whether Close has been called.
func (g *liveGate) stopping() bool { return g.closed.Load() }

// releaseLocked frees the handle once. mu must be held.
func (g *liveGate) releaseLocked() {
	if !g.released {
		g.released = true
		g.release()
	}
}

// close marks the source closed and releases or quiesces the handle (see
// liveGate). It reports whether this was the first call.
func (g *liveGate) close() bool {
	first := g.closed.CompareAndSwap(false, true)
	g.mu.Lock()
	switch {
	case !g.lent:
		g.releaseLocked()
	case first:
		g.quiesce()
	}
	g.mu.Unlock()
	return first
}

// Expected failures of opening a live capture; the errors returned match
// them with errors.Is.
var (
	// ErrNoInterface: the named interface does not exist.
	ErrNoInterface = errors.New("no such interface")
	// ErrInterfaceDown: the interface is administratively down.
	ErrInterfaceDown = errors.New("interface is down")
	// ErrPermission: capturing needs privileges this process lacks.
	ErrPermission = errors.New("permission denied")
	// ErrBadFilter: the BPF expression does not compile.
	ErrBadFilter = errors.New("invalid BPF filter")
)

// liveError is an error with a complete one-line message that matches a
// sentinel (kind) and, when there is one, the underlying cause.
type liveError struct {
	msg  string
	kind error
	err  error
}

func (e *liveError) Error() string { return e.msg }

func (e *liveError) Unwrap() []error {
	if e.err == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.err}
}

// lookupInterface finds an interface by name, in the calling thread's
// network namespace; when there is none, the error lists those there are.
func lookupInterface(name string) (*net.Interface, error) {
	ifi, err := net.InterfaceByName(name)
	if err == nil {
		return ifi, nil
	}
	ifs, lerr := net.Interfaces()
	if lerr != nil {
		return nil, fmt.Errorf("capture: interface %s: %w", name, err)
	}
	names := make([]string, len(ifs))
	for i, ifi := range ifs {
		names[i] = ifi.Name
	}
	return nil, &liveError{
		msg:  fmt.Sprintf("capture: interface %s not found; available: %s", name, strings.Join(names, ", ")),
		kind: ErrNoInterface,
		err:  err,
	}
}

// permissionError is the error for a capture the process may not open.
func permissionError(iface string, err error) error {
	return &liveError{
		msg:  fmt.Sprintf("capture: opening %s needs root or CAP_NET_RAW (try sudo setcap cap_net_raw,cap_net_admin=eip $(which apitap))", iface),
		kind: ErrPermission,
		err:  err,
	}
}

// lookupUpInterface finds an interface that exists and is up, in the
// calling thread's network namespace.
func lookupUpInterface(name string) (*net.Interface, error) {
	ifi, err := lookupInterface(name)
	if err != nil {
		return nil, err
	}
	if ifi.Flags&net.FlagUp == 0 {
		return nil, &liveError{
			msg:  fmt.Sprintf("capture: interface %s is down; bring it up first (ip link set %s up)", name, name),
			kind: ErrInterfaceDown,
		}
	}
	return ifi, nil
}

// liveBase is what the live sources (AFPacketSource, PcapSource) share:
// their identity, the gate and group Close works on, the counters
// ReadFrame keeps and the kernel counters LiveStats reads. The source
// embeds it and gives init its handle.
type liveBase struct {
	iface    string
	member   int
	linkType LinkType
	gate     *liveGate
	group    *liveGroup
	impl     liveHandle // the source itself

	// statsMu guards kernel and released, and the source's handle against
	// release while LiveStats (or AFPacketSource.Drain) uses it.
	statsMu  sync.Mutex
	kernel   LiveStats // counters of the kernel (or libpcap) last read
	released bool      // the handle has been closed

	frames, truncated atomic.Uint64
}

// liveHandle is the capture handle behind a liveBase: an AF_PACKET socket
// and ring, or a libpcap handle.
type liveHandle interface {
	// readCountersLocked updates the kernel counters of st from the
	// handle; called with statsMu held, before the handle is closed.
	readCountersLocked(st *LiveStats) error
	// quiesce stops packet delivery, the handle staying mapped; called by
	// the gate with gate.mu held, so no ReadFrame is running.
	quiesce()
	// closeLocked frees the handle; called once, with gate.mu and statsMu
	// held.
	closeLocked()
}

// init sets up the gate for h and counts the source as an open member of
// its group.
func (b *liveBase) init(h liveHandle) {
	b.impl = h
	b.gate = &liveGate{release: b.release, quiesce: h.quiesce}
	b.group.open.Add(1)
}

// lend ends a ReadFrame that read a frame: it fills f, counts the frame
// and lends it to the caller until the next ReadFrame.
func (b *liveBase) lend(f *Frame, data []byte, timestamp time.Time, length int) {
	f.Data = data
	f.Timestamp = timestamp
	f.Length = length
	f.LinkType = b.linkType
	if length > len(data) {
		b.truncated.Add(1)
	}
	b.frames.Add(1)
	b.gate.leave(true)
}

// Close stops the source; see AFPacketSource for how it interacts with a
// concurrent ReadFrame. It always returns nil and may be called more than
// once, from any goroutine.
func (b *liveBase) Close() error {
	if b.gate.close() {
		b.group.memberClosed()
	}
	return nil
}

// release takes the final counters and closes the handle. Called once by
// the gate, with gate.mu held.
func (b *liveBase) release() {
	b.statsMu.Lock()
	_ = b.impl.readCountersLocked(&b.kernel)
	b.impl.closeLocked()
	b.released = true
	b.statsMu.Unlock()
}

// LiveStats returns the source's counters; see LiveStatsReader.
func (b *liveBase) LiveStats() (LiveStats, error) {
	b.statsMu.Lock()
	var err error
	if !b.released {
		err = b.impl.readCountersLocked(&b.kernel)
	}
	st := b.kernel
	b.statsMu.Unlock()
	st.Interface, st.Member = b.iface, b.member
	st.Frames = b.frames.Load()
	st.Truncated = b.truncated.Load()
	return st, err
}

// LinkType returns the link type of the frames this source returns.
func (b *liveBase) LinkType() LinkType { return b.linkType }
