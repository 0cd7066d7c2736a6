package reassembly

// SegmentRecordCap returns the capacity, in segment records, of the
// out-of-order segment slices held by every slot of the connection table
// (live, closed and free): the memory that keptSegs bounds once the
// buffered segments are gone.
func (a *Assembler) SegmentRecordCap() int {
	n := 0
	for _, page := range a.t.pages {
		for i := range page {
			n += cap(page[i].half[0].segs) + cap(page[i].half[1].segs)
		}
	}
	return n
}
