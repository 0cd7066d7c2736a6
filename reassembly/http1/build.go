package http1

import (
	"unsafe"

	"github.com/apitap/apitap/reassembly"
)

// head keeps what a transaction needs from a message head until it is
// emitted: a copy of the header block (trailer blocks appended), of the
// folded values, and the stored fields located in them. Its buffers are
// reused with the entry.
type head struct {
	block []byte
	fold  []byte
	hdrs  []hspan // offsets into block, or into fold when inFold
	start startSpans
	host  hspan // the first Host field, even when not stored
	hasHost,
	seen bool
}

// maxKeptHead is the largest head buffer an entry keeps for reuse.
const maxKeptHead = 16 << 10

// capture copies block and the first stored fields parsed from it.
func (h *head) capture(d *dir, block []byte, stored int) {
	h.seen = true
	h.start = d.start
	h.block = append(h.block[:0], block...)
	h.fold = append(h.fold[:0], d.fold...)
	h.hdrs = append(h.hdrs[:0], d.hdrs[:stored]...)
	if i := d.fr.hostIdx; i >= 0 {
		h.host, h.hasHost = d.hdrs[i], true
	}
}

// appendFields adds the first n fields parsed from a trailer block.
func (h *head) appendFields(d *dir, block []byte, n int) {
	base, fbase := int32(len(h.block)), int32(len(h.fold))
	h.block = append(h.block, block...)
	h.fold = append(h.fold, d.fold...)
	for _, s := range d.hdrs[:n] {
		s.nameOff += base
		if s.inFold {
			s.valOff += fbase
		} else {
			s.valOff += base
		}
		h.hdrs = append(h.hdrs, s)
	}
}

// reset empties h, keeping its buffers unless they grew large.
func (h *head) reset() {
	h.block, h.fold, h.hdrs = h.block[:0], h.fold[:0], h.hdrs[:0]
	if cap(h.block) > maxKeptHead {
		h.block = nil
	}
	if cap(h.fold) > maxKeptHead {
		h.fold = nil
	}
	if cap(h.hdrs) > maxKeptHead/16 {
		h.hdrs = nil
	}
	h.start, h.host, h.hasHost, h.seen = startSpans{}, hspan{}, false, false
}

func (h *head) size() int { return len(h.block) + len(h.fold) }

// arena is one allocation holding the head copies of a transaction: its
// strings point into it.
type arena []byte

func (a arena) str(off, n int32) string {
	if n == 0 {
		return ""
	}
	return unsafe.String(&a[off], int(n))
}

// strings of a head copied at base in the arena (fold after block).
type placed struct {
	a           arena
	base, fbase int32
}

func (p placed) name(s *hspan) string { return p.a.str(p.base+s.nameOff, s.nameLen) }

func (p placed) value(s *hspan) string {
	if s.inFold {
		return p.a.str(p.fbase+s.valOff, s.valLen)
	}
	return p.a.str(p.base+s.valOff, s.valLen)
}

func (p placed) part(h *head, i int) string { return p.a.str(p.base+h.start.p[i][0], h.start.p[i][1]) }

// place copies h into the arena at its end.
func place(a arena, h *head) (arena, placed) {
	base := int32(len(a))
	a = append(a, h.block...)
	fbase := int32(len(a))
	a = append(a, h.fold...)
	return a, placed{a: a, base: base, fbase: fbase}
}

// build makes the transaction handed to the sink: three allocations, the
// Transaction, one slice of header fields and one arena for the strings.
func (e *entry) build() *reassembly.Transaction {
	nreq, nresp := len(e.reqHead.hdrs), len(e.respHead.hdrs)
	tx, hs := newTransaction(nreq + nresp)
	*tx = e.tx
	a := make(arena, 0, e.reqHead.size()+e.respHead.size())
	var rq, rs placed
	if e.reqHead.seen {
		a, rq = place(a, &e.reqHead)
	}
	if e.respHead.seen {
		a, rs = place(a, &e.respHead)
	}
	rq.a, rs.a = a, a
	if h := &e.reqHead; h.seen {
		tx.Method = rq.part(h, 0)
		tx.URI = rq.part(h, 1)
		switch v, ok := versionString(h.block[h.start.p[2][0] : h.start.p[2][0]+h.start.p[2][1]]); {
		case h.start.http09:
			tx.Version = "0.9"
		case ok:
			tx.Version = v
		default:
			tx.Version = rq.part(h, 2)
		}
		if nreq > 0 {
			tx.RequestHeaders = hs[:nreq:nreq]
			for i := range h.hdrs {
				tx.RequestHeaders[i] = reassembly.Header{Name: rq.name(&h.hdrs[i]), Value: rq.value(&h.hdrs[i])}
			}
		}
		if h.hasHost {
			tx.Host = rq.value(&h.host)
		}
		path, authority := splitTarget(tx.URI, e.method == methodCONNECT)
		tx.Path = path
		if tx.Host == "" {
			tx.Host = authority
		}
	}
	if h := &e.respHead; h.seen {
		tx.Reason = rs.part(h, 1)
		if v, ok := versionString(h.block[h.start.p[0][0] : h.start.p[0][0]+h.start.p[0][1]]); ok {
			tx.ResponseVersion = v
		} else {
			tx.ResponseVersion = rs.part(h, 0)
		}
		if nresp > 0 {
			tx.ResponseHeaders = hs[nreq : nreq+nresp : nreq+nresp]
			for i := range h.hdrs {
				tx.ResponseHeaders[i] = reassembly.Header{Name: rs.name(&h.hdrs[i]), Value: rs.value(&h.hdrs[i])}
			}
		}
	}
	return tx
}

// newTransaction allocates a Transaction and one slice for its n header
// fields (request and response share it). Allocating them together in
// size classes was measured: no faster, and it wastes memory.
func newTransaction(n int) (*reassembly.Transaction, []reassembly.Header) {
	if n == 0 {
		return new(reassembly.Transaction), nil
	}
	return new(reassembly.Transaction), make([]reassembly.Header, n)
}
