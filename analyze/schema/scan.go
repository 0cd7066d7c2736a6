package schema

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"unicode/utf8"
)

// ErrInvalidJSON is wrapped by the error ObserveJSON returns for a body that
// is not one complete JSON value.
var ErrInvalidJSON = errors.New("invalid JSON")

// ErrInvalidForm is wrapped by the error ObserveForm returns for a body with
// a malformed percent escape.
var ErrInvalidForm = errors.New("invalid form encoding")

// inlineStack is how many 64-level words of container nesting validate
// tracks without allocating: 512 levels. Deeper documents use a temporary
// heap stack that is dropped when validate returns.
const inlineStack = 8

// strClass marks the bytes a string scan must stop at: the closing quote,
// a backslash and control characters (invalid unescaped).
var strClass = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'] = true
	t['\\'] = true
	return t
}()

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && isWS(b[i]) {
		i++
	}
	return i
}

// SWAR constants: lo has 0x01 in every byte, hi 0x80.
const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// special8 returns a word with the high bit set in each byte of w (eight
// string bytes, little-endian) that is '"', '\' or a control character;
// zero when there is none. Bytes above 0x7f never match.
func special8(w uint64) uint64 {
	q := w ^ (lo8 * '"')
	bs := w ^ (lo8 * '\\')
	return ((q-lo8)&^q | (bs-lo8)&^bs | (w-lo8*0x20)&^w) & hi8
}

// plainRun returns the index of the first byte at or after i that is '"',
// '\\' or a control character, or len(b): eight bytes at a time.
func plainRun(b []byte, i int) int {
	for ; len(b)-i >= 8; i += 8 {
		if m := special8(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < len(b) && !strClass[b[i]] {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func syntaxErr(i int, what string) error {
	return fmt.Errorf("schema: offset %d: %s: %w", i, what, ErrInvalidJSON)
}

// validate checks that b is exactly one JSON value (RFC 8259) surrounded by
// optional whitespace. It is iterative: nesting depth costs one bit per
// level, so hostile depth cannot exhaust the goroutine stack. It allocates
// only for documents nested deeper than 512 levels.
func validate(b []byte) error {
	var inline [inlineStack]uint64
	stack := inline[:]
	depth := 0 // open containers; bit (depth-1) of stack is 1 for an object
	push := func(obj bool) {
		w := depth >> 6
		if w >= len(stack) {
			stack = append(stack, 0)
		}
		if obj {
			stack[w] |= 1 << (depth & 63)
		} else {
			stack[w] &^= 1 << (depth & 63)
		}
		depth++
	}
	topObj := func() bool {
		d := depth - 1
		return stack[d>>6]&(1<<(d&63)) != 0
	}

	const (
		stValue = iota // a value must follow
		stAfter        // a value just ended
		stKey          // an object key must follow
	)
	i := skipWS(b, 0)
	state := stValue
	for {
		switch state {
		case stValue:
			if i >= len(b) {
				return syntaxErr(i, "unexpected end")
			}
			switch c := b[i]; {
			case c == '{':
				push(true)
				i = skipWS(b, i+1)
				if i < len(b) && b[i] == '}' {
					depth--
					i++
					state = stAfter
				} else {
					state = stKey
				}
				continue
			case c == '[':
				push(false)
				i = skipWS(b, i+1)
				if i < len(b) && b[i] == ']' {
					depth--
					i++
					state = stAfter
				}
				continue
			case c == '"':
				j, err := scanString(b, i)
				if err != nil {
					return err
				}
				i = j
			case c == '-' || isDigit(c):
				j, _, ok := scanNumber(b, i)
				if !ok {
					return syntaxErr(i, "malformed number")
				}
				i = j
			case c == 't':
				if !hasLit(b, i, "true") {
					return syntaxErr(i, "bad literal")
				}
				i += 4
			case c == 'f':
				if !hasLit(b, i, "false") {
					return syntaxErr(i, "bad literal")
				}
				i += 5
			case c == 'n':
				if !hasLit(b, i, "null") {
					return syntaxErr(i, "bad literal")
				}
				i += 4
			default:
				return syntaxErr(i, "unexpected byte")
			}
			state = stAfter
		case stAfter:
			i = skipWS(b, i)
			if depth == 0 {
				if i != len(b) {
					return syntaxErr(i, "data after the value")
				}
				return nil
			}
			if i >= len(b) {
				return syntaxErr(i, "unexpected end")
			}
			obj := topObj()
			switch c := b[i]; {
			case c == ',':
				i = skipWS(b, i+1)
				if obj {
					state = stKey
				} else {
					state = stValue
				}
			case c == '}' && obj, c == ']' && !obj:
				depth--
				i++
			default:
				return syntaxErr(i, "expected ',' or a closing bracket")
			}
		case stKey:
			if i >= len(b) || b[i] != '"' {
				return syntaxErr(i, "expected a key")
			}
			j, err := scanString(b, i)
			if err != nil {
				return err
			}
			i = skipWS(b, j)
			if i >= len(b) || b[i] != ':' {
				return syntaxErr(i, "expected ':'")
			}
			i = skipWS(b, i+1)
			state = stValue
		}
	}
}

func hasLit(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// scanString checks the string starting at b[i] == '"' and returns the index
// after its closing quote.
func scanString(b []byte, i int) (int, error) {
	start := i
	i++
	for {
		i = plainRun(b, i)
		if i >= len(b) {
			return 0, syntaxErr(start, "unterminated string")
		}
		switch b[i] {
		case '"':
			return i + 1, nil
		case '\\':
			if i+1 >= len(b) {
				return 0, syntaxErr(i, "unterminated escape")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return 0, syntaxErr(i, "bad \\u escape")
				}
				i += 6
			default:
				return 0, syntaxErr(i, "bad escape")
			}
		default:
			return 0, syntaxErr(i, "control character in string")
		}
	}
}

// scanNumber checks the number at b[i] and returns the index after it and
// whether it is an integer literal (no fraction, no exponent).
func scanNumber(b []byte, i int) (end int, integer, ok bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, false, false
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return 0, false, false
	}
	integer = true
	if i < len(b) && b[i] == '.' {
		integer = false
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return 0, false, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		integer = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return 0, false, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, integer, true
}

// The functions below walk a document that validate accepted; they do not
// check the grammar again.

// stringEnd returns the index of the closing quote of the string whose
// content starts at b[i] (just after the opening quote), and whether the
// content holds an escape.
func stringEnd(b []byte, i int) (int, bool) {
	esc := false
	for {
		i = plainRun(b, i)
		if b[i] == '"' {
			return i, esc
		}
		esc = true
		i += 2
	}
}

// skipValue returns the index after the value starting at b[i]. It is
// iterative: containers are skipped by counting brackets outside strings.
func skipValue(b []byte, i int) int {
	switch c := b[i]; {
	case c == '"':
		e, _ := stringEnd(b, i+1)
		return e + 1
	case c == '{' || c == '[':
		depth := 0
		for {
			switch b[i] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			case '"':
				e, _ := stringEnd(b, i+1)
				i = e
			}
			i++
		}
	case c == 't' || c == 'n':
		return i + 4
	case c == 'f':
		return i + 5
	default:
		e, _, _ := scanNumber(b, i)
		return e
	}
}

// unescape appends the decoded content of a JSON string (without quotes) to
// dst, stopping once dst holds limit bytes more than it had; it reports
// whether the whole content fit. Invalid surrogates decode as U+FFFD, like
// encoding/json.
func unescape(dst, raw []byte, limit int) ([]byte, bool) {
	stop := len(dst) + limit
	for i := 0; i < len(raw); {
		if len(dst) >= stop {
			return dst, false
		}
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		e := raw[i+1]
		i += 2
		switch e {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := rune(hex4(raw[i:]))
			i += 4
			if r >= 0xD800 && r < 0xDC00 {
				if len(raw)-i >= 6 && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 := rune(hex4(raw[i+2:]))
					if r2 >= 0xDC00 && r2 < 0xE000 {
						r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			} else if r >= 0xDC00 && r < 0xE000 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, e)
		}
	}
	return dst, true
}

func hex4(b []byte) uint16 {
	var v uint16
	for _, c := range b[:4] {
		v <<= 4
		switch {
		case c >= '0' && c <= '9':
			v |= uint16(c - '0')
		case c >= 'a' && c <= 'f':
			v |= uint16(c-'a') + 10
		default:
			v |= uint16(c-'A') + 10
		}
	}
	return v
}
