package speclab

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// segment is one "/"-separated piece of a path template.
type segment struct {
	lit   string         // literal text when names is empty
	names []string       // parameter names, in order
	re    *regexp.Regexp // for segments mixing literal text and parameters ("{id}.json")
	raw   string         // the segment as written
}

func (s segment) isParam() bool { return len(s.names) > 0 }

var braceRE = regexp.MustCompile(`\{([^{}/]+)\}`)

// parseTemplate splits a path template into segments. "/" is one empty
// segment; a trailing slash makes a trailing empty segment.
func parseTemplate(t string) ([]segment, error) {
	if !strings.HasPrefix(t, "/") {
		return nil, fmt.Errorf("speclab: path template %q does not start with /", t)
	}
	var out []segment
	for _, part := range strings.Split(t[1:], "/") {
		ms := braceRE.FindAllStringSubmatchIndex(part, -1)
		if len(ms) == 0 {
			out = append(out, segment{lit: part})
			continue
		}
		if len(ms) == 1 && ms[0][0] == 0 && ms[0][1] == len(part) {
			out = append(out, segment{names: []string{part[ms[0][2]:ms[0][3]]}})
			continue
		}
		var expr strings.Builder
		var names []string
		expr.WriteByte('^')
		last := 0
		for _, m := range ms {
			expr.WriteString(regexp.QuoteMeta(part[last:m[0]]))
			expr.WriteString(`([^/]+?)`)
			names = append(names, part[m[2]:m[3]])
			last = m[1]
		}
		expr.WriteString(regexp.QuoteMeta(part[last:]))
		expr.WriteByte('$')
		re, err := regexp.Compile(expr.String())
		if err != nil {
			return nil, fmt.Errorf("speclab: path template %q: %w", t, err)
		}
		out = append(out, segment{names: names, re: re, raw: part})
	}
	return out, nil
}

// matchSegments matches the unescaped parts of a path against a template.
// The score ranks templates: per segment, literal (2) beats mixed (1) beats
// a whole-segment parameter (0), compared left to right.
func matchSegments(segs []segment, parts []string) (params map[string]string, score []int, ok bool) {
	if len(segs) != len(parts) {
		return nil, nil, false
	}
	score = make([]int, len(segs))
	for i, s := range segs {
		p := parts[i]
		switch {
		case !s.isParam():
			if p != s.lit {
				return nil, nil, false
			}
			score[i] = 2
		case s.re == nil:
			if p == "" {
				return nil, nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[s.names[0]] = p
		default:
			m := s.re.FindStringSubmatch(p)
			if m == nil {
				return nil, nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			for j, n := range s.names {
				params[n] = m[j+1]
			}
			score[i] = 1
		}
	}
	return params, score, true
}

// router finds the operation of a request path the way the spec's servers
// do: the most literal template wins, whatever the method.
type router struct {
	base      string
	templates []string
	segs      map[string][]segment
	ops       map[string]map[string]*Operation // template → method → operation
}

func newRouter(s *Spec, base string) *router {
	r := &router{base: base, segs: map[string][]segment{}, ops: map[string]map[string]*Operation{}}
	for _, o := range s.Operations {
		if r.ops[o.Template] == nil {
			r.ops[o.Template] = map[string]*Operation{}
			r.templates = append(r.templates, o.Template)
			r.segs[o.Template] = o.segs
		}
		r.ops[o.Template][o.Method] = o
	}
	return r
}

// splitPath splits an escaped path (without the base path) into unescaped
// parts.
func splitPath(escaped string) ([]string, error) {
	if !strings.HasPrefix(escaped, "/") {
		return nil, fmt.Errorf("path %q does not start with /", escaped)
	}
	parts := strings.Split(escaped[1:], "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, err
		}
		parts[i] = u
	}
	return parts, nil
}

// template returns the template an escaped request path (with the base path)
// resolves to, with its parameter values; "" when none matches.
func (r *router) template(escapedPath string) (string, map[string]string) {
	if r.base != "" {
		if !strings.HasPrefix(escapedPath, r.base+"/") && escapedPath != r.base {
			return "", nil
		}
		escapedPath = strings.TrimPrefix(escapedPath, r.base)
		if escapedPath == "" {
			escapedPath = "/"
		}
	}
	parts, err := splitPath(escapedPath)
	if err != nil {
		return "", nil
	}
	var best string
	var bestParams map[string]string
	var bestScore []int
	for _, t := range r.templates {
		params, score, ok := matchSegments(r.segs[t], parts)
		if !ok {
			continue
		}
		if best == "" || slices.Compare(score, bestScore) > 0 {
			best, bestParams, bestScore = t, params, score
		}
	}
	return best, bestParams
}

// route returns the operation for a request, or nil.
func (r *router) route(method, escapedPath string) (*Operation, map[string]string) {
	t, params := r.template(escapedPath)
	if t == "" {
		return nil, nil
	}
	return r.ops[t][method], params
}
