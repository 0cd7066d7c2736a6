package capture

import "time"

// IP fragment reassembly.
//
// A defragmenter holds incomplete datagrams, keyed by addresses and
// identification, in a table of slots linked oldest first. Each datagram's
// bytes go into one buffer at their offsets; the byte ranges received are
// kept merged and sorted, so completion is a single comparison. Overlapping
// fragments keep the bytes received first (exact duplicates, common on
// mirror ports, are harmless). Buffers come in power-of-two classes from
// 2 KiB to 64 KiB and are recycled through small per-class free lists, so
// the steady state allocates nothing.
//
// Limits: buffer bytes held (MaxFragmentBytes), datagrams held
// (MaxFragmentDatagrams), fragments per datagram (MaxFragmentsPerDatagram),
// and age in packet time (FragmentTimeout). The oldest datagrams are
// evicted first. Every discard is counted.
//
// The key is the fragment's own IP header (addresses, identification and,
// for IPv4, protocol), not the tunnels around it: fragments of one inner
// datagram that arrive through different tunnels are reassembled together.

const (
	fragMinBufShift = 11 // 2 KiB
	fragBufClasses  = 6  // 2, 4, 8, 16, 32, 64 KiB
	fragPoolPerSize = 16 // free buffers kept per class
	fragMaxDatagram = 65535
)

// fragKey identifies a datagram being reassembled. IPv4 addresses are
// stored IPv4-mapped. The protocol is part of the IPv4 key (RFC 791) and
// zero for IPv6 (RFC 8200).
type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
	v6       bool
}

type fragRange struct{ lo, hi int32 }

type fragSlot struct {
	key        fragKey
	first      int64 // packet time of the first fragment (UnixNano)
	buf        []byte
	have       []fragRange // received byte ranges, sorted, merged
	total      int         // datagram length, -1 until the last fragment is seen
	pieces     int
	proto      uint8 // upper-layer protocol from the offset-0 fragment
	prev, next int32 // age list, -1 terminated
}

type defragmenter struct {
	maxBytes     int
	maxDatagrams int
	maxPieces    int
	timeout      int64

	index      map[fragKey]int32
	slots      []fragSlot
	free       []int32
	head, tail int32 // oldest and newest slot, -1 when empty
	live       int
	bytes      int

	pool [fragBufClasses][][]byte
	done [][]byte // buffers of datagrams completed during the current Decode

	ctr *decoderCounters
}

func newDefragmenter(cfg DecoderConfig, ctr *decoderCounters) *defragmenter {
	f := &defragmenter{
		maxBytes:     cfg.MaxFragmentBytes,
		maxDatagrams: cfg.MaxFragmentDatagrams,
		maxPieces:    cfg.MaxFragmentsPerDatagram,
		timeout:      int64(cfg.FragmentTimeout),
		head:         -1,
		tail:         -1,
		ctr:          ctr,
	}
	if f.maxBytes == 0 {
		f.maxBytes = DefaultMaxFragmentBytes
	}
	if f.maxDatagrams <= 0 {
		f.maxDatagrams = DefaultMaxFragmentDatagrams
	}
	if f.maxPieces <= 0 {
		f.maxPieces = DefaultMaxFragmentsPerDatagram
	}
	if f.timeout <= 0 {
		f.timeout = int64(DefaultFragmentTimeout)
	}
	return f
}

// busy reports whether tick has work: buffers to recycle or datagrams that
// may expire.
func (f *defragmenter) busy() bool { return f.live > 0 || len(f.done) > 0 }

// tick runs at the start of every Decode while busy: it recycles the
// buffers handed out by the previous call and expires old datagrams.
func (f *defragmenter) tick(now time.Time) {
	for i, b := range f.done {
		f.putBuf(b)
		f.done[i] = nil
	}
	f.done = f.done[:0]
	if f.live > 0 {
		f.expire(now.UnixNano())
	}
}

func (f *defragmenter) expire(now int64) {
	for f.head >= 0 {
		s := &f.slots[f.head]
		if now-s.first <= f.timeout {
			return
		}
		f.ctr.fragTimeouts.Add(1)
		f.discard(f.head)
	}
	f.gauges()
}

// add inserts a fragment of len(data) bytes at byte offset off; more is the
// more-fragments flag and proto the upper-layer protocol it announces. When
// the fragment completes its datagram, add returns the datagram's payload
// (valid until the next tick), its protocol and true.
func (f *defragmenter) add(k *fragKey, off int, more bool, data []byte, proto uint8, ts time.Time) ([]byte, uint8, bool) {
	f.ctr.fragments.Add(1)
	end := off + len(data)
	if end > fragMaxDatagram || (more && len(data) == 0) {
		f.invalid()
		return nil, 0, false
	}
	now := ts.UnixNano()
	idx, ok := f.index[*k]
	if !ok {
		if f.index == nil {
			f.index = make(map[fragKey]int32)
		}
		idx = f.newSlot(k, now)
	}
	s := &f.slots[idx]
	switch {
	case s.pieces >= f.maxPieces:
		f.invalid()
		return nil, 0, false
	case !more:
		if (s.total >= 0 && s.total != end) || (len(s.have) > 0 && int(s.have[len(s.have)-1].hi) > end) {
			f.invalid() // a second, different end, or bytes beyond it
			return nil, 0, false
		}
	case s.total >= 0 && end > s.total:
		f.invalid()
		return nil, 0, false
	}
	if end > len(s.buf) && !f.grow(idx, end) {
		f.invalid()
		f.discard(idx) // also counts its earlier fragments as dropped
		f.gauges()
		return nil, 0, false
	}
	s = &f.slots[idx] // grow may have evicted others, never idx
	if !more {
		s.total = end
	}
	if off == 0 {
		s.proto = proto
	}
	s.pieces++
	if s.fill(off, end, data) {
		f.ctr.fragOverlaps.Add(1)
	}
	if s.total < 0 || len(s.have) != 1 || s.have[0].lo != 0 || int(s.have[0].hi) != s.total {
		f.gauges()
		return nil, 0, false
	}
	// Complete: hand the buffer out until the next tick.
	out, p := s.buf[:s.total], s.proto
	f.done = append(f.done, s.buf)
	f.bytes -= len(s.buf)
	s.buf = nil
	f.remove(idx)
	f.ctr.reassembled.Add(1)
	f.gauges()
	return out, p, true
}

func (f *defragmenter) invalid() {
	f.ctr.fragInvalid.Add(1)
	f.ctr.fragDropped.Add(1)
}

func (f *defragmenter) gauges() {
	f.ctr.fragBytes.Store(uint64(f.bytes))
	f.ctr.fragDatagrams.Store(uint64(f.live))
}

// newSlot registers a datagram for k, evicting the oldest one when full.
func (f *defragmenter) newSlot(k *fragKey, now int64) int32 {
	if f.live >= f.maxDatagrams && f.head >= 0 {
		f.ctr.fragEvictions.Add(1)
		f.discard(f.head)
	}
	var idx int32
	if n := len(f.free); n > 0 {
		idx = f.free[n-1]
		f.free = f.free[:n-1]
	} else {
		f.slots = append(f.slots, fragSlot{})
		idx = int32(len(f.slots) - 1)
	}
	s := &f.slots[idx]
	s.key = *k
	s.first = now
	s.total = -1
	s.pieces = 0
	s.proto = 0
	s.have = s.have[:0]
	s.prev, s.next = f.tail, -1
	if f.tail >= 0 {
		f.slots[f.tail].next = idx
	} else {
		f.head = idx
	}
	f.tail = idx
	f.index[*k] = idx
	f.live++
	return idx
}

// discard drops an incomplete datagram, counting its fragments as dropped.
func (f *defragmenter) discard(idx int32) {
	s := &f.slots[idx]
	f.ctr.fragDropped.Add(uint64(s.pieces))
	if s.buf != nil {
		f.bytes -= len(s.buf)
		f.putBuf(s.buf)
		s.buf = nil
	}
	f.remove(idx)
}

// remove unlinks a slot and frees it; its buffer is handled by the caller.
func (f *defragmenter) remove(idx int32) {
	s := &f.slots[idx]
	delete(f.index, s.key)
	if s.prev >= 0 {
		f.slots[s.prev].next = s.next
	} else {
		f.head = s.next
	}
	if s.next >= 0 {
		f.slots[s.next].prev = s.prev
	} else {
		f.tail = s.prev
	}
	s.prev, s.next = -1, -1
	f.free = append(f.free, idx)
	f.live--
}

// grow gives slot idx a buffer of at least n bytes, evicting the oldest
// other datagrams if the byte limit requires it. It fails when the limit
// cannot be met.
func (f *defragmenter) grow(idx int32, n int) bool {
	c := bufClass(n)
	size := 1 << (fragMinBufShift + c)
	s := &f.slots[idx]
	for f.bytes-len(s.buf)+size > f.maxBytes {
		victim := f.head
		if victim == idx {
			victim = f.slots[idx].next
		}
		if victim < 0 {
			return false
		}
		f.ctr.fragEvictions.Add(1)
		f.discard(victim)
		s = &f.slots[idx]
	}
	nb := f.getBuf(c)
	if s.buf != nil {
		if len(s.have) > 0 {
			copy(nb, s.buf[:s.have[len(s.have)-1].hi])
		}
		f.bytes -= len(s.buf)
		f.putBuf(s.buf)
	}
	s.buf = nb
	f.bytes += len(nb)
	return true
}

// bufClass returns the smallest buffer class holding n bytes.
func bufClass(n int) int {
	c := 0
	for c < fragBufClasses-1 && 1<<(fragMinBufShift+c) < n {
		c++
	}
	return c
}

func (f *defragmenter) getBuf(c int) []byte {
	if n := len(f.pool[c]); n > 0 {
		b := f.pool[c][n-1]
		f.pool[c][n-1] = nil
		f.pool[c] = f.pool[c][:n-1]
		return b
	}
	return make([]byte, 1<<(fragMinBufShift+c))
}

func (f *defragmenter) putBuf(b []byte) {
	c := bufClass(len(b))
	if len(b) != 1<<(fragMinBufShift+c) || len(f.pool[c]) >= fragPoolPerSize {
		return
	}
	if f.pool[c] == nil {
		f.pool[c] = make([][]byte, 0, fragPoolPerSize)
	}
	f.pool[c] = append(f.pool[c], b)
}

// fill copies the parts of data (bytes lo..hi) that are not held yet into
// the buffer and merges the range; it reports whether anything overlapped.
func (s *fragSlot) fill(lo, hi int, data []byte) (overlap bool) {
	pos := lo
	for _, r := range s.have {
		rlo, rhi := int(r.lo), int(r.hi)
		if rhi <= pos {
			continue
		}
		if rlo >= hi {
			break
		}
		if rlo > pos {
			copy(s.buf[pos:rlo], data[pos-lo:rlo-lo])
		}
		overlap = true
		pos = rhi
		if pos >= hi {
			break
		}
	}
	if pos < hi {
		copy(s.buf[pos:hi], data[pos-lo:])
	}

	// Merge [lo, hi) with every range it touches: have[i:j].
	i := 0
	for i < len(s.have) && int(s.have[i].hi) < lo {
		i++
	}
	j := i
	nlo, nhi := int32(lo), int32(hi)
	for j < len(s.have) && int(s.have[j].lo) <= hi {
		nlo = min(nlo, s.have[j].lo)
		nhi = max(nhi, s.have[j].hi)
		j++
	}
	switch {
	case j > i: // replace have[i:j] with the merged range
		s.have[i] = fragRange{nlo, nhi}
		s.have = append(s.have[:i+1], s.have[j:]...)
	default: // insert at i
		s.have = append(s.have, fragRange{})
		copy(s.have[i+1:], s.have[i:])
		s.have[i] = fragRange{nlo, nhi}
	}
	return overlap
}
