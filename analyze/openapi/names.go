package openapi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// methodOrder is the order of operations within a path item, and the only
// methods OpenAPI 3.0 and 3.1 can describe.
var methodOrder = [...]string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}

// methodRank returns the position of method in methodOrder, or
// len(methodOrder) for a method OpenAPI cannot describe.
func methodRank(method string) int {
	for i, m := range methodOrder {
		if m == method {
			return i
		}
	}
	return len(methodOrder)
}

// template is a parsed path template: literal parts and parameter names
// alternate, starting and ending with a literal part
// (len(literals) == len(names)+1).
type template struct {
	literals []string
	names    []string
}

var (
	errTemplateSlash = errors.New("does not start with /")
	errTemplateBrace = errors.New("unbalanced braces")
	errTemplateName  = errors.New("bad parameter name")
	errTemplateChar  = errors.New("character not allowed in a path")
)

// parseTemplate splits an OpenAPI path template into literal parts and
// parameter names. It accepts what OpenAPI path keys may hold: a leading
// slash, parameters as {name} (name of letters, digits, '_', '-', '.'), no
// query, fragment, braces outside parameters, spaces, control characters or
// invalid UTF-8.
func parseTemplate(s string) (template, error) {
	var t template
	if s == "" || s[0] != '/' {
		return t, errTemplateSlash
	}
	if !utf8.ValidString(s) {
		return t, errTemplateChar
	}
	lit := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{':
			end := strings.IndexByte(s[i+1:], '}')
			if end < 0 {
				return t, errTemplateBrace
			}
			name := s[i+1 : i+1+end]
			if !validParamName(name) {
				return t, fmt.Errorf("%w %q", errTemplateName, name)
			}
			t.literals = append(t.literals, s[lit:i])
			t.names = append(t.names, name)
			i += end + 1
			lit = i + 1
		case c == '}':
			return t, errTemplateBrace
		case c <= ' ' || c == 0x7f || c == '?' || c == '#' || c == '"' || c == '\\' || c == '<' || c == '>' || c == '`' || c == '^' || c == '|':
			return t, fmt.Errorf("%w: %q", errTemplateChar, c)
		}
	}
	t.literals = append(t.literals, s[lit:])
	return t, nil
}

func validParamName(name string) bool {
	if name == "" || len(name) > 128 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isAlnum(c) && c != '_' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// normalized is the template with every parameter written "{}": two
// templates that differ only in parameter names normalize alike.
func (t template) normalized() string {
	var b strings.Builder
	for i, l := range t.literals {
		b.WriteString(l)
		if i < len(t.names) {
			b.WriteString("{}")
		}
	}
	return b.String()
}

// String renders the template with its parameter names.
func (t template) String() string {
	var b strings.Builder
	for i, l := range t.literals {
		b.WriteString(l)
		if i < len(t.names) {
			b.WriteByte('{')
			b.WriteString(t.names[i])
			b.WriteByte('}')
		}
	}
	return b.String()
}

// dedupeNames renames repeated parameter names ("id", "id" → "id", "id2"),
// which OpenAPI does not allow in one template.
func (t *template) dedupeNames() {
	seen := make(map[string]bool, len(t.names))
	for i, n := range t.names {
		if !seen[n] {
			seen[n] = true
			continue
		}
		for k := 2; ; k++ {
			c := n + strconv.Itoa(k)
			if !seen[c] && !containsString(t.names, c) {
				t.names[i] = c
				seen[c] = true
				break
			}
		}
	}
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// operationIDBase is the camel-case operation id of method on a template:
// "GET /users/{userId}" → "getUsersUserId", "GET /" → "getRoot".
func operationIDBase(method, tmpl string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	n := b.Len()
	upper := true
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if !isAlnum(c) {
			upper = true
			continue
		}
		if upper && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		upper = false
		b.WriteByte(c)
	}
	if b.Len() == n {
		b.WriteString("Root")
	}
	return b.String()
}

// uniqueIDs assigns operation ids from their bases, in the order given:
// the first holder of a base keeps it, later ones get the smallest free
// numeric suffix that is nobody's base ("getUsersId", "getUsersId2").
func uniqueIDs(bases []string) []string {
	baseCount := make(map[string]int, len(bases))
	for _, b := range bases {
		baseCount[b]++
	}
	used := make(map[string]bool, len(bases))
	out := make([]string, len(bases))
	for i, base := range bases {
		id := base
		for k := 2; used[id] || (id != base && baseCount[id] > 0); k++ {
			id = base + strconv.Itoa(k)
		}
		used[id] = true
		out[i] = id
	}
	return out
}

// componentName makes s usable as a component name (^[a-zA-Z0-9._-]+$):
// other bytes become '_'.
func componentName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !isAlnum(c) && c != '_' && c != '-' && c != '.' {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// hostURL is the server URL for a host as observed: "https://host" when the
// port is 443, "http://host" otherwise, "/" for requests without a host.
// Bytes a URL authority cannot hold are percent-encoded (a Host header is
// untrusted input).
func hostURL(host string) string {
	if host == "" {
		return "/"
	}
	scheme := "http://"
	if strings.HasSuffix(host, ":443") {
		scheme = "https://"
	}
	var b strings.Builder
	b.WriteString(scheme)
	for i := 0; i < len(host); i++ {
		c := host[i]
		if isAlnum(c) || strings.IndexByte("-._~:[]!$&'()*+,;=", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
