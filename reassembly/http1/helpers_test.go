package http1

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apitap/apitap/reassembly"
)

// collector is a TransactionSink keeping every transaction.
type collector struct{ txs []*reassembly.Transaction }

func (c *collector) HandleTransaction(t *reassembly.Transaction) { c.txs = append(c.txs, t) }

// discard is a TransactionSink that only counts.
type discard struct{ n int }

func (d *discard) HandleTransaction(*reassembly.Transaction) { d.n++ }

// step is one callback of a scripted connection.
type step struct {
	kind   byte // 'd' data, 'g' gap, 'f' fin
	client bool
	data   string
	n      int
}

func C(s string) step               { return step{kind: 'd', client: true, data: s} }
func S(s string) step               { return step{kind: 'd', data: s} }
func GapC(n int) step               { return step{kind: 'g', client: true, n: n} }
func GapS(n int) step               { return step{kind: 'g', n: n} }
func FinC() step                    { return step{kind: 'f', client: true} }
func FinS() step                    { return step{kind: 'f'} }
func msg(lines ...string) string    { return strings.Join(lines, "\r\n") + "\r\n\r\n" }
func lfmsg(lines ...string) string  { return strings.Join(lines, "\n") + "\n\n" }
func repeat(s string, n int) string { return strings.Repeat(s, n) }

var (
	testClient = netip.MustParseAddrPort("10.0.0.1:40000")
	testServer = netip.MustParseAddrPort("10.0.0.2:80")
	testBase   = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
)

func stepTS(i int) time.Time { return testBase.Add(time.Duration(i) * time.Millisecond) }

// script runs steps through one handler and closes it with reason. split,
// when positive, delivers each data step in pieces of at most split bytes;
// splitAt, when positive, splits each data step once at that offset. The
// pieces of one step share its timestamp.
type script struct {
	cfg       Config
	info      *reassembly.ConnInfo
	steps     []step
	reason    reassembly.CloseReason
	split     int
	splitAt   int
	noClose   bool
	dataFalse *int // set to the step index where Data first returned false
}

func (s script) run(t testing.TB) ([]*reassembly.Transaction, Stats) {
	t.Helper()
	col := &collector{}
	f, err := NewFactory(s.cfg, col, nil)
	if err != nil {
		t.Fatalf("NewFactory: %v", err)
	}
	info := reassembly.ConnInfo{Client: testClient, Server: testServer, HandshakeSeen: true}
	if s.info != nil {
		info = *s.info
	}
	h := f.New(info, testBase)
	stopped := -1
	for i, st := range s.steps {
		ts := stepTS(i + 1)
		switch st.kind {
		case 'd':
			for _, piece := range pieces(st.data, s.split, s.splitAt) {
				if !h.Data(st.client, []byte(piece), ts) && stopped < 0 {
					stopped = i
				}
			}
		case 'g':
			h.Gap(st.client, st.n, ts)
		case 'f':
			h.Fin(st.client, ts)
		}
	}
	if !s.noClose {
		h.Close(s.reason, stepTS(len(s.steps)+1))
	}
	if s.dataFalse != nil {
		*s.dataFalse = stopped
	}
	return col.txs, f.Stats()
}

func pieces(s string, split, splitAt int) []string {
	switch {
	case split > 0:
		var out []string
		for len(s) > split {
			out = append(out, s[:split])
			s = s[split:]
		}
		return append(out, s)
	case splitAt > 0 && splitAt < len(s):
		return []string{s[:splitAt], s[splitAt:]}
	}
	return []string{s}
}

// sum is the part of a transaction that table tests compare.
type sum struct {
	Method, URI, Path, Host, Version string
	Status                           int
	Reason, RespVersion              string
	ReqLen, RespLen                  int64
	ReqBody, RespBody                string
	Flags                            reassembly.Flags
}

func summarize(txs []*reassembly.Transaction) []sum {
	out := make([]sum, 0, len(txs))
	for _, t := range txs {
		out = append(out, sum{
			Method: t.Method, URI: t.URI, Path: t.Path, Host: t.Host, Version: t.Version,
			Status: t.Status, Reason: t.Reason, RespVersion: t.ResponseVersion,
			ReqLen: t.RequestBodyLen, RespLen: t.ResponseBodyLen,
			ReqBody: string(t.RequestBody), RespBody: string(t.ResponseBody),
			Flags: t.Flags,
		})
	}
	return out
}

func (s sum) String() string {
	return fmt.Sprintf("{%q %q path=%q host=%q v=%q | %d %q v=%q | req=%d %q resp=%d %q | %v}",
		s.Method, s.URI, s.Path, s.Host, s.Version, s.Status, s.Reason, s.RespVersion,
		s.ReqLen, clip(s.ReqBody), s.RespLen, clip(s.RespBody), s.Flags.Names())
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func diffSums(t testing.TB, got, want []sum) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	var b strings.Builder
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w string
		if i < len(got) {
			g = got[i].String()
		}
		if i < len(want) {
			w = want[i].String()
		}
		mark := "  "
		if g != w {
			mark = "!!"
		}
		fmt.Fprintf(&b, "%s tx %d\n     got  %s\n     want %s\n", mark, i, g, w)
	}
	t.Errorf("transactions differ:\n%s", b.String())
}

// sameTransactions compares complete transactions (headers, bodies,
// timestamps included).
func sameTransactions(t testing.TB, label string, got, want []*reassembly.Transaction) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d transactions, want %d\n got  %v\n want %v", label, len(got), len(want), summarize(got), summarize(want))
	}
	for i := range got {
		if !reflect.DeepEqual(normalizeTx(got[i]), normalizeTx(want[i])) {
			t.Fatalf("%s: transaction %d differs:\n got  %+v\n want %+v", label, i, *got[i], *want[i])
		}
	}
}

// normalizeTx makes nil and empty slices compare equal.
func normalizeTx(t *reassembly.Transaction) reassembly.Transaction {
	c := *t
	if len(c.RequestBody) == 0 {
		c.RequestBody = nil
	}
	if len(c.ResponseBody) == 0 {
		c.ResponseBody = nil
	}
	if len(c.RequestHeaders) == 0 {
		c.RequestHeaders = nil
	}
	if len(c.ResponseHeaders) == 0 {
		c.ResponseHeaders = nil
	}
	return c
}

const (
	fGap       = reassembly.FlagGap
	fTrunc     = reassembly.FlagTruncated
	fMalformed = reassembly.FlagMalformed
	fNoResp    = reassembly.FlagNoResponse
	fNoReq     = reassembly.FlagNoRequest
	fMid       = reassembly.FlagMidstream
	fSmuggle   = reassembly.FlagSmuggling
	fUpgrade   = reassembly.FlagUpgrade
	fConnect   = reassembly.FlagConnect
	fBodyTrunc = reassembly.FlagBodyTruncated
	fDecodeErr = reassembly.FlagDecodeError
	fHdrLimit  = reassembly.FlagHeaderLimit
	fContinue  = reassembly.FlagContinue
)
