package reassembly

import (
	"bytes"
	"net/netip"

	"github.com/apitap/apitap/capture"
)

// This file holds the connection table: a slab of conn records addressed by
// int32 index, a map from canonical FlowKey to index, and intrusive doubly
// linked lists threaded through the records (timeout/LRU lists and the list
// of connections that hold out-of-order bytes). Nothing here allocates per
// packet; new slab pages are allocated only when the table grows.

// nilIdx marks the end of an intrusive list and an empty slot link.
const nilIdx int32 = -1

// Slab pages hold 1<<pageShift conns each, so that the table grows without
// copying (a copy of a million records would stall the worker) and pointers
// to records stay valid while the table grows.
const (
	pageShift = 10
	pageSize  = 1 << pageShift
	pageMask  = pageSize - 1
)

// Which timeout list a connection is on (conn.list).
const (
	listNone   uint8 = iota // free slot
	listHalf                // half-open: only SYN / SYN-ACK seen; HandshakeTimeout; evicted first among live ones
	listActive              // established or picked up mid-stream; IdleTimeout
	listClosed              // closed by FIN or RST, kept for TimeWait so stray packets start nothing new
	numLists
)

// Link slots in conn.links.
const (
	linkTimeout = 0 // the conn's timeout list (a.lists[c.list]); also the free-slot chain
	linkBuffer  = 1 // a.buffering: conns holding out-of-order bytes, most recent insertion first
)

// connFlags are per-connection state bits.
type connFlags uint8

const (
	cClientIsB  connFlags = 1 << iota // the client is the key's Dst endpoint (direction 1)
	cHandshake                        // a SYN or SYN-ACK was seen when the connection started
	cNoPayload                        // the handler declined more payload (Data returned false) or the factory returned nil
	cHandlerNew                       // the factory has been asked for a handler (never ask twice)
	cAckWait                          // on Assembler.ackWaits: an acknowledged hole waits out the reorder window
)

// halfFlags are per-direction state bits.
type halfFlags uint8

const (
	hKnown    halfFlags = 1 << iota // next is valid
	hSYN                            // a SYN was seen in this direction; isn is valid
	hAckAhead                       // the peer acknowledged bytes beyond next; ack is valid
	hFIN                            // a FIN was seen; finSeq is valid
	hFinDone                        // the FIN was delivered (all bytes before it delivered or skipped)
)

type link struct{ prev, next int32 }

// list is an intrusive doubly linked list of conns; head is the most
// recently pushed.
type list struct {
	head, tail int32
	n          int
}

// half is one direction of a connection.
type half struct {
	next   uint32 // next expected sequence number (hKnown)
	isn    uint32 // sequence number of this direction's SYN (hSYN)
	ack    uint32 // highest ack from the peer beyond next (hAckAhead)
	finSeq uint32 // sequence number the FIN occupies (hFIN)
	flags  halfFlags
	// ackSince is when (assembler clock in microseconds, modulo 2^32) the
	// peer's acknowledgments went beyond next (hAckAhead): the start of
	// the reorder window of the bytes it acknowledged and the sensor has
	// not seen. Differences stay exact for 71 minutes, far beyond any
	// window (a wrapped one only delays a skip to a later packet).
	ackSince uint32
	segs     []segment // out-of-order segments, sorted by seq, non-overlapping, all after next
}

// conn is one tracked TCP connection. Direction 0 carries packets whose
// source is key's Src endpoint ("A"), direction 1 those from Dst ("B").
type conn struct {
	key      capture.FlowKey // canonical key (see canonical)
	list     uint8
	flags    connFlags
	links    [2]link
	lastSeen int64 // assembler clock (UnixNano) at the last packet
	held     int   // out-of-order buffer bytes held (capacity of pooled buffers), both directions
	handler  StreamHandler
	half     [2]half
}

// fromClient reports whether direction d is the client's.
func (c *conn) fromClient(d int) bool { return (d == 1) == (c.flags&cClientIsB != 0) }

// info builds the ConnInfo handed to the StreamFactory.
func (c *conn) info() ConnInfo {
	a := netip.AddrPortFrom(netip.AddrFrom16(c.key.SrcIP).Unmap(), c.key.SrcPort)
	b := netip.AddrPortFrom(netip.AddrFrom16(c.key.DstIP).Unmap(), c.key.DstPort)
	info := ConnInfo{Client: a, Server: b, HandshakeSeen: c.flags&cHandshake != 0}
	if c.flags&cClientIsB != 0 {
		info.Client, info.Server = b, a
	}
	return info
}

// canonical returns the direction-independent key of a flow and the
// direction of the packet within it: 0 when the packet's source is the
// key's Src, 1 otherwise. The lower endpoint (address, then port) is Src.
func canonical(k *capture.FlowKey) (capture.FlowKey, int) {
	c := bytes.Compare(k.SrcIP[:], k.DstIP[:])
	if c < 0 || (c == 0 && k.SrcPort <= k.DstPort) {
		return *k, 0
	}
	return capture.FlowKey{SrcIP: k.DstIP, DstIP: k.SrcIP, SrcPort: k.DstPort, DstPort: k.SrcPort}, 1
}

// table is the slab of conns plus the lists threaded through it.
type table struct {
	byKey     map[capture.FlowKey]int32
	pages     [][]conn
	free      int32 // head of the free-slot chain (links[linkTimeout].next)
	used      int   // slots in use (live + closed)
	lists     [numLists]list
	buffering list

	// A two-entry cache of the last flows looked up (a request and its
	// response usually follow each other), keyed by the packet's own
	// FlowKey; cleared when any slot is released.
	recent [2]recentFlow
	victim int
}

type recentFlow struct {
	flow capture.FlowKey
	idx  int32 // nilIdx: empty
	dir  int8
}

func newTable() table {
	t := table{byKey: make(map[capture.FlowKey]int32), free: nilIdx, buffering: list{head: nilIdx, tail: nilIdx}}
	t.recent[0].idx, t.recent[1].idx = nilIdx, nilIdx
	for i := range t.lists {
		t.lists[i] = list{head: nilIdx, tail: nilIdx}
	}
	return t
}

// lookup finds the connection of a packet's flow and the packet's
// direction in it. It returns nilIdx (and the canonical key to create the
// connection with) when there is none.
func (t *table) lookup(flow *capture.FlowKey) (int32, int, capture.FlowKey) {
	for k := range t.recent {
		if r := &t.recent[k]; r.idx != nilIdx && r.flow == *flow {
			return r.idx, int(r.dir), capture.FlowKey{}
		}
	}
	key, d := canonical(flow)
	i, ok := t.byKey[key]
	if !ok {
		return nilIdx, d, key
	}
	t.remember(flow, i, d)
	return i, d, key
}

// remember caches the slot of flow, replacing the older cache entry.
func (t *table) remember(flow *capture.FlowKey, i int32, d int) {
	t.recent[t.victim] = recentFlow{flow: *flow, idx: i, dir: int8(d)}
	t.victim ^= 1
}

// at returns the conn in slot i.
func (t *table) at(i int32) *conn { return &t.pages[i>>pageShift][i&pageMask] }

// alloc takes a free slot (growing the slab by one page when none is
// free), zeroes it and maps key to it. The caller puts it on a list.
func (t *table) alloc(key capture.FlowKey) (int32, *conn) {
	if t.free == nilIdx {
		base := int32(len(t.pages)) << pageShift
		t.pages = append(t.pages, make([]conn, pageSize))
		// Chain the new page's slots, lowest index first.
		for j := int32(pageSize - 1); j >= 0; j-- {
			c := t.at(base + j)
			c.links[linkTimeout].next = t.free
			t.free = base + j
		}
	}
	i := t.free
	c := t.at(i)
	t.free = c.links[linkTimeout].next
	*c = conn{key: key, links: [2]link{{nilIdx, nilIdx}, {nilIdx, nilIdx}}}
	t.byKey[key] = i
	t.used++
	return i, c
}

// release unmaps and frees slot i. The conn must be on no list and hold
// no buffers.
func (t *table) release(i int32) {
	c := t.at(i)
	delete(t.byKey, c.key)
	t.recent[0].idx, t.recent[1].idx = nilIdx, nilIdx
	segs := trimSegs(c.half[0].segs[:0])
	segs2 := trimSegs(c.half[1].segs[:0])
	*c = conn{}
	// Keep the (empty) segment slices of the slot for its next tenant, so
	// that a busy table reuses them instead of allocating.
	c.half[0].segs, c.half[1].segs = segs, segs2
	c.links[linkTimeout].next = t.free
	t.free = i
	t.used--
}

// keptSegs is the largest capacity of an empty segment slice that a
// direction keeps (and a freed slot passes on to its next tenant): larger
// ones, left by a burst of out-of-order segments, are dropped, so that the
// memory of segment records follows the bytes buffered now (bounded by
// Config.MaxBufferedBytes) rather than the largest burst each connection
// slot ever saw.
const keptSegs = 4

// trimSegs returns segs (empty), or nil when its capacity is above keptSegs.
func trimSegs(segs []segment) []segment {
	if cap(segs) > keptSegs {
		return nil
	}
	return segs
}

// pushFront puts conn i at the head of l using link slot k.
func (t *table) pushFront(l *list, k int, i int32) {
	c := t.at(i)
	c.links[k] = link{prev: nilIdx, next: l.head}
	if l.head != nilIdx {
		t.at(l.head).links[k].prev = i
	} else {
		l.tail = i
	}
	l.head = i
	l.n++
}

// unlink removes conn i from l (link slot k).
func (t *table) unlink(l *list, k int, i int32) {
	c := t.at(i)
	lk := c.links[k]
	if lk.prev != nilIdx {
		t.at(lk.prev).links[k].next = lk.next
	} else {
		l.head = lk.next
	}
	if lk.next != nilIdx {
		t.at(lk.next).links[k].prev = lk.prev
	} else {
		l.tail = lk.prev
	}
	c.links[k] = link{nilIdx, nilIdx}
	l.n--
}

// moveFront makes conn i the head of l (link slot k).
func (t *table) moveFront(l *list, k int, i int32) {
	if l.head == i {
		return
	}
	t.unlink(l, k, i)
	t.pushFront(l, k, i)
}

// setList moves conn i to timeout list which (listNone: off every list).
func (t *table) setList(i int32, which uint8) {
	c := t.at(i)
	if c.list != listNone {
		t.unlink(&t.lists[c.list], linkTimeout, i)
	}
	c.list = which
	if which != listNone {
		t.pushFront(&t.lists[which], linkTimeout, i)
	}
}

// live reports the number of connections that are neither closed nor free.
func (t *table) live() int { return t.lists[listHalf].n + t.lists[listActive].n }

// seqDiff returns a-b as a signed distance in sequence space, correct
// across wraparound for distances under 2^31.
func seqDiff(a, b uint32) int32 { return int32(a - b) }
