package http1

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apitap/apitap/reassembly"
)

// fuzzScript decodes a fuzz input into callbacks. The input is a sequence
// of records: one control byte, then for data records a length byte and
// that many bytes. Control byte (mod 8): 0-3 client data, 4 server data
// (twice as likely on the client side, where most shapes are), 5 a gap of
// the next byte's value (255: unknown size) on the side given by bit 3, 6
// a FIN, 7 data on both sides.
func fuzzScript(in []byte) []step {
	var steps []step
	for len(in) > 0 {
		ctl := in[0]
		in = in[1:]
		client := ctl&8 == 0
		switch ctl % 8 {
		case 5:
			if len(in) == 0 {
				return steps
			}
			n := int(in[0])
			if n == 255 {
				n = -1
			}
			in = in[1:]
			steps = append(steps, step{kind: 'g', client: client, n: n})
		case 6:
			steps = append(steps, step{kind: 'f', client: client})
		default:
			if len(in) == 0 {
				return steps
			}
			n := min(int(in[0]), len(in)-1)
			data := string(in[1 : 1+n])
			in = in[1+n:]
			switch ctl % 8 {
			case 4:
				steps = append(steps, S(data))
			case 7:
				steps = append(steps, C(data), S(data))
			default:
				steps = append(steps, C(data))
			}
		}
	}
	return steps
}

// fuzzRecord encodes steps the way fuzzScript decodes them, for the seed
// corpus.
func fuzzRecord(steps ...step) []byte {
	var out []byte
	for _, st := range steps {
		switch st.kind {
		case 'd':
			ctl := byte(0)
			if !st.client {
				ctl = 4
			}
			for data := st.data; ; {
				n := min(len(data), 255)
				out = append(out, ctl, byte(n))
				out = append(out, data[:n]...)
				data = data[n:]
				if len(data) == 0 {
					break
				}
			}
		case 'g':
			ctl := byte(5)
			if !st.client {
				ctl |= 8
			}
			n := byte(st.n)
			if st.n < 0 {
				n = 255
			}
			out = append(out, ctl, n)
		case 'f':
			ctl := byte(6)
			if !st.client {
				ctl |= 8
			}
			out = append(out, ctl)
		}
	}
	return out
}

// FuzzParser runs arbitrary callback sequences through a handler, with
// small limits so that they are reached, and checks that nothing panics,
// that the transactions are sane and that splitting every data callback
// in two changes nothing.
func FuzzParser(f *testing.F) {
	// The parse cases are seeds in testdata/fuzz/FuzzParser.
	f.Add(fuzzRecord(C(msg("GET / HTTP/1.1", "Host: h")), S(msg("HTTP/1.1 200 OK", "Content-Encoding: gzip", "Content-Length: 20")+
		"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\xcbH\xcd\xc9\xc9\x07\x00\x86\xa6\x106\x05\x00\x00\x00")))
	for _, tc := range lostCases { // gaps that take whole messages
		f.Add(fuzzRecord(tc.steps...))
	}
	cfg := Config{MaxHeaderBytes: 512, MaxHeaders: 8, MaxBodyBytes: 256, MaxDecodedBytes: 1024, MaxPendingRequests: 4, MaxResyncBytes: 2048}
	f.Fuzz(func(t *testing.T, in []byte) {
		steps := fuzzScript(in)
		txs, st := runFuzz(t, cfg, steps, 0)
		for _, tx := range txs {
			checkSane(t, cfg, tx)
		}
		if st.Transactions != uint64(len(txs)) {
			t.Fatalf("Stats.Transactions = %d, %d emitted", st.Transactions, len(txs))
		}
		halves, _ := runFuzz(t, cfg, steps, 2)
		sameTransactions(t, "halves", halves, txs)
		if len(in) < 400 {
			bytewise, _ := runFuzz(t, cfg, steps, 1)
			sameTransactions(t, "byte by byte", bytewise, txs)
		}
	})
}

// runFuzz runs steps, all at one timestamp (only framing is compared),
// delivering each data step whole (split 0), in two halves (split 2) or
// one byte at a time (split 1).
func runFuzz(t *testing.T, cfg Config, steps []step, split int) ([]*reassembly.Transaction, Stats) {
	t.Helper()
	col := &collector{}
	f, err := NewFactory(cfg, col, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := f.New(reassembly.ConnInfo{Client: testClient, Server: testServer, HandshakeSeen: true}, testBase)
	for _, st := range steps {
		switch st.kind {
		case 'd':
			switch {
			case split == 2 && len(st.data) > 1:
				m := len(st.data) / 2
				h.Data(st.client, []byte(st.data[:m]), testBase)
				h.Data(st.client, []byte(st.data[m:]), testBase)
			case split == 1:
				for i := range len(st.data) {
					h.Data(st.client, []byte(st.data[i:i+1]), testBase)
				}
			default:
				h.Data(st.client, []byte(st.data), testBase)
			}
		case 'g':
			h.Gap(st.client, st.n, testBase)
		case 'f':
			h.Fin(st.client, testBase)
		}
	}
	h.Close(reassembly.CloseFIN, testBase)
	return col.txs, f.Stats()
}

func checkSane(t *testing.T, cfg Config, tx *reassembly.Transaction) {
	t.Helper()
	if tx.Status < 0 || tx.Status > 999 {
		t.Fatalf("status %d", tx.Status)
	}
	if tx.RequestBodyLen < 0 || tx.ResponseBodyLen < 0 {
		t.Fatalf("negative body length %d %d", tx.RequestBodyLen, tx.ResponseBodyLen)
	}
	for _, b := range [][]byte{tx.RequestBody, tx.ResponseBody} {
		if len(b) > max(cfg.MaxBodyBytes, cfg.MaxDecodedBytes) {
			t.Fatalf("body of %d bytes over the limits", len(b))
		}
	}
	if len(tx.RequestHeaders) > cfg.MaxHeaders || len(tx.ResponseHeaders) > cfg.MaxHeaders {
		t.Fatalf("%d/%d headers over the limit", len(tx.RequestHeaders), len(tx.ResponseHeaders))
	}
	if tx.RequestStart.IsZero() && tx.Flags&reassembly.FlagNoRequest == 0 {
		t.Fatalf("no method without no_request: %+v", *tx)
	}
	if tx.ResponseStart.IsZero() && tx.Flags&reassembly.FlagNoResponse == 0 {
		t.Fatalf("no response without no_response: %+v", *tx)
	}
}

var updateSeeds = flag.Bool("update", false, "rewrite the seed corpus in testdata/fuzz/FuzzParser")

// TestFuzzSeedCorpus keeps a seed file per parse case in
// testdata/fuzz/FuzzParser (regenerate with -update); a missing or stale
// one fails.
func TestFuzzSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParser")
	for _, tc := range parseCases {
		name := "seed-" + slug(tc.name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", fuzzRecord(tc.steps...))
		path := filepath.Join(dir, name)
		if *updateSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("seed corpus: %v (regenerate with go test -run TestFuzzSeedCorpus -update)", err)
			continue
		}
		if string(got) != want {
			t.Errorf("seed %s is stale (regenerate with -update)", path)
		}
	}
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
