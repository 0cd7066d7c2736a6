package reassembly

import (
	"net/netip"
	"strings"
	"time"
)

// Transaction is one HTTP request with its response (when seen), as rebuilt
// from the packets of one TCP connection. It is a plain value that owns its
// memory: nothing in it aliases a packet or parser buffer, so it may be kept,
// sent on a channel or handed to another goroutine.
type Transaction struct {
	Client netip.AddrPort
	Server netip.AddrPort

	// RequestStart is the capture time of the packet that carried the first
	// byte of the request, RequestEnd that of its last byte; likewise for
	// the response. Zero when the message was not seen.
	RequestStart, RequestEnd   time.Time
	ResponseStart, ResponseEnd time.Time

	Method  string // as sent; empty when only the response was seen
	URI     string // request target exactly as sent
	Path    string // URI without query and fragment (absolute-form: without scheme and authority)
	Host    string // Host header, or the authority of an absolute-form URI
	Version string // request version: "1.1", "1.0" or "0.9"

	// Endpoint is the path template the analyze stage attributed the
	// request to ("/users/{userId}"); empty until analyzed, and when the
	// request was not seen.
	Endpoint string

	Status          int    // response status code; 0 when no response was seen
	Reason          string // response reason phrase
	ResponseVersion string

	RequestHeaders  []Header
	ResponseHeaders []Header

	// RequestBodyLen and ResponseBodyLen count entity bytes after
	// de-chunking and before content decoding.
	RequestBodyLen, ResponseBodyLen int64

	// RequestBody and ResponseBody hold the entity after content decoding,
	// capped at the configured size (FlagBodyTruncated is set when capped).
	RequestBody, ResponseBody []byte

	Flags Flags
}

// Header is one header field as sent (name case preserved).
type Header struct {
	Name, Value string
}

// Get returns the value of the first header named name (case-insensitive).
func Get(hs []Header, name string) (string, bool) {
	for i := range hs {
		if strings.EqualFold(hs[i].Name, name) {
			return hs[i].Value, true
		}
	}
	return "", false
}

// Duration is the time from the request's first byte to the response's last
// byte, or zero when either was not seen.
func (t *Transaction) Duration() time.Duration {
	if t.RequestStart.IsZero() || t.ResponseEnd.IsZero() {
		return 0
	}
	return t.ResponseEnd.Sub(t.RequestStart)
}

// Time is the transaction's timestamp: the request's first byte, or the
// response's first byte when the request was not seen.
func (t *Transaction) Time() time.Time {
	if !t.RequestStart.IsZero() {
		return t.RequestStart
	}
	return t.ResponseStart
}

// Flags describe how complete and well-formed a transaction is.
type Flags uint32

// Transaction flags. Their names (FlagNames) appear in the JSONL output.
const (
	FlagGap           Flags = 1 << iota // bytes of the request or response were lost
	FlagTruncated                       // the message ended (close, timeout, end of input) before it was complete
	FlagMalformed                       // the message violates HTTP/1.x syntax but was parsed leniently
	FlagNoResponse                      // the request got no response
	FlagNoRequest                       // a response without its request (capture started mid-connection or request lost)
	FlagMidstream                       // the connection was picked up without its handshake
	FlagSmuggling                       // conflicting Content-Length/Transfer-Encoding framing
	FlagUpgrade                         // the connection switched protocol (101) after this transaction
	FlagConnect                         // a CONNECT tunnel was established
	FlagBodyTruncated                   // a captured body was cut at the body size limit
	FlagDecodeError                     // content decoding failed or hit the size/ratio limit
	FlagHeaderLimit                     // header bytes or count exceeded the limit; the rest was skipped
	FlagContinue                        // the request used Expect: 100-continue (interim response seen)
)

// FlagNames lists the flags in bit order with the names used in output.
var FlagNames = [...]struct {
	Flag Flags
	Name string
}{
	{FlagGap, "gap"},
	{FlagTruncated, "truncated"},
	{FlagMalformed, "malformed"},
	{FlagNoResponse, "no_response"},
	{FlagNoRequest, "no_request"},
	{FlagMidstream, "midstream"},
	{FlagSmuggling, "smuggling"},
	{FlagUpgrade, "upgrade"},
	{FlagConnect, "connect"},
	{FlagBodyTruncated, "body_truncated"},
	{FlagDecodeError, "decode_error"},
	{FlagHeaderLimit, "header_limit"},
	{FlagContinue, "continue"},
}

// Names returns the names of the set flags in bit order.
func (f Flags) Names() []string {
	var out []string
	for _, fn := range FlagNames {
		if f&fn.Flag != 0 {
			out = append(out, fn.Name)
		}
	}
	return out
}
