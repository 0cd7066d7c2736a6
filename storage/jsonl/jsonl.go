// Package jsonl writes transactions as JSON Lines: one object per
// transaction, in the order the sink receives them.
//
// Each object has the fields ts (RFC 3339, UTC, microseconds: the capture
// time of the request's first byte, or of the response's when the request
// was not seen), client_ip, client_port, server_ip, server_port, method,
// host, uri (the request target exactly as sent), path, version, status (0:
// no response seen), request_body_len and response_body_len (entity bytes
// after de-chunking, before content decoding), duration_ms (request's first
// byte to response's last byte; 0 when either is missing) and flags (names
// from reassembly.FlagNames). With Config.Headers the objects also carry
// request_headers and response_headers (arrays of [name, value] pairs, as
// sent); with Config.Bodies, request_body and response_body (the captured,
// decoded bodies).
//
// Strings are written as JSON strings; bytes that are not valid UTF-8 are
// written as the four characters \xNN (a literal backslash, as Zeek's logs
// do), so that the output is always valid JSON and nothing is lost silently.
package jsonl

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/apitap/apitap/reassembly"
)

// Config selects the optional fields.
type Config struct {
	// Headers adds request_headers and response_headers. False omits them.
	Headers bool
	// Bodies adds request_body and response_body. False omits them.
	Bodies bool
}

// Writer is a storage.EncodingSink that writes JSON Lines to an io.Writer:
// a storage.Queue encodes the lines in its producers (AppendTransaction)
// and the Writer only writes them (WriteEncoded). WriteTransactions encodes
// and writes, for callers without a queue.
type Writer struct {
	cfg Config
	w   *bufio.Writer
	c   io.Closer
	buf []byte
}

// New returns a Writer on w. Close flushes and, when w is an io.Closer,
// closes it.
func New(w io.Writer, cfg Config) *Writer {
	jw := &Writer{cfg: cfg, w: bufio.NewWriterSize(w, 256<<10)}
	if c, ok := w.(io.Closer); ok {
		jw.c = c
	}
	return jw
}

// WriteTransactions encodes each transaction as one line.
func (w *Writer) WriteTransactions(_ context.Context, batch []*reassembly.Transaction) error {
	for _, t := range batch {
		w.buf = Append(w.buf[:0], t, w.cfg)
		if _, err := w.w.Write(w.buf); err != nil {
			return fmt.Errorf("jsonl: writing transactions: %w", err)
		}
	}
	return nil
}

// AppendTransaction appends the JSON line of t to dst (see Append). It is
// safe for concurrent use.
func (w *Writer) AppendTransaction(dst []byte, t *reassembly.Transaction) []byte {
	return Append(dst, t, w.cfg)
}

// WriteEncoded writes lines made by AppendTransaction.
func (w *Writer) WriteEncoded(_ context.Context, _ int, data []byte) error {
	if _, err := w.w.Write(data); err != nil {
		return fmt.Errorf("jsonl: writing transactions: %w", err)
	}
	return nil
}

// Flush writes the buffered lines to the underlying writer
// (storage.Flusher: a queue calls it whenever it has nothing waiting).
func (w *Writer) Flush() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("jsonl: flushing transactions: %w", err)
	}
	return nil
}

// Close flushes buffered lines and closes the underlying writer.
func (w *Writer) Close() error {
	if err := w.Flush(); err != nil {
		return err
	}
	if w.c != nil {
		if err := w.c.Close(); err != nil {
			return fmt.Errorf("jsonl: closing transactions file: %w", err)
		}
	}
	return nil
}

// TimeLayout is the layout of the ts field.
const TimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// AppendTime appends t in UTC in TimeLayout, like
// t.UTC().AppendFormat(dst, TimeLayout) but without interpreting the
// layout: it runs once per transaction.
func AppendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, TimeLayout)
	}
	hour, minute, sec := t.Clock()
	dst = appendDigits(dst, year, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, minute, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, sec, 2)
	dst = append(dst, '.')
	dst = appendDigits(dst, t.Nanosecond()/1000, 6)
	return append(dst, 'Z')
}

// appendDigits appends the n last decimal digits of v >= 0, zero-padded.
func appendDigits(dst []byte, v, n int) []byte {
	var b [8]byte
	for i := n - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, b[:n]...)
}

// appendMillis appends d in milliseconds with three decimals, rounded to
// the microsecond (half away from zero).
func appendMillis(dst []byte, d time.Duration) []byte {
	if d < 0 {
		dst = append(dst, '-')
		d = -d
	}
	us := (d + 500) / time.Microsecond
	dst = strconv.AppendInt(dst, int64(us/1000), 10)
	dst = append(dst, '.')
	return appendDigits(dst, int(us%1000), 3)
}

// Append appends the JSON line (with its trailing newline) of t to dst.
func Append(dst []byte, t *reassembly.Transaction, cfg Config) []byte {
	dst = append(dst, `{"ts":"`...)
	dst = AppendTime(dst, t.Time())
	dst = append(dst, `","client_ip":`...)
	dst = appendAddr(dst, t.Client)
	dst = append(dst, `,"client_port":`...)
	dst = strconv.AppendUint(dst, uint64(t.Client.Port()), 10)
	dst = append(dst, `,"server_ip":`...)
	dst = appendAddr(dst, t.Server)
	dst = append(dst, `,"server_port":`...)
	dst = strconv.AppendUint(dst, uint64(t.Server.Port()), 10)
	dst = appendField(dst, "method", t.Method)
	dst = appendField(dst, "host", t.Host)
	dst = appendField(dst, "uri", t.URI)
	dst = appendField(dst, "path", t.Path)
	if t.Endpoint != "" {
		dst = appendField(dst, "endpoint", t.Endpoint)
	}
	dst = appendField(dst, "version", t.Version)
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(t.Status), 10)
	dst = append(dst, `,"request_body_len":`...)
	dst = strconv.AppendInt(dst, t.RequestBodyLen, 10)
	dst = append(dst, `,"response_body_len":`...)
	dst = strconv.AppendInt(dst, t.ResponseBodyLen, 10)
	dst = append(dst, `,"duration_ms":`...)
	dst = appendMillis(dst, t.Duration())
	dst = append(dst, `,"flags":[`...)
	first := true
	for _, fn := range reassembly.FlagNames {
		if t.Flags&fn.Flag == 0 {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = AppendString(dst, fn.Name)
	}
	dst = append(dst, ']')
	if cfg.Headers {
		dst = appendHeaders(dst, "request_headers", t.RequestHeaders)
		dst = appendHeaders(dst, "response_headers", t.ResponseHeaders)
	}
	if cfg.Bodies {
		dst = appendField(dst, "request_body", t.RequestBody)
		dst = appendField(dst, "response_body", t.ResponseBody)
	}
	return append(dst, "}\n"...)
}

func appendAddr(dst []byte, ap netip.AddrPort) []byte {
	dst = append(dst, '"')
	if ap.Addr().IsValid() {
		dst = ap.Addr().AppendTo(dst)
	}
	return append(dst, '"')
}

func appendField[S string | []byte](dst []byte, name string, v S) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return AppendString(dst, v)
}

func appendHeaders(dst []byte, name string, hs []reassembly.Header) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, `":[`...)
	for i, h := range hs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		dst = AppendString(dst, h.Name)
		dst = append(dst, ',')
		dst = AppendString(dst, h.Value)
		dst = append(dst, ']')
	}
	return append(dst, ']')
}

const hexDigits = "0123456789abcdef"

// plain reports whether c stands for itself in a JSON string.
func plain(c byte) bool { return c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' }

// AppendString appends s as a JSON string. Control characters are escaped;
// bytes that are not valid UTF-8 become the text \xNN.
func AppendString[S string | []byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		// Copy the run of bytes that need no escaping at once.
		j := i
		for j < len(s) && plain(s[j]) {
			j++
		}
		dst = append(dst, s[i:j]...)
		if i = j; i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				dst = append(dst, '\\', '"')
			case '\\':
				dst = append(dst, '\\', '\\')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, '\\', '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
			i++
			continue
		}
		dst = append(dst, s[i:i+size]...)
		i += size
	}
	return append(dst, '"')
}
