package pathtmpl

import "strings"

// Merge adds what from learned to t: its hosts, templates and evidence,
// as if t had seen from's traffic too. Positions that neither templater
// could promote alone are promoted when the evidence together suffices
// (the shapes of plain-word values, and the structural evidence of the
// merged subtrees: every position is judged again),
// and a position from promoted is a parameter in t (values whose calls
// clearly differ from the others' stay literal). Templates returned by
// from's Observe then Resolve in t to their template on the evidence of
// both. Merge does not fold: t may exceed MaxTemplates by what from
// brings. It reads from under its locks, so from may be used concurrently,
// but two templaters must not be merged into each other at the same time.
func (t *Templater) Merge(from *Templater) {
	if from == nil || from == t {
		return
	}
	for host, src := range *from.hosts.Load() {
		dst := t.treeFor(host, true)
		mergeTrees(dst, src)
	}
	if src := from.overflow.Load(); src != nil {
		t.mu.Lock()
		dst := t.overflow.Load()
		if dst == nil {
			dst = t.newTree()
			t.overflow.Store(dst)
		}
		t.mu.Unlock()
		mergeTrees(dst, src)
	}
	t.paths.Add(from.paths.Load())
}

func mergeTrees(dst, src *tree) {
	src.mu.RLock()
	defer src.mu.RUnlock()
	dst.mu.Lock()
	defer dst.mu.Unlock()
	var work []*node
	dst.copyInto(dst.root, src.root, &work)
	dst.rebuild(dst.root)
	for _, w := range work {
		dst.maybePromote(w)
	}
	// Structural evidence is judged on the merged subtrees: every
	// position, each after those below it (settle takes the last marked
	// first: reverse pre-order).
	dst.root.walk(func(n *node) { dst.dirty = append(dst.dirty, n) })
	dst.settle()
}

// copyInto adds the subtree of s (another tree's node) to d (this tree's
// node at the same position). Nodes whose evidence grew go to work.
func (tr *tree) copyInto(d, s *node, work *[]*node) {
	if s.end != nil && d.end == nil {
		d.end = &end{template: s.end.template, names: s.end.names, origin: s.end.origin, tail: s.end.tail}
		switch {
		case s.end.tail:
		case s.end.origin == Learned:
			tr.addLearned(1)
		default:
			tr.pinned++
		}
	}
	for _, k := range sortedKeys(s.lits) {
		sc := s.lits[k]
		dc := d.lits[k]
		if dc == nil {
			if dp := d.param; dp != nil && dp.kind == openNode && !sc.pinned && (!isFixedSeg(k) || dp.hasFixedVal(k)) {
				tr.copyInto(dp, sc, work)
				continue
			}
			dc = d.addLit(strings.Clone(k))
			dc.pinned = sc.pinned
			if sc.cand != nil {
				tr.addCandidate(d, dc)
			}
		}
		if sc.cand != nil && dc.cand != nil {
			for _, sh := range sc.cand.shapes[:sc.cand.n] {
				dc.cand.add(sh)
			}
			dc.cand.full = dc.cand.full || sc.cand.full
			*work = append(*work, d)
		}
		tr.copyInto(dc, sc, work)
	}
	for _, sp := range s.patterns {
		var dp *node
		for _, p := range d.patterns {
			if p.seg == sp.seg {
				dp = p
				break
			}
		}
		if dp == nil {
			dp = &node{kind: patternNode, pinned: true, seg: sp.seg, pat: sp.pat, parent: d, depth: d.depth + 1}
			d.patterns = append(d.patterns, dp)
		}
		tr.copyInto(dp, sp, work)
	}
	if sp := s.param; sp != nil {
		dp := d.param
		if dp == nil {
			dp = &node{kind: sp.kind, pinned: sp.pinned, date: sp.date, seg: sp.seg, parent: d, depth: d.depth + 1,
				stylePrefix: sp.stylePrefix, styleLen: sp.styleLen, styleClasses: sp.styleClasses}
			d.param = dp
		}
		if sp.kind == openNode && dp.kind != openNode {
			dp.kind = openNode
		}
		for _, w := range sortedFixedVals(sp.fixedVals) {
			dp.addFixedVal(w)
		}
		if dp.kind == openNode && d.ev != nil {
			// from promoted this position: its parameter takes the
			// values t kept literal, except those whose calls differ.
			var group []*node
			for _, c := range d.ev.cands {
				if c.param == nil {
					group = append(group, c)
				}
			}
			if conforming := consistent(group, 0); len(conforming) > 0 {
				tr.promote(d, conforming)
			} else {
				for _, c := range d.ev.cands {
					c.cand = nil
				}
				d.ev = nil
			}
		}
		tr.copyInto(dp, sp, work)
		// The fixed words from merged into its parameter on structural
		// evidence take t's literals of the same name along.
		if dp.kind == openNode {
			for _, w := range sortedFixedVals(dp.fixedVals) {
				if lc := d.lits[w]; lc != nil && !lc.pinned {
					if lc.cand != nil {
						tr.dropCandidate(d, lc)
					}
					delete(d.lits, w)
					tr.mergeInto(dp, lc, work)
				}
			}
		}
	}
	if st := s.tail; st != nil && d.tail == nil {
		tr.ensureTail(d)
	}
}
