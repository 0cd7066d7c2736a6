package http1

import (
	"testing"
)

// lostCases lose whole messages or their starts. The steps follow the
// order in which the TCP assembler reports things: a gap is reported when
// the bytes after it arrive, so the requests sent meanwhile come first.
// Without pipelining, every response after a lost one must still pair
// with its own request (regression: each paired with the request before
// its own for the rest of the connection, without a flag).
var lostCases = []struct {
	name  string
	steps []step
	want  []sum
	lost  uint64 // Stats.ResponsesLost
}{
	{
		name: "a whole response lost",
		steps: []step{
			C(msg("GET /1 HTTP/1.1", "Host: h")), S(ok0),
			C(msg("GET /lost HTTP/1.1", "Host: h")), C(msg("GET /after HTTP/1.1", "Host: h")),
			GapS(len(ok8)), S(ok0),
			C(msg("GET /later HTTP/1.1", "Host: h")), S(ok0),
		},
		want: []sum{get("/1"), lostResp("/lost"), get("/after"), get("/later")},
		lost: 1,
	},
	{
		name: "the start of a response lost",
		steps: []step{
			C(msg("GET /lost HTTP/1.1", "Host: h")),
			GapS(40), S(`"rest":"of the body"}`),
			C(msg("GET /after HTTP/1.1", "Host: h")), S(ok0),
			C(msg("GET /lost-chunked HTTP/1.1", "Host: h")),
			GapS(60), S("abc\r\n3\r\nxyz\r\n0\r\n\r\n"),
			C(msg("GET /later HTTP/1.1", "Host: h")), S(ok0),
		},
		want: []sum{lostResp("/lost"), get("/after"), lostResp("/lost-chunked"), get("/later")},
		lost: 2,
	},
	{
		name: "the tail of a body of known length and the next response lost",
		steps: []step{
			C(msg("GET /a HTTP/1.1", "Host: h")), S(msg("HTTP/1.1 200 OK", "Content-Length: 10") + "abc"),
			C(msg("GET /b HTTP/1.1", "Host: h")), C(msg("GET /c HTTP/1.1", "Host: h")),
			GapS(7 + len(ok0)), S(ok0),
			C(msg("GET /d HTTP/1.1", "Host: h")),
			GapS(25), S("the end of the response to /d"),
			C(msg("GET /e HTTP/1.1", "Host: h")), S(ok0),
		},
		want: []sum{
			{Method: "GET", URI: "/a", Path: "/a", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1",
				RespLen: 10, RespBody: "abc", Flags: fGap},
			lostResp("/b"), get("/c"), lostResp("/d"), get("/e"),
		},
		lost: 2,
	},
	{
		name: "an interim 100 Continue lost",
		steps: []step{
			C(msg("POST /up HTTP/1.1", "Host: h", "Expect: 100-continue", "Content-Length: 5")),
			C("hello"), GapS(len(msg("HTTP/1.1 100 Continue"))), S(msg("HTTP/1.1 201 Created", "Content-Length: 0")),
			C(msg("GET /after HTTP/1.1", "Host: h")), S(ok0),
		},
		want: []sum{
			{Method: "POST", URI: "/up", Path: "/up", Host: "h", Version: "1.1", Status: 201, Reason: "Created", RespVersion: "1.1",
				ReqLen: 5, ReqBody: "hello"},
			get("/after"),
		},
	},
	{
		name: "a request and its response lost",
		steps: []step{
			C(msg("GET /1 HTTP/1.1", "Host: h")), S(ok0),
			GapC(30), C(msg("GET /after HTTP/1.1", "Host: h")),
			GapS(40), S(ok0),
		},
		want: []sum{get("/1"), get("/after")},
	},
	{
		name: "a response lost, then the next request",
		steps: []step{
			C(msg("PUT /x HTTP/1.1", "Host: h", "Content-Length: 2") + "{}"),
			GapS(len(ok0)), S(msg("HTTP/1.1 204 No Content")),
			GapC(30), C(msg("GET /next HTTP/1.1", "Host: h")), S(ok0),
		},
		want: []sum{
			{Method: "PUT", URI: "/x", Path: "/x", Host: "h", Version: "1.1", ReqLen: 2, ReqBody: "{}", Flags: fGap | fNoResp},
			{Status: 204, Reason: "No Content", RespVersion: "1.1", Flags: fNoReq},
			get("/next"),
		},
		lost: 1,
	},
	{
		name: "a request lost, its response seen",
		steps: []step{
			C(msg("GET /1 HTTP/1.1", "Host: h")), S(ok0),
			S(ok8), GapC(30), C(msg("GET /after HTTP/1.1", "Host: h")), S(ok0),
		},
		want: []sum{
			get("/1"),
			{Status: 200, Reason: "OK", RespVersion: "1.1", RespLen: 8, RespBody: `{"id":7}`, Flags: fNoReq},
			get("/after"),
		},
	},
	{
		name: "the last response lost before the close",
		steps: []step{
			C(msg("GET /1 HTTP/1.1", "Host: h")), S(ok0),
			C(msg("GET /lost HTTP/1.1", "Host: h")), GapS(40), FinS(),
		},
		want: []sum{get("/1"), lostResp("/lost")},
		lost: 1,
	},
	{
		name: "a response lost in a pipeline",
		steps: []step{
			C(msg("GET /a HTTP/1.1", "Host: h") + msg("GET /b HTTP/1.1", "Host: h") + msg("GET /c HTTP/1.1", "Host: h")),
			S(ok0), GapS(len(ok0)), S(ok0),
		},
		want: []sum{get("/a"), lostResp("/b"), get("/c")},
		lost: 1,
	},
	{
		name: "a pipelined response cut inside a chunk",
		steps: []step{
			C(msg("GET /a HTTP/1.1", "Host: h") + msg("GET /b HTTP/1.1", "Host: h") + msg("GET /c HTTP/1.1", "Host: h")),
			S(ok0 + msg("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + "3\r\nabc\r\n"), GapS(9),
			S("\r\n0\r\n\r\n" + ok0),
		},
		want: []sum{
			get("/a"),
			{Method: "GET", URI: "/b", Path: "/b", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1",
				RespLen: 3, RespBody: "abc", Flags: fGap},
			get("/c"),
		},
	},
}

// lostResp is a GET whose response was lost in a gap.
func lostResp(path string) sum {
	return sum{Method: "GET", URI: path, Path: path, Host: "h", Version: "1.1", Flags: fGap | fNoResp}
}

func TestLostResponses(t *testing.T) {
	for _, tc := range lostCases {
		t.Run(tc.name, func(t *testing.T) {
			base := script{steps: tc.steps}
			txs, st := base.run(t)
			diffSums(t, summarize(txs), tc.want)
			if st.ResponsesLost != tc.lost {
				t.Errorf("Stats.ResponsesLost = %d, want %d", st.ResponsesLost, tc.lost)
			}
			if st.Transactions != uint64(len(tc.want)) {
				t.Errorf("Stats.Transactions = %d, want %d", st.Transactions, len(tc.want))
			}
			// Where the data is cut must not matter.
			bytewise := base
			bytewise.split = 1
			got, _ := bytewise.run(t)
			sameTransactions(t, "byte by byte", got, txs)
			for k := 1; k < 40; k++ {
				at := base
				at.splitAt = k
				got, _ := at.run(t)
				sameTransactions(t, "split at "+itoa(k), got, txs)
			}
		})
	}
}
