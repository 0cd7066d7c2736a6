package pathtmpl

import (
	"slices"
	"strings"
	"sync"
)

// A tree holds one host's templates. A node is one position of a path:
// the root, then one node per segment ("/users/42" is "", "users", "42":
// the empty segment before the leading slash comes first). Children are
// literal segments (a map), at most one parameter, pinned pattern segments
// and a fold tail. A node where a template ends carries its end.
//
// Locking: tree.mu guards everything below it. match only reads (read
// lock); learn, pin and everything they call write (write lock).
type tree struct {
	t    *Templater
	mu   sync.RWMutex
	root *node

	// dirty lists the positions whose structural evidence may have
	// changed (a promotion, a merge) and that settle must look at.
	dirty []*node

	learned int // learned template ends (tails excluded)
	pinned  int // pinned and spec template ends
	tails   int // tail templates
}

type nodeKind uint8

const (
	litNode     nodeKind = iota
	paramNode            // learned from typed values: matches typed segments only
	openNode             // promoted on evidence, or pinned: matches any segment
	patternNode          // pinned segment with literal text around parameters
	tailNode             // fold tail: matches the rest of the path
)

type node struct {
	kind   nodeKind
	pinned bool // created or claimed by Pin: never merged away, its names kept
	date   bool // typed parameter created for a date: named "date"
	dead   bool // merged into another node
	seg    string
	parent *node
	depth  int // segments from the root (the root is 0, the leading "" is 1)

	lits     map[string]*node
	param    *node
	patterns []*node
	pat      []patPart // patternNode: literal parts and parameters
	tail     *node

	// The style of the first value of a typed parameter (prefix up to
	// '_', length, character classes of the rest), when it is made of
	// letters and digits: plain words in that style join the parameter.
	stylePrefix  string
	styleLen     int
	styleClasses uint8

	end  *end
	ev   *evidence // plain-word candidates among lits
	cand *cand     // non-nil: this literal is a candidate in parent.ev

	// fixedVals (an open parameter) holds the fixed words merged into
	// it on structural evidence ("users" as an index name): they match
	// the parameter, where another fixed word makes a literal sibling.
	// At most maxFixedVals.
	fixedVals map[string]struct{}
}

// end is a template ending at a node.
type end struct {
	template string
	names    []string // parameter names in path order
	origin   Origin
	tail     bool // a fold tail
}

// evidence is what a node knows about the plain-word values at its child
// position: candidates, bounded, then only a count.
type evidence struct {
	cands []*node
	extra int // plain-word values seen past the bound
}

// maxShapes bounds the dissimilar shapes kept per candidate.
const maxShapes = 8

// cand is the shape evidence of one plain-word value: the dissimilar
// shapes of the calls that ended at it.
type cand struct {
	shapes [maxShapes]uint64
	n      uint8
	full   bool
}

func (c *cand) knows(shape uint64) bool {
	if c.full {
		return true
	}
	for _, s := range c.shapes[:c.n] {
		if shapeSimilar(s, shape) {
			return true
		}
	}
	return false
}

// add records shape; it reports whether the evidence changed.
func (c *cand) add(shape uint64) bool {
	if c.knows(shape) {
		return false
	}
	if int(c.n) < maxShapes {
		c.shapes[c.n] = shape
		c.n++
	} else {
		c.full = true
	}
	return true
}

func (n *node) walk(f func(*node)) {
	f(n)
	for _, k := range sortedKeys(n.lits) {
		n.lits[k].walk(f)
	}
	for _, p := range n.patterns {
		p.walk(f)
	}
	if n.param != nil {
		n.param.walk(f)
	}
	if n.tail != nil {
		f(n.tail)
	}
}

func sortedKeys(m map[string]*node) []string {
	if len(m) == 0 {
		return nil
	}
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

type walkMode uint8

const (
	modeObserve walkMode = iota // a request path: evidence must be known
	modeResolve                 // a path or a template: "{…}" segments match parameters
)

// nextSeg returns the end of the segment starting at i.
func nextSeg(path string, i int) int {
	if j := strings.IndexByte(path[i:], '/'); j >= 0 {
		return i + j
	}
	return len(path)
}

func isBraced(seg string) bool {
	return len(seg) >= 2 && seg[0] == '{' && seg[len(seg)-1] == '}'
}

// isFixedSeg is Classify(seg) == KindFixed, cheaper.
func isFixedSeg(seg string) bool {
	if seg == "" {
		return true
	}
	switch seg[0] {
	case '_', '$', '.', '~':
		return true
	}
	return isVersion(seg) || isFixedWordFold(seg)
}

// step returns the child of n that segment seg goes to, appending
// parameter values when collect; nil when none matches. The tail is not
// tried.
func (n *node) step(seg string, params []PathParam, mode walkMode, collect bool) (*node, []PathParam) {
	if c := n.lits[seg]; c != nil {
		return c, params
	}
	if mode == modeResolve && isBraced(seg) {
		if seg == "{"+TailParam+"}" && n.tail != nil {
			return n.tail, params
		}
		for _, p := range n.patterns {
			if p.seg == seg {
				if collect {
					params = p.appendPatternValues(seg, params)
				}
				return p, params
			}
		}
		if n.param != nil {
			if collect {
				params = append(params, PathParam{Value: seg})
			}
			return n.param, params
		}
	}
	for _, p := range n.patterns {
		if p.matchPattern(seg) {
			if collect {
				params = p.appendPatternValues(seg, params)
			}
			return p, params
		}
	}
	if p := n.param; p != nil {
		ok := false
		switch p.kind {
		case openNode:
			// A fixed word at a learned parameter position becomes a
			// literal sibling (learned by Observe), unless structural
			// evidence merged it into the parameter; Resolve takes the
			// parameter meanwhile.
			ok = p.pinned || mode == modeResolve || !isFixedSeg(seg) || p.hasFixedVal(seg)
		case paramNode:
			ok = p.styleMatch(seg) || Classify(seg).Typed()
		}
		if ok {
			if collect {
				params = append(params, PathParam{Value: seg})
			}
			return p, params
		}
	}
	return nil, params
}

// match walks path without changing the tree. ok is false when the path
// is unknown or, in modeObserve, when learning is needed: an unknown
// segment, no template where the path ends, or a shape its candidate has
// not seen yet. Parameter values (and names) are appended to params when
// collect. It allocates nothing.
//
// With lazy, shape is not known yet: the walk fails wherever evidence would
// be recorded (a candidate that has not seen all the shapes it keeps), so
// that the caller computes the shape only then.
func (tr *tree) match(path string, shape uint64, lazy bool, params []PathParam, mode walkMode, collect bool) (Match, []PathParam, bool) {
	base := len(params)
	n := tr.root
	maxDepth := tr.t.cfg.MaxDepth
	var e *end
	for i := 0; ; {
		j := nextSeg(path, i)
		if n.depth >= maxDepth {
			if n.tail == nil {
				return Match{}, params[:base], false
			}
			if collect {
				params = append(params, PathParam{Value: path[i:]})
			}
			e = n.tail.end
			break
		}
		c, p := n.step(path[i:j], params, mode, collect)
		params = p
		if c == nil {
			if n.tail == nil {
				return Match{}, params[:base], false
			}
			if collect {
				params = append(params, PathParam{Value: path[i:]})
			}
			e = n.tail.end
			break
		}
		n = c
		if n.kind == tailNode {
			e = n.end
			break
		}
		if j == len(path) {
			e = n.end
			if e == nil {
				if n.tail == nil {
					return Match{}, params[:base], false
				}
				if collect {
					params = append(params, PathParam{})
				}
				e = n.tail.end
			} else if mode == modeObserve && n.cand != nil && (lazy && !n.cand.full || !lazy && shape != 0 && !n.cand.knows(shape)) {
				return Match{}, params[:base], false
			}
			break
		}
		i = j + 1
	}
	if e.tail && mode == modeObserve {
		tr.t.folded.Add(1)
	}
	if collect {
		for k := base; k < len(params) && k-base < len(e.names); k++ {
			params[k].Name = e.names[k-base]
		}
	}
	return Match{Template: e.template, Origin: e.origin}, params, true
}

// full reports whether the tree may learn no more templates: its host's
// MaxTemplates or the Templater's MaxTotalTemplates is reached.
func (tr *tree) full() bool {
	return tr.learned >= tr.t.cfg.MaxTemplates || tr.t.learnedTotal.Load() >= int64(tr.t.cfg.MaxTotalTemplates)
}

// addLearned counts n learned templates more (or fewer) in the tree and in
// the Templater's total.
func (tr *tree) addLearned(n int) {
	tr.learned += n
	tr.t.learnedTotal.Add(int64(n))
}

// learn teaches the tree path (with its shape) and returns its match.
func (tr *tree) learn(path string, shape uint64, params []PathParam) (Match, []PathParam) {
	base := len(params)
	for attempt := 0; attempt < 4; attempt++ {
		tr.learnPath(path, shape)
		tr.settle()
		m, p, ok := tr.match(path, shape, false, params[:base], modeObserve, true)
		if ok {
			return m, p
		}
	}
	// Unreachable unless an invariant is broken: answer without evidence.
	m, p, _ := tr.match(path, 0, false, params[:base], modeResolve, true)
	return m, p
}

// learnPath creates what path needs: nodes, its template (or a fold into a
// tail past the cap), candidate evidence; then promotes positions whose
// evidence is sufficient. The positions whose sibling subtrees changed are
// marked dirty: the caller settles them (structural evidence).
func (tr *tree) learnPath(path string, shape uint64) {
	cfg := &tr.t.cfg
	n := tr.root
	var touched []*node
	for i := 0; ; {
		j := nextSeg(path, i)
		if n.depth >= cfg.MaxDepth {
			tr.ensureTail(n)
			return
		}
		seg := path[i:j]
		c, _ := n.step(seg, nil, modeObserve, false)
		if c == nil {
			if n.tail != nil {
				return
			}
			if tr.full() {
				tr.ensureTail(n)
				return
			}
			c = tr.newChild(n, seg)
			if c.cand != nil {
				touched = append(touched, n)
			}
			// The subtrees of n and of its ancestors changed: the
			// positions they are at are judged again (settle).
			tr.markAbove(n.parent, structDepth)
		}
		if c.kind == tailNode {
			return
		}
		n = c
		if j == len(path) {
			break
		}
		i = j + 1
	}
	if n.end == nil {
		if n.tail != nil {
			return
		}
		if tr.full() {
			tr.ensureTail(n)
			return
		}
		n.end = &end{origin: Learned}
		tr.addLearned(1)
		tr.setTemplate(n)
	}
	if shape != 0 && n.cand != nil && n.cand.add(shape) {
		touched = append(touched, n.parent)
	}
	for _, t := range touched {
		tr.maybePromote(t)
	}
}

// newChild creates the child of n for seg: a typed parameter for a typed
// value, a literal otherwise (a candidate when it is a plain word).
func (tr *tree) newChild(n *node, seg string) *node {
	if !tr.t.cfg.Literal && n.depth > 0 {
		k := Classify(seg)
		if k.Typed() && n.param == nil {
			p := &node{kind: paramNode, parent: n, depth: n.depth + 1, date: k == KindDate}
			p.setStyle(seg)
			n.param = p
			tr.absorbStyle(n, p)
			return p
		}
		c := n.addLit(strings.Clone(seg))
		if k == KindWord {
			tr.addCandidate(n, c)
		}
		return c
	}
	return n.addLit(strings.Clone(seg))
}

// setStyle records the style of value, the first of typed parameter n.
func (n *node) setStyle(value string) {
	p := idPrefix(value)
	cl, ok := charClasses(value[p:])
	if !ok || p == len(value) {
		return
	}
	n.stylePrefix = strings.Clone(value[:p])
	n.styleLen = len(value)
	n.styleClasses = cl
}

// styleMatch reports whether a plain word is in the style of the typed
// parameter n's values: the same prefix, the same length (±2 with a
// prefix), only their character classes and at least two of them. A
// 12-character base62 id without digits ("wzkdfwvopWqw") is not typed by
// itself but is in the style of "q7QkgQ3ludce" next to it.
func (n *node) styleMatch(seg string) bool {
	if n.styleLen == 0 || !strings.HasPrefix(seg, n.stylePrefix) {
		return false
	}
	if d := len(seg) - n.styleLen; d != 0 && (n.stylePrefix == "" || d < -2 || d > 2) {
		return false
	}
	cl, ok := charClasses(seg[len(n.stylePrefix):])
	return ok && cl&^n.styleClasses == 0 && cl&(cl-1) != 0 && !isFixedSeg(seg)
}

// absorbStyle merges the candidates of n in the style of its new typed
// parameter p into p.
func (tr *tree) absorbStyle(n, p *node) {
	if n.ev == nil || p.styleLen == 0 {
		return
	}
	var work []*node
	merged := false
	for _, c := range slices.Clone(n.ev.cands) {
		if p.styleMatch(c.seg) {
			tr.dropCandidate(n, c)
			delete(n.lits, c.seg)
			tr.mergeInto(p, c, &work)
			merged = true
		}
	}
	if merged {
		tr.rebuild(p)
	}
	for _, w := range work {
		tr.maybePromote(w)
	}
}

func (n *node) addLit(seg string) *node {
	c := &node{kind: litNode, seg: seg, parent: n, depth: n.depth + 1}
	if n.lits == nil {
		n.lits = make(map[string]*node)
	}
	n.lits[seg] = c
	return c
}

// threshold is the number of distinct plain-word values n's child
// position needs to become a parameter.
func (tr *tree) threshold(n *node) int {
	m := tr.t.cfg.MinValues
	if n.depth <= 1 || n.kind != litNode {
		return 2 * m
	}
	return m
}

// evidenceCap bounds the candidates kept per position.
func (tr *tree) evidenceCap(n *node) int { return 2*tr.threshold(n) + 8 }

func (tr *tree) addCandidate(n, c *node) {
	if n.ev == nil {
		n.ev = &evidence{}
	}
	if len(n.ev.cands) >= tr.evidenceCap(n) {
		n.ev.extra++
		return
	}
	c.cand = &cand{}
	n.ev.cands = append(n.ev.cands, c)
}

func (tr *tree) dropCandidate(n, c *node) {
	c.cand = nil
	if n.ev == nil {
		return
	}
	if i := slices.Index(n.ev.cands, c); i >= 0 {
		n.ev.cands = slices.Delete(n.ev.cands, i, i+1)
	}
}

// maybePromote turns n's child position into a parameter when the
// evidence is sufficient (see the package documentation for the rule).
func (tr *tree) maybePromote(n *node) {
	if n.dead || n.ev == nil {
		return
	}
	thr := tr.threshold(n)
	if len(n.ev.cands) < thr {
		return
	}
	group := make([]*node, 0, len(n.ev.cands))
	for _, c := range n.ev.cands {
		if c.param != nil {
			continue // a collection: a resource, not a value
		}
		group = append(group, c)
	}
	if len(group) < thr {
		return
	}
	conforming := consistent(group, thr)
	if len(conforming) < thr {
		return
	}
	tr.promote(n, conforming)
}

// consistent returns the members of group whose shapes agree with the
// group's, or nil when the evidence is not there. For each shape key
// (method, status class, body kinds) shared by at least three members, the
// largest set of members with similar shapes must hold two thirds of
// them (else the values behave differently: literals), and members with a
// dissimilar shape for such a key are left out. Shapes of keys shared by
// fewer members are no evidence either way. And at least thr members must
// share one similar shape, members without any shape (shape 0, or never
// the last segment of a call) counting with every set: thr values seen
// behaving alike, not thr values seen once each in whatever call.
func consistent(group []*node, thr int) []*node {
	type keyed struct {
		key     uint64
		members []int
	}
	var keys []keyed
	for gi, g := range group {
		for _, s := range g.cand.shapes[:g.cand.n] {
			k := shapeKey(s)
			ki := slices.IndexFunc(keys, func(x keyed) bool { return x.key == k })
			if ki < 0 {
				keys = append(keys, keyed{key: k})
				ki = len(keys) - 1
			}
			if m := keys[ki].members; len(m) == 0 || m[len(m)-1] != gi {
				keys[ki].members = append(keys[ki].members, gi)
			}
		}
	}
	out := make([]bool, len(group))
	for i := range out {
		out[i] = true
	}
	hasSimilar := func(g *node, k, s uint64) bool {
		for _, x := range g.cand.shapes[:g.cand.n] {
			if shapeKey(x) == k && shapeSimilar(x, s) {
				return true
			}
		}
		return false
	}
	neutral, largest := 0, 0
	for _, g := range group {
		if g.cand.n == 0 && !g.cand.full {
			neutral++
		}
	}
	for _, kg := range keys {
		if len(kg.members) < 3 {
			largest = max(largest, len(kg.members))
			continue
		}
		best, center := 0, uint64(0)
		for _, gi := range kg.members {
			for _, s := range group[gi].cand.shapes[:group[gi].cand.n] {
				if shapeKey(s) != kg.key {
					continue
				}
				support := 0
				for _, gj := range kg.members {
					if hasSimilar(group[gj], kg.key, s) {
						support++
					}
				}
				if support > best {
					best, center = support, s
				}
			}
		}
		if 3*best < 2*len(kg.members) {
			return nil
		}
		largest = max(largest, best)
		for _, gi := range kg.members {
			if contradicts(group[gi], kg.key, center) {
				out[gi] = false
			}
		}
	}
	if largest+neutral < thr {
		return nil
	}
	var res []*node
	for i, g := range group {
		if out[i] {
			res = append(res, g)
		}
	}
	return res
}

// contradicts reports whether every shape of g with key k is clearly not
// the center's: another body kind, or key sets (two keys or more each)
// that share less than a quarter. One or two optional keys missing is no
// contradiction.
func contradicts(g *node, k, center uint64) bool {
	for _, x := range g.cand.shapes[:g.cand.n] {
		if shapeKey(x) == k && !shapeDiffers(x, center) {
			return false
		}
	}
	return true
}

// promote makes n's parameter child open and merges the conforming
// candidates into it; the other literals stay literal siblings.
func (tr *tree) promote(n *node, conforming []*node) {
	tr.t.promoted.Add(1)
	tr.openParam(n, conforming)
}

// openParam makes n's parameter child open (creating it) and merges the
// literal children values into it; n's candidate evidence is dropped.
// The positions whose sibling subtrees changed are marked for settle.
func (tr *tree) openParam(n *node, values []*node) {
	p := n.param
	if p == nil {
		p = &node{kind: openNode, parent: n, depth: n.depth + 1}
		n.param = p
	} else if p.kind == paramNode {
		p.kind = openNode
	}
	tr.dirty = append(tr.dirty, p)
	tr.markAbove(n, structDepth+1)
	var work []*node
	for _, c := range values {
		delete(n.lits, c.seg)
		c.cand = nil
		tr.mergeInto(p, c, &work)
	}
	if n.ev != nil {
		for _, c := range n.ev.cands {
			c.cand = nil
		}
		n.ev = nil
	}
	tr.rebuild(p)
	for _, w := range work {
		tr.maybePromote(w)
	}
}

// mergeInto merges the subtree of src into dst (siblings: same depth) and
// marks src dead. Nodes whose evidence grew are appended to work.
func (tr *tree) mergeInto(dst, src *node, work *[]*node) {
	src.dead = true
	switch {
	case src.kind == litNode && (dst.kind == openNode || dst.kind == paramNode) && !dst.pinned && isFixedSeg(src.seg):
		dst.addFixedVal(src.seg)
	case src.kind == openNode || src.kind == paramNode:
		for _, w := range sortedFixedVals(src.fixedVals) {
			dst.addFixedVal(w)
		}
		src.fixedVals = nil
	}
	if src.end != nil {
		if dst.end == nil {
			dst.end = src.end
		} else {
			if src.end.origin == Learned {
				tr.addLearned(-1)
			} else {
				tr.pinned--
			}
			tr.t.merged.Add(1)
		}
		src.end = nil
	}
	for _, k := range sortedKeys(src.lits) {
		sc := src.lits[k]
		sc.parent = dst
		if dc := dst.lits[k]; dc != nil {
			if sc.cand != nil && dc.cand != nil {
				for _, s := range sc.cand.shapes[:sc.cand.n] {
					dc.cand.add(s)
				}
				dc.cand.full = dc.cand.full || sc.cand.full
				*work = append(*work, dst)
			}
			tr.mergeInto(dc, sc, work)
			continue
		}
		if dp := dst.param; dp != nil && dp.kind == openNode && !sc.pinned && (!isFixedSeg(k) || dp.hasFixedVal(k)) {
			tr.mergeInto(dp, sc, work)
			continue
		}
		if dst.lits == nil {
			dst.lits = make(map[string]*node)
		}
		dst.lits[k] = sc
		if old := sc.cand; old != nil {
			sc.cand = nil
			if dst.param == nil || dst.param.kind != openNode {
				tr.addCandidate(dst, sc)
				if sc.cand != nil {
					*sc.cand = *old
					*work = append(*work, dst)
				}
			}
		}
	}
	src.lits = nil
	if sp := src.param; sp != nil {
		sp.parent = dst
		if dp := dst.param; dp == nil {
			dst.param = sp
		} else {
			if sp.kind == openNode && dp.kind == paramNode {
				dp.kind = openNode
			}
			tr.mergeInto(dp, sp, work)
		}
		src.param = nil
	}
	if st := src.tail; st != nil {
		if dst.tail == nil {
			st.parent = dst
			dst.tail = st
		} else {
			tr.tails--
			tr.t.merged.Add(1)
		}
		src.tail = nil
	}
	src.ev = nil
}

// ensureTail gives n a tail template.
func (tr *tree) ensureTail(n *node) {
	if n.tail != nil {
		return
	}
	n.tail = &node{kind: tailNode, parent: n, depth: n.depth + 1, end: &end{origin: Learned, tail: true}}
	tr.tails++
	tr.setTemplate(n.tail)
}

// rebuild recomputes the learned templates in the subtree of n.
func (tr *tree) rebuild(n *node) {
	n.walk(func(x *node) {
		if x.end != nil && x.end.origin == Learned {
			tr.setTemplate(x)
		}
	})
}

// setTemplate computes the template string and names of x's learned end.
func (tr *tree) setTemplate(x *node) {
	var chain [64]*node
	k := 0
	for a := x; a != nil && a.parent != nil; a = a.parent {
		if k == len(chain) {
			break
		}
		chain[k] = a
		k++
	}
	var b strings.Builder
	var names []string
	for i := k - 1; i >= 0; i-- {
		a := chain[i]
		if i != k-1 {
			b.WriteByte('/')
		}
		switch a.kind {
		case litNode:
			b.WriteString(a.seg)
		case patternNode:
			b.WriteString(a.seg)
			for _, pp := range a.pat {
				if pp.param {
					names = append(names, pp.text)
				}
			}
		case paramNode, openNode:
			name := uniqueName(paramBaseName(a), names)
			names = append(names, name)
			b.WriteByte('{')
			b.WriteString(name)
			b.WriteByte('}')
		case tailNode:
			name := uniqueName(TailParam, names)
			names = append(names, name)
			b.WriteByte('{')
			b.WriteString(name)
			b.WriteByte('}')
		}
	}
	x.end.template = b.String()
	x.end.names = names
}

// paramBaseName is the name of a parameter node: the pinned name; "date"
// for dates; else after the nearest literal before it (versions and
// "api"-like words skipped), or "id" when a parameter or the start of the
// path comes first.
func paramBaseName(p *node) string {
	if p.pinned {
		return p.seg
	}
	if p.date {
		return "date"
	}
	for a := p.parent; a != nil && a.parent != nil; a = a.parent {
		if a.kind != litNode {
			return "id"
		}
		if skipForNaming(a.seg) {
			continue
		}
		return ParamName(a.seg)
	}
	return "id"
}

func skipForNaming(seg string) bool {
	if seg == "" || isVersion(seg) {
		return true
	}
	switch strings.ToLower(seg) {
	case "api", "apis", "rest", "v", "public", "private", "internal", "external", "latest", "stable",
		"beta", "alpha", "preview", "experimental", "legacy":
		return true
	}
	return false
}
