package reassembly

import (
	"fmt"
)

// CheckInvariants verifies the assembler's internal bookkeeping: table,
// lists and buffer accounting. Tests (and the fuzz target) call it after
// every packet.
func (a *Assembler) CheckInvariants() error {
	t := &a.t
	if len(t.byKey) != t.used {
		return fmt.Errorf("map has %d keys, %d slots used", len(t.byKey), t.used)
	}
	if t.used > a.cfg.MaxConnections {
		return fmt.Errorf("%d connections tracked, cap %d", t.used, a.cfg.MaxConnections)
	}
	onLists := 0
	for which := listHalf; which < numLists; which++ {
		l := &t.lists[which]
		n, prev := 0, nilIdx
		for i := l.head; i != nilIdx; i = t.at(i).links[linkTimeout].next {
			c := t.at(i)
			if c.list != which {
				return fmt.Errorf("conn %d on list %d says list %d", i, which, c.list)
			}
			if c.links[linkTimeout].prev != prev {
				return fmt.Errorf("conn %d: bad prev link", i)
			}
			if prev != nilIdx && t.at(prev).lastSeen < c.lastSeen {
				return fmt.Errorf("list %d not ordered by last activity", which)
			}
			if j, ok := t.byKey[c.key]; !ok || j != i {
				return fmt.Errorf("conn %d not mapped by its key", i)
			}
			prev = i
			n++
		}
		if n != l.n || prev != l.tail {
			return fmt.Errorf("list %d: counted %d, says %d (or bad tail)", which, n, l.n)
		}
		onLists += n
	}
	if onLists != t.used {
		return fmt.Errorf("%d conns on lists, %d used", onLists, t.used)
	}
	if n := len(a.ackWaits) - a.ackHead; n < 0 || n > a.cfg.MaxConnections {
		return fmt.Errorf("%d connections waiting out the reorder window, cap %d", n, a.cfg.MaxConnections)
	}
	waiting := map[int32]bool{}
	for _, w := range a.ackWaits[a.ackHead:] {
		waiting[w.ci] = true
	}
	for _, i := range t.byKey {
		if t.at(i).flags&cAckWait != 0 && !waiting[i] {
			return fmt.Errorf("conn %d waits out the reorder window but is not on ackWaits", i)
		}
	}
	var held int64
	nbuf := 0
	for _, i := range t.byKey {
		c := t.at(i)
		ch := 0
		for d := range c.half {
			h := &c.half[d]
			for k := range h.segs {
				s := &h.segs[k]
				ch += cap(s.data)
				if len(s.data) == 0 {
					return fmt.Errorf("conn %d dir %d: empty segment", i, d)
				}
				if seqDiff(s.seq, h.next) <= 0 {
					return fmt.Errorf("conn %d dir %d: segment %d at %d not after next %d", i, d, k, s.seq, h.next)
				}
				if k > 0 && seqDiff(s.seq, h.segs[k-1].end()) < 0 {
					return fmt.Errorf("conn %d dir %d: segments %d and %d overlap or are unsorted", i, d, k-1, k)
				}
			}
		}
		if ch != c.held {
			return fmt.Errorf("conn %d: holds %d bytes, accounted %d", i, ch, c.held)
		}
		if ch > a.cfg.MaxBufferedBytesPerConn {
			return fmt.Errorf("conn %d: holds %d bytes, cap %d", i, ch, a.cfg.MaxBufferedBytesPerConn)
		}
		if (c.list == listClosed || c.flags&cNoPayload != 0) && ch > 0 {
			return fmt.Errorf("conn %d: closed or declined but holds %d bytes", i, ch)
		}
		if ch > 0 {
			nbuf++
		}
		held += int64(ch)
	}
	if held != a.held {
		return fmt.Errorf("connections hold %d bytes, accounted %d", held, a.held)
	}
	if held > a.cfg.MaxBufferedBytes {
		return fmt.Errorf("holding %d bytes, cap %d", held, a.cfg.MaxBufferedBytes)
	}
	if nbuf != t.buffering.n {
		return fmt.Errorf("%d connections hold bytes, buffering list has %d", nbuf, t.buffering.n)
	}
	return nil
}

// HeldSize exposes the buffer accounting of n buffered bytes to tests.
func HeldSize(n int) int { return heldSize(n) }
