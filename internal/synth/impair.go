package synth

// Impairment is what happens to one data segment on its way to the capture.
type Impairment uint8

// Impairments of a data segment. Every one keeps the sender's sequence
// space intact; only what the capture sees changes.
const (
	// ImpairNone: the segment is captured once, in order.
	ImpairNone Impairment = iota
	// ImpairDrop: the capture misses the segment but the receiver got it,
	// so the receiver's ACK after the send covers the lost bytes (a late
	// ACK of data the capture never saw): a gap.
	ImpairDrop
	// ImpairDuplicate: the segment is captured twice in a row.
	ImpairDuplicate
	// ImpairReorder: the segment is captured after the next one.
	ImpairReorder
	// ImpairRetransmit: the segment is captured, then retransmitted after
	// the rest of the send, extended by Overlap bytes on each side (clipped
	// to the send), so the retransmission overlaps its neighbours.
	ImpairRetransmit
	// ImpairConflict: like ImpairRetransmit, but the retransmission carries
	// different bytes (letters change case, digits rotate) over its whole
	// range: overlapping segments with conflicting content.
	ImpairConflict
	// ImpairRecover: the segment is lost before the capture point and
	// retransmitted after the rest of the send: the capture sees a hole
	// that a later segment fills.
	ImpairRecover
)

var impairNames = [...]string{"none", "drop", "duplicate", "reorder", "retransmit", "conflict", "recover"}

func (i Impairment) String() string {
	if int(i) < len(impairNames) {
		return impairNames[i]
	}
	return "unknown"
}

// Action applies an impairment to one segment of a send: Segment is the
// segment's index within that send (0 is the first MSS-sized piece).
type Action struct {
	Segment int
	Kind    Impairment
	// Overlap is how many bytes a retransmission extends past the original
	// segment on each side (ImpairRetransmit, ImpairConflict).
	Overlap int
}

// Drop loses segment i from the capture (a gap the receiver's ACK covers).
func Drop(i int) Action { return Action{Segment: i, Kind: ImpairDrop} }

// Duplicate captures segment i twice.
func Duplicate(i int) Action { return Action{Segment: i, Kind: ImpairDuplicate} }

// Reorder captures segment i after segment i+1.
func Reorder(i int) Action { return Action{Segment: i, Kind: ImpairReorder} }

// Retransmit retransmits segment i after the send, overlapping its
// neighbours by overlap bytes, with the same content.
func Retransmit(i, overlap int) Action {
	return Action{Segment: i, Kind: ImpairRetransmit, Overlap: overlap}
}

// Conflict retransmits segment i after the send, overlapping its
// neighbours by overlap bytes, with different content.
func Conflict(i, overlap int) Action {
	return Action{Segment: i, Kind: ImpairConflict, Overlap: overlap}
}

// Recover loses segment i before the capture point; its retransmission is
// captured after the rest of the send.
func Recover(i int) Action { return Action{Segment: i, Kind: ImpairRecover} }

// Impairments applies impairments at random to the data segments of one
// direction, each segment independently with the given probabilities (their
// sum must not exceed 1; the rest are left alone). The draws come from the
// connection's Seed, so a script impairs the same segments every time.
// The zero value impairs nothing.
type Impairments struct {
	Drop, Duplicate, Reorder, Retransmit, Conflict, Recover float64
	// MaxOverlap bounds the random overlap of retransmissions (bytes on
	// each side); zero means retransmissions cover the segment exactly.
	MaxOverlap int
}

func (im Impairments) zero() bool {
	return im.Drop == 0 && im.Duplicate == 0 && im.Reorder == 0 &&
		im.Retransmit == 0 && im.Conflict == 0 && im.Recover == 0
}

// actionFor returns the impairment of segment i of the current send in
// direction d: an explicit action wins over the random ones.
func (cn *Conn) actionFor(d, i int, acts []Action) Action {
	for _, a := range acts {
		if a.Segment == i {
			return a
		}
	}
	im := cn.dirs[d].impair
	if im.zero() {
		return Action{Segment: i}
	}
	r := cn.rng.Float64()
	a := Action{Segment: i}
	for _, c := range [...]struct {
		p float64
		k Impairment
	}{
		{im.Drop, ImpairDrop}, {im.Duplicate, ImpairDuplicate}, {im.Reorder, ImpairReorder},
		{im.Retransmit, ImpairRetransmit}, {im.Conflict, ImpairConflict}, {im.Recover, ImpairRecover},
	} {
		if r < c.p {
			a.Kind = c.k
			break
		}
		r -= c.p
	}
	if (a.Kind == ImpairRetransmit || a.Kind == ImpairConflict) && im.MaxOverlap > 0 {
		a.Overlap = cn.rng.IntN(im.MaxOverlap + 1)
	}
	return a
}
