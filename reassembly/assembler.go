package reassembly

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/apitap/apitap/capture"
)

// Config bounds an Assembler. The zero value is a usable default
// configuration; negative values are rejected by NewAssembler.
type Config struct {
	// MaxConnections caps the connections tracked at once, closed ones
	// lingering in TimeWait included. 0 means 1<<20. Beyond it the least
	// recently active connection is evicted: first a closed one, then a
	// half-open one (only SYN/SYN-ACK seen), then an established one
	// (closed with CloseEvicted). Every eviction of a live connection is
	// counted in Stats.ClosedEvicted.
	MaxConnections int
	// MaxBufferedBytesPerConn caps the out-of-order bytes held for one
	// connection (both directions). 0 means 256 KiB. Bytes are accounted at
	// the capacity of the buffers holding them (a power of two, at least
	// 64 B per buffered segment). When a segment does not fit, the oldest
	// hole of the connection is skipped (reported to the StreamHandler as a
	// Gap) and the data after it delivered; counted in
	// Stats.ConnBufferLimitHits.
	MaxBufferedBytesPerConn int
	// MaxBufferedBytes caps the out-of-order bytes held by the assembler
	// over all connections. 0 means 256 MiB. When exceeded, the connection
	// that buffered least recently has all its buffered bytes delivered,
	// with a Gap for every hole (it stays open); counted in
	// Stats.TotalBufferLimitHits. It must be at least
	// MaxBufferedBytesPerConn.
	MaxBufferedBytes int64
	// IdleTimeout closes (CloseIdle) a connection that saw no packet for
	// this long, measured in packet time. 0 means 2 minutes.
	IdleTimeout time.Duration
	// HandshakeTimeout closes a half-open connection (only SYN or SYN-ACK
	// seen) after this long in packet time. 0 means 30 seconds.
	HandshakeTimeout time.Duration
	// TimeWait is how long a connection closed by FIN or RST is remembered,
	// in packet time, so that its last ACKs and retransmissions are ignored
	// rather than taken for a new connection picked up mid-stream. A SYN
	// with a new initial sequence number always starts a new connection.
	// 0 means 10 seconds.
	TimeWait time.Duration
	// ReorderWindow is how long, in packet time, a hole in one direction
	// may stay open after the peer acknowledged the bytes in it, before the
	// assembler takes them for lost by the capture and skips them (a Gap,
	// counted in Stats.GapsAck). The copies of a mirror port and the CPUs
	// of the capturing host reorder frames slightly: a segment may reach
	// the sensor after the acknowledgment of a later one. The data behind
	// the hole waits meanwhile (within MaxBufferedBytesPerConn; a full
	// buffer skips the acknowledged hole at once). 0 means 10ms; at most
	// a minute.
	ReorderWindow time.Duration
}

// Defaults applied for zero Config fields.
const (
	DefaultMaxConnections          = 1 << 20
	DefaultMaxBufferedBytesPerConn = 256 << 10
	DefaultMaxBufferedBytes        = 256 << 20
	DefaultIdleTimeout             = 2 * time.Minute
	DefaultHandshakeTimeout        = 30 * time.Second
	DefaultTimeWait                = 10 * time.Second
	DefaultReorderWindow           = 10 * time.Millisecond
)

// MaxReorderWindow bounds Config.ReorderWindow (half.ackSince's range).
const MaxReorderWindow = time.Minute

// maxConnectionsLimit keeps slab indices in an int32.
const maxConnectionsLimit = 1 << 30

// scanInterval is how often, in packet time, timeouts are checked.
const scanInterval = int64(time.Second)

func (c Config) withDefaults() (Config, error) {
	switch {
	case c.MaxConnections < 0 || c.MaxConnections > maxConnectionsLimit:
		return c, fmt.Errorf("reassembly: Config.MaxConnections %d out of range [0, %d]", c.MaxConnections, maxConnectionsLimit)
	case c.MaxBufferedBytesPerConn < 0:
		return c, fmt.Errorf("reassembly: Config.MaxBufferedBytesPerConn %d is negative", c.MaxBufferedBytesPerConn)
	case c.MaxBufferedBytes < 0:
		return c, fmt.Errorf("reassembly: Config.MaxBufferedBytes %d is negative", c.MaxBufferedBytes)
	case c.IdleTimeout < 0:
		return c, fmt.Errorf("reassembly: Config.IdleTimeout %v is negative", c.IdleTimeout)
	case c.HandshakeTimeout < 0:
		return c, fmt.Errorf("reassembly: Config.HandshakeTimeout %v is negative", c.HandshakeTimeout)
	case c.TimeWait < 0:
		return c, fmt.Errorf("reassembly: Config.TimeWait %v is negative", c.TimeWait)
	case c.ReorderWindow < 0 || c.ReorderWindow > MaxReorderWindow:
		return c, fmt.Errorf("reassembly: Config.ReorderWindow %v out of range [0, %v]", c.ReorderWindow, MaxReorderWindow)
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.MaxBufferedBytesPerConn == 0 {
		c.MaxBufferedBytesPerConn = DefaultMaxBufferedBytesPerConn
	}
	if c.MaxBufferedBytes == 0 {
		c.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.TimeWait == 0 {
		c.TimeWait = DefaultTimeWait
	}
	if c.ReorderWindow == 0 {
		c.ReorderWindow = DefaultReorderWindow
	}
	if int64(c.MaxBufferedBytesPerConn) > c.MaxBufferedBytes {
		return c, fmt.Errorf("reassembly: Config.MaxBufferedBytesPerConn %d exceeds Config.MaxBufferedBytes %d",
			c.MaxBufferedBytesPerConn, c.MaxBufferedBytes)
	}
	return c, nil
}

// Stats are the assembler's counters. All fields but the two gauges at the
// end only grow. Stats of several workers are summed with Add.
type Stats struct {
	Packets      uint64 // TCP segments handed to HandlePacket
	PayloadBytes uint64 // their payload bytes

	ConnectionsOpened uint64 // connections tracked (half-open and mid-stream ones included)
	Streams           uint64 // StreamHandlers created (connections that carried payload)
	PortReuses        uint64 // a SYN with a new ISN on a known 4-tuple started a new connection

	// Connections closed, by CloseReason. ConnectionsOpened equals their
	// sum plus OpenConnections.
	ClosedFIN, ClosedRST, ClosedIdle, ClosedEvicted, ClosedEndOfInput uint64
	// EvictedHalfOpen counts the evictions (part of ClosedEvicted) of
	// half-open connections, which never had a handler.
	EvictedHalfOpen uint64

	DeliveredBytes   uint64 // bytes passed to StreamHandler.Data
	OutOfOrder       uint64 // segments that arrived ahead of a hole and were buffered
	Duplicates       uint64 // segments carrying only bytes already delivered or buffered (retransmissions)
	Overlaps         uint64 // segments partly overlapping bytes already delivered or buffered (only the new bytes are kept)
	OverlapConflicts uint64 // overlaps whose bytes differ from those seen first (the first seen win)

	// Gaps reported to StreamHandlers and the bytes they skipped, with the
	// cause: the peer acknowledged bytes the sensor never saw (GapsAck),
	// a buffer cap forced the skip (GapsLimit), or the connection ended
	// with holes (GapsClose).
	Gaps, GapsAck, GapsLimit, GapsClose uint64
	BytesLost                           uint64

	ConnBufferLimitHits  uint64 // Config.MaxBufferedBytesPerConn reached
	TotalBufferLimitHits uint64 // Config.MaxBufferedBytes reached (one per connection flushed)

	IgnoredPackets uint64 // packets that started nothing: RST for an unknown connection, stray packets of a closed one
	IgnoredBytes   uint64 // payload not delivered because the handler declined it, or sent after the FIN

	OpenConnections int64 // gauge: connections currently open (not closed, not lingering in TimeWait)
	BufferedBytes   int64 // gauge: out-of-order bytes currently held
}

// Add adds o's counters (and gauges) to s.
func (s *Stats) Add(o Stats) {
	s.Packets += o.Packets
	s.PayloadBytes += o.PayloadBytes
	s.ConnectionsOpened += o.ConnectionsOpened
	s.Streams += o.Streams
	s.PortReuses += o.PortReuses
	s.ClosedFIN += o.ClosedFIN
	s.ClosedRST += o.ClosedRST
	s.ClosedIdle += o.ClosedIdle
	s.ClosedEvicted += o.ClosedEvicted
	s.ClosedEndOfInput += o.ClosedEndOfInput
	s.EvictedHalfOpen += o.EvictedHalfOpen
	s.DeliveredBytes += o.DeliveredBytes
	s.OutOfOrder += o.OutOfOrder
	s.Duplicates += o.Duplicates
	s.Overlaps += o.Overlaps
	s.OverlapConflicts += o.OverlapConflicts
	s.Gaps += o.Gaps
	s.GapsAck += o.GapsAck
	s.GapsLimit += o.GapsLimit
	s.GapsClose += o.GapsClose
	s.BytesLost += o.BytesLost
	s.ConnBufferLimitHits += o.ConnBufferLimitHits
	s.TotalBufferLimitHits += o.TotalBufferLimitHits
	s.IgnoredPackets += o.IgnoredPackets
	s.IgnoredBytes += o.IgnoredBytes
	s.OpenConnections += o.OpenConnections
	s.BufferedBytes += o.BufferedBytes
}

// Closed returns the number of connections closed for any reason.
func (s *Stats) Closed() uint64 {
	return s.ClosedFIN + s.ClosedRST + s.ClosedIdle + s.ClosedEvicted + s.ClosedEndOfInput
}

// Assembler reassembles the TCP connections of one worker and feeds their
// byte streams to StreamHandlers made by a StreamFactory. It implements
// capture.Handler.
//
// Both directions of a connection share one entry, found by a canonical
// fixed-size key. The client is the sender of the SYN (or the receiver of
// the SYN-ACK); for a connection picked up mid-stream, the endpoint with
// the higher port, or on a tie the first sender. Each direction starts at
// its SYN, or mid-stream at the first sequence number seen.
//
// The handler is created when the first payload byte of the connection is
// seen (a connection that never carries payload costs no handler: a SYN
// flood stays cheap). In-order payload is passed to Data straight from the
// packet, without a copy. Segments ahead of a hole are copied into a
// bounded per-connection buffer and delivered when the hole fills;
// retransmitted bytes are dropped, and where segments overlap the bytes
// seen first win. A hole is skipped, with a Gap call for its size before
// the bytes after it, when the peer acknowledges the data after it (the
// receiver got the bytes the sensor lost), when a buffer cap is reached,
// or when the connection ends. A FIN is reported once every byte before it
// was delivered or skipped; both FINs or a RST close the connection, which
// is then remembered for Config.TimeWait so that its stray packets start
// nothing. A new SYN with another initial sequence number on a known
// 4-tuple starts a new connection.
//
// Timeouts run on packet time: connections are kept in lists ordered by
// last activity, which are checked from their oldest end at most once per
// second of packet time. Caps evict from the same lists in O(1).
//
// An Assembler is not safe for concurrent use: HandlePacket, Flush and
// Stats must be called from one goroutine (the worker's). Its Prometheus
// metrics, which may be scraped concurrently, are updated at most once per
// second of packet time and at Flush. StreamHandler callbacks are made
// synchronously from HandlePacket and Flush and must not call back into the
// Assembler.
type Assembler struct {
	cfg     Config
	factory StreamFactory
	t       table
	pool    bufPool
	held    int64 // out-of-order bytes held, all connections

	now      int64     // assembler clock: the latest packet time seen (UnixNano), never goes back
	nowTime  time.Time // the packet timestamp that set now
	lastScan int64
	started  bool

	// ackWaits are the connections with an acknowledged hole waiting out
	// the reorder window (flag cAckWait), oldest first from ackHead.
	// An entry whose connection has since been released or reused is
	// recognised by the flag and skipped.
	ackWaits      []ackWait
	ackHead       int
	reorderMicros uint32 // Config.ReorderWindow

	// Tick's view of a quiet link: the packet count at the last Tick, and
	// the wall-clock time since which no packet has arrived.
	tickPackets uint64
	quietSince  time.Time

	stats   Stats
	metrics *metrics // nil without a registerer

	snapMu sync.Mutex
	snap   Stats // the stats as of the last publish, for StatsSnapshot
}

var _ capture.Handler = (*Assembler)(nil)

// NewAssembler returns an Assembler that asks factory for a StreamHandler
// for each connection carrying payload. reg may be nil; otherwise the
// assembler's apitap_reassembly_* metrics are registered on it (several
// assemblers may share one registerer: their counts add up).
func NewAssembler(cfg Config, factory StreamFactory, reg prometheus.Registerer) (*Assembler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if factory == nil {
		return nil, errors.New("reassembly: NewAssembler: nil StreamFactory")
	}
	a := &Assembler{cfg: cfg, factory: factory, t: newTable(), reorderMicros: uint32(cfg.ReorderWindow / time.Microsecond)}
	if reg != nil {
		m, err := newMetrics(reg)
		if err != nil {
			return nil, err
		}
		a.metrics = m
	}
	return a, nil
}

// Stats returns the assembler's counters. Call it from the goroutine that
// calls HandlePacket (or after that goroutine has finished).
func (a *Assembler) Stats() Stats {
	s := a.stats
	s.OpenConnections = int64(a.t.live())
	s.BufferedBytes = a.held
	return s
}

// StatsSnapshot returns the counters as of the last time they were
// published: at most one second of packet time before the latest packet,
// and at Flush. Unlike Stats it is safe to call from any goroutine (a
// progress display, say) while the worker runs.
func (a *Assembler) StatsSnapshot() Stats {
	a.snapMu.Lock()
	defer a.snapMu.Unlock()
	return a.snap
}

// HandlePacket processes one TCP segment. p.Payload is not kept after it
// returns (out-of-order bytes are copied).
func (a *Assembler) HandlePacket(p *capture.Packet) {
	a.stats.Packets++
	a.stats.PayloadBytes += uint64(len(p.Payload))
	if ts := p.Timestamp.UnixNano(); ts > a.now || !a.started {
		a.now, a.nowTime = ts, p.Timestamp
		if !a.started {
			a.started, a.lastScan = true, ts
		}
	}
	a.timers()

	ci, d, key := a.t.lookup(&p.Flow)
	if ci == nilIdx {
		if p.Flags&capture.FlagRST != 0 {
			a.stats.IgnoredPackets++
			return
		}
		ci = a.open(key, d, p)
	}
	c := a.t.at(ci)

	if p.Flags&(capture.FlagSYN|capture.FlagACK) == capture.FlagSYN && a.isNewSYN(c, d, p.Seq) {
		// Port reuse: the 4-tuple starts over.
		a.stats.PortReuses++
		if c.list != listClosed {
			a.finish(ci, c, closeReasonReused(c), a.nowTime)
		}
		key = c.key
		a.t.setList(ci, listNone)
		a.t.release(ci)
		ci = a.open(key, d, p)
		c = a.t.at(ci)
	}
	if c.list == listClosed {
		a.stats.IgnoredPackets++
		return
	}
	a.segment(ci, c, d, p)
	if a.held > a.cfg.MaxBufferedBytes {
		a.enforceTotal()
	}
}

// Tick is for live capture (capture.Ticker: the engine calls it about
// every 50ms of wall-clock time, packets or not; now is the wall clock).
// While no packet arrives, the assembler takes packet time to run with the
// wall clock, from the first Tick that found no new packet: on a link that
// has gone quiet, a hole waiting out the reorder window is taken for lost
// once the window has passed, and connections time out (a request never
// answered is handed on with no response) after their idle timeout of
// silence, as they would had packets kept coming. The next packet's time
// sets the clock again.
func (a *Assembler) Tick(now time.Time) {
	if a.stats.Packets != a.tickPackets {
		a.tickPackets, a.quietSince = a.stats.Packets, now
		return
	}
	quiet := int64(now.Sub(a.quietSince))
	if quiet <= 0 || !a.started { // no packet yet: nothing to time
		return
	}
	clock, lastScan := a.now, a.lastScan
	a.now += quiet
	a.timers()
	a.now, a.lastScan = clock, lastScan
}

// timers runs what is due by the assembler clock: the reorder windows that
// have passed and, every scanInterval, the timeouts.
func (a *Assembler) timers() {
	if a.ackHead < len(a.ackWaits) && a.ackWaits[a.ackHead].due <= a.now {
		a.ackWaitsDue()
	}
	if a.now-a.lastScan >= scanInterval {
		a.maintain()
	}
}

// closeReasonReused is the reason given to a live connection whose 4-tuple
// is reused by a new SYN before the sensor saw it end.
func closeReasonReused(c *conn) CloseReason {
	if c.half[0].flags&hFIN != 0 || c.half[1].flags&hFIN != 0 {
		return CloseFIN
	}
	return CloseIdle
}

// isNewSYN reports whether a SYN (without ACK) with sequence number seq
// from direction d starts a new connection on the 4-tuple of c rather than
// being a retransmission of c's own SYN.
func (a *Assembler) isNewSYN(c *conn, d int, seq uint32) bool {
	h := &c.half[d]
	if h.flags&hSYN != 0 {
		return h.isn != seq
	}
	if c.list == listClosed {
		return true
	}
	// A connection picked up mid-stream (or from a SYN-ACK only) now sees a
	// SYN: unless it fits where this direction's stream already is, it is
	// a new connection.
	return h.flags&hKnown != 0 && h.next != seq+1
}

// open creates the connection for key from its first packet p (sent in
// direction d), evicting another one first when the table is full.
func (a *Assembler) open(key capture.FlowKey, d int, p *capture.Packet) int32 {
	if a.t.used >= a.cfg.MaxConnections {
		a.evictOne()
	}
	ci, c := a.t.alloc(key)
	a.t.remember(&p.Flow, ci, d)
	a.stats.ConnectionsOpened++
	c.lastSeen = a.now
	switch {
	case p.Flags&(capture.FlagSYN|capture.FlagACK) == capture.FlagSYN:
		c.flags |= cHandshake
		if d == 1 {
			c.flags |= cClientIsB
		}
		a.t.setList(ci, listHalf)
	case p.Flags&(capture.FlagSYN|capture.FlagACK) == capture.FlagSYN|capture.FlagACK:
		c.flags |= cHandshake
		if d == 0 { // the SYN-ACK comes from the server
			c.flags |= cClientIsB
		}
		a.t.setList(ci, listHalf)
	default:
		// Mid-stream: the higher port is the client; on a tie, the sender.
		if c.key.DstPort > c.key.SrcPort || (c.key.DstPort == c.key.SrcPort && d == 1) {
			c.flags |= cClientIsB
		}
		a.t.setList(ci, listActive)
	}
	return ci
}

// evictOne frees one slot: the oldest closed connection, else the oldest
// half-open one, else the least recently active one.
func (a *Assembler) evictOne() {
	if l := &a.t.lists[listClosed]; l.tail != nilIdx {
		i := l.tail
		a.t.setList(i, listNone)
		a.t.release(i)
		return
	}
	which := listHalf
	if a.t.lists[listHalf].tail == nilIdx {
		which = listActive
	}
	i := a.t.lists[which].tail
	if i == nilIdx {
		return
	}
	if which == listHalf {
		a.stats.EvictedHalfOpen++
	}
	a.finish(i, a.t.at(i), CloseEvicted, a.nowTime)
	a.t.setList(i, listNone)
	a.t.release(i)
}

// maintain expires connections whose timeout passed (oldest first; each
// list is ordered by last activity, so it stops at the first that has not
// expired) and publishes metrics. Called at most once per second of packet
// time.
func (a *Assembler) maintain() {
	a.lastScan = a.now
	a.expire(listClosed, a.cfg.TimeWait)
	a.expire(listHalf, a.cfg.HandshakeTimeout)
	a.expire(listActive, a.cfg.IdleTimeout)
	a.publish()
}

func (a *Assembler) expire(which uint8, timeout time.Duration) {
	l := &a.t.lists[which]
	for l.tail != nilIdx {
		i := l.tail
		c := a.t.at(i)
		if a.now-c.lastSeen < int64(timeout) {
			return
		}
		if which != listClosed {
			a.finish(i, c, CloseIdle, a.nowTime)
		}
		a.t.setList(i, listNone)
		a.t.release(i)
	}
}

// Flush closes every open connection with CloseEndOfInput at packet time
// now (first delivering buffered bytes, with gaps for the holes) and
// forgets all state; the Assembler may be used again afterwards.
func (a *Assembler) Flush(now time.Time) {
	if n := now.UnixNano(); n > a.now {
		a.now, a.nowTime = n, now
	}
	for _, which := range [...]uint8{listHalf, listActive, listClosed} {
		l := &a.t.lists[which]
		for l.tail != nilIdx {
			i := l.tail
			if which != listClosed {
				a.finish(i, a.t.at(i), CloseEndOfInput, now)
			}
			a.t.setList(i, listNone)
			a.t.release(i)
		}
	}
	a.publish()
}

// publish pushes counter deltas to the Prometheus metrics and updates the
// snapshot StatsSnapshot returns.
func (a *Assembler) publish() {
	s := a.Stats()
	a.snapMu.Lock()
	a.snap = s
	a.snapMu.Unlock()
	if a.metrics != nil {
		// &a.snap, not &s: the metrics read the counters through
		// function values, which would move a local to the heap (one
		// allocation per publish). Only this goroutine writes a.snap.
		a.metrics.publish(&a.snap)
	}
}
