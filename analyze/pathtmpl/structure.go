package pathtmpl

import (
	"math/bits"
	"slices"
	"strings"
)

// Structural evidence: literal siblings whose subtrees look alike are the
// values of one parameter, however few they are and even when they are
// fixed words (Meilisearch's index names "articles", "users", "events",
// each with the children documents, search, settings, stats, …). The
// package documentation states the rule; the constants are its
// thresholds.
const (
	// structMinShared is the number of literal child segments two
	// siblings (or a sibling and the parameter next to it) must share,
	// and the number of literal children a sibling needs to be judged at
	// all. Two resources of one API often share one or two children (a
	// "search", an "export"); three shared, and half of them at least,
	// is a family.
	structMinShared = 3
	// structMinSiblings is the number of alike siblings that make their
	// position a parameter: two alike subtrees can be an API's two
	// flavours of one thing, three are a pattern. Twice as many at the
	// first segment of a path and right after a parameter, where APIs
	// put their resource names and actions (as for MinValues).
	structMinSiblings = 3
	// structMaxSiblings bounds the siblings judged together per position
	// (the first in byte order): the pairwise test is quadratic, and a
	// position with more alike plain words than this has been promoted
	// by MinValues long before.
	structMaxSiblings = 64
	// maxFixedVals bounds the fixed words one open parameter takes on
	// structural evidence; past it further fixed words stay literal
	// siblings (so memory stays bounded by MaxTemplates).
	maxFixedVals = 64
	// structDepth is how deep below a sibling its subtree is compared
	// with the parameter's: children, grandchildren and their children
	// ("settings", "settings/chat" under an index name). A sibling seen
	// in a few calls has few children but deep paths (most Meilisearch
	// operations are under "settings/"), all of them known under the
	// parameter.
	structDepth = 3
)

// markAbove marks n and its ancestors, levels of them at most, for
// settle: the positions whose siblings' subtrees contain n's children.
func (tr *tree) markAbove(n *node, levels int) {
	for ; n != nil && levels > 0; n, levels = n.parent, levels-1 {
		tr.dirty = append(tr.dirty, n)
	}
}

func (n *node) hasFixedVal(seg string) bool {
	if n.fixedVals == nil {
		return false
	}
	_, ok := n.fixedVals[seg]
	return ok
}

func (n *node) addFixedVal(seg string) {
	if n.hasFixedVal(seg) || len(n.fixedVals) >= maxFixedVals {
		return
	}
	if n.fixedVals == nil {
		n.fixedVals = make(map[string]struct{})
	}
	n.fixedVals[strings.Clone(seg)] = struct{}{}
}

func sortedFixedVals(m map[string]struct{}) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// isAliasWord reports the words that name the caller's own resource
// ("/users/me"): a literal sibling that beats the parameter even when its
// subtree is the parameter's (/users/me/orders next to
// /users/{userId}/orders), so structural evidence never merges it.
func isAliasWord(seg string) bool {
	for _, w := range [...]string{"me", "my", "mine", "self", "current", "whoami"} {
		if strings.EqualFold(seg, w) {
			return true
		}
	}
	return false
}

// settle applies the structural rule at the positions marked dirty and at
// those its merges change, until none changes. Every merge removes
// literal nodes, so it ends. Write lock held.
func (tr *tree) settle() {
	for len(tr.dirty) > 0 {
		n := tr.dirty[len(tr.dirty)-1]
		tr.dirty[len(tr.dirty)-1] = nil
		tr.dirty = tr.dirty[:len(tr.dirty)-1]
		if vals := tr.structGroup(n); len(vals) > 0 {
			tr.joinStructural(n, vals)
		}
	}
	if cap(tr.dirty) > 64 {
		tr.dirty = nil // a merge marked the whole tree: give it back
	}
}

// structGroup returns the literal children of n that structural evidence
// makes values of n's parameter, in byte order, or nil:
//
//   - only siblings with literal children are judged (structMinShared of
//     them without a parameter at the position), and never pinned ones,
//     collections (a parameter child of their own: "/crm/companies/{id}"),
//     alias words ("me"), nor fixed words once the parameter holds
//     maxFixedVals of them;
//   - with a parameter at the position (typed, or open on earlier
//     evidence), a sibling joins it when, of its descendants down to
//     structDepth levels, structMinShared at least and three quarters
//     at least have a counterpart under the parameter (where Observe
//     would take the same relative path): its subtree is one more
//     value's;
//   - without one, the largest group of siblings each alike (sharing
//     structMinShared literal children, Jaccard ≥ 0.5) with two thirds
//     of the others at least becomes the parameter, when it has
//     structMinSiblings members (twice as many at the first segment
//     and right after a parameter).
func (tr *tree) structGroup(n *node) []*node {
	if n == nil || n.dead || n.parent == nil || n.kind == tailNode || tr.t.cfg.Literal || len(n.lits) < 1 {
		return nil
	}
	p := n.param
	if p != nil && p.pinned {
		return nil // its parameter matches every value already
	}
	full := p != nil && len(p.fixedVals) >= maxFixedVals
	var sibs []*node
	for _, c := range n.lits {
		if len(c.lits) == 0 || p == nil && len(c.lits) < structMinShared || c.pinned || c.dead || c.param != nil ||
			len(c.patterns) > 0 || isAliasWord(c.seg) || full && isFixedSeg(c.seg) {
			continue
		}
		sibs = append(sibs, c)
	}
	if len(sibs) == 0 {
		return nil
	}
	slices.SortFunc(sibs, func(a, b *node) int { return strings.Compare(a.seg, b.seg) })
	if p != nil {
		out := sibs[:0]
		for _, c := range sibs {
			var ov overlap
			ov.walk(c, p, structDepth)
			if ov.shared >= structMinShared && 4*ov.shared >= 3*ov.total {
				out = append(out, c)
			}
		}
		return out
	}
	need := structMinSiblings
	if n.depth <= 1 || n.kind != litNode {
		need *= 2
	}
	if len(sibs) < need {
		return nil
	}
	if len(sibs) > structMaxSiblings {
		sibs = sibs[:structMaxSiblings]
	}
	if g := alikeGroup(sibs); len(g) >= need {
		return g
	}
	return nil
}

// overlap counts the descendants of a sibling (total) and those of them
// that have a counterpart under the parameter (shared).
type overlap struct{ total, shared int }

// walk compares the subtree of c, depth levels down, with that of p (nil:
// no counterpart). A literal's counterpart is where Observe would take
// its segment from p (a literal, or an open parameter); a parameter's is
// p's parameter. It allocates nothing.
func (o *overlap) walk(c, p *node, depth int) {
	for seg, cc := range c.lits {
		o.total++
		var pc *node
		if p != nil {
			if pc, _ = p.step(seg, nil, modeObserve, false); pc != nil && pc.kind == tailNode {
				pc = nil
			}
		}
		if pc != nil {
			o.shared++
		}
		if depth > 1 {
			o.walk(cc, pc, depth-1)
		}
	}
	if cp := c.param; cp != nil {
		o.total++
		var pc *node
		if p != nil && p.param != nil {
			pc = p.param
			o.shared++
		}
		if depth > 1 {
			o.walk(cp, pc, depth-1)
		}
	}
}

// sharedLits returns the number of keys a and b have in common.
func sharedLits(a, b map[string]*node) int {
	if len(a) > len(b) {
		a, b = b, a
	}
	k := 0
	for s := range a {
		if b[s] != nil {
			k++
		}
	}
	return k
}

// alike reports whether the literal children of a and b make them one
// family: structMinShared shared at least, and a Jaccard index of 0.5 at
// least (shared ≥ half of the union).
func alike(a, b *node) bool {
	k := sharedLits(a.lits, b.lits)
	return k >= structMinShared && 2*k >= len(a.lits)+len(b.lits)-k
}

// alikeGroup returns the largest subset of sibs (at most 64, in byte
// order) in which every member is alike with at least two thirds of the
// other members (rounded up: all of them in a group of three), found by
// peeling the member with the fewest alike (the first in byte order on
// a tie) until the rest pass; nil when fewer than two are left.
func alikeGroup(sibs []*node) []*node {
	k := len(sibs)
	adj := make([]uint64, k)
	for i := range k {
		for j := i + 1; j < k; j++ {
			if alike(sibs[i], sibs[j]) {
				adj[i] |= 1 << j
				adj[j] |= 1 << i
			}
		}
	}
	alive := uint64(1)<<k - 1 // k == 64: 1<<64 is 0, all bits set
	for {
		m := bits.OnesCount64(alive)
		if m < 2 {
			return nil
		}
		need := (2*(m-1) + 2) / 3
		worst, wdeg := -1, 0
		for i := range k {
			if alive&(1<<i) == 0 {
				continue
			}
			if d := bits.OnesCount64(adj[i] & alive); worst < 0 || d < wdeg {
				worst, wdeg = i, d
			}
		}
		if wdeg >= need {
			break
		}
		alive &^= 1 << worst
	}
	out := make([]*node, 0, bits.OnesCount64(alive))
	for i := range k {
		if alive&(1<<i) != 0 {
			out = append(out, sibs[i])
		}
	}
	return out
}

// joinStructural merges vals (literal children of n chosen by
// structGroup) into n's parameter, made open. The plain-word candidates
// at the position join too unless their calls clearly differ from the
// others' (as when Merge brings a promoted position): the parameter they
// would have joined had they come later.
func (tr *tree) joinStructural(n *node, vals []*node) {
	if n.param == nil || n.param.kind != openNode {
		tr.t.promoted.Add(1)
	}
	tr.t.structural.Add(int64(len(vals)))
	if n.ev != nil {
		var group []*node
		for _, c := range n.ev.cands {
			if c.param == nil && !slices.Contains(vals, c) {
				group = append(group, c)
			}
		}
		vals = append(vals, consistent(group, 0)...)
	}
	tr.openParam(n, vals)
}
