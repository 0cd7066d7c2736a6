package zeeklog

import (
	"fmt"
	"strconv"
	"strings"
)

// HTTPColumn names one http.log column that HTTP decodes.
type HTTPColumn uint32

// The http.log columns HTTP knows. Other columns stay reachable through
// Log.Get.
const (
	ColUID             HTTPColumn = 1 << iota // uid
	ColOrigH                                  // id.orig_h
	ColOrigP                                  // id.orig_p
	ColRespH                                  // id.resp_h
	ColRespP                                  // id.resp_p
	ColTransDepth                             // trans_depth
	ColMethod                                 // method
	ColHost                                   // host
	ColURI                                    // uri
	ColVersion                                // version
	ColUserAgent                              // user_agent
	ColRequestBodyLen                         // request_body_len
	ColResponseBodyLen                        // response_body_len
	ColStatus                                 // status_code
	ColStatusMsg                              // status_msg
	ColInfoCode                               // info_code
	ColTags                                   // tags
)

// httpColumns maps column bits to field names, in bit order.
var httpColumns = [...]struct {
	col  HTTPColumn
	name string
}{
	{ColUID, "uid"},
	{ColOrigH, "id.orig_h"},
	{ColOrigP, "id.orig_p"},
	{ColRespH, "id.resp_h"},
	{ColRespP, "id.resp_p"},
	{ColTransDepth, "trans_depth"},
	{ColMethod, "method"},
	{ColHost, "host"},
	{ColURI, "uri"},
	{ColVersion, "version"},
	{ColUserAgent, "user_agent"},
	{ColRequestBodyLen, "request_body_len"},
	{ColResponseBodyLen, "response_body_len"},
	{ColStatus, "status_code"},
	{ColStatusMsg, "status_msg"},
	{ColInfoCode, "info_code"},
	{ColTags, "tags"},
}

// HTTPColumns is a set of HTTPColumn.
type HTTPColumns uint32

// Has reports whether all of cols are in the set.
func (s HTTPColumns) Has(cols HTTPColumn) bool { return HTTPColumn(s)&cols == cols }

// String lists the field names in the set, comma-separated, in column
// order.
func (s HTTPColumns) String() string {
	var names []string
	for _, c := range httpColumns {
		if s.Has(c.col) {
			names = append(names, c.name)
		}
	}
	return strings.Join(names, ",")
}

// HTTPRow is one http.log record. A column the file lacks, or a value that
// is unset ("-"), leaves the zero value; Unset tells the two apart.
type HTTPRow struct {
	Line       int // 1-based line in the file
	UID        string
	OrigH      string
	OrigP      uint16
	RespH      string
	RespP      uint16
	TransDepth int
	Method     string // "" when unset: Zeek saw a response without its request
	Host       string // "" when unset: no Host header
	URI        string // as sent, unescaped to its bytes
	Version    string
	UserAgent  string
	// RequestBodyLen and ResponseBodyLen are entity lengths after
	// de-chunking, before content decoding.
	RequestBodyLen, ResponseBodyLen int64
	Status                          int // 0 when unset: no response seen
	StatusMsg                       string
	InfoCode                        int // last 1xx code, 0 when none
	Tags                            []string
	// Unset holds the columns the file has whose value is unset on this
	// row.
	Unset HTTPColumns
}

// HTTPLog is the typed view of an http.log.
type HTTPLog struct {
	// Columns are the known columns the file has; cut files have subsets.
	Columns HTTPColumns
	Rows    []HTTPRow
}

// HTTP decodes the records as http.log rows. It fails when a numeric
// column holds something other than a number or the unset marker.
func (l *Log) HTTP() (*HTTPLog, error) {
	var idx [len(httpColumns)]int
	out := &HTTPLog{}
	for i, c := range httpColumns {
		idx[i] = l.Index(c.name)
		if idx[i] >= 0 {
			out.Columns |= HTTPColumns(c.col)
		}
	}
	out.Rows = make([]HTTPRow, 0, len(l.Rows))
	for _, r := range l.Rows {
		row := HTTPRow{Line: r.Line}
		for i, c := range httpColumns {
			if idx[i] < 0 {
				continue
			}
			v := r.Values[idx[i]]
			if v.Unset {
				row.Unset |= HTTPColumns(c.col)
				continue
			}
			if err := row.set(c.col, v); err != nil {
				return nil, fmt.Errorf("zeeklog: line %d: field %s: %w", r.Line, c.name, err)
			}
		}
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}

func (row *HTTPRow) set(col HTTPColumn, v Value) error {
	var err error
	switch col {
	case ColUID:
		row.UID = v.S
	case ColOrigH:
		row.OrigH = v.S
	case ColOrigP:
		row.OrigP, err = parsePort(v.S)
	case ColRespH:
		row.RespH = v.S
	case ColRespP:
		row.RespP, err = parsePort(v.S)
	case ColTransDepth:
		row.TransDepth, err = parseCount(v.S)
	case ColMethod:
		row.Method = v.S
	case ColHost:
		row.Host = v.S
	case ColURI:
		row.URI = v.S
	case ColVersion:
		row.Version = v.S
	case ColUserAgent:
		row.UserAgent = v.S
	case ColRequestBodyLen:
		row.RequestBodyLen, err = parseCount64(v.S)
	case ColResponseBodyLen:
		row.ResponseBodyLen, err = parseCount64(v.S)
	case ColStatus:
		row.Status, err = parseCount(v.S)
	case ColStatusMsg:
		row.StatusMsg = v.S
	case ColInfoCode:
		row.InfoCode, err = parseCount(v.S)
	case ColTags:
		switch {
		case v.Elems != nil:
			row.Tags = v.Elems
		case v.Empty || v.S == "":
			row.Tags = []string{}
		default:
			// Cut files carry no types; tags are enum names, which never
			// contain the default set separator.
			row.Tags = strings.Split(v.S, ",")
		}
	}
	return err
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("invalid port %q", s)
	}
	return uint16(n), nil
}

func parseCount(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 31)
	if err != nil {
		return 0, fmt.Errorf("invalid count %q", s)
	}
	return int(n), nil
}

func parseCount64(s string) (int64, error) {
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("invalid count %q", s)
	}
	return int64(n), nil
}

// UnescapeURI decodes a request target the way Zeek's HTTP analyzer
// does before logging it (unescape_URI in Zeek's HTTP.cc): "%XX" becomes
// the byte, "%uXXXX" (IIS style) one or two bytes (the high byte dropped
// when zero), "%%" drops the first '%', and a '%' that starts no valid
// escape is kept with the character after it.
func UnescapeURI(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		i++
		switch {
		case i == len(s): // '%' at the end
			b = append(b, '%')
		case i+1 == len(s): // '%' and one character at the end
			b = append(b, '%', s[i])
		case s[i] == '%': // "%%": ignore the first; the loop's i++ is undone
			i-- // so that the second '%' is looked at again
		case isHex(s[i]) && isHex(s[i+1]):
			b = append(b, unhex(s[i])<<4|unhex(s[i+1]))
			i++
		case len(s)-i >= 5 && s[i] == 'u' && isHex(s[i+1]) && isHex(s[i+2]) && isHex(s[i+3]) && isHex(s[i+4]):
			if s[i+1] != '0' || s[i+2] != '0' {
				b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			}
			b = append(b, unhex(s[i+3])<<4|unhex(s[i+4]))
			i += 4
		default:
			b = append(b, '%', s[i])
		}
	}
	return string(b)
}
