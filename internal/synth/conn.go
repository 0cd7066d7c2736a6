package synth

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"time"
)

// TCP header flag bits as written on the wire.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpPSH = 0x08
	tcpACK = 0x10
)

// defaultStart is the capture time of the first connection when
// ConnConfig.Start is zero.
var defaultStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Capture collects the frames of scripted connections and writes them as
// one pcap file, in timestamp order (frames with equal timestamps keep the
// order in which they were scripted).
//
// Scripting errors (an invalid stack, mixing link types, sending on a
// closed connection) are sticky: the first one is kept, later calls do
// nothing, and Err, WriteTo and WriteFile report it.
type Capture struct {
	frames []Frame
	conns  []*Conn
	err    error
	sorted bool
	nanos  bool
}

// NewCapture returns an empty capture.
func NewCapture() *Capture { return &Capture{} }

// SetNanos makes WriteTo write a nanosecond-resolution pcap (default:
// microseconds, which rounds timestamps down to the microsecond).
func (c *Capture) SetNanos(nanos bool) { c.nanos = nanos }

// Err returns the first scripting error, or nil.
func (c *Capture) Err() error { return c.err }

func (c *Capture) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// Frames returns the frames in capture order. The slice and the frames'
// data belong to the capture and must not be modified.
func (c *Capture) Frames() []Frame {
	if !c.sorted {
		idx := make([]int, len(c.frames))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			return c.frames[a].Timestamp.Compare(c.frames[b].Timestamp)
		})
		fs := make([]Frame, len(idx))
		for i, j := range idx {
			fs[i] = c.frames[j]
		}
		c.frames = fs
		c.sorted = true
	}
	return c.frames
}

// WriteTo writes the capture as a pcap file.
func (c *Capture) WriteTo(w io.Writer) (int64, error) {
	if c.err != nil {
		return 0, c.err
	}
	return WritePcap(w, c.Frames(), c.nanos)
}

// WriteFile writes the capture as a pcap file at path.
func (c *Capture) WriteFile(path string) error {
	if c.err != nil {
		return c.err
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}

// Truth returns the ground truth of every connection, connection by
// connection in creation order, exchanges in the order they were scripted.
func (c *Capture) Truth() []Exchange {
	var out []Exchange
	for _, cn := range c.conns {
		out = append(out, cn.Truth()...)
	}
	return out
}

func (c *Capture) addFrame(f Frame) {
	if len(c.frames) > 0 && c.frames[0].LinkType != f.LinkType {
		c.fail(fmt.Errorf("synth: a capture holds one link type: frame of type %d after type %d", f.LinkType, c.frames[0].LinkType))
		return
	}
	c.frames = append(c.frames, f)
	c.sorted = false
}

// ConnConfig describes one scripted TCP connection. Every field's zero value
// has a documented default, so ConnConfig{} is a plain IPv4 connection over
// Ethernet with a handshake.
type ConnConfig struct {
	// Client and Server are the endpoints; both of one address family.
	// Zero: 192.0.2.10:40000+n and 198.51.100.20:80 (n = connection index).
	Client, Server netip.AddrPort

	// Start is the capture time of the first packet. Zero: 2024-01-01
	// 00:00:00 UTC plus one millisecond per connection created before.
	Start time.Time
	// RTT is the round-trip time; a pure ACK follows each send by RTT/2.
	// Zero: 1ms.
	RTT time.Duration
	// ServerTime is how long the server takes between a request and its
	// response in Exchange and Pipeline. Zero: 200µs.
	ServerTime time.Duration
	// Think is the client's pause after each exchange. Zero: 5ms.
	Think time.Duration
	// Spacing separates back-to-back segments of one send. Zero: 10µs.
	Spacing time.Duration

	// MSS is the largest TCP payload per segment. Zero: 1460.
	MSS int
	// NoHandshake starts the connection mid-stream: no SYN, SYN-ACK, ACK.
	NoHandshake bool
	// NoAcks suppresses the pure ACKs that follow each send (the receiver's
	// acknowledgement of everything sent, lost data included).
	NoAcks bool
	// ClientISN and ServerISN are the initial sequence numbers. Zero: drawn
	// from Seed.
	ClientISN, ServerISN uint32
	// Seed drives the random impairments and default ISNs. The same seed
	// and script give the same capture.
	Seed uint64

	// ClientStack encapsulates client→server packets, ServerStack
	// server→client ones; see Layer. Nil ClientStack: Ethernet only. Nil
	// ServerStack: the same layers as ClientStack (zero MAC addresses are
	// still chosen by direction).
	ClientStack, ServerStack []Layer
	// FragmentSize > 0 fragments the connection's own IPv4 packets larger
	// than that many bytes; ReverseFragments emits them last first.
	FragmentSize     int
	ReverseFragments bool

	// ClientImpair and ServerImpair impair the data segments of each
	// direction at random; zero values impair nothing.
	ClientImpair, ServerImpair Impairments
}

// Conn scripts one TCP connection inside a Capture. Its methods append
// packets at the connection's clock, which each call advances.
type Conn struct {
	capt      *Capture
	index     int
	cfg       ConnConfig
	now       time.Time
	rng       *rand.Rand
	dirs      [2]dirState // 0: client → server, 1: server → client
	capturing bool
	closed    bool
	exch      []exchRec
	pending   []int // exchanges waiting for a response
}

type dirState struct {
	src, dst netip.AddrPort
	isn      uint32
	next     int64 // stream offset of the next data byte
	fin      bool
	enc      *encoder
	impair   Impairments
	captured []span // stream ranges present in the capture
	conflict []span // ranges retransmitted with different content
}

type span struct{ lo, hi int64 }

// NewConn adds a connection to the capture; it starts with its handshake
// (unless cfg.NoHandshake) at cfg.Start.
func (c *Capture) NewConn(cfg ConnConfig) *Conn {
	n := len(c.conns)
	cn := &Conn{capt: c, index: n, capturing: true}
	c.conns = append(c.conns, cn)
	if !cfg.Client.IsValid() {
		cfg.Client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, 10}), uint16(40000+n%20000))
	}
	if !cfg.Server.IsValid() {
		cfg.Server = netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, 20}), 80)
	}
	if cfg.Client.Addr().Is4() != cfg.Server.Addr().Is4() {
		c.fail(fmt.Errorf("synth: connection %d: client %v and server %v are of different address families", n, cfg.Client, cfg.Server))
		cn.closed = true
		return cn
	}
	if cfg.Start.IsZero() {
		cfg.Start = defaultStart.Add(time.Duration(n) * time.Millisecond)
	}
	cfg.RTT = orDefault(cfg.RTT, time.Millisecond)
	cfg.ServerTime = orDefault(cfg.ServerTime, 200*time.Microsecond)
	cfg.Think = orDefault(cfg.Think, 5*time.Millisecond)
	cfg.Spacing = orDefault(cfg.Spacing, 10*time.Microsecond)
	if cfg.MSS <= 0 {
		cfg.MSS = 1460
	}
	cn.rng = rand.New(rand.NewPCG(cfg.Seed, uint64(n)+0x9e3779b97f4a7c15))
	if cfg.ClientISN == 0 {
		cfg.ClientISN = cn.rng.Uint32()
	}
	if cfg.ServerISN == 0 {
		cfg.ServerISN = cn.rng.Uint32()
	}
	cn.cfg = cfg
	cn.now = cfg.Start
	serverStack := cfg.ServerStack
	if serverStack == nil {
		serverStack = cfg.ClientStack
	}
	flowPort := uint16(49152 + (uint32(cfg.Client.Port())*31+uint32(cfg.Server.Port()))%16384)
	var err error
	cn.dirs[0] = dirState{src: cfg.Client, dst: cfg.Server, isn: cfg.ClientISN, impair: cfg.ClientImpair}
	cn.dirs[1] = dirState{src: cfg.Server, dst: cfg.Client, isn: cfg.ServerISN, impair: cfg.ServerImpair}
	if cn.dirs[0].enc, err = newEncoder(cfg.ClientStack, true, flowPort, uint16(cn.rng.Uint32())); err == nil {
		cn.dirs[1].enc, err = newEncoder(serverStack, false, flowPort, uint16(cn.rng.Uint32()))
	}
	if err == nil && cn.dirs[0].enc.linkType != cn.dirs[1].enc.linkType {
		err = errors.New("synth: the client and server stacks produce different link types")
	}
	if err != nil {
		c.fail(fmt.Errorf("synth: connection %d: %w", n, err))
		cn.closed = true
		return cn
	}
	if !cfg.NoHandshake {
		cn.emit(0, cfg.ClientISN, 0, tcpSYN, uint16(cfg.MSS), nil)
		cn.now = cn.now.Add(cfg.RTT / 2)
		cn.emit(1, cfg.ServerISN, cfg.ClientISN+1, tcpSYN|tcpACK, uint16(cfg.MSS), nil)
		cn.now = cn.now.Add(cfg.RTT / 2)
		cn.emit(0, cfg.ClientISN+1, cfg.ServerISN+1, tcpACK, 0, nil)
	}
	return cn
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Index is the connection's position in its capture.
func (cn *Conn) Index() int { return cn.index }

// Client returns the client endpoint.
func (cn *Conn) Client() netip.AddrPort { return cn.cfg.Client }

// Server returns the server endpoint.
func (cn *Conn) Server() netip.AddrPort { return cn.cfg.Server }

// Now returns the connection's clock.
func (cn *Conn) Now() time.Time { return cn.now }

// Wait advances the connection's clock by d.
func (cn *Conn) Wait(d time.Duration) { cn.now = cn.now.Add(d) }

// SetCapture turns capturing of this connection's packets on or off. While
// off, packets are scripted (sequence numbers advance) but not written: use
// it to start a capture in the middle of a conversation. Truth reports the
// messages sent while off as not captured.
func (cn *Conn) SetCapture(on bool) { cn.capturing = on }

// seqOf returns the sequence number of stream offset off in direction d.
func (cn *Conn) seqOf(d int, off int64) uint32 { return cn.dirs[d].isn + 1 + uint32(off) }

// ackOf returns the acknowledgement number that direction d sends: all the
// peer sent (lost data included) plus its FIN.
func (cn *Conn) ackOf(d int) uint32 {
	p := &cn.dirs[1-d]
	a := cn.seqOf(1-d, p.next)
	if p.fin {
		a++
	}
	return a
}

// emit writes one TCP segment of direction d at the current clock and
// advances the clock by the spacing.
func (cn *Conn) emit(d int, seq, ack uint32, flags uint8, mss uint16, payload []byte) {
	defer func() { cn.now = cn.now.Add(cn.cfg.Spacing) }()
	if !cn.capturing || cn.capt.err != nil {
		return
	}
	ds := &cn.dirs[d]
	seg := tcpSegment(ds.src, ds.dst, seq, ack, flags, 65535, mss, payload)
	inner := IP{Src: ds.src.Addr(), Dst: ds.dst.Addr(), FragmentSize: cn.cfg.FragmentSize, ReverseFragments: cn.cfg.ReverseFragments}
	ds.enc.ipID++
	pkts := ipPackets(inner, 6, ds.enc.ipID, seg)
	for _, p := range pkts {
		frames, err := ds.enc.encap(p, inner)
		if err != nil {
			cn.capt.fail(fmt.Errorf("synth: connection %d: %w", cn.index, err))
			return
		}
		for _, f := range frames {
			cn.capt.addFrame(Frame{Timestamp: cn.now, LinkType: ds.enc.linkType, Data: f})
		}
	}
}

// usable reports whether the connection can still send; it records an
// error otherwise.
func (cn *Conn) usable(d int, what string) bool {
	if cn.capt.err != nil {
		return false
	}
	if cn.closed {
		cn.capt.fail(fmt.Errorf("synth: connection %d: %s after the connection was reset", cn.index, what))
		return false
	}
	if cn.dirs[d].fin {
		cn.capt.fail(fmt.Errorf("synth: connection %d: %s after FIN", cn.index, what))
		return false
	}
	return true
}

// ClientSend sends data from the client, cut into MSS-sized segments, with
// the given impairments; the server's ACK follows unless NoAcks.
func (cn *Conn) ClientSend(data []byte, acts ...Action) { cn.send(0, data, acts) }

// ServerSend sends data from the server; see ClientSend.
func (cn *Conn) ServerSend(data []byte, acts ...Action) { cn.send(1, data, acts) }

// Send sends data from the client (fromClient) or the server.
func (cn *Conn) Send(fromClient bool, data []byte, acts ...Action) {
	d := 1
	if fromClient {
		d = 0
	}
	cn.send(d, data, acts)
}

type seg struct {
	off      int64
	data     []byte
	conflict bool
}

func (cn *Conn) send(d int, data []byte, acts []Action) {
	if len(data) == 0 || !cn.usable(d, "send") {
		return
	}
	ds := &cn.dirs[d]
	base := ds.next
	end := base + int64(len(data))
	mss := cn.cfg.MSS
	nseg := (len(data) + mss - 1) / mss
	var order, tail []seg
	var swapAt []int
	for i := 0; i < nseg; i++ {
		lo := i * mss
		hi := min(lo+mss, len(data))
		s := seg{off: base + int64(lo), data: data[lo:hi]}
		act := cn.actionFor(d, i, acts)
		switch act.Kind {
		case ImpairDrop:
		case ImpairDuplicate:
			order = append(order, s, s)
		case ImpairReorder:
			swapAt = append(swapAt, len(order))
			order = append(order, s)
		case ImpairRetransmit, ImpairConflict:
			order = append(order, s)
			olo := max(int64(lo-act.Overlap), 0)
			ohi := min(int64(hi+act.Overlap), int64(len(data)))
			r := seg{off: base + olo, data: data[olo:ohi]}
			if act.Kind == ImpairConflict {
				r.data = conflicting(r.data)
				r.conflict = true
			}
			tail = append(tail, r)
		case ImpairRecover:
			tail = append(tail, s)
		default:
			order = append(order, s)
		}
	}
	for _, p := range swapAt {
		if p+1 < len(order) {
			order[p], order[p+1] = order[p+1], order[p]
		}
	}
	ds.next = end
	ack := cn.ackOf(d)
	all := append(order, tail...)
	for i, s := range all {
		flags := uint8(tcpACK)
		if s.off+int64(len(s.data)) == end || i == len(all)-1 {
			flags |= tcpPSH
		}
		if cn.capturing {
			sp := span{s.off, s.off + int64(len(s.data))}
			ds.captured = append(ds.captured, sp)
			if s.conflict {
				ds.conflict = append(ds.conflict, sp)
			}
		}
		cn.emit(d, cn.seqOf(d, s.off), ack, flags, 0, s.data)
	}
	cn.ackFrom(1 - d)
}

// ackFrom emits a pure ACK from direction d after the RTT/2 delay.
func (cn *Conn) ackFrom(d int) {
	if cn.cfg.NoAcks {
		return
	}
	cn.now = cn.now.Add(cn.cfg.RTT / 2)
	cn.emit(d, cn.seqOf(d, cn.dirs[d].next)+finBit(cn.dirs[d].fin), cn.ackOf(d), tcpACK, 0, nil)
}

func finBit(fin bool) uint32 {
	if fin {
		return 1
	}
	return 0
}

// conflicting returns a copy of b whose letters have their case swapped
// and whose digits are rotated, so it overlaps with different content.
func conflicting(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			c ^= 0x20
		case c >= '0' && c <= '8':
			c++
		case c == '9':
			c = '0'
		}
		out[i] = c
	}
	return out
}

// Fin closes the sending direction of the client (fromClient) or server;
// the peer's ACK follows unless NoAcks.
func (cn *Conn) Fin(fromClient bool) {
	d := 1
	if fromClient {
		d = 0
	}
	cn.fin(d, true)
}

func (cn *Conn) fin(d int, ack bool) {
	if !cn.usable(d, "FIN") {
		return
	}
	ds := &cn.dirs[d]
	cn.emit(d, cn.seqOf(d, ds.next), cn.ackOf(d), tcpFIN|tcpACK, 0, nil)
	ds.fin = true
	if ack {
		cn.ackFrom(1 - d)
	}
}

// Close ends the connection gracefully: the client's FIN, the server's
// FIN-ACK, the client's ACK. A direction already closed is skipped.
func (cn *Conn) Close() {
	if cn.closed {
		return
	}
	if !cn.dirs[0].fin {
		cn.fin(0, false)
		cn.now = cn.now.Add(cn.cfg.RTT / 2)
	}
	if !cn.dirs[1].fin {
		cn.fin(1, false)
		cn.now = cn.now.Add(cn.cfg.RTT / 2)
	}
	if !cn.cfg.NoAcks {
		cn.emit(0, cn.seqOf(0, cn.dirs[0].next)+1, cn.ackOf(0), tcpACK, 0, nil)
	}
	cn.closed = true
}

// Reset aborts the connection with a RST from the client (fromClient) or
// the server. Nothing may be sent after it.
func (cn *Conn) Reset(fromClient bool) {
	if cn.closed || cn.capt.err != nil {
		return
	}
	d := 1
	if fromClient {
		d = 0
	}
	cn.emit(d, cn.seqOf(d, cn.dirs[d].next)+finBit(cn.dirs[d].fin), cn.ackOf(d), tcpRST|tcpACK, 0, nil)
	cn.closed = true
}
