package synth

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/apitap/apitap/internal/pcaptest"
	"github.com/gopacket/gopacket/layers"
)

// bulkFlow is one direction of a bulk connection read back.
type bulkFlow struct {
	syn, fin bool
	isn      uint32
	next     uint32
	data     []byte
}

func TestWriteBulkAPI(t *testing.T) {
	const size = 3 << 20
	var buf bytes.Buffer
	st, err := WriteBulkAPI(&buf, BulkConfig{Size: size, Seed: 42, Clients: 50, Servers: 8, Conns: 16, Exchanges: 20})
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes != int64(buf.Len()) || st.Bytes < size || st.Bytes > size+size/10 {
		t.Fatalf("stats say %d bytes, wrote %d, target %d", st.Bytes, buf.Len(), size)
	}
	flows := map[flowKey]*bulkFlow{}
	var order []flowKey
	var payload int64
	packets := readTCPv4(t, buf.Bytes(), func(_ time.Time, k flowKey, tc *layers.TCP) {
		f := flows[k]
		if f == nil {
			f = &bulkFlow{}
			flows[k] = f
			order = append(order, k)
		}
		switch {
		case tc.SYN:
			if f.syn {
				t.Fatalf("flow %v: second SYN (port reuse)", k)
			}
			f.syn, f.isn, f.next = true, tc.Seq, tc.Seq+1
			return
		case !f.syn:
			t.Fatalf("flow %v: data before SYN", k)
		case f.fin:
			if !tc.ACK || len(tc.Payload) > 0 || tc.Seq != f.next {
				t.Fatalf("flow %v: segment after FIN", k)
			}
			return
		}
		if tc.Seq != f.next {
			t.Fatalf("flow %v: seq %d, want %d", k, tc.Seq, f.next)
		}
		if rev := flows[flowKey{k.dst, k.src}]; rev != nil && tc.ACK && tc.Ack != rev.next {
			t.Fatalf("flow %v: ack %d, want %d", k, tc.Ack, rev.next)
		}
		f.data = append(f.data, tc.Payload...)
		f.next += uint32(len(tc.Payload))
		payload += int64(len(tc.Payload))
		if tc.FIN {
			f.fin = true
			f.next++
		}
	})
	if packets != st.Packets || payload != st.PayloadBytes {
		t.Errorf("read %d packets, %d payload bytes; stats %d, %d", packets, payload, st.Packets, st.PayloadBytes)
	}
	if int64(len(flows)) != 2*st.Connections {
		t.Errorf("%d flows, stats say %d connections", len(flows), st.Connections)
	}
	methods := map[string]int64{}
	statuses := map[int]int64{}
	uris := map[string]bool{}
	servers := map[netip.Addr]bool{}
	var exchanges, chunked, gzipped int64
	for _, k := range order {
		if k.dst.Port() != 80 && k.dst.Port() != 8080 {
			continue
		}
		c2s, s2c := flows[k], flows[flowKey{k.dst, k.src}]
		if !c2s.fin || !s2c.fin {
			t.Errorf("connection %v not closed", k)
		}
		servers[k.dst.Addr()] = true
		resps := pcaptest.ForEachRequest(t, fmt.Sprintf("connection %v", k), c2s.data, s2c.data, func(req *http.Request, body []byte, resps *bufio.Reader) {
			if len(body) > 0 && !json.Valid(body) {
				t.Errorf("%s %s: request body is not JSON: %q", req.Method, req.RequestURI, body)
			}
			if !strings.HasPrefix(req.Host, "svc-") || !strings.HasSuffix(req.Host, ".example.internal") {
				t.Errorf("host %q", req.Host)
			}
			resp, err := http.ReadResponse(resps, req)
			if err != nil {
				t.Fatalf("connection %v: response to %s %s: %v", k, req.Method, req.RequestURI, err)
			}
			rb, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("response body: %v", err)
			}
			if resp.Header.Get("Content-Encoding") == "gzip" {
				gzipped++
				zr, err := gzip.NewReader(bytes.NewReader(rb))
				if err != nil {
					t.Fatalf("gzip: %v", err)
				}
				if rb, err = io.ReadAll(zr); err != nil {
					t.Fatalf("gzip: %v", err)
				}
			}
			if len(resp.TransferEncoding) > 0 {
				chunked++
			}
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && !json.Valid(rb) {
				t.Errorf("%s %s: response body is not JSON: %.200q", req.Method, req.RequestURI, rb)
			}
			methods[req.Method]++
			statuses[resp.StatusCode]++
			uris[req.RequestURI] = true
			exchanges++
		})
		if _, err := resps.Peek(1); err != io.EOF {
			t.Errorf("connection %v: response bytes left over", k)
		}
	}
	if exchanges != st.Exchanges || chunked != st.Chunked || gzipped != st.Gzip {
		t.Errorf("read %d exchanges (%d chunked, %d gzip); stats %d (%d, %d)", exchanges, chunked, gzipped, st.Exchanges, st.Chunked, st.Gzip)
	}
	for m, n := range st.Methods {
		if methods[m] != n {
			t.Errorf("method %s: read %d, stats %d", m, methods[m], n)
		}
	}
	for s, n := range st.Statuses {
		if statuses[s] != n {
			t.Errorf("status %d: read %d, stats %d", s, statuses[s], n)
		}
	}
	for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
		if methods[m] == 0 {
			t.Errorf("no %s requests", m)
		}
	}
	for _, s := range []int{200, 201, 204, 401, 404} {
		if statuses[s] == 0 {
			t.Errorf("no %d responses", s)
		}
	}
	if len(uris) < int(exchanges/2) || len(servers) != 8 || chunked == 0 || gzipped == 0 {
		t.Errorf("%d distinct URIs in %d exchanges, %d servers, %d chunked, %d gzip", len(uris), exchanges, len(servers), chunked, gzipped)
	}
}

func TestBulkDeterministic(t *testing.T) {
	gen := func(seed uint64) []byte {
		var b bytes.Buffer
		if _, err := WriteBulkAPI(&b, BulkConfig{Size: 1 << 20, Seed: seed}); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b, c := gen(1), gen(1), gen(2)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different bytes")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds, same bytes")
	}
}

func TestBulkConfigErrors(t *testing.T) {
	if _, err := WriteBulkAPI(io.Discard, BulkConfig{Servers: 101}); err == nil {
		t.Fatal("101 servers accepted")
	}
	w := failingWriter{}
	if _, err := WriteBulkAPI(w, BulkConfig{Size: 4 << 20}); err == nil || !strings.Contains(err.Error(), "synth: write bulk capture") {
		t.Fatalf("err = %v", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrShortWrite }

// TestBulkSteadyStateAllocs holds the bulk generator's per-exchange path
// (patch a template, cut it into packets, write them) to zero allocations.
func TestBulkSteadyStateAllocs(t *testing.T) {
	bw := &bulkWriter{w: bufio.NewWriterSize(io.Discard, 1<<20), cfg: BulkConfig{MSS: 1460, Rate: 1e9, Clients: 1, Servers: 1, Exchanges: 1 << 30}}
	bw.r = newTestRand()
	tmpls, table := apiTemplates(newTestRand())
	c := bw.open()
	step := func() {
		c.tmpl = int(table[bw.r.IntN(len(table))])
		bw.fillVals(c)
		bw.message(c, true, &tmpls[c.tmpl].req)
		bw.message(c, false, &tmpls[c.tmpl].resp)
		bw.packet(&c.c2s, &c.cid, c.cseq, c.sseq, tcpACK, nil)
	}
	for i := 0; i < 100; i++ { // grow the scratch buffer to its largest template
		step()
	}
	if n := testing.AllocsPerRun(1000, step); n != 0 {
		t.Fatalf("%v allocations per exchange, want 0", n)
	}
}

func BenchmarkWriteBulkAPI(b *testing.B) {
	const size = 32 << 20
	b.SetBytes(size)
	b.ReportAllocs()
	var st Stats
	for i := 0; i < b.N; i++ {
		var err error
		if st, err = WriteBulkAPI(io.Discard, BulkConfig{Size: size, Seed: uint64(i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(st.Packets)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}
