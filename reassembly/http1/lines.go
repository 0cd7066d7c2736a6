package http1

import "bytes"

// This file holds the byte-level parsers of start lines and header field
// values. They work on borrowed slices and allocate nothing.

// tchar reports the token characters of RFC 9110 section 5.6.2.
var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range []byte("!#$%&'*+-.^_`|~") {
		t[c] = true
	}
	return t
}()

func isSpace(b byte) bool { return b == ' ' || b == '\t' }

// Bounds on the start of a start line, the same whether the line is
// looked at whole or as it arrives (see dir.plausibleStart).
const (
	maxMethod       = 32 // token bytes of a method
	maxLeadingSpace = 8  // white space before a method
	maxBlankLine    = 64 // bytes of a white-space-only line between messages
)

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// trimSpace removes SP and HT at both ends.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return trimRightSpace(b)
}

// trimRightSpace removes SP, HT and CR at the end (a CR may be left over
// from a CR CR LF line ending).
func trimRightSpace(b []byte) []byte {
	for len(b) > 0 && (isSpace(b[len(b)-1]) || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// lineOf returns b up to (not including) its LF and a CR before it.
func lineOf(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// isBlank reports whether a line holds only white space.
func isBlank(line []byte) bool {
	for _, c := range line {
		if !isSpace(c) && c != '\r' {
			return false
		}
	}
	return true
}

// hasPrefixFold reports whether b starts with the ASCII string p, ignoring
// case. p must be lower case.
func hasPrefixFold(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != p[i] {
			return false
		}
	}
	return true
}

// equalFold reports whether b equals the lower-case ASCII string s,
// ignoring case.
func equalFold(b []byte, s string) bool {
	return len(b) == len(s) && hasPrefixFold(b, s)
}

// versionString returns the version text as a constant when it is one of
// the usual ones, so that no copy is needed.
func versionString(v []byte) (string, bool) {
	switch string(v) { // no allocation: the compiler compares in place
	case "1.1":
		return "1.1", true
	case "1.0":
		return "1.0", true
	case "0.9":
		return "0.9", true
	}
	return "", false
}

// requestLine is a parsed request line; its slices alias the line.
type requestLine struct {
	method, target, version []byte
	http09                  bool // a simple request: no version, no headers expected
	malformed               bool
}

// parseRequestLine parses a request line (without its line ending). In
// strict mode it accepts only "token SP target SP HTTP/1.x", the shape
// used to find a message start in the middle of a stream; otherwise it is
// lenient like Zeek and libhtp, and everything strict mode accepts is
// accepted.
func parseRequestLine(line []byte, strict bool) (rl requestLine, ok bool) {
	if strict {
		return parseStrictRequestLine(line)
	}
	line = trimRightSpace(line)
	if len(line) > 0 && isSpace(line[0]) {
		rl.malformed = true
		for n := 0; len(line) > 0 && isSpace(line[0]); n++ {
			if n == maxLeadingSpace {
				return rl, false
			}
			line = line[1:]
		}
	}
	i := 0
	for i < len(line) && tchar[line[i]] {
		i++
	}
	if i == 0 || i > maxMethod || i == len(line) || !isSpace(line[i]) {
		return rl, false // no method, a lone word, or a method glued to what follows
	}
	rl.method = line[:i]
	rest := line[i+1:]
	if len(rest) > 0 && isSpace(rest[0]) {
		rl.malformed = true
		rest = trimSpace(rest)
	}
	if len(rest) == 0 {
		return rl, false
	}
	last, before := rest, []byte(nil)
	if sp := lastSpace(rest); sp >= 0 {
		last, before = rest[sp+1:], rest[:sp]
		if t := trimRightSpace(before); len(t) != len(before) {
			rl.malformed = true
			before = t
		}
	}
	switch {
	case hasPrefixFold(last, "http/"):
		if !bytes.HasPrefix(last, []byte("HTTP/")) {
			rl.malformed = true
		}
		rl.version = last[5:]
		rl.target = before
		if _, known := versionString(rl.version); !known || len(rl.target) == 0 {
			rl.malformed = true
		}
	case len(before) > 0 && looksLikeProtocol(last):
		// "GET / JUNK/1.0": a request with a version we do not know.
		rl.version = last
		rl.target = before
		rl.malformed = true
	default:
		// HTTP/0.9: "GET /path". Accept it only when it looks like one, so
		// that the first line of another text protocol is not taken for it.
		if len(rl.method) < 3 || !(rest[0] == '/' || hasScheme(rest)) {
			return rl, false
		}
		rl.target = rest
		rl.http09 = true
	}
	if hasSpace(rl.target) {
		rl.malformed = true
	}
	return rl, true
}

func lastSpace(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if isSpace(b[i]) {
			return i
		}
	}
	return -1
}

func hasSpace(b []byte) bool {
	return bytes.IndexByte(b, ' ') >= 0 || bytes.IndexByte(b, '\t') >= 0
}

// parseStrictRequestLine accepts "token SP target SP HTTP/1.0|1.1" only.
func parseStrictRequestLine(line []byte) (rl requestLine, ok bool) {
	line = trimRightSpace(line)
	i := 0
	for i < len(line) && tchar[line[i]] {
		i++
	}
	if i == 0 || i > maxMethod || i+1 >= len(line) || line[i] != ' ' {
		return rl, false
	}
	if len(line) < i+1+1+9 {
		return rl, false
	}
	v := line[len(line)-9:]
	if v[0] != ' ' || !bytes.HasPrefix(v[1:], []byte("HTTP/1.")) || (v[8] != '0' && v[8] != '1') {
		return rl, false
	}
	target := line[i+1 : len(line)-9]
	if len(target) == 0 || hasSpace(target) || bytes.IndexByte(target, 0) >= 0 {
		return rl, false
	}
	return requestLine{method: line[:i], target: target, version: v[6:]}, true
}

// looksLikeProtocol matches "letters/digits[.digits]".
func looksLikeProtocol(b []byte) bool {
	i := 0
	for i < len(b) && (b[i]|0x20 >= 'a' && b[i]|0x20 <= 'z') {
		i++
	}
	if i == 0 || i >= len(b)-1 || b[i] != '/' {
		return false
	}
	for _, c := range b[i+1:] {
		if !isDigit(c) && c != '.' {
			return false
		}
	}
	return isDigit(b[i+1])
}

// hasScheme reports whether b starts with "scheme://".
func hasScheme(b []byte) bool {
	i := 0
	for i < len(b) && i < 32 {
		c := b[i]
		switch {
		case c|0x20 >= 'a' && c|0x20 <= 'z':
		case i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.'):
		default:
			return i > 0 && bytes.HasPrefix(b[i:], []byte("://"))
		}
		i++
	}
	return false
}

// statusLine is a parsed status line; its slices alias the line.
type statusLine struct {
	version   []byte
	code      int
	reason    []byte
	malformed bool
}

// parseStatusLine parses a status line (without its line ending). Like
// Zeek it wants "HTTP/" and a three-character status after white space; a
// status that is not three digits gives code 0 and malformed.
func parseStatusLine(line []byte) (sl statusLine, ok bool) {
	line = trimRightSpace(line)
	if !hasPrefixFold(line, "http/") {
		return sl, false
	}
	if !bytes.HasPrefix(line, []byte("HTTP/")) {
		sl.malformed = true
	}
	rest := line[5:]
	i := 0
	for i < len(rest) && !isSpace(rest[i]) {
		i++
	}
	sl.version = rest[:i]
	if _, known := versionString(sl.version); !known {
		sl.malformed = true
	}
	if i == len(rest) {
		return sl, false // no status code
	}
	rest = rest[i:]
	if len(rest) > 1 && isSpace(rest[1]) {
		sl.malformed = true
	}
	rest = trimSpace(rest)
	if len(rest) < 3 {
		return sl, false
	}
	if isDigit(rest[0]) && isDigit(rest[1]) && isDigit(rest[2]) {
		sl.code = int(rest[0]-'0')*100 + int(rest[1]-'0')*10 + int(rest[2]-'0')
	} else {
		sl.malformed = true
	}
	rest = rest[3:]
	if len(rest) > 0 && !isSpace(rest[0]) {
		sl.malformed = true // "200ok"
	}
	sl.reason = trimSpace(rest)
	return sl, true
}

// matchStatusStart reports whether b starts with "HTTP/1.x NNN" followed
// by white space or a line end: the shape looked for when resynchronising
// a server stream. It returns -1 when b is too short to tell.
func matchStatusStart(b []byte) int {
	const n = 13 // "HTTP/1.1 200" plus one byte
	if len(b) < n {
		if bytes.HasPrefix([]byte("HTTP/1."), b[:min(len(b), 7)]) {
			return -1
		}
		return 0
	}
	if !bytes.HasPrefix(b, []byte("HTTP/1.")) || !isDigit(b[7]) || b[8] != ' ' ||
		!isDigit(b[9]) || !isDigit(b[10]) || !isDigit(b[11]) {
		return 0
	}
	switch b[12] {
	case ' ', '\t', '\r', '\n':
		return 1
	}
	return 0
}

// parseContentLength parses one Content-Length value. ok is false for an
// empty value, a sign, a non-digit or an overflow; zeros reports leading
// zeros (a smuggling shape).
func parseContentLength(v []byte) (n int64, ok, zeros bool) {
	v = trimSpace(v)
	if len(v) == 0 {
		return 0, false, false
	}
	for i, c := range v {
		if !isDigit(c) {
			return 0, false, false
		}
		if n > (1<<62)/10 {
			return 0, false, false
		}
		n = n*10 + int64(c-'0')
		if i == 0 && c == '0' && len(v) > 1 {
			zeros = true
		}
	}
	return n, true, zeros
}

// parseChunkSize parses a chunk-size line: hex digits, optionally
// surrounded by white space and followed by ";extensions".
func parseChunkSize(line []byte) (n int64, ok bool) {
	line = trimSpace(line)
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = trimRightSpace(line[:i])
	}
	if len(line) == 0 {
		return 0, false
	}
	for _, c := range line {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			d = c | 0x20 - 'a' + 10
		default:
			return 0, false
		}
		if n > (1<<62)>>4 {
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}

// nextToken splits a comma-separated list: it returns the first element,
// trimmed, and the rest after the comma.
func nextToken(v []byte) (tok, rest []byte) {
	if i := bytes.IndexByte(v, ','); i >= 0 {
		return trimSpace(v[:i]), v[i+1:]
	}
	return trimSpace(v), nil
}

// findBlockEnd looks for the empty line ending a header or trailer block
// in b, from offset from, which must be the start of a line or a position
// after it. It returns the offset just past that empty line, or -1 and the
// offset from which to look again once more bytes are appended.
func findBlockEnd(b []byte, from int) (end, next int) {
	// An empty first line.
	if from == 0 {
		if len(b) > 0 && b[0] == '\n' {
			return 1, 0
		}
		if len(b) > 1 && b[0] == '\r' && b[1] == '\n' {
			return 2, 0
		}
		if len(b) < 2 && (len(b) == 0 || b[0] == '\r') {
			return -1, 0
		}
	}
	for {
		i := bytes.IndexByte(b[from:], '\n')
		if i < 0 {
			return -1, len(b)
		}
		i += from
		if i+1 >= len(b) {
			return -1, i
		}
		switch b[i+1] {
		case '\n':
			return i + 2, 0
		case '\r':
			if i+2 >= len(b) {
				return -1, i
			}
			if b[i+2] == '\n' {
				return i + 3, 0
			}
		}
		from = i + 1
	}
}
