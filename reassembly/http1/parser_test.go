package http1

import (
	"testing"

	"github.com/apitap/apitap/reassembly"
)

// parseCase is one scripted connection and the transactions it must give.
type parseCase struct {
	name   string
	cfg    Config
	info   *reassembly.ConnInfo
	steps  []step
	reason reassembly.CloseReason
	want   []sum
}

var (
	getUsers = msg("GET /api/users?id=7 HTTP/1.1", "Host: api.example.com", "Accept: application/json")
	ok8      = msg("HTTP/1.1 200 OK", "Content-Type: application/json", "Content-Length: 8") + `{"id":7}`
	ok0      = msg("HTTP/1.1 200 OK", "Content-Length: 0")
	midInfo  = &reassembly.ConnInfo{Client: testClient, Server: testServer}
)

// smuggled is a request whose framing is ambiguous, followed by the
// request it may smuggle, without responses (cases from Zeek's http/261
// traces).
func smuggled(head, body, path string) []step {
	return []step{C(head + body + msg("GET "+path+" HTTP/1.1", "Host: target"))}
}

func get(path string) sum {
	return sum{Method: "GET", URI: path, Path: path, Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1"}
}

var parseCases = []parseCase{
	{
		name: "keep-alive GET",
		steps: []step{
			C(getUsers), S(ok8),
			C(msg("GET /b HTTP/1.1", "Host: h")), S(msg("HTTP/1.1 404 Not Found", "Content-Length: 0")),
		},
		want: []sum{
			{Method: "GET", URI: "/api/users?id=7", Path: "/api/users", Host: "api.example.com", Version: "1.1",
				Status: 200, Reason: "OK", RespVersion: "1.1", RespLen: 8, RespBody: `{"id":7}`},
			{Method: "GET", URI: "/b", Path: "/b", Host: "h", Version: "1.1", Status: 404, Reason: "Not Found", RespVersion: "1.1"},
		},
	},
	{
		name: "POST with JSON bodies",
		steps: []step{
			C(msg("POST /api/items HTTP/1.1", "Host: h", "Content-Type: application/json", "Content-Length: 13") + `{"name":"x1"}`),
			S(msg("HTTP/1.1 201 Created", "Content-Length: 9") + `{"id":42}`),
		},
		want: []sum{{Method: "POST", URI: "/api/items", Path: "/api/items", Host: "h", Version: "1.1",
			Status: 201, Reason: "Created", RespVersion: "1.1",
			ReqLen: 13, ReqBody: `{"name":"x1"}`, RespLen: 9, RespBody: `{"id":42}`}},
	},
	{
		name: "chunked response with extensions and trailers",
		steps: []step{
			C(msg("GET /c HTTP/1.1", "Host: h")),
			S(msg("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + "5;ext=1;q=\"x\"\r\nhello\r\n6 \r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n"),
			C(msg("GET /d HTTP/1.1", "Host: h")), S(ok0),
		},
		want: []sum{
			{Method: "GET", URI: "/c", Path: "/c", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1",
				RespLen: 11, RespBody: "hello world"},
			get("/d"),
		},
	},
	{
		name: "chunked request",
		steps: []step{
			C(msg("POST /up HTTP/1.1", "Host: h", "Transfer-Encoding: chunked") + "3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n"),
			S(msg("HTTP/1.1 204 No Content")),
		},
		want: []sum{{Method: "POST", URI: "/up", Path: "/up", Host: "h", Version: "1.1", Status: 204, Reason: "No Content",
			RespVersion: "1.1", ReqLen: 13, ReqBody: "abc0123456789"}},
	},
	{
		name: "close-delimited response ends at FIN",
		steps: []step{
			C(msg("GET / HTTP/1.0")), S(msg("HTTP/1.0 200 OK", "Content-Type: text/plain") + "hello "), S("world"), FinS(),
		},
		want: []sum{{Method: "GET", URI: "/", Path: "/", Version: "1.0", Status: 200, Reason: "OK", RespVersion: "1.0",
			RespLen: 11, RespBody: "hello world"}},
	},
	{
		name:   "close-delimited response cut by RST",
		steps:  []step{C(msg("GET / HTTP/1.0")), S(msg("HTTP/1.0 200 OK") + "hello")},
		reason: reassembly.CloseRST,
		want: []sum{{Method: "GET", URI: "/", Path: "/", Version: "1.0", Status: 200, Reason: "OK", RespVersion: "1.0",
			RespLen: 5, RespBody: "hello", Flags: fTrunc}},
	},
	{
		name: "HEAD response has no body",
		steps: []step{
			C(msg("HEAD / HTTP/1.1", "Host: h")), S(msg("HTTP/1.1 200 OK", "Content-Length: 1234")),
			C(msg("GET /x HTTP/1.1", "Host: h")), S(msg("HTTP/1.1 200 OK", "Content-Length: 2") + "ok"),
		},
		want: []sum{
			{Method: "HEAD", URI: "/", Path: "/", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1"},
			{Method: "GET", URI: "/x", Path: "/x", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1", RespLen: 2, RespBody: "ok"},
		},
	},
	{
		name: "204 and 304 have no body",
		steps: []step{
			C(msg("GET /a HTTP/1.1", "Host: h") + msg("GET /b HTTP/1.1", "Host: h") + msg("GET /c HTTP/1.1", "Host: h")),
			S(msg("HTTP/1.1 204 No Content", "Content-Length: 10") + msg("HTTP/1.1 304 Not Modified", "Content-Length: 500") + ok0),
		},
		want: []sum{
			{Method: "GET", URI: "/a", Path: "/a", Host: "h", Version: "1.1", Status: 204, Reason: "No Content", RespVersion: "1.1"},
			{Method: "GET", URI: "/b", Path: "/b", Host: "h", Version: "1.1", Status: 304, Reason: "Not Modified", RespVersion: "1.1"},
			get("/c"),
		},
	},
	{
		name: "100-continue",
		steps: []step{
			C(msg("POST /u HTTP/1.1", "Host: h", "Expect: 100-continue", "Content-Length: 5")),
			S(msg("HTTP/1.1 100 Continue")), C("hello"), S(ok0),
		},
		want: []sum{{Method: "POST", URI: "/u", Path: "/u", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1",
			ReqLen: 5, ReqBody: "hello", Flags: fContinue}},
	},
	{
		// libhtp 99-expect-100.t: a final answer before the body means the
		// body is not coming.
		name: "Expect: 100-continue answered with a final status",
		steps: []step{
			C(msg("PUT /forbidden HTTP/1.1", "Content-Length: 14", "Expect: 100-continue")),
			S(msg("HTTP/1.0 401 Forbidden", "Content-Length: 0")),
			C(msg("POST /ok HTTP/1.1", "Content-Length: 14", "Expect: 100-continue")),
			S(msg("HTTP/1.0 100 continue", "Content-Length: 0")),
			C("Hello People!\n"),
			S(msg("HTTP/1.0 200 OK")), FinS(),
		},
		want: []sum{
			{Method: "PUT", URI: "/forbidden", Path: "/forbidden", Version: "1.1", Status: 401, Reason: "Forbidden", RespVersion: "1.0"},
			{Method: "POST", URI: "/ok", Path: "/ok", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.0",
				ReqLen: 14, ReqBody: "Hello People!\n", Flags: fContinue},
		},
	},
	{
		name: "interim 103 is skipped",
		steps: []step{
			C(msg("GET /i HTTP/1.1", "Host: h")),
			S(msg("HTTP/1.1 103 Early Hints", "Link: </s.css>") + ok0),
		},
		want: []sum{get("/i")},
	},
	{
		name: "pipelining",
		steps: []step{
			C(msg("GET /1 HTTP/1.1", "Host: h") + msg("GET /2 HTTP/1.1", "Host: h") + msg("HEAD /3 HTTP/1.1", "Host: h")),
			S(msg("HTTP/1.1 200 OK", "Content-Length: 1") + "1" + msg("HTTP/1.1 200 OK", "Content-Length: 2") + "22" +
				msg("HTTP/1.1 200 OK", "Content-Length: 3")),
		},
		want: []sum{
			{Method: "GET", URI: "/1", Path: "/1", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1", RespLen: 1, RespBody: "1"},
			{Method: "GET", URI: "/2", Path: "/2", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1", RespLen: 2, RespBody: "22"},
			{Method: "HEAD", URI: "/3", Path: "/3", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1"},
		},
	},
	{
		name: "websocket upgrade stops parsing",
		steps: []step{
			C(msg("GET /chat HTTP/1.1", "Host: h", "Upgrade: websocket", "Connection: Upgrade")),
			S(msg("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade") + "\x81\x05hello"),
			C("\x81\x85abcdHTTP/1.1 200 OK\r\n\r\n"),
		},
		want: []sum{{Method: "GET", URI: "/chat", Path: "/chat", Host: "h", Version: "1.1", Status: 101,
			Reason: "Switching Protocols", RespVersion: "1.1", Flags: fUpgrade}},
	},
	{
		name: "HTTP/2 with prior knowledge",
		steps: []step{
			C("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00\x00\x00\x00\x00"), S("\x00\x00\x06\x04\x00\x00\x00\x00\x00"),
		},
		want: []sum{{Method: "PRI", URI: "*", Path: "*", Version: "2.0", Flags: fMalformed | fUpgrade | fNoResp}},
	},
	{
		name: "CONNECT tunnel",
		steps: []step{
			C(msg("CONNECT example.com:443 HTTP/1.1", "Host: example.com:443")),
			S(msg("HTTP/1.1 200 Connection established")),
			C("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), S("\x16\x03\x03\x00\x5a\x02"),
		},
		want: []sum{{Method: "CONNECT", URI: "example.com:443", Host: "example.com:443", Version: "1.1", Status: 200,
			Reason: "Connection established", RespVersion: "1.1", Flags: fConnect}},
	},
	{
		name: "CONNECT refused goes on",
		steps: []step{
			C(msg("CONNECT example.com:443 HTTP/1.1")),
			S(msg("HTTP/1.1 407 Proxy Authentication Required", "Content-Length: 3") + "no!"),
			C(msg("GET /x HTTP/1.1", "Host: h")), S(ok0),
		},
		want: []sum{
			{Method: "CONNECT", URI: "example.com:443", Version: "1.1", Status: 407, Reason: "Proxy Authentication Required",
				RespVersion: "1.1", RespLen: 3, RespBody: "no!"},
			get("/x"),
		},
	},
	{
		name:  "HTTP/0.9",
		steps: []step{C("GET /index.html\r\n"), S("<html>hi</html>\n"), FinS()},
		want: []sum{{Method: "GET", URI: "/index.html", Path: "/index.html", Version: "0.9", RespVersion: "0.9",
			RespLen: 16, RespBody: "<html>hi</html>\n"}},
	},
	{
		// Zeek's methods.pcap: the response to a version-less request line
		// is raw, status line included; the header lines still count.
		name: "HTTP/0.9 request line with header lines",
		steps: []step{
			C("GET /HTTP/1.1\nHost: www.google.com\n\n"),
			S(msg("HTTP/1.0 403 Forbidden", "Content-Length: 5") + "nope!"), FinS(),
		},
		want: []sum{{Method: "GET", URI: "/HTTP/1.1", Path: "/HTTP/1.1", Host: "www.google.com", Version: "0.9", RespVersion: "0.9",
			RespLen: 50, RespBody: msg("HTTP/1.0 403 Forbidden", "Content-Length: 5") + "nope!"}},
	},
	{
		// Zeek's http-09-content-length-confusion.pcap.
		name: "response before an HTTP/0.9 request",
		steps: []step{
			S(msg("HTTP/1.1 200 OK", "Content-Length: 4")), C("GET /\r\n\r\n"), S("this is too much.\n"), FinS(),
		},
		want: []sum{
			{Status: 200, Reason: "OK", RespVersion: "1.1", RespLen: 4, RespBody: "this", Flags: fNoReq},
			{Method: "GET", URI: "/", Path: "/", Version: "0.9", RespVersion: "0.9", RespLen: 14, RespBody: " is too much.\n"},
		},
	},
	{
		name: "obsolete line folding",
		steps: []step{
			C("GET /f HTTP/1.1\r\nHost: h\r\nX-Long: a\r\n b\r\n\tc\r\n\r\n"), S(ok0),
		},
		want: []sum{{Method: "GET", URI: "/f", Path: "/f", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1", Flags: fMalformed}},
	},
	{
		name:  "bare LF line endings",
		steps: []step{C(lfmsg("GET /lf HTTP/1.1", "Host: h")), S(lfmsg("HTTP/1.1 200 OK", "Content-Length: 2") + "ok")},
		want: []sum{{Method: "GET", URI: "/lf", Path: "/lf", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1",
			RespLen: 2, RespBody: "ok"}},
	},
	{
		name: "extra white space and lower case",
		steps: []step{
			C("get  /x   HTTP/1.1\r\nhost:   h  \r\ncontent-length: 2\r\n\r\nab"),
			S("HTTP/1.1  200  OK \r\ncontent-length:0\r\n\r\n"),
		},
		want: []sum{{Method: "get", URI: "/x", Path: "/x", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1",
			ReqLen: 2, ReqBody: "ab", Flags: fMalformed}},
	},
	{
		name: "empty lines between messages",
		steps: []step{
			C("\r\n\r\n" + msg("GET /1 HTTP/1.1", "Host: h")), S(ok0),
			C("\r\n" + msg("GET /2 HTTP/1.1", "Host: h")), S("\r\n" + ok0),
		},
		want: []sum{get("/1"), get("/2")},
	},
	{
		name:  "smuggling: Content-Length and chunked",
		steps: smuggled(msg("POST / HTTP/1.1", "Host: target", "Transfer-Encoding: chunked", "Content-Length: 50"), "0\r\n\r\n", "/smuggled-te-cl"),
		want: []sum{
			{Method: "POST", URI: "/", Path: "/", Host: "target", Version: "1.1", Flags: fSmuggle | fNoResp},
			{Method: "GET", URI: "/smuggled-te-cl", Path: "/smuggled-te-cl", Host: "target", Version: "1.1", Flags: fNoResp},
		},
	},
	{
		name:  "smuggling: differing Content-Lengths",
		steps: smuggled(msg("POST / HTTP/1.1", "Host: target", "Content-Length: 5", "Content-Length: 7"), "hello", "/smuggled-cl-cl"),
		want: []sum{
			{Method: "POST", URI: "/", Path: "/", Host: "target", Version: "1.1", ReqLen: 5, ReqBody: "hello", Flags: fSmuggle | fNoResp},
			{Method: "GET", URI: "/smuggled-cl-cl", Path: "/smuggled-cl-cl", Host: "target", Version: "1.1", Flags: fNoResp},
		},
	},
	{
		name:  "smuggling: chunked not last",
		steps: smuggled(msg("POST / HTTP/1.1", "Host: target", "Transfer-Encoding: chunked, identity"), "0\r\n\r\n", "/smuggled-multi-te"),
		want: []sum{
			{Method: "POST", URI: "/", Path: "/", Host: "target", Version: "1.1", Flags: fSmuggle | fMalformed | fNoResp},
			{Method: "GET", URI: "/smuggled-multi-te", Path: "/smuggled-multi-te", Host: "target", Version: "1.1", Flags: fNoResp},
		},
	},
	{
		name:  "smuggling: transfer coding without chunked",
		steps: smuggled(msg("POST / HTTP/1.1", "Host: target", "Transfer-Encoding: gzip"), "xyz\r\n", "/smuggled-te-gzip"),
		want: []sum{
			{Method: "POST", URI: "/", Path: "/", Host: "target", Version: "1.1", Flags: fSmuggle | fMalformed | fNoResp},
			{Method: "GET", URI: "/smuggled-te-gzip", Path: "/smuggled-te-gzip", Host: "target", Version: "1.1", Flags: fNoResp},
		},
	},
	{
		name:  "smuggling: Content-Length with leading zeros",
		steps: smuggled(msg("POST / HTTP/1.1", "Host: target", "Content-Length: 00000000000000000000000000000050"), repeat("X", 50), "/smuggled-leading-zeros"),
		want: []sum{
			{Method: "POST", URI: "/", Path: "/", Host: "target", Version: "1.1", ReqLen: 50, ReqBody: repeat("X", 50), Flags: fSmuggle | fNoResp},
			{Method: "GET", URI: "/smuggled-leading-zeros", Path: "/smuggled-leading-zeros", Host: "target", Version: "1.1", Flags: fNoResp},
		},
	},
	{
		name:  "smuggling: negative Content-Length",
		steps: smuggled(msg("POST / HTTP/1.1", "Host: target", "Content-Length: -1"), "", "/smuggled-cl-negative"),
		want: []sum{
			{Method: "POST", URI: "/", Path: "/", Host: "target", Version: "1.1", Flags: fSmuggle | fMalformed | fNoResp},
			{Method: "GET", URI: "/smuggled-cl-negative", Path: "/smuggled-cl-negative", Host: "target", Version: "1.1", Flags: fNoResp},
		},
	},
	{
		name:  "smuggling: Content-Length overflow",
		steps: smuggled(msg("POST / HTTP/1.1", "Host: target", "Content-Length: 18446744073709551615"), "", "/smuggled-cl-uint64max"),
		want: []sum{
			{Method: "POST", URI: "/", Path: "/", Host: "target", Version: "1.1", Flags: fSmuggle | fMalformed | fNoResp},
			{Method: "GET", URI: "/smuggled-cl-uint64max", Path: "/smuggled-cl-uint64max", Host: "target", Version: "1.1", Flags: fNoResp},
		},
	},
	{
		name:  "smuggling: chunk size overflow",
		steps: smuggled(msg("POST / HTTP/1.1", "Host: target", "Transfer-Encoding: chunked"), "10000000000000000\r\n\r\n", "/smuggled-chunk-2pow64"),
		want: []sum{
			{Method: "POST", URI: "/", Path: "/", Host: "target", Version: "1.1", Flags: fSmuggle | fMalformed | fNoResp},
			{Method: "GET", URI: "/smuggled-chunk-2pow64", Path: "/smuggled-chunk-2pow64", Host: "target", Version: "1.1", Flags: fNoResp},
		},
	},
	{
		name:  "smuggling: folded Transfer-Encoding",
		steps: smuggled("POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", "0\r\n\r\n", "/smuggled-obsfold"),
		want: []sum{
			{Method: "POST", URI: "/", Path: "/", Host: "target", Version: "1.1", Flags: fSmuggle | fMalformed | fNoResp},
			{Method: "GET", URI: "/smuggled-obsfold", Path: "/smuggled-obsfold", Host: "target", Version: "1.1", Flags: fNoResp},
		},
	},
	{
		name:  "Content-Length 0 with Expect",
		steps: smuggled(msg("POST / HTTP/1.1", "Host: target", "Expect: 100-continue", "Content-Length: 0"), "", "/smuggled-expect-100"),
		want: []sum{
			{Method: "POST", URI: "/", Path: "/", Host: "target", Version: "1.1", Flags: fNoResp},
			{Method: "GET", URI: "/smuggled-expect-100", Path: "/smuggled-expect-100", Host: "target", Version: "1.1", Flags: fNoResp},
		},
	},
	{
		name: "response without request, connection picked up mid-stream",
		info: midInfo,
		steps: []step{
			S(msg("HTTP/1.1 200 OK", "Content-Length: 2") + "ok"), C(msg("GET /n HTTP/1.1", "Host: h")), S(ok0),
		},
		want: []sum{
			{Status: 200, Reason: "OK", RespVersion: "1.1", RespLen: 2, RespBody: "ok", Flags: fNoReq | fMid},
			{Method: "GET", URI: "/n", Path: "/n", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1", Flags: fMid},
		},
	},
	{
		name: "mid-stream start inside bodies",
		info: midInfo,
		steps: []step{
			C(`ame":"x"}`), S(`lue":12}` + msg("HTTP/1.1 200 OK", "Content-Length: 2") + "ok"),
			C(msg("GET /n HTTP/1.1", "Host: h")), S(ok0),
		},
		want: []sum{
			{Status: 200, Reason: "OK", RespVersion: "1.1", RespLen: 2, RespBody: "ok", Flags: fNoReq | fMid},
			{Method: "GET", URI: "/n", Path: "/n", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1", Flags: fMid},
		},
	},
	{
		name: "gap inside a Content-Length body",
		steps: []step{
			C(msg("GET /g HTTP/1.1", "Host: h")), S(msg("HTTP/1.1 200 OK", "Content-Length: 10") + "abc"), GapS(4), S("hij"),
			C(msg("GET /2 HTTP/1.1", "Host: h")), S(ok0),
		},
		want: []sum{
			{Method: "GET", URI: "/g", Path: "/g", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1",
				RespLen: 10, RespBody: "abc", Flags: fGap},
			get("/2"),
		},
	},
	{
		name: "gap inside a chunk",
		steps: []step{
			C(msg("GET /g HTTP/1.1", "Host: h")), S(msg("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + "a\r\nabc"), GapS(4),
			S("hij\r\n0\r\n\r\n"),
			C(msg("GET /2 HTTP/1.1", "Host: h")), S(ok0),
		},
		want: []sum{
			{Method: "GET", URI: "/g", Path: "/g", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1",
				RespLen: 10, RespBody: "abc", Flags: fGap},
			get("/2"),
		},
	},
	{
		name: "gap in a header block",
		steps: []step{
			C("GET /a HTTP/1.1\r\nHost: h\r\nX-Fo"), GapC(10), C("o: bar\r\n\r\n" + msg("GET /b HTTP/1.1", "Host: h")),
			S(ok0 + ok0),
		},
		want: []sum{
			{Method: "GET", URI: "/a", Path: "/a", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1", Flags: fGap},
			get("/b"),
		},
	},
	{
		name: "gap of unknown size resynchronises mid-line",
		steps: []step{
			C(msg("GET /1 HTTP/1.1", "Host: h") + msg("GET /2 HTTP/1.1", "Host: h")),
			S(msg("HTTP/1.1 200 OK", "Content-Length: 100") + "partial"), GapS(-1),
			S(`tail of a body}` + msg("HTTP/1.1 200 OK", "Content-Length: 2") + "ok"),
		},
		want: []sum{
			{Method: "GET", URI: "/1", Path: "/1", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1",
				RespLen: 7, RespBody: "partial", Flags: fGap},
			{Method: "GET", URI: "/2", Path: "/2", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1",
				RespLen: 2, RespBody: "ok"},
		},
	},
	{
		name:  "garbage before the first request",
		steps: []step{C("\x16\x03\x01\x00\x05hello\r\n" + msg("GET / HTTP/1.1", "Host: h")), S(ok0)},
		want:  []sum{get("/")},
	},
	{
		name: "unexpected request body is skipped",
		steps: []step{
			C(msg("POST / HTTP/1.1", "Host: h", "Content-Type: application/x-www-form-urlencoded") + "login=foo&password=bar\r\n"),
			S(msg("HTTP/1.1 200 OK", "Content-Length: 0 ")),
			C(msg("GET / HTTP/1.1", "Host: h")),
		},
		want: []sum{
			{Method: "POST", URI: "/", Path: "/", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1"},
			{Method: "GET", URI: "/", Path: "/", Host: "h", Version: "1.1", Flags: fNoResp},
		},
	},
	{
		name:  "FIN in the middle of a body",
		steps: []step{C(msg("POST /p HTTP/1.1", "Host: h", "Content-Length: 10") + "abc"), FinC()},
		want: []sum{{Method: "POST", URI: "/p", Path: "/p", Host: "h", Version: "1.1", ReqLen: 3, ReqBody: "abc",
			Flags: fTrunc | fNoResp}},
	},
	{
		name: "FIN in the middle of a header block",
		steps: []step{
			C(msg("GET /1 HTTP/1.1", "Host: h")), S("HTTP/1.1 200 OK\r\nContent-Le"), FinS(),
		},
		want: []sum{{Method: "GET", URI: "/1", Path: "/1", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1",
			Flags: fTrunc}},
	},
	{
		name:   "requests pending at close",
		steps:  []step{C(msg("GET /1 HTTP/1.1", "Host: h") + msg("GET /2 HTTP/1.1", "Host: h")), S(ok0)},
		reason: reassembly.CloseRST,
		want:   []sum{get("/1"), {Method: "GET", URI: "/2", Path: "/2", Host: "h", Version: "1.1", Flags: fNoResp}},
	},
	{
		name: "absolute-form target",
		steps: []step{
			C(msg("GET http://user@proxy.example.com:8080/p/q?x=1#f HTTP/1.1") + msg("GET HTTP://other.example/ HTTP/1.1", "Host: h") +
				msg("GET http://bare.example HTTP/1.1")),
			S(ok0 + ok0 + ok0),
		},
		want: []sum{
			{Method: "GET", URI: "http://user@proxy.example.com:8080/p/q?x=1#f", Path: "/p/q", Host: "proxy.example.com:8080",
				Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1"},
			{Method: "GET", URI: "HTTP://other.example/", Path: "/", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1"},
			{Method: "GET", URI: "http://bare.example", Path: "/", Host: "bare.example", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1"},
		},
	},
	{
		// Zeek's http-desync-request-response-5.pcap.
		name: "extra responses without requests",
		steps: []step{
			C(msg("GET / HTTP/1.1", "Host: localhost:8080")),
			S(msg("HTTP/1.1 200 OK", "Content-Length: 3") + "one" + msg("HTTP/1.1 200 OK", "Content-Length: 3") + "two" +
				msg("HTTP/1.1 200 OK", "Content-Length: 5") + "three"),
			C(msg("GET / HTTP/1.1", "Host: localhost:8080")), S(ok0),
		},
		want: []sum{
			{Method: "GET", URI: "/", Path: "/", Host: "localhost:8080", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1", RespLen: 3, RespBody: "one"},
			{Status: 200, Reason: "OK", RespVersion: "1.1", RespLen: 3, RespBody: "two", Flags: fNoReq},
			{Status: 200, Reason: "OK", RespVersion: "1.1", RespLen: 5, RespBody: "three", Flags: fNoReq},
			{Method: "GET", URI: "/", Path: "/", Host: "localhost:8080", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1"},
		},
	},
	{
		// Zeek's methods.pcap: lines that are not request lines.
		name: "method without target",
		steps: []step{
			C("OPTIONS\nHost: www.google.com\n\n"), S(msg("HTTP/1.0 400 Bad Request", "Content-Length: 3") + "bad"), FinS(),
		},
		want: []sum{{Status: 400, Reason: "Bad Request", RespVersion: "1.0", RespLen: 3, RespBody: "bad", Flags: fNoReq}},
	},
	{
		name: "method glued to the target",
		steps: []step{
			C("GET/ HTTP/1.1\nHost: www.google.com\n\n"), S(msg("HTTP/1.0 400 Bad Request", "Content-Length: 3") + "bad"), FinS(),
		},
		want: []sum{{Status: 400, Reason: "Bad Request", RespVersion: "1.0", RespLen: 3, RespBody: "bad", Flags: fNoReq}},
	},
	{
		name: "empty target and odd versions",
		steps: []step{
			C("OPTIONS HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.\r\nHost: h\r\n\r\nGET / JUNK/1.0\r\nHost: h\r\n\r\n"),
			S(ok0 + ok0 + ok0),
		},
		want: []sum{
			{Method: "OPTIONS", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1", Flags: fMalformed},
			{Method: "GET", URI: "/", Path: "/", Host: "h", Version: "1.", Status: 200, Reason: "OK", RespVersion: "1.1", Flags: fMalformed},
			{Method: "GET", URI: "/", Path: "/", Host: "h", Version: "JUNK/1.0", Status: 200, Reason: "OK", RespVersion: "1.1", Flags: fMalformed},
		},
	},
	{
		// Zeek's connect-with-smtp.pcap.
		name: "white space inside the target",
		steps: []step{
			C(msg("CONNECT mailin03.sul.t-online.de:25 / HTTP/1.0")), S(msg("HTTP/1.0 200 Connection established")),
		},
		want: []sum{{Method: "CONNECT", URI: "mailin03.sul.t-online.de:25 /", Version: "1.0", Status: 200,
			Reason: "Connection established", RespVersion: "1.0", Flags: fMalformed | fConnect}},
	},
	{
		// libhtp 35-early-response.t and Zeek's interleaved-http-entity.pcap.
		name: "response before the request body",
		steps: []step{
			C(msg("POST / HTTP/1.0", "Content-Length: 12")),
			S(msg("HTTP/1.0 400 Bad Request", "Content-Length: 11") + "Bad Request"),
			C("p=0123456789"),
		},
		want: []sum{{Method: "POST", URI: "/", Path: "/", Version: "1.0", Status: 400, Reason: "Bad Request", RespVersion: "1.0",
			ReqLen: 12, ReqBody: "p=0123456789", RespLen: 11, RespBody: "Bad Request"}},
	},
	{
		name: "status without reason and odd status lines",
		steps: []step{
			C(msg("GET /1 HTTP/1.1", "Host: h") + msg("GET /2 HTTP/1.1", "Host: h")),
			S("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200ok\r\nContent-Length: 0\r\n\r\n"),
		},
		want: []sum{
			{Method: "GET", URI: "/1", Path: "/1", Host: "h", Version: "1.1", Status: 200, RespVersion: "1.1"},
			{Method: "GET", URI: "/2", Path: "/2", Host: "h", Version: "1.1", Status: 200, Reason: "ok", RespVersion: "1.1", Flags: fMalformed},
		},
	},
	{
		name: "differing and invalid Content-Length in a response",
		steps: []step{
			C(msg("GET / HTTP/1.0")),
			S(msg("HTTP/1.0 200 OK", "Connection: close", "Content-Length: 12", "Content-Length: 11") + "Hello World!"), FinS(),
		},
		want: []sum{{Method: "GET", URI: "/", Path: "/", Version: "1.0", Status: 200, Reason: "OK", RespVersion: "1.0",
			RespLen: 12, RespBody: "Hello World!", Flags: fSmuggle}},
	},
	{
		name: "invalid Content-Length in a response reads to the end",
		steps: []step{
			C(msg("GET / HTTP/1.0")), S(msg("HTTP/1.0 200 OK", "Content-Length: -1") + "Hello World!"), FinS(),
		},
		want: []sum{{Method: "GET", URI: "/", Path: "/", Version: "1.0", Status: 200, Reason: "OK", RespVersion: "1.0",
			RespLen: 12, RespBody: "Hello World!", Flags: fMalformed}},
	},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			txs, _ := script{cfg: tc.cfg, info: tc.info, steps: tc.steps, reason: tc.reason}.run(t)
			diffSums(t, summarize(txs), tc.want)
		})
	}
}

// TestSplitInvariance feeds every case one byte at a time and split at
// every offset: the transactions must not change.
func TestSplitInvariance(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			base := script{cfg: tc.cfg, info: tc.info, steps: tc.steps, reason: tc.reason}
			want, _ := base.run(t)
			bytewise := base
			bytewise.split = 1
			got, _ := bytewise.run(t)
			sameTransactions(t, "byte by byte", got, want)
			longest := 0
			for _, st := range tc.steps {
				longest = max(longest, len(st.data))
			}
			for k := 1; k < longest; k++ {
				at := base
				at.splitAt = k
				got, _ := at.run(t)
				sameTransactions(t, "split at "+itoa(k), got, want)
			}
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
