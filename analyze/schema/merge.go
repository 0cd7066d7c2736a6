package schema

import (
	"math"
	"slices"
)

// Merge joins what o learned into l, as if l had also observed o's
// samples (used when endpoints are merged). o is not changed. The configs
// should match; l's bounds apply to the result. A merge that changes l's
// schema restarts the count of Stable; merging into an empty learner takes
// o's stability.
func (l *Learner) Merge(o *Learner) {
	if o == nil || o.samples == 0 && o.root == nil {
		return
	}
	if o == l {
		o = l.clone()
	}
	wasEmpty := l.samples == 0 && l.root == nil
	l.samples += o.samples
	l.dropped.Properties += o.dropped.Properties
	l.dropped.Nodes += o.dropped.Nodes
	l.dropped.Depth += o.dropped.Depth
	l.dropped.ArrayItems += o.dropped.ArrayItems
	if o.root != nil {
		l.mergeNode(l.rootNode(), o.root)
	}
	if wasEmpty {
		l.lastChange = o.lastChange
	}
}

func (l *Learner) clone() *Learner {
	c := &Learner{lim: l.lim}
	c.Merge(l)
	return c
}

// mergeNode joins the state of s (from another learner, or a property
// being folded into a map's value schema) into d.
func (l *Learner) mergeNode(d, s *node) {
	if s.kinds&^d.kinds != 0 {
		d.kinds |= s.kinds
		l.changed()
	}
	if s.text && !d.text {
		d.text = true
		l.changed()
	}
	d.partial = d.partial || s.partial
	if s.wide && !d.wide {
		d.wide = true
		l.changed()
	}
	d.classes |= s.classes
	d.sensCount += s.sensCount
	d.keyClasses |= s.keyClasses
	d.keySensCount += s.keySensCount

	if s.nStr > 0 {
		l.mergeStrings(d, s)
	}
	d.redacted = d.redacted || s.redacted
	for _, e := range s.examples {
		if len(d.examples) >= l.lim.maxExamples {
			break
		}
		if !slices.Contains(d.examples, e) {
			d.examples = append(d.examples, e)
		}
	}
	if s.nObj > 0 || s.isMap {
		l.mergeObject(d, s)
	}
	if s.items != nil {
		if d.items == nil {
			d.items = l.newNode(d, "*")
		}
		if d.items != nil {
			l.mergeNode(d.items, s.items)
		}
	}
}

func (l *Learner) mergeStrings(d, s *node) {
	dStr := d.nStr
	d.nStr += s.nStr
	switch {
	case dStr == 0:
		d.format = s.format
	case d.format != s.format:
		if d.format != fmtNone {
			l.changed()
		}
		d.format = fmtNone
	}
	switch {
	case dStr == 0:
		d.enumDead, d.enum, d.enumNewAt = s.enumDead, slices.Clone(s.enum), s.enumNewAt
	case d.enumDead:
	case s.enumDead:
		l.killEnum(d)
	default:
		added := false
		for _, v := range s.enum {
			if slices.Contains(d.enum, v) {
				continue
			}
			if len(d.enum) >= l.lim.maxEnum {
				l.killEnum(d)
				break
			}
			d.enum = append(d.enum, v)
			added = true
		}
		if added {
			// Where the last new value falls depends on how the two
			// learners' samples interleave, which is unknown; take the
			// earlier of "d's samples, then s's" and "side by side" (the
			// set settled, in proportion, as late as the later of the two).
			frac := max(float64(d.enumNewAt)/float64(dStr), float64(s.enumNewAt)/float64(s.nStr))
			d.enumNewAt = min(dStr+s.enumNewAt, int64(math.Ceil(frac*float64(d.nStr))))
		}
	}
	l.decideEnum(d)
}

func (l *Learner) mergeObject(d, s *node) {
	switch {
	case s.isMap:
		l.toMap(d)
		l.mergeNode(d.mapVal, s.mapVal)
	case d.isMap:
		for _, c := range s.order {
			l.mergeNode(d.mapVal, c)
		}
	default:
		for _, c := range s.order {
			dc := d.props[c.key]
			if dc == nil {
				if len(d.order) >= l.lim.maxProps {
					l.dropped.Properties++
					continue
				}
				if dc = l.newNode(d, c.key); dc == nil {
					d.refused += c.present // as ObserveJSON counts them
					continue
				}
				if d.props == nil {
					d.props = make(map[string]*node)
				}
				dc.idx = len(d.order)
				d.props[dc.key] = dc
				d.order = append(d.order, dc)
				if isDataKey(ubytes(dc.key)) {
					d.dataKeys++
				}
				l.changed()
			}
			dc.present += c.present
			l.mergeNode(dc, c)
		}
	}
	d.nObj += s.nObj
	if d.isMap {
		return
	}
	d.presentSum += s.presentSum
	d.refused += s.refused
	d.maxPresent = 0
	for _, c := range d.order {
		d.maxPresent = max(d.maxPresent, c.present)
		if opt := c.present < d.nObj; opt != c.optional {
			c.optional = opt
			l.changed()
		}
	}
	l.checkMap(d, true)
}
