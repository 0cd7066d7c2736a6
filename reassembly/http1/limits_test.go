package http1

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apitap/apitap/reassembly"
)

func TestLimits(t *testing.T) {
	manyHeaders := "GET /h HTTP/1.1\r\nHost: h\r\n"
	for i := range 10 {
		manyHeaders += "X-" + strconv.Itoa(i) + ": v\r\n"
	}
	manyHeaders += "Content-Length: 2\r\n\r\nab"

	tests := []struct {
		name  string
		cfg   Config
		steps []step
		want  []sum
		check func(t *testing.T, txs []*reassembly.Transaction, st Stats)
	}{
		{
			name: "header bytes",
			cfg:  Config{MaxHeaderBytes: 64},
			steps: []step{
				C("GET /big HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX-Pad: " + repeat("p", 200) + "\r\nX-After: 1\r\n\r\nabc"),
				S(ok0), C(msg("GET /next HTTP/1.1", "Host: h")), S(ok0),
			},
			want: []sum{
				{Method: "GET", URI: "/big", Path: "/big", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1",
					ReqLen: 3, ReqBody: "abc", Flags: fHdrLimit},
				get("/next"),
			},
			check: func(t *testing.T, txs []*reassembly.Transaction, st Stats) {
				if st.HeaderBytesLimit != 1 {
					t.Errorf("HeaderBytesLimit = %d", st.HeaderBytesLimit)
				}
				if n := len(txs[0].RequestHeaders); n != 2 {
					t.Errorf("%d request headers stored, want 2 (%q)", n, txs[0].RequestHeaders)
				}
			},
		},
		{
			name:  "start line longer than the header limit",
			cfg:   Config{MaxHeaderBytes: 40},
			steps: []step{C("GET /" + repeat("a", 100) + " HTTP/1.1\r\n\r\n" + msg("GET /ok HTTP/1.1", "Host: h")), S(ok0)},
			want:  []sum{get("/ok")},
			check: func(t *testing.T, _ []*reassembly.Transaction, st Stats) {
				if st.HeaderBytesLimit != 1 || st.BadStartLines != 0 || st.Resyncs != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name:  "header count",
			cfg:   Config{MaxHeaders: 4},
			steps: []step{C(manyHeaders), S(ok0)},
			want: []sum{{Method: "GET", URI: "/h", Path: "/h", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1",
				ReqLen: 2, ReqBody: "ab", Flags: fHdrLimit}},
			check: func(t *testing.T, txs []*reassembly.Transaction, st Stats) {
				if st.HeaderCountLimit != 1 || len(txs[0].RequestHeaders) != 4 {
					t.Errorf("HeaderCountLimit = %d, %d headers stored", st.HeaderCountLimit, len(txs[0].RequestHeaders))
				}
			},
		},
		{
			name: "body bytes",
			cfg:  Config{MaxBodyBytes: 4},
			steps: []step{
				C(msg("POST /p HTTP/1.1", "Host: h", "Content-Length: 10") + "0123456789"),
				S(msg("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"),
			},
			want: []sum{{Method: "POST", URI: "/p", Path: "/p", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1",
				ReqLen: 10, ReqBody: "0123", RespLen: 6, RespBody: "abcd", Flags: fBodyTrunc}},
			check: func(t *testing.T, _ []*reassembly.Transaction, st Stats) {
				if st.BodyLimit != 2 {
					t.Errorf("BodyLimit = %d, want 2", st.BodyLimit)
				}
			},
		},
		{
			name: "bodies not stored",
			cfg:  Config{MaxBodyBytes: -1},
			steps: []step{
				C(msg("POST /p HTTP/1.1", "Host: h", "Content-Length: 10") + "0123456789"),
				S(msg("HTTP/1.1 200 OK", "Content-Length: 2") + "ok"),
			},
			want: []sum{{Method: "POST", URI: "/p", Path: "/p", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1",
				ReqLen: 10, RespLen: 2}},
			check: func(t *testing.T, _ []*reassembly.Transaction, st Stats) {
				if st.BodyLimit != 0 {
					t.Errorf("BodyLimit = %d, want 0", st.BodyLimit)
				}
			},
		},
		{
			name: "pending requests",
			cfg:  Config{MaxPendingRequests: 2},
			steps: []step{
				C(msg("GET /1 HTTP/1.1", "Host: h") + msg("GET /2 HTTP/1.1", "Host: h") + msg("GET /3 HTTP/1.1", "Host: h")),
				S(ok0),
			},
			want: []sum{
				{Method: "GET", URI: "/1", Path: "/1", Host: "h", Version: "1.1", Flags: fNoResp},
				get("/2"),
				{Method: "GET", URI: "/3", Path: "/3", Host: "h", Version: "1.1", Flags: fNoResp},
			},
			check: func(t *testing.T, _ []*reassembly.Transaction, st Stats) {
				if st.PendingLimit != 1 {
					t.Errorf("PendingLimit = %d, want 1", st.PendingLimit)
				}
			},
		},
		{
			name: "pending limit cuts a response in progress",
			cfg:  Config{MaxPendingRequests: 1},
			steps: []step{
				C(msg("GET /1 HTTP/1.1", "Host: h")), S(msg("HTTP/1.1 200 OK", "Content-Length: 6") + "abc"),
				C(msg("GET /2 HTTP/1.1", "Host: h")), S("def" + ok0),
			},
			want: []sum{
				{Method: "GET", URI: "/1", Path: "/1", Host: "h", Version: "1.1", Status: 200, Reason: "OK", RespVersion: "1.1", Flags: fTrunc},
				get("/2"),
			},
			check: func(t *testing.T, _ []*reassembly.Transaction, st Stats) {
				if st.PendingLimit != 1 || st.Truncated != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "not HTTP: give up",
			cfg:  Config{MaxResyncBytes: 100},
			steps: []step{
				C("\x16\x03\x01" + repeat("\x00binary", 10)), S(repeat("\x17\x03\x03 tls", 30)), C(msg("GET / HTTP/1.1")),
			},
			check: func(t *testing.T, _ []*reassembly.Transaction, st Stats) {
				if st.GaveUp != 1 || st.Requests != 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name:  "resync limit does not apply once HTTP was seen",
			cfg:   Config{MaxResyncBytes: 10},
			steps: []step{C(msg("GET /1 HTTP/1.1", "Host: h") + repeat("junk ", 100) + "\r\n" + msg("GET /2 HTTP/1.1", "Host: h")), S(ok0 + ok0)},
			want:  []sum{get("/1"), get("/2")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stopped := -1
			txs, st := script{cfg: tc.cfg, steps: tc.steps, dataFalse: &stopped}.run(t)
			if tc.want != nil || tc.check == nil {
				diffSums(t, summarize(txs), tc.want)
			}
			if tc.check != nil {
				tc.check(t, txs, st)
			}
			// Limits must not depend on how the bytes are split either.
			again, _ := script{cfg: tc.cfg, steps: tc.steps, split: 1}.run(t)
			sameTransactions(t, "byte by byte", again, txs)
		})
	}
}

// TestGiveUpStopsData checks that Data reports the handler gave up.
func TestGiveUpStopsData(t *testing.T) {
	stopped := -1
	script{cfg: Config{MaxResyncBytes: 10}, steps: []step{C(strings.Repeat("\x00", 20)), C("more")}, dataFalse: &stopped}.run(t)
	if stopped != 0 {
		t.Errorf("Data returned false first at step %d, want 0", stopped)
	}
}

// TestTinySegmentsStayLinear delivers long lines one byte at a time: a
// request line growing to the header limit, garbage being skipped, a
// long header block. The work must stay linear in the bytes.
func TestTinySegmentsStayLinear(t *testing.T) {
	long := "GET /" + strings.Repeat("a", 200<<10)
	garbage := strings.Repeat("{\"k\":\"some json body without new lines\"}", 6<<10)
	hdrs := "GET /h HTTP/1.1\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("p", 90)+"\r\n", 600) + "\r\n"
	for _, tc := range []struct {
		name string
		data string
	}{{"long request line", long}, {"garbage", garbage}, {"long header block", hdrs}} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewFactory(Config{MaxResyncBytes: -1}, &discard{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			h := f.New(reassembly.ConnInfo{Client: testClient, Server: testServer}, testBase)
			h.Data(true, []byte(msg("GET / HTTP/1.1")), testBase) // HTTP seen: no giving up
			start := time.Now()
			b := []byte(tc.data)
			for i := range b {
				h.Data(true, b[i:i+1], testBase)
			}
			h.Close(reassembly.CloseFIN, testBase)
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("%d one-byte segments took %v", len(b), d)
			}
		})
	}
}
