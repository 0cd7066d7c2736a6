package pathtmpl

import (
	"strconv"
	"strings"
)

// ParamName is the name a learned parameter gets after the literal
// segment resource: the resource singularised, in lowerCamelCase, with
// "Id" appended ("users" → "userId", "custom-objects" → "customObjectId",
// "indexes" → "indexId", "status" → "statusId"). An empty resource, or one
// with no letters or digits, gives "id".
func ParamName(resource string) string {
	var b strings.Builder
	words := 0
	last := lastWord(resource)
	for i := 0; i < len(resource); {
		for i < len(resource) && !isAlnum(resource[i]) {
			i++
		}
		j := i
		for j < len(resource) && isAlnum(resource[j]) {
			j++
		}
		if j == i {
			break
		}
		w := resource[i:j]
		if i == last {
			w = Singular(w)
		}
		if words == 0 {
			b.WriteByte(lowerByte(w[0]))
		} else {
			b.WriteByte(upperByte(w[0]))
		}
		b.WriteString(w[1:])
		words++
		i = j
	}
	if words == 0 {
		return "id"
	}
	b.WriteString("Id")
	return b.String()
}

// lastWord returns the start of the last run of letters and digits.
func lastWord(s string) int {
	j := len(s)
	for j > 0 && !isAlnum(s[j-1]) {
		j--
	}
	i := j
	for i > 0 && isAlnum(s[i-1]) {
		i--
	}
	return i
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upperByte(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// Singular returns the singular of an English plural noun, as API
// resources are named ("categories" → "category", "addresses" → "address",
// "indexes" → "index", "statuses" → "status", "people" → "person",
// "movies" → "movie"). Words that are not plurals ("status", "data",
// "news", "user") come back unchanged. Only the tail of w is looked at, so
// camelCase works ("userProfiles" → "userProfile"); the case of w is kept.
func Singular(w string) string {
	n := len(w)
	if n < 3 {
		return w
	}
	lw := strings.ToLower(w)
	// Irregular and exceptional words, matched on the tail so that
	// compounds ("customerAddresses", "orderStatuses") work too; tried in
	// order (longer tails before the tails they end with).
	irregulars := [...]struct{ plural, singular string }{
		{"people", "person"}, {"children", "child"}, {"women", "woman"}, {"men", "man"}, {"mice", "mouse"},
		{"geese", "goose"}, {"feet", "foot"}, {"teeth", "tooth"}, {"indices", "index"}, {"matrices", "matrix"},
		{"vertices", "vertex"}, {"appendices", "appendix"}, {"criteria", "criterion"}, {"phenomena", "phenomenon"},
		{"analyses", "analysis"}, {"diagnoses", "diagnosis"}, {"hypotheses", "hypothesis"}, {"theses", "thesis"},
		{"crises", "crisis"}, {"oases", "oasis"}, {"axes", "axis"}, {"leaves", "leaf"}, {"lives", "life"},
		{"knives", "knife"}, {"wives", "wife"}, {"halves", "half"}, {"shelves", "shelf"}, {"wolves", "wolf"},
		{"thieves", "thief"}, {"loaves", "loaf"}, {"calves", "calf"}, {"quizzes", "quiz"},
		{"statuses", "status"}, {"aliases", "alias"}, {"buses", "bus"}, {"viruses", "virus"},
		{"campuses", "campus"}, {"bonuses", "bonus"}, {"censuses", "census"}, {"canvases", "canvas"},
		{"biases", "bias"}, {"gases", "gas"}, {"movies", "movie"}, {"cookies", "cookie"}, {"zombies", "zombie"},
		{"rookies", "rookie"}, {"selfies", "selfie"}, {"genies", "genie"}, {"hippies", "hippie"},
		{"newbies", "newbie"}, {"freebies", "freebie"}, {"brownies", "brownie"}, {"calories", "calorie"},
		{"prairies", "prairie"}, {"pies", "pie"}, {"ties", "tie"}, {"lies", "lie"}, {"dies", "die"},
		{"caches", "cache"}, {"niches", "niche"}, {"heroes", "hero"}, {"potatoes", "potato"},
		{"tomatoes", "tomato"}, {"echoes", "echo"}, {"vetoes", "veto"},
		{"species", "species"}, {"series", "series"}, {"news", "news"}, {"data", "data"}, {"media", "media"},
		{"metadata", "metadata"}, {"analytics", "analytics"}, {"settings", "setting"}, {"sms", "sms"},
	}
	for _, ir := range irregulars {
		if strings.HasSuffix(lw, ir.plural) && (len(lw) == len(ir.plural) || !isLower(lw[len(lw)-len(ir.plural)-1]) || isUpper(w[n-len(ir.plural)])) {
			return w[:n-len(ir.plural)] + matchCase(w[n-len(ir.plural):], ir.singular)
		}
	}
	switch {
	case strings.HasSuffix(lw, "ies") && n > 4:
		return w[:n-3] + matchCase(w[n-3:], "y")
	case strings.HasSuffix(lw, "sses"), strings.HasSuffix(lw, "xes"), strings.HasSuffix(lw, "ches"),
		strings.HasSuffix(lw, "shes"), strings.HasSuffix(lw, "zzes"):
		return w[:n-2]
	case strings.HasSuffix(lw, "us"), strings.HasSuffix(lw, "ss"), strings.HasSuffix(lw, "is"):
		return w
	case lw[n-1] == 's':
		return w[:n-1]
	}
	return w
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// matchCase returns repl in the case of orig (the replaced tail): upper
// case when orig is, capitalised when orig is.
func matchCase(orig, repl string) string {
	for i := 0; i < len(orig); i++ {
		if isLower(orig[i]) {
			if isUpper(orig[0]) && repl != "" {
				return string(upperByte(repl[0])) + repl[1:]
			}
			return repl
		}
	}
	return strings.ToUpper(repl)
}

// uniqueName returns name with a numeric suffix
// when the name is already used earlier in the template (userId, userId2).
func uniqueName(name string, used []string) string {
	n := 1
	cand := name
	for {
		dup := false
		for _, u := range used {
			if u == cand {
				dup = true
				break
			}
		}
		if !dup {
			return cand
		}
		n++
		cand = name + strconv.Itoa(n)
	}
}
