package pathtmpl

import (
	"errors"
	"fmt"
	"strings"
)

// pinSeg is one segment of a pinned template.
type pinSeg struct {
	kind nodeKind  // litNode, openNode ("{name}") or patternNode ("{name}.{ext}", "v{major}")
	text string    // literal text, parameter name, or the raw pattern segment
	pat  []patPart // patternNode
}

// patPart is a literal piece or a parameter of a pattern segment.
type patPart struct {
	text  string // literal text or parameter name
	param bool
}

// ErrBadTemplate is wrapped by Pin's errors for templates it cannot
// parse.
var ErrBadTemplate = errors.New("bad path template")

// Template syntax errors, wrapped with ErrBadTemplate.
var (
	errNoSlash   = errors.New("a template must start with '/'")
	errBraces    = errors.New("unbalanced braces")
	errEmptyName = errors.New("empty parameter name")
	errAdjacent  = errors.New("two parameters with no literal text between them")
)

// parseTemplate splits an OpenAPI path template into segments (the first
// is the empty segment before the leading slash).
func parseTemplate(tmpl string) ([]pinSeg, error) {
	if tmpl == "" || tmpl[0] != '/' {
		return nil, errNoSlash
	}
	var segs []pinSeg
	var names []string
	for i := 0; ; {
		j := nextSeg(tmpl, i)
		seg := tmpl[i:j]
		if strings.ContainsAny(seg, "{}") {
			parts, err := parsePattern(seg)
			if err != nil {
				return nil, fmt.Errorf("segment %q: %w", seg, err)
			}
			for _, p := range parts {
				if p.param {
					for _, n := range names {
						if n == p.text {
							return nil, fmt.Errorf("parameter %q used twice", p.text)
						}
					}
					names = append(names, p.text)
				}
			}
			if len(parts) == 1 {
				segs = append(segs, pinSeg{kind: openNode, text: parts[0].text})
			} else {
				segs = append(segs, pinSeg{kind: patternNode, text: seg, pat: parts})
			}
		} else {
			segs = append(segs, pinSeg{kind: litNode, text: seg})
		}
		if j == len(tmpl) {
			break
		}
		i = j + 1
	}
	return segs, nil
}

func parsePattern(seg string) ([]patPart, error) {
	var parts []patPart
	for i := 0; i < len(seg); {
		open := strings.IndexByte(seg[i:], '{')
		if open < 0 {
			if strings.IndexByte(seg[i:], '}') >= 0 {
				return nil, errBraces
			}
			parts = append(parts, patPart{text: seg[i:]})
			break
		}
		if lit := seg[i : i+open]; lit != "" {
			if strings.IndexByte(lit, '}') >= 0 {
				return nil, errBraces
			}
			parts = append(parts, patPart{text: lit})
		} else if len(parts) > 0 && parts[len(parts)-1].param {
			return nil, errAdjacent
		}
		i += open + 1
		end := strings.IndexByte(seg[i:], '}')
		if end < 0 || strings.IndexByte(seg[i:i+end], '{') >= 0 {
			return nil, errBraces
		}
		if end == 0 {
			return nil, errEmptyName
		}
		parts = append(parts, patPart{text: seg[i : i+end], param: true})
		i += end + 1
	}
	return parts, nil
}

// matchParts matches seg against a pattern; each parameter takes at least
// one byte, up to the first occurrence of the literal after it (the last
// literal must end seg). Values are appended when collect.
func matchParts(parts []patPart, seg string, params []PathParam, collect bool) ([]PathParam, bool) {
	i := 0
	for k, pp := range parts {
		if !pp.param {
			if k == 0 {
				if !strings.HasPrefix(seg, pp.text) {
					return params, false
				}
				i = len(pp.text)
			}
			continue // a literal after a parameter was consumed with it
		}
		if k+1 == len(parts) {
			if i >= len(seg) {
				return params, false
			}
			if collect {
				params = append(params, PathParam{Value: seg[i:]})
			}
			i = len(seg)
			continue
		}
		next := parts[k+1].text
		var j int
		if k+2 == len(parts) {
			if !strings.HasSuffix(seg, next) || len(seg)-len(next) <= i {
				return params, false
			}
			j = len(seg) - len(next)
		} else {
			if i+1 > len(seg) {
				return params, false
			}
			idx := strings.Index(seg[i+1:], next)
			if idx < 0 {
				return params, false
			}
			j = i + 1 + idx
		}
		if collect {
			params = append(params, PathParam{Value: seg[i:j]})
		}
		i = j + len(next)
	}
	return params, i == len(seg)
}

func (n *node) matchPattern(seg string) bool {
	_, ok := matchParts(n.pat, seg, nil, false)
	return ok
}

func (n *node) appendPatternValues(seg string, params []PathParam) []PathParam {
	base := len(params)
	params, ok := matchParts(n.pat, seg, params, true)
	if !ok {
		return params[:base]
	}
	return params
}

// pin inserts a pinned template; tr.mu held for writing.
func (tr *tree) pin(p pinned) {
	n := tr.root
	var work []*node
	var names []string
	for _, s := range p.segs {
		var c *node
		switch s.kind {
		case litNode:
			c = n.lits[s.text]
			if c == nil {
				c = n.addLit(s.text)
			} else if c.cand != nil {
				tr.dropCandidate(n, c)
			}
		case openNode:
			c = n.param
			if c == nil {
				c = &node{parent: n, depth: n.depth + 1}
				n.param = c
			}
			c.kind = openNode
			if !c.pinned {
				c.seg = s.text
			}
			names = append(names, s.text)
			tr.absorb(n, c, nil, &work)
		case patternNode:
			for _, pc := range n.patterns {
				if pc.seg == s.text {
					c = pc
					break
				}
			}
			if c == nil {
				c = &node{kind: patternNode, seg: s.text, pat: s.pat, parent: n, depth: n.depth + 1}
				n.patterns = append(n.patterns, c)
			}
			for _, pp := range s.pat {
				if pp.param {
					names = append(names, pp.text)
				}
			}
			tr.absorb(n, c, s.pat, &work)
		}
		c.pinned = true
		n = c
	}
	if n.end != nil {
		if n.end.origin == Learned {
			tr.addLearned(-1)
		} else {
			tr.pinned--
		}
	}
	n.end = &end{template: p.tmpl, names: names, origin: p.origin}
	tr.pinned++
	tr.rebuild(tr.root)
	for _, w := range work {
		tr.maybePromote(w)
	}
	tr.settle()
}

// absorb merges n's learned (unpinned) literal children into the pinned
// parameter or pattern c: all of them for a parameter, those matching the
// pattern for a pattern.
func (tr *tree) absorb(n, c *node, pat []patPart, work *[]*node) {
	for _, k := range sortedKeys(n.lits) {
		lc := n.lits[k]
		if lc.pinned {
			continue
		}
		if pat != nil {
			if _, ok := matchParts(pat, k, nil, false); !ok {
				continue
			}
		}
		if lc.cand != nil {
			tr.dropCandidate(n, lc)
		}
		delete(n.lits, k)
		tr.mergeInto(c, lc, work)
	}
	if pat == nil && n.ev != nil {
		for _, cd := range n.ev.cands {
			cd.cand = nil
		}
		n.ev = nil
	}
}
