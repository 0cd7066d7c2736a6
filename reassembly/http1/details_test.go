package http1

import (
	"errors"
	"reflect"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/apitap/apitap/reassembly"
)

func TestHeadersAndTrailers(t *testing.T) {
	txs, _ := script{steps: []step{
		C("POST /p HTTP/1.1\r\nHost: h\r\nX-Long: a\r\n b\r\n\tc\r\nNo-Colon-Line\r\nSpace-Before : v\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"2\r\nab\r\n0\r\nX-Sum: 9\r\n\r\n"),
		S(msg("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "Trailer: X-T") + "0\r\nX-T: 1\r\nX-U: 2\r\n\r\n"),
	}}.run(t)
	if len(txs) != 1 {
		t.Fatalf("got %d transactions, want 1", len(txs))
	}
	tx := txs[0]
	wantReq := []reassembly.Header{
		{Name: "Host", Value: "h"}, {Name: "X-Long", Value: "a b c"}, {Name: "Space-Before", Value: "v"},
		{Name: "Transfer-Encoding", Value: "chunked"}, {Name: "X-Sum", Value: "9"},
	}
	if !reflect.DeepEqual(tx.RequestHeaders, wantReq) {
		t.Errorf("request headers = %q, want %q", tx.RequestHeaders, wantReq)
	}
	wantResp := []reassembly.Header{
		{Name: "Transfer-Encoding", Value: "chunked"}, {Name: "Trailer", Value: "X-T"},
		{Name: "X-T", Value: "1"}, {Name: "X-U", Value: "2"},
	}
	if !reflect.DeepEqual(tx.ResponseHeaders, wantResp) {
		t.Errorf("response headers = %q, want %q", tx.ResponseHeaders, wantResp)
	}
	if tx.Flags != fMalformed {
		t.Errorf("flags = %v, want [malformed]", tx.Flags.Names())
	}
}

func TestEndpointsAndRoles(t *testing.T) {
	tests := []struct {
		name       string
		info       reassembly.ConnInfo
		steps      []step
		wantClient string
		wantFlags  reassembly.Flags
	}{
		{
			name:       "guess right",
			info:       reassembly.ConnInfo{Client: testClient, Server: testServer, HandshakeSeen: true},
			steps:      []step{C(msg("GET / HTTP/1.1")), S(ok0)},
			wantClient: testClient.String(),
		},
		{
			// The assembler guessed the roles the wrong way round: the
			// "client" sends the response.
			name:       "guess wrong",
			info:       reassembly.ConnInfo{Client: testClient, Server: testServer},
			steps:      []step{S(msg("GET / HTTP/1.1")), C(ok0)},
			wantClient: testServer.String(),
			wantFlags:  fMid,
		},
		{
			name:       "server speaks first with a response",
			info:       reassembly.ConnInfo{Client: testServer, Server: testClient},
			steps:      []step{C(ok0), S(msg("GET / HTTP/1.1")), C(ok0)},
			wantClient: testClient.String(),
			wantFlags:  fMid,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info := tc.info
			txs, _ := script{info: &info, steps: tc.steps}.run(t)
			last := txs[len(txs)-1]
			if got := last.Client.String(); got != tc.wantClient {
				t.Errorf("client = %s, want %s", got, tc.wantClient)
			}
			if last.Server == last.Client {
				t.Errorf("server = client = %s", last.Server)
			}
			if last.Method != "GET" || last.Status != 200 || last.Flags != tc.wantFlags {
				t.Errorf("got %v", summarize(txs))
			}
		})
	}
}

func TestTimestamps(t *testing.T) {
	txs, _ := script{steps: []step{
		C("GET /a HTTP/1.1\r\n"), C("Host: h\r\n\r\n"), // steps 1, 2
		S(msg("HTTP/1.1 200 OK", "Content-Length: 4") + "ab"), S("cd"), // steps 3, 4
	}}.run(t)
	tx := txs[0]
	if !tx.RequestStart.Equal(stepTS(1)) || !tx.RequestEnd.Equal(stepTS(2)) ||
		!tx.ResponseStart.Equal(stepTS(3)) || !tx.ResponseEnd.Equal(stepTS(4)) {
		t.Errorf("timestamps %v %v %v %v", tx.RequestStart, tx.RequestEnd, tx.ResponseStart, tx.ResponseEnd)
	}
	if tx.Duration() != stepTS(4).Sub(stepTS(1)) || !tx.Time().Equal(stepTS(1)) {
		t.Errorf("duration %v time %v", tx.Duration(), tx.Time())
	}
}

func TestDataReturnsFalseAfterSwitch(t *testing.T) {
	for _, tc := range []struct {
		name string
		resp string
		flag reassembly.Flags
	}{
		{"upgrade", msg("HTTP/1.1 101 Switching Protocols", "Upgrade: h2c"), fUpgrade},
		{"connect", msg("HTTP/1.1 200 OK"), fConnect},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := msg("GET / HTTP/1.1", "Upgrade: h2c", "Connection: Upgrade")
			if tc.flag == fConnect {
				req = msg("CONNECT h:443 HTTP/1.1")
			}
			stoppedAt := -1
			txs, st := script{steps: []step{C(req), S(tc.resp), C("more bytes")}, dataFalse: &stoppedAt}.run(t)
			if stoppedAt != 1 {
				t.Errorf("Data first returned false at step %d, want 1", stoppedAt)
			}
			if len(txs) != 1 || txs[0].Flags&tc.flag == 0 {
				t.Fatalf("got %v", summarize(txs))
			}
			if st.Upgrades+st.Connects != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestStatsCounted(t *testing.T) {
	_, st := script{
		info: midInfo,
		steps: []step{
			S("junk\r\n" + msg("HTTP/1.1 200 OK", "Content-Length: 0")), // no request, garbage first
			C(msg("GET /1 HTTP/1.1", "Host: h") + msg("POST /2 HTTP/1.1", "Content-Length: 1", "Content-Length: 2") + "x"),
			S(msg("HTTP/1.1 100 Continue") + msg("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + "zz\r\n0\r\n\r\n"),
			GapS(7),
			C("GET /0.9\r\n"),
		},
	}.run(t)
	want := Stats{
		// The gap at a message boundary while POST /2 awaits its response
		// (pipelined) took that response: /2 has FlagGap too.
		Connections: 1, Requests: 3, Responses: 2, Interim: 1, Transactions: 4, NoResponse: 2, NoRequest: 1, HTTP09: 1,
		BadStartLines: 1, Malformed: 1, Smuggling: 2, BadChunks: 1,
		Resyncs: 2, ResyncBytes: 6, Gaps: 1, GapBytes: 7, ResponsesLost: 1,
	}
	if st != want {
		t.Errorf("stats\n got  %+v\n want %+v", st, want)
	}
	var sum Stats
	sum.Add(st)
	sum.Add(st)
	if sum.Requests != 6 || sum.GapBytes != 14 {
		t.Errorf("Add: %+v", sum)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	col := &collector{}
	f1, err := NewFactory(Config{}, col, reg)
	if err != nil {
		t.Fatal(err)
	}
	f2, err := NewFactory(Config{}, col, reg) // a second worker shares the series
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []*Factory{f1, f2} {
		h := f.New(reassembly.ConnInfo{Client: testClient, Server: testServer, HandshakeSeen: true}, testBase)
		h.Data(true, []byte(msg("GET / HTTP/1.1")), stepTS(1))
		h.Data(false, []byte(ok0), stepTS(2))
		h.Close(reassembly.CloseFIN, stepTS(3))
		f.Stats()
	}
	if got := testutil.ToFloat64(mustCounter(t, reg, "apitap_http_transactions_total")); got != 2 {
		t.Errorf("transactions_total = %v, want 2", got)
	}
	n, err := testutil.GatherAndCount(reg, "apitap_http_limits_total")
	if err != nil || n != 6 {
		t.Errorf("limits_total series = %d (%v), want 6", n, err)
	}
	if _, err := NewFactory(Config{}, col, nil); err != nil {
		t.Errorf("nil registerer: %v", err)
	}
}

func mustCounter(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name[len("apitap_http_"):], Namespace: "apitap", Subsystem: "http",
		Help: "Transactions emitted."})
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			return are.ExistingCollector
		}
		t.Fatal(err)
	}
	t.Fatalf("%s was not registered", name)
	return nil
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{
		{MaxHeaderBytes: -1}, {MaxHeaders: -1}, {MaxDecodedBytes: -1}, {MaxDecodeRatio: -1}, {MaxPendingRequests: -1},
	} {
		if _, err := NewFactory(cfg, &collector{}, nil); !errors.Is(err, errConfig) {
			t.Errorf("NewFactory(%+v) = %v, want a configuration error", cfg, err)
		}
	}
	if _, err := NewFactory(Config{}, nil, nil); err == nil {
		t.Error("nil sink accepted")
	}
	f, err := NewFactory(Config{MaxBodyBytes: -1, MaxResyncBytes: -1}, &collector{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := f.Config()
	want := Config{MaxHeaderBytes: DefaultMaxHeaderBytes, MaxHeaders: DefaultMaxHeaders, MaxBodyBytes: -1,
		MaxDecodedBytes: DefaultMaxDecodedBytes, MaxDecodeRatio: DefaultMaxDecodeRatio,
		MaxPendingRequests: DefaultMaxPendingRequests, MaxResyncBytes: -1}
	if got != want {
		t.Errorf("Config() = %+v, want %+v", got, want)
	}
}
