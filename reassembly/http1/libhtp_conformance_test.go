//go:build conformance

package http1

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apitap/apitap/reassembly"
)

// libhtpDir holds the libhtp conversations, relative to this package: the
// repository is checked out at X/main and the shared data at X/shared.
const libhtpDir = "../../../shared/data/libhtp/files"

// htpChunk is one ">>>" (client) or "<<<" (server) chunk of a .t file.
type htpChunk struct {
	client bool
	data   []byte
}

// readConversation splits a libhtp .t file the way libhtp's test.c does: a
// line ">>>" or "<<<" starts a chunk; the line end before the next such
// line belongs to it, not to the chunk; the last chunk runs to the end of
// the file.
func readConversation(b []byte) ([]htpChunk, error) {
	boundary := func(pos int) int { // 1 client, 2 server, 0 none
		if pos+3 >= len(b) {
			return 0
		}
		var kind int
		switch {
		case bytes.HasPrefix(b[pos:], []byte(">>>")):
			kind = 1
		case bytes.HasPrefix(b[pos:], []byte("<<<")):
			kind = 2
		default:
			return 0
		}
		if b[pos+3] == '\n' || (b[pos+3] == '\r' && pos+4 < len(b) && b[pos+4] == '\n') {
			return kind
		}
		return 0
	}
	var out []htpChunk
	pos := 0
	for pos < len(b) {
		kind := boundary(pos)
		if kind == 0 {
			return nil, os.ErrInvalid
		}
		pos += 4
		if b[pos-1] == '\r' {
			pos++
		}
		start, end := pos, len(b)
		for ; pos < len(b); pos++ {
			if b[pos] == '\n' && boundary(pos+1) != 0 {
				end = pos
				if end > start && b[end-1] == '\r' {
					end--
				}
				pos++
				break
			}
		}
		if pos >= len(b) {
			end = len(b)
		}
		out = append(out, htpChunk{client: kind == 1, data: b[start:end]})
	}
	return out, nil
}

// tri is a three-way expectation: not checked, yes, no.
type tri int8

const (
	unchecked tri = iota
	yes
	no
)

// htpTx is what test_main.cpp asserts of one transaction, translated.
type htpTx struct {
	method, uri   *string
	status        int
	host          string // hostname, compared lower-cased and without port
	reqComplete   tri    // the request was parsed to its end
	resComplete   tri    // the response was parsed to its end; no: not seen
	reqLen        int64  // request entity length (de-chunked), -1 unchecked
	resLen        int64  // response body length before decoding, -1 unchecked
	decodedLen    int    // response entity after decoding, -1 unchecked
	flags         reassembly.Flags
	notFlags      reassembly.Flags
	reqHeader     map[string]string // request header values (NUL bytes ignored, case-insensitive)
	lastReqHeader [2]string
	resHeader     map[string]string
	respBody      *string
}

// htpCase is one TEST_F of test_main.cpp.
type htpCase struct {
	test  string // the libhtp test name
	file  string
	cfg   Config
	n     int // transactions, -1 unchecked
	txs   []htpTx
	error bool // libhtp returns an error: we must flag the first transaction (or drop the request)
	// known disagreement with libhtp, and why; the case must still disagree.
	disagree string
}

func sp(s string) *string { return &s }

func tx(mods ...func(*htpTx)) htpTx {
	t := htpTx{reqLen: -1, resLen: -1, decodedLen: -1}
	for _, m := range mods {
		m(&t)
	}
	return t
}

func method(m string) func(*htpTx) { return func(t *htpTx) { t.method = sp(m) } }
func uri(u string) func(*htpTx)    { return func(t *htpTx) { t.uri = sp(u) } }
func status(s int) func(*htpTx)    { return func(t *htpTx) { t.status = s } }
func host(h string) func(*htpTx)   { return func(t *htpTx) { t.host = h } }
func complete(t *htpTx)            { t.reqComplete, t.resComplete = yes, yes }
func reqDone(t *htpTx)             { t.reqComplete = yes }
func resDone(t *htpTx)             { t.resComplete = yes }
func noResponse(t *htpTx)          { t.reqComplete, t.resComplete = yes, no }
func reqLen(n int64) func(*htpTx)  { return func(t *htpTx) { t.reqLen = n } }
func resLen(n int64) func(*htpTx)  { return func(t *htpTx) { t.resLen = n } }
func decoded(n int) func(*htpTx)   { return func(t *htpTx) { t.decodedLen = n } }
func body(b string) func(*htpTx)   { return func(t *htpTx) { t.respBody = sp(b) } }
func flags(f reassembly.Flags) func(*htpTx) {
	return func(t *htpTx) { t.flags |= f }
}
func notFlags(f reassembly.Flags) func(*htpTx) {
	return func(t *htpTx) { t.notFlags |= f }
}
func reqH(name, value string) func(*htpTx) {
	return func(t *htpTx) {
		if t.reqHeader == nil {
			t.reqHeader = map[string]string{}
		}
		t.reqHeader[name] = value
	}
}

// lastReqH expects the last request field called name (a trailer) to be
// value.
func lastReqH(name, value string) func(*htpTx) {
	return func(t *htpTx) { t.lastReqHeader = [2]string{name, value} }
}

func resH(name, value string) func(*htpTx) {
	return func(t *htpTx) {
		if t.resHeader == nil {
			t.resHeader = map[string]string{}
		}
		t.resHeader[name] = value
	}
}

// htpCases translates the assertions of libhtp's test/test_main.cpp (commit
// in ../shared/data/libhtp/SOURCE.txt) that concern framing: transaction
// count, method, URI, status, host, completeness, body lengths, framing
// flags. Assertions on libhtp-only features (parameter parsing, cookies,
// authentication, UTF-8 path flags, raw header callbacks, log messages,
// the exact shape of libhtp's header table) have no equivalent here and
// are left out; so is the lzma test, compiled in libhtp only with liblzma.
var htpCases = []htpCase{
	{test: "AdHoc", file: "00-adhoc.t", n: -1},
	{test: "Get", file: "01-get.t", n: 1, txs: []htpTx{tx(method("GET"), uri("/?p=%20"))}},
	{test: "ApacheHeaderParsing", file: "02-header-test-apache2.t", n: 1, txs: []htpTx{tx(
		reqH("Valid-Folding", "2 2"), reqH("Normal-Header", "3"), reqH("Empty-Value-Header", ""),
		reqH("Header-With-LWS-After", "9"), reqH("Header-With-NUL", "BEFOREAFTER"))}},
	{test: "PostUrlencoded", file: "03-post-urlencoded.t", n: 2, txs: []htpTx{
		tx(complete, resH("Server", "Apache")), tx(complete, resH("Server", "Apache"))}},
	{test: "PostUrlencodedChunked", file: "04-post-urlencoded-chunked.t", n: 1, txs: []htpTx{tx(reqLen(12))}},
	{test: "Expect", file: "05-expect.t", n: 1, txs: []htpTx{tx(func(t *htpTx) { t.reqHeader = map[string]string{"Header1": "\x00absent"} })}},
	{test: "UriNormal", file: "06-uri-normal.t", n: 1},
	{test: "PipelinedConn", file: "07-pipelined-connection.t", n: 2},
	{test: "NotPipelinedConn", file: "08-not-pipelined-connection.t", n: 2},
	{test: "MultiPacketRequest", file: "09-multi-packet-request-head.t", n: 1},
	{test: "HeaderHostParsing", file: "10-host-in-headers.t", n: 4, txs: []htpTx{
		tx(host("www.example.com")), tx(host("www.example.com.")), tx(host("www.example.com")), tx(host("www.example.com"))}},
	{test: "ResponseWithoutContentLength", file: "11-response-stream-closure.t", n: 1, txs: []htpTx{tx(complete)}},
	{test: "FailedConnectRequest", file: "12-connect-request.t", n: 1, txs: []htpTx{tx(complete, method("CONNECT"), status(405))}},
	{test: "CompressedResponseContentType", file: "13-compressed-response-gzip-ct.t", n: 1, txs: []htpTx{tx(complete, resLen(187), decoded(225))}},
	// response_message_len (28261) counts the chunk framing too: only the
	// decoded length is comparable.
	{test: "CompressedResponseChunked", file: "14-compressed-response-gzip-chunked.t", n: 1, txs: []htpTx{tx(complete, decoded(159590))}},
	{test: "SuccessfulConnectRequest", file: "15-connect-complete.t", n: 1, txs: []htpTx{tx(method("CONNECT"), status(200), flags(fConnect))}},
	{test: "ConnectRequestWithExtraData", file: "16-connect-extra.t", n: 2, txs: []htpTx{tx(complete), tx(complete)}},
	{test: "Multipart", file: "17-multipart-1.t", n: 1, txs: []htpTx{tx(complete)}},
	{test: "CompressedResponseDeflate", file: "18-compressed-response-deflate.t", n: 1, txs: []htpTx{tx(complete, resLen(755), decoded(1433))}},
	{test: "UrlEncoded", file: "19-urlencoded-test.t", n: 1, txs: []htpTx{tx(complete, method("POST"), uri("/?p=1&q=2"))}},
	{test: "AmbiguousHost", file: "20-ambiguous-host.t", n: 5, txs: []htpTx{
		tx(complete), tx(complete, host("example.com")), tx(complete, host("www.example.com")),
		tx(complete, host("www.example.com")), tx(complete, host("www.example.com"))},
		disagree: "tx 2 has \"GET http://example.com/2\" with \"Host: foo.com\": libhtp takes the host of the absolute URI, " +
			"apitap (like Zeek) the Host header"},
	{test: "Http_0_9", file: "21-http09.t", n: 1},
	{test: "PhpParamProcessing", file: "22-php-param-processing.t", n: 1},
	{test: "Http11HostMissing", file: "22-http_1_1-host_missing", n: 1},
	{test: "Http_0_9_Multiple", file: "23-http09-multiple.t", n: 1},
	// An explicit "HTTP/0.9" version is not a simple request: headers and
	// a status line follow.
	{test: "Http_0_9_Explicit", file: "24-http09-explicit.t", n: 1, txs: []htpTx{tx(status(200))}},
	{test: "SmallChunks", file: "25-small-chunks.t", n: -1},
	{test: "RequestHeaderData", file: "26-request-headers-raw.t", n: 1},
	{test: "RequestTrailerData", file: "27-request-trailer-raw.t", n: 1, txs: []htpTx{tx(reqLen(12), lastReqH("Cookie", "2"))}},
	{test: "ResponseHeaderData", file: "28-response-headers-raw.t", n: 1},
	{test: "ResponseTrailerData", file: "29-response-trailer-raw.t", n: 1, txs: []htpTx{tx(resH("Set-Cookie", "name=value"), resH("Another-Header", "Header-Value"))}},
	{test: "GetIPv6", file: "30-get-ipv6.t", n: 1, txs: []htpTx{tx(method("GET"), uri("http://[::1]:8080/?p=%20"), host("[::1]"))}},
	{test: "GetRequestLineNul", file: "31-get-request-line-nul.t", n: 1, txs: []htpTx{tx(uri("/?p=%20"))},
		disagree: "libhtp cuts the request target at a NUL byte; apitap keeps the target as sent (\"/?p=%20\\x00%21\"), as Zeek does"},
	{test: "InvalidHostname1", file: "32-invalid-hostname.t", n: 1},
	{test: "InvalidHostname2", file: "33-invalid-hostname.t", n: 1},
	{test: "InvalidHostname3", file: "34-invalid-hostname.t", n: 1},
	{test: "EarlyResponse", file: "35-early-response.t", n: -1, txs: []htpTx{tx(complete)}},
	{test: "InvalidRequest1", file: "36-invalid-request-1-invalid-c-l.t", n: -1, error: true, txs: []htpTx{tx(host("www.example.com"), flags(fMalformed))}},
	{test: "InvalidRequest2", file: "37-invalid-request-2-t-e-and-c-l.t", n: -1, txs: []htpTx{tx(reqDone, flags(fSmuggle), host("www.example.com"))}},
	{test: "InvalidRequest3", file: "38-invalid-request-3-invalid-t-e.t", n: -1, error: true, txs: []htpTx{tx(flags(fMalformed), host("www.example.com"))}},
	{test: "AutoDestroyCrash", file: "39-auto-destroy-crash.t", n: 4},
	{test: "AuthBasic", file: "40-auth-basic.t", n: -1, txs: []htpTx{tx(reqDone)}},
	{test: "AuthDigest", file: "41-auth-digest.t", n: -1, txs: []htpTx{tx(reqDone)}},
	{test: "AuthBearer", file: "100-auth-bearer.t", n: -1, txs: []htpTx{tx(reqDone)}},
	{test: "Unknown_MethodOnly", file: "42-unknown-method_only.t", n: -1, txs: []htpTx{tx(reqDone, method("HELLO"))},
		disagree: "a lone word (\"HELLO\") is not taken for an HTTP/0.9 request: like Zeek, a request line needs a target, " +
			"so that the first line of another text protocol is not counted as HTTP"},
	{test: "InvalidProtocol", file: "43-invalid-protocol.t", n: -1, txs: []htpTx{tx(reqDone, flags(fMalformed), func(t *htpTx) {})}},
	{test: "AuthBasicInvalid", file: "44-auth-basic-invalid.t", n: -1, txs: []htpTx{tx(reqDone)}},
	{test: "AuthDigestUnquotedUsername", file: "45-auth-digest-unquoted-username.t", n: -1, txs: []htpTx{tx(reqDone)}},
	{test: "AuthDigestInvalidUsername1", file: "46-auth-digest-invalid-username.t", n: -1, txs: []htpTx{tx(reqDone)}},
	{test: "AuthUnrecognized", file: "47-auth-unrecognized.t", n: -1, txs: []htpTx{tx(reqDone)}},
	{test: "InvalidResponseHeaders1", file: "48-invalid-response-headers-1.t", n: -1, txs: []htpTx{tx(resDone,
		resH("Lws", "After Header Name"), resH("Header@Name", "Not Token"))}},
	{test: "InvalidResponseHeaders2", file: "49-invalid-response-headers-2.t", n: -1, txs: []htpTx{tx(resDone)}},
	{test: "Util", file: "50-util.t", n: -1, txs: []htpTx{tx()}},
	{test: "GetIPv6Invalid", file: "51-get-ipv6-invalid.t", n: 1, txs: []htpTx{tx(method("GET"), uri("http://[::1:8080/?p=%20"), host("[::1:8080"))},
		disagree: "libhtp takes the host of the absolute URI (\"[::1:8080\"), apitap the Host header (\"[::1]:8080\")"},
	{test: "InvalidPath", file: "52-invalid-path.t", n: 1, txs: []htpTx{tx(method("GET"), uri("invalid/path?p=%20"), func(t *htpTx) {})}},
	{test: "PathUtf8_None", file: "53-path-utf8-none.t", n: 1},
	{test: "PathUtf8_Valid", file: "54-path-utf8-valid.t", n: 1},
	{test: "PathUtf8_Overlong2", file: "55-path-utf8-overlong-2.t", n: 1},
	{test: "PathUtf8_Overlong3", file: "56-path-utf8-overlong-3.t", n: 1},
	{test: "PathUtf8_Overlong4", file: "57-path-utf8-overlong-4.t", n: 1},
	{test: "PathUtf8_Invalid", file: "58-path-utf8-invalid.t", n: 1},
	{test: "PathUtf8_FullWidth", file: "59-path-utf8-fullwidth.t", n: 1},
	{test: "RequestCookies", file: "60-request-cookies.t", n: 1},
	{test: "EmptyLineBetweenRequests", file: "61-empty-line-between-requests.t", n: 2},
	{test: "PostNoBody", file: "62-post-no-body.t", n: 2, txs: []htpTx{tx(complete), tx(complete)}},
	{test: "PostChunkedInvalid1", file: "63-post-chunked-invalid-1.t", n: -1, error: true},
	{test: "PostChunkedInvalid2", file: "64-post-chunked-invalid-2.t", n: -1, error: true},
	{test: "PostChunkedInvalid3", file: "65-post-chunked-invalid-3.t", n: -1, error: true},
	{test: "PostChunkedSplitChunk", file: "66-post-chunked-split-chunk.t", n: 1, txs: []htpTx{tx(func(t *htpTx) { t.reqLen = 12 })}},
	{test: "LongRequestLine1", file: "67-long-request-line.t", n: 1, txs: []htpTx{tx(uri("/0123456789/0123456789/"))}},
	{test: "LongRequestLine2", file: "67-long-request-line.t", cfg: Config{MaxHeaderBytes: 16}, n: -1, error: true},
	{test: "InvalidRequestHeader", file: "68-invalid-request-header.t", n: 1, txs: []htpTx{tx(reqH("Header-With-NUL", "BEFORE  AFTER"))}},
	{test: "TestGenericPersonality", file: "02-header-test-apache2.t", n: 1},
	{test: "LongResponseHeader", file: "69-long-response-header.t", cfg: Config{MaxHeaderBytes: 16}, n: -1, error: true},
	{test: "ResponseInvalidChunkLength", file: "70-response-invalid-chunk-length.t", n: -1, txs: []htpTx{tx(complete)}},
	{test: "ResponseSplitChunk", file: "71-response-split-chunk.t", n: 1, txs: []htpTx{tx(complete)}},
	{test: "ResponseBody", file: "72-response-split-body.t", n: 1, txs: []htpTx{tx(complete)}},
	{test: "ResponseContainsTeAndCl", file: "73-response-te-and-cl.t", n: 1, txs: []htpTx{tx(complete, flags(fSmuggle))}},
	{test: "ResponseMultipleCl", file: "74-response-multiple-cl.t", n: 1, txs: []htpTx{tx(complete, flags(fSmuggle), resH("Content-Length", "12"))},
		disagree: "two identical Content-Length fields: libhtp flags smuggling, apitap does not (RFC 9110 section 8.6 allows identical repeats); framing agrees"},
	{test: "ResponseMultipleClMismatch", file: "88-response-multiple-cl-mismatch.t", n: 1, txs: []htpTx{tx(complete, flags(fSmuggle), resH("Content-Length", "12"))}},
	{test: "ResponseInvalidCl", file: "75-response-invalid-cl.t", n: 1, txs: []htpTx{tx(complete, notFlags(fSmuggle))}},
	{test: "ResponseNoBody", file: "76-response-no-body.t", n: 2, txs: []htpTx{tx(complete, resH("Server", "Apache")), tx(complete)}},
	{test: "ResponseFoldedHeaders", file: "77-response-folded-headers.t", n: 2, txs: []htpTx{tx(complete, resH("Server", "Apache Server")), tx(complete)}},
	{test: "ResponseNoStatusHeaders", file: "78-response-no-status-headers.t", n: 1, txs: []htpTx{tx(complete)},
		disagree: "a server stream that does not start with a status line is not taken as a body (libhtp's treat-as-body): " +
			"apitap looks for the next status line instead, so the request has no response"},
	{test: "ConnectInvalidHostport", file: "79-connect-invalid-hostport.t", n: 2},
	{test: "HostnameInvalid1", file: "80-hostname-invalid-1.t", n: 1},
	{test: "HostnameInvalid2", file: "81-hostname-invalid-2.t", n: 1},
	{test: "Put", file: "82-put.t", n: 1, txs: []htpTx{tx(host("www.example.com"))}},
	{test: "AuthDigestInvalidUsername2", file: "83-auth-digest-invalid-username-2.t", n: -1, txs: []htpTx{tx(reqDone)}},
	{test: "ResponseNoStatusHeaders2", file: "84-response-no-status-headers-2.t", n: 1, txs: []htpTx{tx(complete)},
		disagree: "as ResponseNoStatusHeaders: no status line, no response"},
	{test: "PartialRequestTimeout", file: "86-partial-request-timeout.t", n: 1, txs: []htpTx{tx(complete)},
		disagree: "the client sent only \"GET\" before the server's 408: a lone word is no request line, so the response is recorded without a request"},
	{test: "IncorrectHostAmbiguousWarning", file: "87-issue-55-incorrect-host-ambiguous-warning.t", n: 1, txs: []htpTx{tx(host("www.example.com"))}},
	{test: "GetWhitespace", file: "89-get-whitespace.t", n: 1, txs: []htpTx{tx(method(" GET"), uri("/?p=%20"))},
		disagree: "white space before the method: libhtp keeps it in the method (\" GET\"), apitap trims it and flags the request malformed"},
	{test: "RequestUriTooLarge", file: "90-request-uri-too-large.t", n: 1, txs: []htpTx{tx(complete)},
		disagree: "the server's 414 came before the end of the request line: the response has no request yet and the cut request line " +
			"becomes a second transaction at the close"},
	{test: "RequestInvalid", file: "91-request-unexpected-body.t", n: 2, txs: []htpTx{
		tx(method("POST"), complete), tx(method("GET"), noResponse)}},
	{test: "Http_0_9_MethodOnly", file: "92-http_0_9-method_only.t", n: -1, txs: []htpTx{tx(reqDone, method("GET"), uri("/"))}},
	{test: "CompressedResponseDeflateAsGzip", file: "93-compressed-response-deflateasgzip.t", n: 1, txs: []htpTx{tx(complete, resLen(755), decoded(1433))}},
	{test: "CompressedResponseMultiple", file: "94-compressed-response-multiple.t", n: 1, txs: []htpTx{tx(complete, resLen(51), decoded(25))}},
	{test: "CompressedResponseGzipAsDeflate", file: "95-compressed-response-gzipasdeflate.t", n: 1, txs: []htpTx{tx(complete, resLen(187), decoded(225))}},
	{test: "RequestsCut", file: "97-requests-cut.t", n: 2, txs: []htpTx{tx(method("GET"), reqDone), tx(method("GET"), reqDone)}},
	{test: "ResponsesCut", file: "98-responses-cut.t", n: 2, txs: []htpTx{
		tx(method("GET"), complete, status(200)), tx(method("GET"), complete, status(200))}},
	{test: "Expect100", file: "99-expect-100.t", n: 2, txs: []htpTx{
		tx(method("PUT"), complete, status(401)), tx(method("POST"), complete, status(200))}},
	{test: "ResponseBodyData", file: "100-response-body-data.t", n: 1, txs: []htpTx{tx(complete, body("1\n23\n4"))},
		disagree: "the file holds only server bytes without a status line (\"1\\n2\" then \"3\\n4\"); libhtp makes a response body of them, " +
			"apitap finds no HTTP message"},
}

// normHost lower-cases a host and drops its port.
func normHost(h string) string {
	h = strings.ToLower(h)
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i >= 0 {
			return h[:i+1]
		}
		return h
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.Count(h, ":") == 1 {
		return h[:i]
	}
	return h
}

func headerValue(hs []reassembly.Header, name string) (string, bool) {
	v, ok := reassembly.Get(hs, name)
	return strings.ReplaceAll(v, "\x00", ""), ok
}

// check compares the transactions with the case and returns the
// differences.
func (c htpCase) check(txs []*reassembly.Transaction) []string {
	var diffs []string
	add := func(f string, args ...any) { diffs = append(diffs, fmt.Sprintf(f, args...)) }
	if c.n >= 0 && len(txs) != c.n {
		add("%d transactions, libhtp %d", len(txs), c.n)
	}
	if c.error {
		// libhtp stops with an error; apitap goes on but must say the
		// message is not well-formed.
		const bad = fMalformed | fSmuggle | fTrunc | fHdrLimit
		if len(txs) > 0 && txs[0].Flags&bad == 0 {
			add("libhtp reports an error, the first transaction is not flagged (%v)", txs[0].Flags.Names())
		}
	}
	for i, want := range c.txs {
		if i >= len(txs) {
			add("tx %d missing", i)
			continue
		}
		got := txs[i]
		if want.method != nil && got.Method != *want.method {
			add("tx %d method %q, libhtp %q", i, got.Method, *want.method)
		}
		if want.uri != nil && got.URI != *want.uri {
			add("tx %d uri %q, libhtp %q", i, got.URI, *want.uri)
		}
		if want.status != 0 && got.Status != want.status {
			add("tx %d status %d, libhtp %d", i, got.Status, want.status)
		}
		if want.host != "" && normHost(got.Host) != want.host {
			add("tx %d host %q, libhtp %q", i, got.Host, want.host)
		}
		reqOK := got.Flags&(fNoReq|fTrunc) == 0
		resOK := got.Flags&(fNoResp|fTrunc) == 0
		if want.reqComplete == yes && !reqOK {
			add("tx %d request not complete (%v)", i, got.Flags.Names())
		}
		if want.resComplete == yes && !resOK {
			add("tx %d response not complete (%v)", i, got.Flags.Names())
		}
		if want.resComplete == no && got.Flags&fNoResp == 0 {
			add("tx %d has a response, libhtp none", i)
		}
		if want.reqLen >= 0 && got.RequestBodyLen != want.reqLen {
			add("tx %d request body %d, libhtp %d", i, got.RequestBodyLen, want.reqLen)
		}
		if want.resLen >= 0 && got.ResponseBodyLen != want.resLen {
			add("tx %d response body %d, libhtp %d", i, got.ResponseBodyLen, want.resLen)
		}
		if want.decodedLen >= 0 && len(got.ResponseBody) != want.decodedLen {
			add("tx %d decoded response %d, libhtp %d (%v)", i, len(got.ResponseBody), want.decodedLen, got.Flags.Names())
		}
		if want.respBody != nil && string(got.ResponseBody) != *want.respBody {
			add("tx %d response body %q, libhtp %q", i, got.ResponseBody, *want.respBody)
		}
		if got.Flags&want.flags != want.flags {
			add("tx %d flags %v, libhtp implies %v", i, got.Flags.Names(), want.flags.Names())
		}
		if got.Flags&want.notFlags != 0 {
			add("tx %d flags %v, libhtp implies not %v", i, got.Flags.Names(), want.notFlags.Names())
		}
		if n := want.lastReqHeader[0]; n != "" {
			var last string
			for _, h := range got.RequestHeaders {
				if strings.EqualFold(h.Name, n) {
					last = h.Value
				}
			}
			if last != want.lastReqHeader[1] {
				add("tx %d last request header %s = %q, libhtp %q", i, n, last, want.lastReqHeader[1])
			}
		}
		for _, hc := range []struct {
			side string
			want map[string]string
			got  []reassembly.Header
		}{{"request", want.reqHeader, got.RequestHeaders}, {"response", want.resHeader, got.ResponseHeaders}} {
			names := make([]string, 0, len(hc.want))
			for n := range hc.want {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				v, ok := headerValue(hc.got, n)
				w := hc.want[n]
				if w == "\x00absent" {
					if ok {
						add("tx %d %s header %s present", i, hc.side, n)
					}
					continue
				}
				if !ok || !strings.EqualFold(v, strings.ReplaceAll(w, "\x00", "")) {
					add("tx %d %s header %s = %q (present %v), libhtp %q", i, hc.side, n, v, ok, w)
				}
			}
		}
	}
	return diffs
}

// TestLibhtpConversations runs libhtp's test conversations through the
// parser and compares the framing with what libhtp's own tests assert.
func TestLibhtpConversations(t *testing.T) {
	if _, err := os.Stat(libhtpDir); err != nil {
		t.Fatalf("libhtp conversations not found (%v): the shared data must be checked out beside the repository", err)
	}
	agree, known := 0, 0
	for _, c := range htpCases {
		t.Run(c.test, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(libhtpDir, c.file))
			if err != nil {
				t.Fatalf("fixture: %v", err)
			}
			chunks, err := readConversation(b)
			if err != nil {
				t.Fatalf("%s: not a libhtp conversation", c.file)
			}
			col := &collector{}
			f, err := NewFactory(c.cfg, col, nil)
			if err != nil {
				t.Fatal(err)
			}
			h := f.New(reassembly.ConnInfo{Client: testClient, Server: testServer, HandshakeSeen: true}, testBase)
			for i, ch := range chunks {
				h.Data(ch.client, ch.data, stepTS(i))
			}
			h.Close(reassembly.CloseFIN, stepTS(len(chunks)))
			diffs := c.check(col.txs)
			switch {
			case len(diffs) == 0 && c.disagree != "":
				t.Errorf("agrees with libhtp now: remove the known disagreement %q", c.disagree)
			case len(diffs) == 0:
				agree++
			case c.disagree != "":
				known++
				t.Logf("known disagreement: %s\n  %s", c.disagree, strings.Join(diffs, "\n  "))
			default:
				t.Errorf("%s disagrees with libhtp:\n  %s\n  got %v", c.file, strings.Join(diffs, "\n  "), summarize(col.txs))
			}
		})
	}
	t.Logf("%d of %d libhtp tests agree; %d known disagreements", agree, len(htpCases), known)
}

// TestLibhtpConversationsSplit feeds the same conversations one byte at a
// time: the transactions must be the same.
func TestLibhtpConversationsSplit(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(libhtpDir, "*.t"))
	if err != nil || len(files) == 0 {
		t.Fatalf("libhtp conversations not found in %s", libhtpDir)
	}
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := readConversation(b)
		if err != nil {
			continue // not a conversation (50-util.t has none of its own)
		}
		var steps []step
		for _, ch := range chunks {
			steps = append(steps, step{kind: 'd', client: ch.client, data: string(ch.data)})
		}
		want, _ := script{steps: steps}.run(t)
		got, _ := script{steps: steps, split: 1}.run(t)
		sameTransactions(t, filepath.Base(fn), got, want)
	}
}
