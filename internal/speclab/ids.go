package speclab

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
)

// idStyle is how an identifier looks on the wire.
type idStyle int

const (
	styleNumeric  idStyle = iota // 48213, as an integer or a digit string
	styleUUID                    // 1929186d-8b67-4163-a208-de52a41f7301
	styleBase62                  // tiSTSUzh4BwtvYSLWPsqu9
	stylePrefixed                // cus_8f3aK2xQ9LmN
	styleHex                     // 7b198a7f52a04188
	styleSlug                    // star-wars-iv
	styleUsername                // john.doe42
	styleWord                    // movies, tv_shows_v2
	styleMimic                   // bookTitle77: the example's letters, then digits
)

var styleNames = [...]string{"numeric", "uuid", "base62", "prefixed", "hex", "slug", "username", "word", "mimic"}

func (s idStyle) String() string { return styleNames[s] }

// idSpec describes one identifier style with its parameters.
type idSpec struct {
	style  idStyle
	n      int    // length of the random part (base62, hex, prefixed), digits of numeric strings
	prefix string // prefixed: "cus_"; mimic: "bookTitle"
	min    int64  // numeric bounds
	max    int64
}

func (s idSpec) String() string {
	switch s.style {
	case stylePrefixed, styleMimic:
		return fmt.Sprintf("%v(%q)", s.style, s.prefix)
	case styleBase62, styleHex:
		return fmt.Sprintf("%v(%d)", s.style, s.n)
	case styleNumeric:
		return fmt.Sprintf("%v(%d..%d)", s.style, s.min, s.max)
	}
	return s.style.String()
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randBase62 returns n base62 characters with at least one digit, one upper
// and one lower case letter when n >= 6, as generated ids have.
func randBase62(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for {
		for i := range b {
			b[i] = base62[r.IntN(len(base62))]
		}
		if n < 6 || (strings.ContainsAny(string(b), "0123456789") &&
			strings.ContainsAny(string(b), "ABCDEFGHIJKLMNOPQRSTUVWXYZ") &&
			strings.ContainsAny(string(b), "abcdefghijklmnopqrstuvwxyz")) {
			return string(b)
		}
	}
}

func randHex(r *rand.Rand, n int) string {
	const hex = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = hex[r.IntN(16)]
	}
	return string(b)
}

func randUUID(r *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := fmt.Sprintf("%x", b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func randUsername(r *rand.Rand) string {
	f, l := pick(r, firstNames), pick(r, lastNames)
	switch r.IntN(6) {
	case 0:
		return f + "." + l
	case 1:
		return f + "." + l + strconv.Itoa(r.IntN(99)+1)
	case 2:
		return f + "_" + l
	case 3:
		return f + l + strconv.Itoa(r.IntN(999)+1)
	case 4:
		return f[:1] + l
	default:
		return f + strconv.Itoa(1970+r.IntN(40))
	}
}

func randSlug(r *rand.Rand) string {
	s := strings.ReplaceAll(pick(r, titles), " ", "-")
	switch r.IntN(5) {
	case 0:
		s += "-" + strconv.Itoa(r.IntN(4)+2)
	case 1:
		s = pick(r, adjectives) + "-" + s
	}
	return s
}

func randWordID(r *rand.Rand) string {
	w := pick(r, indexWords)
	switch r.IntN(6) {
	case 0:
		w = pick(r, adjectives) + "_" + w
	case 1:
		w += "_v" + strconv.Itoa(r.IntN(5)+2)
	case 2:
		w += "-" + pick(r, []string{"eu", "us", "staging", "prod", "dev", "archive"})
	case 3:
		w += "_" + strconv.Itoa(2015+r.IntN(11))
	}
	return w
}

// gen returns one identifier in the style.
func (s idSpec) gen(r *rand.Rand) string {
	switch s.style {
	case styleNumeric:
		return strconv.FormatInt(randInt(r, s.min, s.max), 10)
	case styleUUID:
		return randUUID(r)
	case styleBase62:
		return randBase62(r, s.n)
	case stylePrefixed:
		return s.prefix + randBase62(r, s.n)
	case styleHex:
		return randHex(r, s.n)
	case styleSlug:
		return randSlug(r)
	case styleUsername:
		return randUsername(r)
	case styleWord:
		return randWordID(r)
	case styleMimic:
		return s.prefix + strconv.Itoa(r.IntN(999)+1)
	}
	panic("speclab: unknown id style")
}

// randInt returns an integer in [lo, hi], favouring smaller magnitudes
// (log-uniform over the number of digits) as real identifiers and counters do.
func randInt(r *rand.Rand, lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	span := uint64(hi - lo)
	if span < 1000 {
		return lo + int64(r.Uint64N(span+1))
	}
	digits := int(math.Log10(float64(span))) + 1
	d := 1 + r.IntN(digits)
	limit := uint64(1)
	for range d {
		limit *= 10
	}
	if limit > span+1 || limit == 0 {
		limit = span + 1
	}
	return lo + int64(r.Uint64N(limit))
}

var (
	uuidRE     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	digitsRE   = regexp.MustCompile(`^[0-9]{1,18}$`)
	prefixedRE = regexp.MustCompile(`^([a-z]{1,6}_)([A-Za-z0-9]{3,})$`)
	hexRE      = regexp.MustCompile(`^[0-9a-f]{16,}$`)
	mixedRE    = regexp.MustCompile(`^[A-Za-z0-9]{10,}$`)
	mimicRE    = regexp.MustCompile(`^([A-Za-z]{2,})[0-9]{1,6}$`)
	wordRE     = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	slugRE     = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)+$`)
)

// idSpecFromExample derives a style from an example value; ok is false when
// the example says nothing (absent, a placeholder, free text).
func idSpecFromExample(name string, ex any) (idSpec, bool) {
	var s string
	switch v := ex.(type) {
	case string:
		s = v
	case float64:
		if v == math.Trunc(v) && v >= 0 {
			s = strconv.FormatInt(int64(v), 10)
		}
	case int:
		s = strconv.Itoa(v)
	case int64:
		s = strconv.FormatInt(v, 10)
	}
	if s == "" || strings.HasSuffix(s, "_example") || strings.Contains(s, " ") {
		return idSpec{}, false
	}
	switch {
	case uuidRE.MatchString(s):
		return idSpec{style: styleUUID}, true
	case digitsRE.MatchString(s):
		return numericLike(s), true
	case prefixedRE.MatchString(s):
		m := prefixedRE.FindStringSubmatch(s)
		return idSpec{style: stylePrefixed, prefix: m[1], n: max(len(m[2]), 10)}, true
	case hexRE.MatchString(s):
		return idSpec{style: styleHex, n: len(s)}, true
	case mimicRE.MatchString(s) && s[0] >= 'a' && s[0] <= 'z':
		// Words then a number: "name1", "bookTitle77".
		if isUsernameName(name) {
			return idSpec{style: styleUsername}, true
		}
		return idSpec{style: styleMimic, prefix: mimicRE.FindStringSubmatch(s)[1]}, true
	case mixedRE.MatchString(s) && strings.ContainsAny(s, "0123456789") && strings.ToLower(s) != s && strings.ToUpper(s) != s:
		return idSpec{style: styleBase62, n: len(s)}, true
	case slugRE.MatchString(s):
		return idSpec{style: styleSlug}, true
	case wordRE.MatchString(s):
		if isUsernameName(name) {
			return idSpec{style: styleUsername}, true
		}
		return idSpec{style: styleWord}, true
	}
	return idSpec{}, false
}

// numericLike is a numeric style whose values have about as many digits as
// the example.
func numericLike(s string) idSpec {
	d := len(s)
	if d < 2 {
		d = 4
	}
	d = min(d, 12)
	hi := int64(1)
	for range d {
		hi *= 10
	}
	return idSpec{style: styleNumeric, min: 1, max: hi - 1}
}

func isUsernameName(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "username") || strings.Contains(n, "user_name") || n == "login" ||
		n == "handle" || strings.HasSuffix(n, "login") || n == "user"
}

// idSpecFromName derives a style from a parameter's name alone.
func idSpecFromName(name string) (idSpec, bool) {
	n := strings.ToLower(name)
	switch {
	case isUsernameName(n):
		return idSpec{style: styleUsername}, true
	case strings.Contains(n, "slug"), strings.Contains(n, "title"), n == "name" || strings.HasSuffix(n, "_name") || strings.HasSuffix(n, "name"):
		return idSpec{style: styleSlug}, true
	case strings.Contains(n, "uuid"), strings.Contains(n, "guid"):
		return idSpec{style: styleUUID}, true
	case strings.HasSuffix(n, "uid") && !strings.HasSuffix(n, "uuid"):
		return idSpec{style: styleWord}, true
	}
	return idSpec{}, false
}

// resourcePrefix makes a short id prefix from a collection name, the way
// Stripe-like APIs do: "customers" → "cus_", "custom-object-schemas" → "cos_".
func resourcePrefix(resource string) string {
	resource = strings.ToLower(resource)
	parts := strings.FieldsFunc(resource, func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	if len(parts) > 1 {
		var b strings.Builder
		for _, p := range parts {
			b.WriteByte(p[0])
		}
		return b.String() + "_"
	}
	w := singular(resource)
	if len(w) <= 4 {
		return w + "_"
	}
	return w[:3] + "_"
}

func singular(w string) string {
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "ses") && len(w) > 4:
		return w[:len(w)-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && len(w) > 3:
		return w[:len(w)-1]
	}
	return w
}

// fallbackIDSpec is the style of a string identifier nothing in the spec
// describes: half of the resources get prefixed ids, the other half
// 18-character base62 ids (Salesforce-like), chosen by a hash of the
// resource name so it is stable across seeds.
func fallbackIDSpec(resource string) idSpec {
	h := fnv.New32a()
	h.Write([]byte(resource))
	if h.Sum32()%2 == 0 {
		return idSpec{style: stylePrefixed, prefix: resourcePrefix(resource), n: 14}
	}
	return idSpec{style: styleBase62, n: 18}
}
