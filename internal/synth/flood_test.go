package synth

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// floodFlow is one direction of a flood connection read back.
type floodFlow struct {
	syns, acks  int // SYN segments, and the others (all ACK)
	fin         bool
	next        uint32
	data        []byte
	first, last time.Time
}

func readFlood(t *testing.T, b []byte) (map[flowKey]*floodFlow, int64, time.Time, time.Time) {
	t.Helper()
	flows := map[flowKey]*floodFlow{}
	var first, last time.Time
	packets := readTCPv4(t, b, func(ts time.Time, k flowKey, tc *layers.TCP) {
		if first.IsZero() {
			first = ts
		}
		last = ts
		f := flows[k]
		if f == nil {
			f = &floodFlow{first: ts}
			flows[k] = f
		}
		f.last = ts
		switch {
		case tc.SYN:
			f.syns++
			f.next = tc.Seq + 1
			return
		case f.syns == 0:
			t.Fatalf("flow %v: segment before SYN", k)
		case tc.Seq != f.next:
			t.Fatalf("flow %v: seq %d, want %d", k, tc.Seq, f.next)
		}
		if rev := flows[flowKey{k.dst, k.src}]; rev == nil || !tc.ACK || tc.Ack != rev.next {
			t.Fatalf("flow %v: bad ACK", k)
		}
		f.acks++
		f.data = append(f.data, tc.Payload...)
		f.next += uint32(len(tc.Payload))
		if tc.FIN {
			f.fin = true
			f.next++
		}
	})
	return flows, packets, first, last
}

func TestWriteFlood(t *testing.T) {
	cfg := FloodConfig{HalfOpen: 3000, Idle: 400, Normal: 6, Exchanges: 15, Duration: 5 * time.Second, Seed: 3}
	var buf bytes.Buffer
	st, err := WriteFlood(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes != int64(buf.Len()) {
		t.Fatalf("stats say %d bytes, wrote %d", st.Bytes, buf.Len())
	}
	want := FloodStats{Bytes: st.Bytes, Packets: 3000 + 400*5 + 6*(3+15*3+3), HalfOpen: 3000, Idle: 400, Normal: 6, Exchanges: 6 * 15}
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	flows, packets, first, last := readFlood(t, buf.Bytes())
	if packets != st.Packets {
		t.Errorf("read %d packets, stats say %d", packets, st.Packets)
	}
	if !first.Equal(defaultStart) || last.Sub(first) > cfg.Duration || last.Sub(first) < cfg.Duration*9/10 {
		t.Errorf("capture spans %v to %v, want %v from %v", first, last, cfg.Duration, defaultStart)
	}
	kinds := map[netip.AddrPort]int{}
	idleURIs := map[string]bool{}
	for k, f := range flows {
		kinds[k.dst]++
		rev := flows[flowKey{k.dst, k.src}]
		switch k.dst {
		case netip.MustParseAddrPort("10.2.0.1:80"): // SYN flood
			if f.syns != 1 || f.acks != 0 || rev != nil {
				t.Fatalf("half-open %v: %d SYNs, %d other segments, answered %v", k, f.syns, f.acks, rev != nil)
			}
		case netip.MustParseAddrPort("10.2.0.2:80"): // idle
			if rev == nil || f.fin || rev.fin || len(rev.data) != 0 || rev.acks != 1 {
				t.Fatalf("idle %v: not a silent established connection", k)
			}
			req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(f.data)))
			if err != nil || req.Host != "idle.example.internal" {
				t.Fatalf("idle %v: request %q: %v", k, f.data, err)
			}
			idleURIs[req.RequestURI] = true
		case netip.MustParseAddrPort("10.3.0.1:8080"): // normal
			if rev == nil || !f.fin || !rev.fin {
				t.Fatalf("normal %v: not closed both ways", k)
			}
			conn := int(k.src.Addr().As4()[2])<<8 | int(k.src.Addr().As4()[3])
			xs := parseHTTP(t, f.data, rev.data)
			if len(xs) != cfg.Exchanges {
				t.Fatalf("normal %v: %d exchanges, want %d", k, len(xs), cfg.Exchanges)
			}
			for i, x := range xs {
				if x.method != "GET" || x.host != FloodHost || x.uri != FloodURI(conn, i) || x.status != 200 || len(x.respBody) == 0 {
					t.Fatalf("normal %v exchange %d: %+v", k, i, x)
				}
			}
			// The exchanges spread over the capture.
			if span := f.last.Sub(f.first); span < cfg.Duration/2 {
				t.Errorf("normal %v spans only %v of %v", k, span, cfg.Duration)
			}
		}
	}
	for dst, n := range map[string]int{"10.2.0.1:80": 3000, "10.2.0.2:80": 400, "10.3.0.1:8080": 6} {
		if got := kinds[netip.MustParseAddrPort(dst)]; got != n {
			t.Errorf("%d connections to %s, want %d (distinct 4-tuples)", got, dst, n)
		}
	}
	for i := range 400 {
		if !idleURIs["/idle/"+strconv.Itoa(i)] {
			t.Fatalf("idle request /idle/%d missing", i)
		}
	}
}

func TestFloodDeterministic(t *testing.T) {
	write := func(seed uint64) []byte {
		var buf bytes.Buffer
		if _, err := WriteFlood(&buf, FloodConfig{HalfOpen: 500, Idle: 50, Normal: 2, Seed: seed}); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if !bytes.Equal(write(1), write(1)) {
		t.Error("the same seed wrote different bytes")
	}
	if bytes.Equal(write(1), write(2)) {
		t.Error("different seeds wrote the same bytes")
	}
}

func TestFloodConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  FloodConfig
	}{
		{"negative half-open", FloodConfig{HalfOpen: -1}},
		{"negative duration", FloodConfig{Duration: -time.Second}},
		{"too many half-open", FloodConfig{HalfOpen: 1<<22 + 1}},
		{"too many normal", FloodConfig{Normal: 1<<16 + 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := WriteFlood(io.Discard, tc.cfg); err == nil {
				t.Error("no error")
			}
		})
	}
	if _, err := WriteFlood(failingWriter{}, FloodConfig{HalfOpen: 100000}); err == nil {
		t.Error("a failing writer gave no error")
	}
}

// BenchmarkWriteFlood writes the SYN flood part of the memory benchmark's
// capture.
func BenchmarkWriteFlood(b *testing.B) {
	const syns = 100000
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		st, err := WriteFlood(io.Discard, FloodConfig{HalfOpen: syns, Idle: syns / 10, Normal: 10})
		if err != nil {
			b.Fatal(err)
		}
		n = st.Bytes
	}
	b.SetBytes(n)
	b.ReportMetric(float64(syns)*float64(b.N)/b.Elapsed().Seconds(), "SYN/s")
}
