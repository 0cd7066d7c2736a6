package speclab

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
)

// errPattern reports a pattern the generator does not handle (back
// references, look-around and other constructs Go's regexp rejects, or
// assertions in the middle of a pattern).
var errPattern = errors.New("unsupported pattern")

// maxRepeat caps unbounded repetitions (x*, x+, x{3,}) in generated strings.
const maxRepeat = 8

// genPattern returns a random string matching the ECMA-style pattern as Go's
// regexp reads it (unanchored patterns get no extra text around the match).
func genPattern(r *rand.Rand, pattern string) (string, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", errors.Join(errPattern, err)
	}
	re = re.Simplify()
	var b strings.Builder
	if err := genRegexp(r, re, &b); err != nil {
		return "", err
	}
	s := b.String()
	if ok, _ := regexp.MatchString(pattern, s); !ok {
		return "", errPattern
	}
	return s, nil
}

func genRegexp(r *rand.Rand, re *syntax.Regexp, b *strings.Builder) error {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return nil
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && r.IntN(2) == 0 {
				c = unicode.SimpleFold(c)
			}
			b.WriteRune(c)
		}
		return nil
	case syntax.OpCharClass:
		b.WriteRune(pickFromClass(r, re.Rune))
		return nil
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		b.WriteByte(base62[r.IntN(len(base62))])
		return nil
	case syntax.OpCapture:
		return genRegexp(r, re.Sub[0], b)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if err := genRegexp(r, s, b); err != nil {
				return err
			}
		}
		return nil
	case syntax.OpAlternate:
		return genRegexp(r, re.Sub[r.IntN(len(re.Sub))], b)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := 0, maxRepeat
		switch re.Op {
		case syntax.OpPlus:
			lo = 1
		case syntax.OpQuest:
			hi = 1
		case syntax.OpRepeat:
			lo, hi = re.Min, re.Max
			if hi < 0 {
				hi = max(lo, maxRepeat)
			}
		}
		n := lo
		if hi > lo {
			n += r.IntN(hi - lo + 1)
		}
		for range n {
			if err := genRegexp(r, re.Sub[0], b); err != nil {
				return err
			}
		}
		return nil
	}
	return errPattern
}

// pickFromClass picks a rune from a character class given as ranges,
// preferring printable ASCII so generated values stay readable.
func pickFromClass(r *rand.Rand, ranges []rune) rune {
	type span struct{ lo, hi rune }
	var ascii []span
	total := 0
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		lo, hi = max(lo, 0x21), min(hi, 0x7e)
		if lo <= hi {
			ascii = append(ascii, span{lo, hi})
			total += int(hi-lo) + 1
		}
	}
	if total == 0 {
		return ranges[0]
	}
	k := r.IntN(total)
	for _, s := range ascii {
		n := int(s.hi-s.lo) + 1
		if k < n {
			return s.lo + rune(k)
		}
		k -= n
	}
	return ascii[0].lo
}
