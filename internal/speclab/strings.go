package speclab

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// epoch is the middle of the time range generated dates fall in: values
// depend on the seed only, never on the wall clock.
var epoch = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

func randTime(r *rand.Rand) time.Time {
	return epoch.Add(time.Duration(r.Int64N(int64(2*365*24*time.Hour))) - 365*24*time.Hour).Truncate(time.Millisecond)
}

func randDate(r *rand.Rand) string { return randTime(r).Format("2006-01-02") }

func randDateTime(r *rand.Rand) string {
	t := randTime(r)
	switch r.IntN(3) {
	case 0:
		return t.Format("2006-01-02T15:04:05Z")
	case 1:
		return t.Format("2006-01-02T15:04:05.000Z")
	}
	return t.Format("2006-01-02T15:04:05.000000Z07:00")
}

func titleCase(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToUpper(r)) + w[n:]
	}
	return strings.Join(words, " ")
}

func randEmail(r *rand.Rand) string {
	f, l := pick(r, firstNames), pick(r, lastNames)
	switch r.IntN(3) {
	case 0:
		return f + "." + l + "@" + pick(r, domains)
	case 1:
		return f[:1] + l + strconv.Itoa(r.IntN(99)) + "@" + pick(r, domains)
	}
	return f + "@" + pick(r, domains)
}

func randPhone(r *rand.Rand) string {
	switch r.IntN(3) {
	case 0:
		return fmt.Sprintf("+1 %03d-555-%04d", 200+r.IntN(700), r.IntN(10000))
	case 1:
		return fmt.Sprintf("+44 20 %04d %04d", r.IntN(10000), r.IntN(10000))
	}
	return fmt.Sprintf("(%03d) 555-%04d", 200+r.IntN(700), r.IntN(10000))
}

func randURL(r *rand.Rand, name string) string {
	switch {
	case strings.Contains(name, "image") || strings.Contains(name, "avatar") || strings.Contains(name, "picture") ||
		strings.Contains(name, "photo") || strings.Contains(name, "logo") || strings.Contains(name, "poster"):
		return "https://cdn.example.com/img/" + randBase62(r, 12) + ".jpg"
	case strings.Contains(name, "website") || strings.Contains(name, "domain"):
		return "https://www." + strings.ToLower(strings.ReplaceAll(pick(r, companyWords), " ", "")) + ".com"
	}
	return "https://" + pick(r, domains) + "/" + pick(r, nouns) + "/" + randBase62(r, 8)
}

func randWords(r *rand.Rand, lo, hi int) string {
	n := lo + r.IntN(hi-lo+1)
	w := make([]string, n)
	for i := range w {
		if i%2 == 0 && i+1 < n {
			w[i] = pick(r, adjectives)
		} else {
			w[i] = pick(r, nouns)
		}
	}
	return strings.Join(w, " ")
}

// fakeJWT builds a well-formed, unsigned-looking HS256 JWT.
func fakeJWT(r *rand.Rand, sub string) string {
	enc := base64.RawURLEncoding
	iat := epoch.Unix() + r.Int64N(30*24*3600)
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body := enc.EncodeToString([]byte(fmt.Sprintf(`{"sub":%q,"iat":%d,"exp":%d,"role":"user"}`, sub, iat, iat+3600)))
	sig := make([]byte, 32)
	for i := range sig {
		sig[i] = byte(r.UintN(256))
	}
	return head + "." + body + "." + enc.EncodeToString(sig)
}

func (g *Generator) stringFits(n *node, s string) bool {
	l := uint64(utf8.RuneCountInString(s))
	if l < n.minLen || (n.maxLen != nil && l > *n.maxLen) {
		return false
	}
	for _, p := range n.patterns {
		if ok, err := regexp.MatchString(p, s); err != nil || !ok {
			return false
		}
	}
	return true
}

func (g *Generator) genString(n *node, name string) (any, error) {
	if ex, ok := g.example(n, tStr); ok {
		return ex, nil
	}
	if len(n.patterns) > 0 {
		for range 16 {
			s, err := genPattern(g.r, n.patterns[0])
			if err != nil {
				break
			}
			if g.stringFits(n, s) {
				return s, nil
			}
		}
		return nil, fmt.Errorf("%w: %q: cannot generate a string for pattern %q", ErrUnsatisfiable, name, n.patterns[0])
	}
	for range 16 {
		s := g.formatString(n, name)
		s = fitLength(g.r, s, n)
		if g.stringFits(n, s) {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%w: %q: cannot generate a string within the length bounds", ErrUnsatisfiable, name)
}

// fitLength pads or cuts a string to the node's length bounds.
func fitLength(r *rand.Rand, s string, n *node) string {
	for uint64(utf8.RuneCountInString(s)) < n.minLen {
		s += string(base62[r.IntN(len(base62))])
	}
	if n.maxLen != nil && uint64(utf8.RuneCountInString(s)) > *n.maxLen {
		s = string([]rune(s)[:*n.maxLen])
	}
	return s
}

func (g *Generator) formatString(n *node, name string) string {
	r := g.r
	switch n.format {
	case "date-time":
		return randDateTime(r)
	case "date":
		return randDate(r)
	case "time":
		return randTime(r).Format("15:04:05")
	case "email", "idn-email":
		return randEmail(r)
	case "uuid":
		return randUUID(r)
	case "uri", "url", "iri", "uri-reference":
		return randURL(r, strings.ToLower(name))
	case "hostname", "idn-hostname":
		return pick(r, nouns) + "." + pick(r, domains)
	case "ipv4":
		return fmt.Sprintf("%d.%d.%d.%d", 10+r.IntN(180), r.IntN(256), r.IntN(256), 1+r.IntN(254))
	case "ipv6":
		return fmt.Sprintf("2001:db8:%x:%x::%x", r.IntN(0xffff), r.IntN(0xffff), 1+r.IntN(0xfffe))
	case "byte":
		b := make([]byte, 6+r.IntN(18))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		return base64.StdEncoding.EncodeToString(b)
	case "binary":
		return randBase62(r, 16+r.IntN(32))
	case "password":
		if strings.Contains(strings.ToLower(name), "key") || strings.Contains(strings.ToLower(name), "uid") {
			return randUUID(r)
		}
		return randPassword(r)
	case "int32", "int64", "decimal", "number":
		return strconv.Itoa(r.IntN(100000))
	case "duration":
		return fmt.Sprintf("PT%dM", 1+r.IntN(120))
	}
	return g.plainString(name)
}

func randPassword(r *rand.Rand) string {
	return titleCase(pick(r, nouns)) + strconv.Itoa(r.IntN(9000)+1000) + pick(r, []string{"!", "#", "$", "?", "@"}) + pick(r, adjectives)
}

// words of a camelCase or snake_case name, lower case.
func nameWords(name string) []string {
	var words []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			words = append(words, strings.ToLower(cur.String()))
			cur.Reset()
		}
	}
	prevLower := false
	for _, c := range name {
		switch {
		case c == '_' || c == '-' || c == '.' || c == ' ' || c == '[' || c == ']':
			flush()
			prevLower = false
			continue
		case unicode.IsUpper(c) && prevLower:
			flush()
		}
		cur.WriteRune(c)
		prevLower = unicode.IsLower(c) || unicode.IsDigit(c)
	}
	flush()
	return words
}

func hasWord(words []string, ws ...string) bool {
	for _, w := range words {
		for _, x := range ws {
			if w == x {
				return true
			}
		}
	}
	return false
}

func lastWord(words []string) string {
	if len(words) == 0 {
		return ""
	}
	return words[len(words)-1]
}

// plainString is a realistic string for a property or parameter, from its
// name.
func (g *Generator) plainString(name string) string {
	r := g.r
	w := nameWords(name)
	last := lastWord(w)
	lname := strings.ToLower(name)
	switch {
	case hasWord(w, "email", "mail"):
		return randEmail(r)
	case hasWord(w, "phone", "mobile", "fax", "tel", "telephone"):
		return randPhone(r)
	case hasWord(w, "username", "login", "nickname", "handle"):
		return randUsername(r)
	case hasWord(w, "password", "passwd", "pwd", "pass"):
		return randPassword(r)
	case hasWord(w, "token", "jwt"):
		return fakeJWT(r, randUsername(r))
	case hasWord(w, "secret", "apikey") || (hasWord(w, "api") && last == "key"):
		return "sk_live_" + randBase62(r, 24)
	case hasWord(w, "url", "uri", "href", "link", "website", "avatar", "image", "picture", "photo", "logo", "poster", "thumbnail"):
		return randURL(r, lname)
	case hasWord(w, "ip"):
		return fmt.Sprintf("%d.%d.%d.%d", 10+r.IntN(180), r.IntN(256), r.IntN(256), 1+r.IntN(254))
	case (last == "at" || last == "since" || last == "date" || last == "time" || last == "timestamp" || hasWord(w, "created", "updated", "deleted", "expires", "birthday")) &&
		!hasWord(w, "format", "zone", "timezone"):
		if last == "date" || hasWord(w, "birthday") {
			return randDate(r)
		}
		return randDateTime(r)
	case last == "first" || hasWord(w, "firstname", "given") || (hasWord(w, "first") && last == "name"):
		return titleCase(pick(r, firstNames))
	case hasWord(w, "lastname", "surname", "family") || (hasWord(w, "last") && last == "name"):
		return titleCase(pick(r, lastNames))
	case hasWord(w, "company", "organization", "organisation", "employer", "account") && last == "name",
		lname == "company" || lname == "organization":
		return pick(r, companyWords) + " " + pick(r, companySuffixes)
	case last == "name" && (len(w) == 1 || hasWord(w, "full", "display", "contact", "owner", "user", "person")):
		return titleCase(pick(r, firstNames) + " " + pick(r, lastNames))
	case last == "name":
		return titleCase(randWords(r, 1, 2))
	case hasWord(w, "city", "town"):
		return pick(r, cities)
	case hasWord(w, "country"):
		return pick(r, countries)
	case hasWord(w, "street", "address", "line1", "line2"):
		return strconv.Itoa(1+r.IntN(2000)) + " " + pick(r, streets)
	case hasWord(w, "zip", "postal", "postcode"):
		return fmt.Sprintf("%05d", r.IntN(100000))
	case hasWord(w, "currency"):
		return pick(r, currencies)
	case hasWord(w, "locale"):
		return pick(r, locales)
	case hasWord(w, "language", "lang"):
		return pick(r, languages)
	case hasWord(w, "color", "colour"):
		return pick(r, colors)
	case hasWord(w, "vin"):
		return strings.ToUpper(randBase62(r, 17))
	case hasWord(w, "code", "coupon", "sku"):
		return strings.ToUpper(pick(r, nouns)) + strconv.Itoa(10+r.IntN(90))
	case hasWord(w, "title", "subject", "headline"):
		return titleCase(pick(r, titles))
	case hasWord(w, "description", "overview", "body", "content", "text", "message", "note", "notes", "comment",
		"details", "detail", "summary", "reason", "bio", "about", "problem", "help", "prompt"):
		return pick(r, sentences)
	case hasWord(w, "status", "state", "stage", "type", "kind", "category", "role", "mode", "level"):
		return pick(r, []string{"active", "pending", "open", "closed", "archived", "draft", "new", "qualified"})
	case hasWord(w, "q", "query", "search", "keyword", "keywords", "term"):
		return randWords(r, 1, 3)
	case hasWord(w, "sort", "order", "orderby"):
		return pick(r, []string{"created_at:desc", "name:asc", "updated_at:desc", "price:asc"})
	case hasWord(w, "id", "uid", "key", "ref", "reference", "identifier", "cursor"):
		if last == "cursor" {
			return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(r.IntN(5000))))
		}
		return fallbackIDSpec(name).gen(r)
	case hasWord(w, "hash", "checksum", "sha", "digest", "etag"):
		return randHex(r, 40)
	case hasWord(w, "tag", "tags", "label", "labels", "keyword"):
		return pick(r, nouns)
	case hasWord(w, "version"):
		return fmt.Sprintf("%d.%d.%d", r.IntN(3), r.IntN(20), r.IntN(10))
	case hasWord(w, "filter"):
		return pick(r, []string{"genre = action", "price > 10", "status = open", "year >= 2000"})
	}
	return randWords(r, 1, 3)
}

// intRangeFor is the realistic range of an integer named name.
func intRangeFor(name string) (float64, float64) {
	w := nameWords(name)
	last := lastWord(w)
	switch {
	case hasWord(w, "year"):
		return 1950, 2025
	case hasWord(w, "age"):
		return 18, 90
	case hasWord(w, "limit", "size", "per", "hits") && !hasWord(w, "file", "db", "database", "bytes"):
		return 1, 100
	case hasWord(w, "offset", "skip", "from"):
		return 0, 500
	case hasWord(w, "page"):
		return 1, 50
	case hasWord(w, "port"):
		return 1024, 65535
	case hasWord(w, "ms", "millis", "milliseconds", "duration", "latency", "timeout"):
		return 1, 5000
	case last == "at" || hasWord(w, "timestamp", "date", "time", "created", "updated"):
		return float64(epoch.Unix() - 365*24*3600), float64(epoch.Unix() + 365*24*3600)
	case hasWord(w, "price", "amount", "cost", "balance"):
		return 1, 5000
	case hasWord(w, "percent", "percentage", "progress"):
		return 0, 100
	case hasWord(w, "bytes") || (hasWord(w, "size") && hasWord(w, "file", "db", "database")):
		return 1024, 1 << 32
	case hasWord(w, "id", "uid", "uuid") || last == "id":
		return 1, 99999
	case hasWord(w, "count", "total", "number", "nb", "quantity", "qty", "documents", "tasks"):
		return 0, 5000
	}
	return 0, 10000
}

// numRangeFor is the realistic range of a number named name.
func numRangeFor(name string) (float64, float64) {
	w := nameWords(name)
	switch {
	case hasWord(w, "rating", "stars"):
		return 0, 5
	case hasWord(w, "score", "ratio", "threshold", "probability", "confidence", "semantic"):
		return 0, 1
	case hasWord(w, "lat", "latitude"):
		return -90, 90
	case hasWord(w, "lng", "lon", "long", "longitude"):
		return -180, 180
	case hasWord(w, "percent", "percentage", "progress"):
		return 0, 100
	case hasWord(w, "price", "amount", "cost", "balance", "revenue", "value", "total"):
		return 1, 10000
	}
	return 0, 1000
}
