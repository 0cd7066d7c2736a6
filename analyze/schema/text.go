package schema

import (
	"bytes"
	"fmt"
	"strings"
)

// ObserveText learns from one parameter value given as text (a path, query
// or header parameter): "42" is an integer, "3.5" a number (JSON number
// syntax; "007" and "+1" stay strings), "true" and "false" booleans, and
// anything else a string, with a format when it matches one. Text values
// that mix these types widen to string (every "42" is also a valid string).
// Values are classified without a field name; prefer ObserveParam when the
// parameter name is known. It does not keep s.
func (l *Learner) ObserveText(s string) { l.ObserveParam("", s) }

// ObserveParam is ObserveText for a value of the named parameter: the name
// takes part in the sensitive classification (sensitive.Field), so that a
// "password" or "api_key" parameter's raw values are never kept as
// examples.
func (l *Learner) ObserveParam(name, s string) {
	l.samples++
	n := l.rootNode()
	if n.field == "" && name != "" {
		n.field, n.nameSens = strings.Clone(name), nameMatters(name)
	}
	if !n.text {
		n.text = true
		if n.kinds != 0 {
			l.changed()
		}
	}
	l.textValue(n, ubytes(s), name)
}

// textValue learns one text value into n.
func (l *Learner) textValue(n *node, s []byte, field string) {
	switch string(s) {
	case "true", "false":
		l.boolean(n, string(s))
		return
	}
	if len(s) > 0 && (s[0] == '-' || isDigit(s[0])) {
		if e, integer, ok := scanNumber(s, 0); ok && e == len(s) {
			l.number(n, s, integer, field)
			return
		}
	}
	long := len(s) > maxTextLen
	if long {
		s = s[:maxTextLen]
	}
	l.str(n, s, long, field)
}

// ObserveForm learns from an application/x-www-form-urlencoded body: an
// object whose properties are the field names, typed by their text as in
// ObserveText (and classified with their names). A name repeated in one
// body counts once for presence; each value is learned. Pairs without a
// name are ignored. A malformed percent escape returns an error wrapping
// ErrInvalidForm and leaves the learner unchanged. It does not keep body.
func (l *Learner) ObserveForm(body []byte) error {
	for i := 0; i < len(body); i++ {
		if body[i] == '%' && (len(body)-i < 3 || !isHex(body[i+1]) || !isHex(body[i+2])) {
			return fmt.Errorf("schema: offset %d: bad percent escape: %w", i, ErrInvalidForm)
		}
	}
	l.samples++
	n := l.rootNode()
	if !n.text {
		n.text = true
		if n.kinds != 0 {
			l.changed()
		}
	}
	o := l.objBegin(n)
	for len(body) > 0 {
		pair := body
		if j := bytes.IndexByte(body, '&'); j >= 0 {
			pair, body = body[:j], body[j+1:]
		} else {
			body = nil
		}
		if len(pair) == 0 {
			continue
		}
		name, val := pair, pair[:0]
		if j := bytes.IndexByte(pair, '='); j >= 0 {
			name, val = pair[:j], pair[j+1:]
		}
		var ok bool
		l.keyBuf, ok = formDecode(l.keyBuf[:0], name, maxKeyLen+1)
		if len(l.keyBuf) == 0 {
			continue
		}
		c := l.objKey(n, &o, l.keyBuf, !ok)
		if c == nil {
			continue
		}
		c.text = true
		l.buf, ok = formDecode(l.buf[:0], val, maxTextLen)
		if ok {
			l.textValue(c, l.buf, c.field)
		} else {
			l.str(c, l.buf, true, c.field)
		}
	}
	l.objEnd(n, &o)
	return nil
}

// formDecode appends the decoding of a form-encoded name or value ('+' is a
// space, %XX a byte) to dst, stopping after limit bytes; it reports whether
// everything fit. The escapes were checked by ObserveForm.
func formDecode(dst, s []byte, limit int) ([]byte, bool) {
	stop := len(dst) + limit
	for i := 0; i < len(s); i++ {
		if len(dst) >= stop {
			return dst, false
		}
		switch c := s[i]; c {
		case '+':
			dst = append(dst, ' ')
		case '%':
			dst = append(dst, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			dst = append(dst, c)
		}
	}
	return dst, true
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
