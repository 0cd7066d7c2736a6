package zeeklog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// DefaultMaxLineBytes is the line length limit used when Config.MaxLineBytes
// is zero.
const DefaultMaxLineBytes = 4 << 20

// Sentinel errors; Parse wraps them with the line number.
var (
	// ErrLineTooLong reports a line longer than Config.MaxLineBytes.
	ErrLineTooLong = errors.New("line too long")
	// ErrTooManyRows reports more records than Config.MaxRows.
	ErrTooManyRows = errors.New("too many records")
	// ErrFieldCount reports a TSV record whose field count differs from
	// the header's.
	ErrFieldCount = errors.New("field count differs from header")
	// ErrNoFields reports a log without field names (no "#fields"
	// directive, no cut header line and no JSON record), for example the
	// output of zeek-cut without -m.
	ErrNoFields = errors.New("no field names")
	// ErrHeaderChanged reports a second "#fields" directive that names
	// different fields: concatenated logs with different schemas are not
	// supported.
	ErrHeaderChanged = errors.New("#fields header changed")
	// ErrJSON reports a line of a JSON log that is not a JSON object.
	ErrJSON = errors.New("invalid JSON record")
)

// Format is the layout of a log file.
type Format uint8

// Formats, detected by Parse from the content.
const (
	FormatUnknown Format = iota
	FormatTSV            // Zeek ASCII writer with '#' directives
	FormatCut            // zeek-cut -m: a bare header line, then records
	FormatJSON           // one JSON object per line
)

// String returns "tsv", "cut", "json" or "unknown".
func (f Format) String() string {
	switch f {
	case FormatTSV:
		return "tsv"
	case FormatCut:
		return "cut"
	case FormatJSON:
		return "json"
	}
	return "unknown"
}

// Config bounds what a Parser accepts.
type Config struct {
	// MaxLineBytes is the longest line accepted, in bytes; a longer line
	// makes Parse fail with ErrLineTooLong. Zero means DefaultMaxLineBytes.
	MaxLineBytes int
	// MaxRows is the largest number of records accepted; one more makes
	// Parse fail with ErrTooManyRows. Zero means no limit.
	MaxRows int
}

// Parser reads Zeek logs. The zero value is not usable; use NewParser.
// A Parser keeps no state between calls and is safe for concurrent use.
type Parser struct {
	cfg Config
}

// NewParser returns a Parser with cfg, zero fields replaced by defaults.
func NewParser(cfg Config) *Parser {
	if cfg.MaxLineBytes <= 0 {
		cfg.MaxLineBytes = DefaultMaxLineBytes
	}
	if cfg.MaxRows < 0 {
		cfg.MaxRows = 0
	}
	return &Parser{cfg: cfg}
}

// Log is one parsed log file. Every Row has exactly len(Fields) values.
type Log struct {
	Format Format
	// Path is the "#path" directive ("http"); empty when the file has none.
	Path string
	// Fields are the column names in file order ("id.orig_h", "method" ...).
	Fields []string
	// Types are the "#types" directive, parallel to Fields; nil when the
	// file has none (cut and JSON files).
	Types []string
	// Separator, SetSeparator, EmptyField and UnsetField are the markers in
	// effect (the defaults "\t", ",", "(empty)" and "-" unless the file's
	// directives changed them). JSON files do not use them.
	Separator, SetSeparator, EmptyField, UnsetField string
	// Rows are the records in file order.
	Rows []Row

	index map[string]int
}

// Row is one record.
type Row struct {
	// Line is the 1-based line number of the record in the file.
	Line int
	// Values are parallel to Log.Fields.
	Values []Value
}

// Value is one field of one record, unescaped.
type Value struct {
	// S is the value's bytes with Zeek's escaping removed. For containers
	// it is the whole field (elements joined by the set separator in TSV,
	// by "," in JSON). Empty when Unset or Empty.
	S string
	// Unset is true for the unset marker ("-") and, in JSON, for a field
	// absent from the record or null.
	Unset bool
	// Empty is true for the empty marker ("(empty)") and, in JSON, for ""
	// and [].
	Empty bool
	// Elems are the elements of a container value: filled when the column
	// is known to be a set, vector or table (a "#types" entry) or the JSON
	// value is an array; nil otherwise (cut files carry no types).
	Elems []string
}

// Index returns the column of field, or -1 when the file lacks it.
func (l *Log) Index(field string) int {
	l.buildIndex()
	if i, ok := l.index[field]; ok {
		return i
	}
	return -1
}

func (l *Log) buildIndex() {
	if l.index != nil {
		return
	}
	l.index = make(map[string]int, len(l.Fields))
	for i, f := range l.Fields {
		if _, dup := l.index[f]; !dup {
			l.index[f] = i
		}
	}
}

// Has reports whether the file has a column named field.
func (l *Log) Has(field string) bool { return l.Index(field) >= 0 }

// Get returns field of record row; ok is false when the file lacks the
// column. It panics when row is out of range, like a slice index.
func (l *Log) Get(row int, field string) (v Value, ok bool) {
	i := l.Index(field)
	if i < 0 {
		return Value{}, false
	}
	return l.Rows[row].Values[i], true
}

// Map returns record row as a map from field name to value.
func (l *Log) Map(row int) map[string]Value {
	m := make(map[string]Value, len(l.Fields))
	for i, f := range l.Fields {
		m[f] = l.Rows[row].Values[i]
	}
	return m
}

// ParseFile parses the log at name.
func (p *Parser) ParseFile(name string) (*Log, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("zeeklog: %w", err)
	}
	defer f.Close()
	l, err := p.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return l, nil
}

// Parse reads a whole log from r. Errors are wrapped with "zeeklog: line N"
// and one of the sentinel errors where one applies.
func (p *Parser) Parse(r io.Reader) (*Log, error) {
	l := &Log{Separator: "\t", SetSeparator: ",", EmptyField: "(empty)", UnsetField: "-"}
	sc := bufio.NewScanner(r)
	// The buffer's initial capacity must not exceed the limit, or the
	// scanner would accept lines up to that capacity.
	sc.Buffer(make([]byte, 0, min(64<<10, p.cfg.MaxLineBytes)), p.cfg.MaxLineBytes)
	var (
		lineNo int
		jd     jsonDecoder
	)
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if line == "" {
			continue
		}
		if line[0] == '#' {
			if l.Format == FormatJSON {
				continue // btest banners and the like
			}
			if err := l.directive(line); err != nil {
				return nil, fmt.Errorf("zeeklog: line %d: %w", lineNo, err)
			}
			continue
		}
		if l.Fields == nil && l.Format == FormatUnknown {
			if line[0] == '{' {
				l.Format = FormatJSON
			} else {
				// zeek-cut -m: the first line names the fields.
				l.Format = FormatCut
				l.Fields = strings.Split(line, l.Separator)
				for i := range l.Fields {
					l.Fields[i] = unescapeTSV(l.Fields[i])
				}
				continue
			}
		}
		if p.cfg.MaxRows > 0 && len(l.Rows) >= p.cfg.MaxRows {
			return nil, fmt.Errorf("zeeklog: line %d: %w (limit %d)", lineNo, ErrTooManyRows, p.cfg.MaxRows)
		}
		var (
			row Row
			err error
		)
		if l.Format == FormatJSON {
			row, err = jd.record(l, line)
		} else {
			row, err = l.record(line)
		}
		if err != nil {
			return nil, fmt.Errorf("zeeklog: line %d: %w", lineNo, err)
		}
		row.Line = lineNo
		l.Rows = append(l.Rows, row)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("zeeklog: line %d: %w (limit %d bytes)", lineNo+1, ErrLineTooLong, p.cfg.MaxLineBytes)
		}
		return nil, fmt.Errorf("zeeklog: read: %w", err)
	}
	if l.Fields == nil {
		return nil, fmt.Errorf("zeeklog: %w", ErrNoFields)
	}
	if l.Format == FormatJSON {
		// Fields first seen in later records: pad the earlier ones.
		for i := range l.Rows {
			for len(l.Rows[i].Values) < len(l.Fields) {
				l.Rows[i].Values = append(l.Rows[i].Values, Value{Unset: true})
			}
		}
	}
	return l, nil
}

// directive handles one '#' line of a TSV log.
func (l *Log) directive(line string) error {
	// "#separator \x09" is the only directive separated by a space: the
	// separator is not known before it.
	if v, ok := strings.CutPrefix(line, "#separator "); ok {
		sep := unescapeTSV(v)
		if sep == "" {
			return errors.New("empty #separator")
		}
		l.Separator = sep
		l.Format = FormatTSV
		return nil
	}
	name, rest, _ := strings.Cut(line[1:], l.Separator)
	switch name {
	case "set_separator":
		l.SetSeparator = unescapeTSV(rest)
	case "empty_field":
		l.EmptyField = unescapeTSV(rest)
	case "unset_field":
		l.UnsetField = unescapeTSV(rest)
	case "path":
		l.Path = unescapeTSV(rest)
	case "fields":
		fields := strings.Split(rest, l.Separator)
		for i := range fields {
			fields[i] = unescapeTSV(fields[i])
		}
		if l.Fields != nil && len(l.Rows) > 0 && !equalStrings(l.Fields, fields) {
			return ErrHeaderChanged
		}
		if l.Format == FormatCut {
			return errors.New("#fields after a cut header line")
		}
		l.Fields = fields
		l.index = nil
		l.Format = FormatTSV
	case "types":
		l.Types = strings.Split(rest, l.Separator)
	}
	// "#open", "#close", btest banners ("### BTest ...") and comments are
	// ignored.
	return nil
}

// record parses one TSV or cut record.
func (l *Log) record(line string) (Row, error) {
	parts := strings.Split(line, l.Separator)
	if len(parts) != len(l.Fields) {
		return Row{}, fmt.Errorf("%w: %d fields, header has %d", ErrFieldCount, len(parts), len(l.Fields))
	}
	vals := make([]Value, len(parts))
	for i, raw := range parts {
		container := l.Types != nil && i < len(l.Types) && isContainerType(l.Types[i])
		vals[i] = l.value(raw, container)
	}
	return Row{Values: vals}, nil
}

func (l *Log) value(raw string, container bool) Value {
	switch raw {
	case l.UnsetField:
		return Value{Unset: true}
	case l.EmptyField:
		v := Value{Empty: true}
		if container {
			v.Elems = []string{}
		}
		return v
	}
	v := Value{S: unescapeTSV(raw)}
	if container {
		// Elements containing the set separator are escaped, so split
		// before unescaping.
		v.Elems = strings.Split(raw, l.SetSeparator)
		for i := range v.Elems {
			v.Elems[i] = unescapeTSV(v.Elems[i])
		}
	}
	return v
}

func isContainerType(t string) bool {
	return strings.HasPrefix(t, "set[") || strings.HasPrefix(t, "vector[") || strings.HasPrefix(t, "table[")
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// unescapeTSV undoes the ASCII writer's escaping: "\xNN" is byte 0xNN and
// "\\" one backslash; any other backslash is kept as it is.
func unescapeTSV(s string) string {
	return unescape(s, true)
}

// unescapeJSON undoes the JSON writer's rendering of non-printable bytes as
// the text "\xNN" (after JSON string decoding).
func unescapeJSON(s string) string {
	return unescape(s, false)
}

func unescape(s string, backslash bool) string {
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+3 < len(s) && s[i+1] == 'x' && isHex(s[i+2]) && isHex(s[i+3]) {
			b.WriteByte(unhex(s[i+2])<<4 | unhex(s[i+3]))
			i += 4
			continue
		}
		if backslash && i+1 < len(s) && s[i+1] == '\\' {
			b.WriteByte('\\')
			i += 2
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// jsonDecoder holds the per-file buffer for JSON records.
type jsonDecoder struct {
	buf []byte
}

// record parses one JSON object into a Row, appending fields first seen
// here to l.Fields.
func (jd *jsonDecoder) record(l *Log, line string) (Row, error) {
	jd.buf = quoteScrubbed(jd.buf[:0], line)
	dec := json.NewDecoder(bytes.NewReader(jd.buf))
	dec.UseNumber()
	vals := make([]Value, len(l.Fields))
	for i := range vals {
		vals[i] = Value{Unset: true}
	}
	set := func(name string, v Value) {
		i := l.Index(name)
		if i < 0 {
			l.Fields = append(l.Fields, name)
			l.index[name] = len(l.Fields) - 1
			i = len(l.Fields) - 1
		}
		for len(vals) <= i {
			vals = append(vals, Value{Unset: true})
		}
		vals[i] = v
	}
	if l.Fields == nil {
		l.Fields = []string{}
	}
	l.buildIndex()
	if err := decodeObject(dec, set); err != nil {
		return Row{}, fmt.Errorf("%w: %v", ErrJSON, err)
	}
	if dec.More() {
		return Row{}, fmt.Errorf("%w: trailing data", ErrJSON)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Row{}, fmt.Errorf("%w: trailing data", ErrJSON)
	}
	return Row{Values: vals}, nil
}

// decodeObject reads one JSON object; nested objects are flattened with
// dotted names, as Zeek's JSON writer names record fields ("id.orig_h").
func decodeObject(dec *json.Decoder, set func(string, Value)) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("want an object, got %v", tok)
	}
	return decodeMembers(dec, "", set)
}

// decodeMembers reads the members of an object whose '{' was consumed, and
// its closing '}'.
func decodeMembers(dec *json.Decoder, prefix string, set func(string, Value)) error {
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("want a key, got %v", tok)
		}
		name := prefix + key
		tok, err = dec.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				if err := decodeMembers(dec, name+".", set); err != nil {
					return err
				}
			case '[':
				elems, err := decodeArray(dec)
				if err != nil {
					return fmt.Errorf("field %q: %w", name, err)
				}
				set(name, Value{S: strings.Join(elems, ","), Elems: elems, Empty: len(elems) == 0})
			default:
				return fmt.Errorf("field %q: unexpected %v", name, t)
			}
		case nil:
			set(name, Value{Unset: true})
		default:
			s, err := scalar(t)
			if err != nil {
				return fmt.Errorf("field %q: %w", name, err)
			}
			set(name, Value{S: s, Empty: s == ""})
		}
	}
	_, err := dec.Token() // '}'
	return err
}

// decodeArray reads the scalar elements of an array whose '[' was consumed,
// and its closing ']'.
func decodeArray(dec *json.Decoder) ([]string, error) {
	elems := []string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		s, err := scalar(tok)
		if err != nil {
			return nil, err
		}
		elems = append(elems, s)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return elems, nil
}

// scalar renders a JSON scalar the way the TSV writer would: strings
// unescaped, numbers as written, booleans as T and F.
func scalar(tok json.Token) (string, error) {
	switch t := tok.(type) {
	case string:
		return unescapeJSON(t), nil
	case json.Number:
		return t.String(), nil
	case bool:
		if t {
			return "T", nil
		}
		return "F", nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("unexpected %v in a container", tok)
}

// quoteScrubbed appends line to dst, quoting bare tokens made of 'X', digits
// and '.' outside strings: btest canonifiers replace timestamps with
// XXXXXXXXXX.XXXXXX, which is not JSON.
func quoteScrubbed(dst []byte, line string) []byte {
	inStr, esc := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if inStr {
			dst = append(dst, c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		if c == '"' {
			inStr = true
			dst = append(dst, c)
			continue
		}
		if c == 'X' {
			j := i
			for j < len(line) && (line[j] == 'X' || line[j] == '.' || '0' <= line[j] && line[j] <= '9') {
				j++
			}
			dst = append(dst, '"')
			dst = append(dst, line[i:j]...)
			dst = append(dst, '"')
			i = j - 1
			continue
		}
		dst = append(dst, c)
	}
	return dst
}
