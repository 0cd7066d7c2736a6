package reassembly

import (
	"bytes"
	"slices"
	"time"

	"github.com/apitap/apitap/capture"
)

// This file holds the per-connection stream logic: sequence tracking,
// in-order delivery, the out-of-order buffer, gaps, FIN and close.
//
// Invariants, for each direction h of a live connection:
//   - h.segs is sorted by sequence number, its segments do not overlap, and
//     between calls every segment starts after h.next;
//   - c.held is the sum of cap(s.data) over both directions' segments, and
//     a.held the sum of c.held over all connections;
//   - a connection with cNoPayload set holds no segments.

// gapCause selects the Stats counter a gap is added to.
type gapCause uint8

const (
	gapAck   gapCause = iota // the peer acknowledged bytes never seen
	gapLimit                 // a buffer cap forced the skip
	gapClose                 // the connection ended with holes
)

// cClosing marks a connection being finished, so that a FIN delivered while
// flushing does not start a second close.
const cClosing connFlags = 1 << 7

// segment applies packet p, sent in direction d, to live connection c.
func (a *Assembler) segment(ci int32, c *conn, d int, p *capture.Packet) {
	h := &c.half[d]
	ts := p.Timestamp
	c.lastSeen = a.now
	if p.Flags&capture.FlagRST != 0 {
		a.finish(ci, c, CloseRST, ts)
		a.toClosed(ci, c)
		return
	}
	seq := p.Seq
	if p.Flags&capture.FlagSYN != 0 {
		if h.flags&hSYN == 0 {
			h.isn = seq
			h.flags |= hSYN
		}
		if h.flags&hKnown == 0 {
			h.next = seq + 1
			h.flags |= hKnown
		}
		seq++ // the SYN occupies one sequence number; data (TFO) follows it
		a.t.moveFront(&a.t.lists[c.list], linkTimeout, ci)
	} else {
		if h.flags&hKnown == 0 {
			h.next = seq // picked up mid-stream: start where this direction is now
			h.flags |= hKnown
		}
		if c.list == listHalf {
			a.t.setList(ci, listActive)
		} else {
			a.t.moveFront(&a.t.lists[c.list], linkTimeout, ci)
		}
	}

	// The acknowledgment first: the peer had those bytes before it sent
	// this packet's payload (or FIN), so a hole it confirms is skipped (and
	// the data waiting behind it delivered) before this payload is.
	if p.Flags&capture.FlagACK != 0 {
		a.ack(ci, c, 1-d, p.Ack, len(p.Payload) > 0 || p.Flags&capture.FlagFIN != 0, ts)
		if c.list == listClosed {
			return
		}
	}
	if len(p.Payload) > 0 {
		if c.flags&cNoPayload != 0 {
			a.stats.IgnoredBytes += uint64(len(p.Payload))
		} else {
			a.data(ci, c, d, seq, p.Payload, ts)
			if c.list == listClosed {
				return
			}
		}
	}
	if p.Flags&capture.FlagFIN != 0 {
		a.fin(ci, c, d, seq+uint32(len(p.Payload)), ts)
	}
}

// data handles the payload p, whose first byte has sequence number seq, of
// direction d.
func (a *Assembler) data(ci int32, c *conn, d int, seq uint32, p []byte, ts time.Time) {
	h := &c.half[d]
	if h.flags&hFIN != 0 {
		// Nothing is delivered past a FIN.
		if over := int(seqDiff(seq+uint32(len(p)), h.finSeq)); over > 0 {
			if over >= len(p) {
				a.stats.IgnoredBytes += uint64(len(p))
				return
			}
			a.stats.IgnoredBytes += uint64(over)
			p = p[:len(p)-over]
		}
	}
	for {
		diff := seqDiff(seq, h.next)
		if diff <= 0 {
			if seqDiff(seq+uint32(len(p)), h.next) <= 0 {
				a.stats.Duplicates++
				return
			}
			a.inOrder(ci, c, d, seq, p, diff < 0, ts)
			return
		}
		if a.buffer(ci, c, d, seq, p, ts) {
			a.tryAckGap(ci, c, d, ts, false)
			return
		}
		// The segment does not fit in the connection's buffer. A hole the
		// peer acknowledged is skipped at once, without waiting out the
		// reorder window; failing that, the oldest hole is. Then try again.
		next := h.next
		a.tryAckGap(ci, c, d, ts, true)
		if c.list == listClosed || c.flags&cNoPayload != 0 || h.flags&hFinDone != 0 {
			return
		}
		if h.next != next {
			continue
		}
		a.stats.ConnBufferLimitHits++
		if !a.skipOldest(ci, c, d, seq) {
			// The new segment is the oldest data held: skip to it.
			a.gap(c, d, seq, ts, gapLimit)
		}
		if c.list == listClosed || c.flags&cNoPayload != 0 || h.flags&hFinDone != 0 {
			return
		}
	}
}

// inOrder delivers p (seq <= h.next < seq+len(p)) and whatever buffered
// segments it makes contiguous. Bytes of p already buffered are taken from
// the buffer (the first seen win). overlap says p started before h.next.
func (a *Assembler) inOrder(ci int32, c *conn, d int, seq uint32, p []byte, overlap bool, ts time.Time) {
	h := &c.half[d]
	for {
		if !a.drain(ci, c, d, seq, p, &overlap, ts) || h.flags&hFinDone != 0 {
			break
		}
		off := int(seqDiff(h.next, seq))
		if off >= len(p) {
			break
		}
		chunk := p[off:]
		if len(h.segs) > 0 {
			if lim := int(seqDiff(h.segs[0].seq, h.next)); lim < len(chunk) {
				chunk = chunk[:lim]
			}
		}
		h.next += uint32(len(chunk))
		if !a.deliver(ci, c, d, chunk, ts) {
			break
		}
	}
	if overlap {
		a.stats.Overlaps++
	}
}

// drain delivers the buffered segments of direction d that start at or
// before h.next, then delivers the FIN if it is due. p (with first
// sequence number pseq; may be nil) is the segment being delivered: its
// bytes are compared with the buffered ones they overlap. drain returns
// false when the connection was closed or declined payload.
func (a *Assembler) drain(ci int32, c *conn, d int, pseq uint32, p []byte, overlap *bool, ts time.Time) bool {
	h := &c.half[d]
	for len(h.segs) > 0 {
		s := &h.segs[0]
		diff := seqDiff(s.seq, h.next)
		if diff > 0 {
			break
		}
		if p != nil {
			sOff := int(seqDiff(s.seq, pseq))
			lo, hi := max(sOff, 0), min(sOff+len(s.data), len(p))
			if lo < hi {
				*overlap = true
				if !bytes.Equal(p[lo:hi], s.data[lo-sOff:hi-sOff]) {
					a.stats.OverlapConflicts++
				}
			}
		}
		if skip := int(-diff); skip < len(s.data) {
			data := s.data[skip:]
			h.next += uint32(len(data))
			if !a.deliver(ci, c, d, data, s.ts) {
				return false
			}
		}
		a.popSeg(ci, c, d)
	}
	return a.checkFin(ci, c, d, ts)
}

// deliver hands data to the connection's handler, creating it first if
// needed. It returns false when the handler declined more payload.
func (a *Assembler) deliver(ci int32, c *conn, d int, data []byte, ts time.Time) bool {
	if c.handler == nil {
		a.ensureHandler(c, ts)
		if c.handler == nil {
			a.decline(ci, c)
			return false
		}
	}
	a.stats.DeliveredBytes += uint64(len(data))
	if !c.handler.Data(c.fromClient(d), data, ts) {
		a.decline(ci, c)
		return false
	}
	return true
}

// ensureHandler asks the factory for the connection's handler once. A nil
// handler means the connection is not wanted: its payload is ignored.
func (a *Assembler) ensureHandler(c *conn, ts time.Time) {
	if c.flags&cHandlerNew != 0 {
		return
	}
	c.flags |= cHandlerNew
	if h := a.factory.New(c.info(), ts); h != nil {
		c.handler = h
		a.stats.Streams++
	} else {
		c.flags |= cNoPayload
	}
}

// decline stops payload delivery for the connection and frees its buffers.
func (a *Assembler) decline(ci int32, c *conn) {
	c.flags |= cNoPayload
	a.releaseAll(ci, c)
}

// buffer copies p (seq ahead of h.next) into the out-of-order buffer of
// direction d. Segments it overlaps are merged with it into one buffer;
// their bytes take precedence. It returns false, changing nothing, when
// the result would exceed Config.MaxBufferedBytesPerConn.
func (a *Assembler) buffer(ci int32, c *conn, d int, seq uint32, p []byte, ts time.Time) bool {
	h := &c.half[d]
	rel := func(x uint32) int { return int(seqDiff(x, h.next)) }
	rs := rel(seq)
	re := rs + len(p)
	// segs[i:j] are the segments overlapping [rs, re).
	i := 0
	for i < len(h.segs) && rel(h.segs[i].end()) <= rs {
		i++
	}
	j, cursor, covered := i, rs, true
	for j < len(h.segs) && rel(h.segs[j].seq) < re {
		if rel(h.segs[j].seq) > cursor {
			covered = false
		}
		cursor = max(cursor, rel(h.segs[j].end()))
		j++
	}
	if cursor < re {
		covered = false
	}
	us, ue, freed := rs, re, 0
	for k := i; k < j; k++ {
		s := &h.segs[k]
		us, ue = min(us, rel(s.seq)), max(ue, rel(s.end()))
		freed += cap(s.data)
	}
	if !covered && c.held-freed+heldSize(ue-us) > a.cfg.MaxBufferedBytesPerConn {
		return false
	}
	if c.handler == nil {
		a.ensureHandler(c, ts)
		if c.handler == nil {
			a.decline(ci, c)
			return true
		}
	}
	// Compare the bytes seen twice.
	for k := i; k < j; k++ {
		s := &h.segs[k]
		sOff := rel(s.seq) - rs
		lo, hi := max(sOff, 0), min(sOff+len(s.data), len(p))
		if lo < hi && !bytes.Equal(p[lo:hi], s.data[lo-sOff:hi-sOff]) {
			a.stats.OverlapConflicts++
		}
	}
	if covered {
		a.stats.Duplicates++
		return true
	}
	if i < j {
		a.stats.Overlaps++
	}
	a.stats.OutOfOrder++
	data, buf := a.pool.get(ue - us)
	copy(data[rs-us:], p)
	first := segment{seq: h.next + uint32(us), data: data, buf: buf, ts: ts}
	for k := i; k < j; k++ {
		s := &h.segs[k]
		copy(data[rel(s.seq)-us:], s.data)
		if k == i && rel(s.seq) == us {
			first.ts = s.ts
		}
		a.pool.put(s.buf)
		h.segs[k] = segment{}
	}
	h.segs = slices.Replace(h.segs, i, j, first)
	a.addHeld(ci, c, cap(data)-freed)
	return true
}

// popSeg frees the first buffered segment of direction d.
func (a *Assembler) popSeg(ci int32, c *conn, d int) {
	h := &c.half[d]
	s := h.segs[0]
	n := copy(h.segs, h.segs[1:])
	h.segs[n] = segment{}
	h.segs = h.segs[:n]
	if n == 0 {
		h.segs = trimSegs(h.segs)
	}
	a.pool.put(s.buf)
	a.addHeld(ci, c, -cap(s.data))
}

// releaseAll frees every buffered segment of the connection.
func (a *Assembler) releaseAll(ci int32, c *conn) {
	for d := range c.half {
		h := &c.half[d]
		for k := range h.segs {
			a.pool.put(h.segs[k].buf)
		}
		clear(h.segs)
		h.segs = trimSegs(h.segs[:0])
	}
	if c.held != 0 {
		a.addHeld(ci, c, -c.held)
	}
}

// addHeld accounts delta buffered bytes to the connection and keeps the
// buffering list (most recent insertion first) up to date.
func (a *Assembler) addHeld(ci int32, c *conn, delta int) {
	was := c.held
	c.held += delta
	a.held += int64(delta)
	switch {
	case was == 0 && c.held > 0:
		a.t.pushFront(&a.t.buffering, linkBuffer, ci)
	case was > 0 && c.held == 0:
		a.t.unlink(&a.t.buffering, linkBuffer, ci)
	case delta > 0:
		a.t.moveFront(&a.t.buffering, linkBuffer, ci)
	}
}

// skipOldest skips the hole before the oldest buffered data that lies
// before seq in direction d or anywhere in the other direction, delivering
// what follows it. It returns false when there is no such data (the
// segment at seq is the oldest).
func (a *Assembler) skipOldest(ci int32, c *conn, d int, seq uint32) bool {
	for _, dd := range [2]int{d, 1 - d} {
		h := &c.half[dd]
		if len(h.segs) == 0 || (dd == d && seqDiff(h.segs[0].seq, seq) >= 0) {
			continue
		}
		s := &h.segs[0]
		ts := s.ts
		a.gap(c, dd, s.seq, ts, gapLimit)
		var ov bool
		a.drain(ci, c, dd, 0, nil, &ov, ts)
		return true
	}
	return false
}

// gap moves direction d's next expected byte forward to `to`, reporting the
// skipped bytes to the handler.
func (a *Assembler) gap(c *conn, d int, to uint32, ts time.Time, cause gapCause) {
	h := &c.half[d]
	n := seqDiff(to, h.next)
	if n <= 0 {
		return
	}
	h.next = to
	a.stats.Gaps++
	a.stats.BytesLost += uint64(n)
	switch cause {
	case gapAck:
		a.stats.GapsAck++
	case gapLimit:
		a.stats.GapsLimit++
	default:
		a.stats.GapsClose++
	}
	if c.flags&cNoPayload != 0 {
		return
	}
	a.ensureHandler(c, ts)
	if c.handler != nil {
		c.handler.Gap(c.fromClient(d), int(n), ts)
	}
}

// fin records a FIN of direction d at finSeq. It returns false when the
// connection is now closed.
func (a *Assembler) fin(ci int32, c *conn, d int, finSeq uint32, ts time.Time) bool {
	h := &c.half[d]
	if h.flags&hFIN == 0 {
		h.flags |= hFIN
		h.finSeq = finSeq
	}
	if !a.checkFin(ci, c, d, ts) {
		return false
	}
	a.tryAckGap(ci, c, d, ts, false)
	return c.list != listClosed
}

// checkFin delivers direction d's FIN when every byte before it has been
// delivered (or skipped); when both directions are finished it closes the
// connection (CloseFIN). It returns false when the connection is closed
// or declined payload.
func (a *Assembler) checkFin(ci int32, c *conn, d int, ts time.Time) bool {
	h := &c.half[d]
	if h.flags&(hFIN|hFinDone) == hFIN && (c.flags&cNoPayload != 0 || seqDiff(h.finSeq, h.next) <= 0) {
		h.flags |= hFinDone
		h.next = h.finSeq + 1
		if len(h.segs) > 0 { // bytes past the FIN: not part of the stream
			for k := range h.segs {
				a.stats.IgnoredBytes += uint64(len(h.segs[k].data))
			}
			for len(h.segs) > 0 {
				a.popSeg(ci, c, d)
			}
		}
		if c.handler != nil {
			c.handler.Fin(c.fromClient(d), ts)
		}
		if c.half[1-d].flags&hFinDone != 0 && c.flags&cClosing == 0 {
			a.finish(ci, c, CloseFIN, ts)
			a.toClosed(ci, c)
			return false
		}
	}
	return c.flags&cNoPayload == 0
}

// ack notes that the peer of direction d acknowledged everything before
// ack. When that is beyond what the sensor saw of d, the bytes in between
// were lost by the capture, or are still on their way to it (a mirror port
// and the capturing host's CPUs reorder frames a little): once data or the
// FIN after the hole is waiting and the reorder window has passed, the
// hole is skipped. An acknowledgment carried by data or a FIN (ordered is
// set) starts no window: that data is delivered now, after the bytes it
// acknowledges, so they are taken for lost now.
func (a *Assembler) ack(ci int32, c *conn, d int, ack uint32, ordered bool, ts time.Time) {
	h := &c.half[d]
	if h.flags&(hKnown|hFinDone) != hKnown || c.flags&cNoPayload != 0 || seqDiff(ack, h.next) <= 0 {
		return
	}
	switch {
	case h.flags&hAckAhead == 0 || seqDiff(h.ack, h.next) <= 0:
		// The first acknowledgment beyond what was seen (the sensor had
		// caught up with any earlier one): the reorder window starts.
		h.ack, h.ackSince = ack, a.micros()
		h.flags |= hAckAhead
	case seqDiff(ack, h.ack) > 0:
		h.ack = ack
	}
	if ordered {
		h.ackSince = a.micros() - a.reorderMicros
	}
	a.tryAckGap(ci, c, d, ts, false)
}

// tryAckGap skips the hole at the head of direction d when the peer has
// acknowledged everything up to the data (or FIN) waiting behind it: the
// receiver got those bytes, only the sensor missed them, and no
// retransmission will come. Unless force is set, the hole is skipped only
// once the reorder window since the acknowledgment has passed; until then
// the connection waits on a.ackWaits. A hole only partly acknowledged is
// left open.
func (a *Assembler) tryAckGap(ci int32, c *conn, d int, ts time.Time, force bool) {
	h := &c.half[d]
	for h.flags&hAckAhead != 0 && c.flags&cNoPayload == 0 && c.list != listClosed {
		var first uint32
		switch {
		case len(h.segs) > 0:
			first = h.segs[0].seq
		case h.flags&(hFIN|hFinDone) == hFIN:
			first = h.finSeq
		default:
			return
		}
		if seqDiff(first, h.next) <= 0 || seqDiff(h.ack, first) < 0 {
			return
		}
		if waited := a.micros() - h.ackSince; !force && waited < a.reorderMicros && a.waitAck(ci, c, a.reorderMicros-waited) {
			return
		}
		a.gap(c, d, first, ts, gapAck)
		var ov bool
		if !a.drain(ci, c, d, 0, nil, &ov, ts) || h.flags&hFinDone != 0 {
			return
		}
	}
}

// ackWait is a connection waiting on Assembler.ackWaits.
type ackWait struct {
	ci  int32
	due int64 // assembler clock at which its hole is looked at again
}

// micros is the assembler clock in microseconds, modulo 2^32 (half.ackSince).
func (a *Assembler) micros() uint32 { return uint32(a.now / int64(time.Microsecond)) }

// waitAck puts connection c on a.ackWaits, due in left microseconds of
// packet time, unless it is there already. It reports false, and the hole
// is to be skipped now, when the list holds as many entries as there may
// be connections, which keeps it bounded whatever the packets' times.
func (a *Assembler) waitAck(ci int32, c *conn, left uint32) bool {
	if c.flags&cAckWait != 0 {
		return true
	}
	if len(a.ackWaits)-a.ackHead >= a.cfg.MaxConnections {
		return false
	}
	c.flags |= cAckWait
	a.ackWaits = append(a.ackWaits, ackWait{ci: ci, due: a.now + int64(left)*int64(time.Microsecond)})
	return true
}

// ackWaitsDue looks again at the acknowledged holes whose reorder window
// has passed by the assembler clock. Entries of connections released
// since (their slot free or reused: no cAckWait) are dropped; a hole whose
// window was restarted meanwhile waits again.
func (a *Assembler) ackWaitsDue() {
	for a.ackHead < len(a.ackWaits) && a.ackWaits[a.ackHead].due <= a.now {
		w := a.ackWaits[a.ackHead]
		a.ackHead++
		c := a.t.at(w.ci)
		if c.flags&cAckWait == 0 {
			continue
		}
		c.flags &^= cAckWait
		for d := range c.half {
			a.tryAckGap(w.ci, c, d, a.nowTime, false)
		}
	}
	switch {
	case a.ackHead == len(a.ackWaits):
		a.ackWaits, a.ackHead = a.ackWaits[:0], 0
	case a.ackHead >= 1024 && 2*a.ackHead >= len(a.ackWaits):
		n := copy(a.ackWaits, a.ackWaits[a.ackHead:])
		a.ackWaits, a.ackHead = a.ackWaits[:n], 0
	}
}

// finish ends a live connection: buffered bytes are delivered with a gap
// before each hole, a pending FIN is delivered, the handler is closed and
// the close is counted. The caller moves the connection to the closed list
// or frees it.
func (a *Assembler) finish(ci int32, c *conn, reason CloseReason, ts time.Time) {
	c.flags |= cClosing
	if c.handler != nil {
		for d := range c.half {
			h := &c.half[d]
			for len(h.segs) > 0 && c.flags&cNoPayload == 0 {
				a.gap(c, d, h.segs[0].seq, ts, gapClose)
				var ov bool
				a.drain(ci, c, d, 0, nil, &ov, ts)
			}
			if h.flags&(hFIN|hFinDone) == hFIN && c.flags&cNoPayload == 0 {
				a.gap(c, d, h.finSeq, ts, gapClose)
				a.checkFin(ci, c, d, ts)
			}
		}
	}
	a.releaseAll(ci, c)
	if c.handler != nil {
		c.handler.Close(reason, ts)
		c.handler = nil
	}
	switch reason {
	case CloseFIN:
		a.stats.ClosedFIN++
	case CloseRST:
		a.stats.ClosedRST++
	case CloseIdle:
		a.stats.ClosedIdle++
	case CloseEvicted:
		a.stats.ClosedEvicted++
	default:
		a.stats.ClosedEndOfInput++
	}
}

// toClosed moves a finished connection to the closed list, where it
// lingers for Config.TimeWait.
func (a *Assembler) toClosed(ci int32, c *conn) {
	c.lastSeen = a.now
	a.t.setList(ci, listClosed)
}

// enforceTotal flushes, least recently buffering first, the buffered bytes
// of connections until the assembler is within Config.MaxBufferedBytes.
func (a *Assembler) enforceTotal() {
	for a.held > a.cfg.MaxBufferedBytes && a.t.buffering.tail != nilIdx {
		ci := a.t.buffering.tail
		c := a.t.at(ci)
		a.stats.TotalBufferLimitHits++
		for d := range c.half {
			h := &c.half[d]
			for len(h.segs) > 0 && c.list != listClosed && c.flags&cNoPayload == 0 {
				s := &h.segs[0]
				ts := s.ts
				a.gap(c, d, s.seq, ts, gapLimit)
				var ov bool
				a.drain(ci, c, d, 0, nil, &ov, ts)
			}
		}
		if c.held > 0 { // cannot happen: every path above empties the buffers
			panic("reassembly: enforceTotal: connection still holds buffered bytes")
		}
	}
}
