package schema

import (
	"bytes"
	"net/netip"
	"unsafe"
)

// format is the string format a node's values have all matched so far.
type format uint8

const (
	fmtUnset    format = iota // no string seen yet
	fmtNone                   // strings seen, no common format
	fmtUUID                   // 8-4-4-4-12 hex digits
	fmtDateTime               // RFC 3339 date-time, upper-case T and Z
	fmtDate                   // RFC 3339 full-date
	fmtEmail                  // local@domain.tld
	fmtIPv4                   // dotted quad
	fmtIPv6                   // RFC 4291 text form, no zone
	fmtURI                    // absolute URI: scheme://… or mailto:, urn:, tel:
)

// name is the OpenAPI format name; "" for fmtUnset and fmtNone.
func (f format) name() string {
	switch f {
	case fmtUUID:
		return "uuid"
	case fmtDateTime:
		return "date-time"
	case fmtDate:
		return "date"
	case fmtEmail:
		return "email"
	case fmtIPv4:
		return "ipv4"
	case fmtIPv6:
		return "ipv6"
	case fmtURI:
		return "uri"
	}
	return ""
}

// maxFormatLen is the longest string a format is checked on; longer strings
// match no format (a URI longer than this is not worth a format).
const maxFormatLen = 2048

// detectFormat returns the one format s matches, or fmtNone. The formats
// are mutually exclusive: at most one check succeeds for any s.
func detectFormat(s []byte) format {
	if len(s) < 3 || len(s) > maxFormatLen {
		return fmtNone
	}
	for f := fmtUUID; f <= fmtURI; f++ {
		if matchFormat(f, s) {
			return f
		}
	}
	return fmtNone
}

// matchFormat reports whether s is valid for format f. The checks are at
// least as strict as kin-openapi's validators, so an observed value kept as
// an example always validates against the format it was given.
func matchFormat(f format, s []byte) bool {
	if len(s) > maxFormatLen {
		return false
	}
	switch f {
	case fmtUUID:
		return isUUID(s)
	case fmtDateTime:
		return isDateTime(s)
	case fmtDate:
		return len(s) == 10 && isDate(s)
	case fmtEmail:
		return isEmail(s)
	case fmtIPv4:
		return isIPv4(s)
	case fmtIPv6:
		return isIPv6(s)
	case fmtURI:
		return isURI(s)
	}
	return false
}

func isUUID(s []byte) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func digits(s []byte) bool {
	for _, c := range s {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

func num2(s []byte) int { return int(s[0]-'0')*10 + int(s[1]-'0') }

// isDate checks the YYYY-MM-DD prefix of s (callers check the length).
func isDate(s []byte) bool {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' || !digits(s[:4]) || !digits(s[5:7]) || !digits(s[8:10]) {
		return false
	}
	m, d := num2(s[5:7]), num2(s[8:10])
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	y := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + num2(s[2:4])
	return d <= daysIn(m, y)
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// isDateTime accepts RFC 3339 date-times with an upper-case 'T' and 'Z'
// (what kin-openapi's date-time validator accepts).
func isDateTime(s []byte) bool {
	if len(s) < 20 || !isDate(s) || s[10] != 'T' {
		return false
	}
	t := s[11:]
	if t[2] != ':' || t[5] != ':' || !digits(t[0:2]) || !digits(t[3:5]) || !digits(t[6:8]) {
		return false
	}
	if num2(t[0:2]) > 23 || num2(t[3:5]) > 59 || num2(t[6:8]) > 60 {
		return false
	}
	t = t[8:]
	if len(t) > 0 && t[0] == '.' {
		j := 1
		for j < len(t) && isDigit(t[j]) {
			j++
		}
		if j == 1 {
			return false
		}
		t = t[j:]
	}
	switch {
	case len(t) == 1 && t[0] == 'Z':
		return true
	case len(t) == 6 && (t[0] == '+' || t[0] == '-') && t[3] == ':' && digits(t[1:3]) && digits(t[4:6]):
		return num2(t[1:3]) <= 23 && num2(t[4:6]) <= 59
	}
	return false
}

func isAlnum(c byte) bool {
	return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

// isEmail accepts dot-atom local parts and dotted domains whose last label
// is at least two letters: "a.b+tag@mail.example.co".
func isEmail(s []byte) bool {
	at := -1
	for i, c := range s {
		if c == '@' {
			if at >= 0 {
				return false
			}
			at = i
		}
	}
	if at < 1 || at > 64 || len(s)-at-1 < 4 {
		return false
	}
	local, dom := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' {
		return false
	}
	for _, c := range local {
		if !isAlnum(c) && !localChar(c) {
			return false
		}
	}
	return isDomain(dom)
}

func localChar(c byte) bool {
	switch c {
	case '.', '!', '#', '$', '%', '&', '\'', '*', '+', '-', '/', '=', '?', '^', '_', '`', '{', '|', '}', '~':
		return true
	}
	return false
}

// isDomain checks dotted labels of letters, digits and inner hyphens with a
// final label of two or more letters.
func isDomain(s []byte) bool {
	labels, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			if c := s[i]; !isAlnum(c) && c != '-' {
				return false
			}
			continue
		}
		l := s[start:i]
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		labels++
		start = i + 1
	}
	if labels < 2 {
		return false
	}
	tld := s[bytes.LastIndexByte(s, '.')+1:]
	if len(tld) < 2 {
		return false
	}
	for _, c := range tld {
		if isDigit(c) || c == '-' {
			return false
		}
	}
	return true
}

func isIPv4(s []byte) bool {
	if len(s) < 7 || len(s) > 15 {
		return false
	}
	parts, n, nd := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isDigit(s[i]) {
			if nd > 0 && n == 0 { // leading zero
				return false
			}
			n = n*10 + int(s[i]-'0')
			nd++
			if nd > 3 || n > 255 {
				return false
			}
			continue
		}
		if nd == 0 || (i < len(s) && s[i] != '.') {
			return false
		}
		parts++
		n, nd = 0, 0
	}
	return parts == 4
}

func isIPv6(s []byte) bool {
	if len(s) < 2 || len(s) > 45 {
		return false
	}
	colon := false
	for _, c := range s {
		switch {
		case c == ':':
			colon = true
		case isHex(c), c == '.':
		default:
			return false
		}
	}
	if !colon {
		return false
	}
	a, err := netip.ParseAddr(unsafe.String(&s[0], len(s)))
	return err == nil && a.Is6()
}

// isURI accepts absolute URIs: a scheme followed by "://" and a non-empty
// authority, or one of the non-hierarchical schemes mailto:, urn:, tel:,
// data:. No spaces or control characters.
func isURI(s []byte) bool {
	i := 0
	for i < len(s) && i < 32 && (isAlnum(s[i]) || (i > 0 && (s[i] == '+' || s[i] == '-' || s[i] == '.'))) {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != ':' || isDigit(s[0]) {
		return false
	}
	for _, c := range s {
		if c <= ' ' || c == 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '`' || c == '{' || c == '}' || c == '|' || c == '^' {
			return false
		}
	}
	rest := s[i+1:]
	if len(rest) >= 3 && rest[0] == '/' && rest[1] == '/' && rest[2] != '/' {
		return true
	}
	if len(rest) == 0 {
		return false
	}
	switch string(lower4(s[:i])) {
	case "mailto", "urn", "tel", "data":
		return true
	}
	return false
}

// lower4 lower-cases a short scheme into a fixed buffer (no allocation for
// the comparisons it feeds).
func lower4(s []byte) []byte {
	var buf [8]byte
	if len(s) > len(buf) {
		return nil
	}
	for i, c := range s {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(s)]
}

// isDataKey reports whether an object key looks like data rather than a
// property name: numbers, UUIDs, dates, IP addresses, e-mail addresses,
// hex hashes and ids, and identifier tokens with three or more digits
// ("u123", "tr_8f3aK2"), numeric suffixes ("en-US-42") or long
// random-looking mixed-case parts ("cus_NffrFeUfNV2Hib"). Short names with a digit or two ("line1",
// "p95", "ipv6") are property names.
func isDataKey(k []byte) bool {
	if len(k) == 0 {
		return false
	}
	if digits(k) || (k[0] == '-' && len(k) > 1 && digits(k[1:])) {
		return true
	}
	switch {
	case isUUID(k), len(k) == 10 && isDate(k), isDateTime(k), isIPv4(k), isEmail(k):
		return true
	}
	nd, nl, hex := 0, 0, true
	for _, c := range k {
		switch {
		case isDigit(c):
			nd++
		case isAlnum(c):
			nl++
			if !isHex(c) {
				hex = false
			}
		case c == '_' || c == '-' || c == '.' || c == ':':
			hex = false
		default:
			return false
		}
	}
	if hex && len(k) >= 8 && nd > 0 {
		return true
	}
	if nd >= 3 && nl >= 1 {
		return true
	}
	// A numeric suffix: "en-US-42", "item_17".
	if j := len(k) - 1; nd >= 2 && isDigit(k[j]) && isDigit(k[j-1]) {
		for j >= 0 && isDigit(k[j]) {
			j--
		}
		if j > 0 && (k[j] == '_' || k[j] == '-' || k[j] == '.' || k[j] == ':') {
			return true
		}
	}
	// The last segment of a prefixed id: long, with a digit and both cases.
	seg := k
	for i := len(k) - 1; i >= 0; i-- {
		if c := k[i]; c == '_' || c == '-' || c == '.' || c == ':' {
			seg = k[i+1:]
			break
		}
	}
	if len(seg) < 8 {
		return false
	}
	var up, lo, dg, changes int
	var prev byte
	for _, c := range seg {
		var class byte
		switch {
		case c >= 'A' && c <= 'Z':
			up, class = up+1, 'A'
		case c >= 'a' && c <= 'z':
			lo, class = lo+1, 'a'
		case isDigit(c):
			dg, class = dg+1, '0'
		}
		if prev != 0 && class != prev {
			changes++
		}
		prev = class
	}
	// Random base62 changes between upper case, lower case and digits
	// about every other character; camelCase names ("utf8String",
	// "base64EncodedData") far less often.
	return dg > 0 && lo > 0 && up > 0 && changes*5 >= len(seg)*2
}

// maxEnumLen is the longest string kept as an enum candidate.
const maxEnumLen = 40

// enumCandidate reports whether a string can be an enum value: short, not
// free text (at most two spaces), not an identifier or a formatted value.
func enumCandidate(s []byte) bool {
	if len(s) > maxEnumLen {
		return false
	}
	spaces, nd := 0, 0
	for _, c := range s {
		switch {
		case c == ' ':
			spaces++
		case isDigit(c):
			nd++
		case c < ' ' || c == 0x7f:
			return false
		}
	}
	if spaces > 2 || nd >= 3 {
		return false
	}
	if len(s) >= 16 && spaces == 0 && nd > 0 { // tokens, hashes
		return false
	}
	return detectFormat(s) == fmtNone
}
