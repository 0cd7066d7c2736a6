package main

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/apitap/apitap/capture"
	"github.com/apitap/apitap/internal/synth"
	"github.com/apitap/apitap/reassembly"
	"github.com/apitap/apitap/reassembly/http1"
)

// TestMemoryCosts measures what the memory budget (memory.go) charges:
// the heap one connection holds in each state a flood leaves it in, the
// memory per out-of-order byte, and a queued transaction. It fails when a
// measurement exceeds the constant charged for it, so the budget cannot
// drift from the code. Run it with -v to see the figures
// (docs/PERFORMANCE.md, "Memory", quotes them).
func TestMemoryCosts(t *testing.T) {
	const n = 20000
	get := []byte("GET /api/v1/users/1234567?expand=orders HTTP/1.1\r\nHost: svc-01.example.internal\r\n" +
		"User-Agent: synth/1.0\r\nAccept: application/json\r\nAuthorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789\r\n\r\n")
	post := []byte("POST /api/v1/upload HTTP/1.1\r\nHost: svc-01.example.internal\r\nContent-Type: application/json\r\n" +
		"Content-Length: 1048576\r\n\r\n{\"data\":\"" + string(bytes.Repeat([]byte{'x'}, 80)) + "\"")
	tiny := func(segs int) func(c *floodConn) {
		return func(c *floodConn) {
			c.handshake()
			for i := range segs {
				// One byte every other byte, after a hole: nothing merges.
				c.client(uint32(1+2*i), get[i:i+1])
			}
		}
	}
	cases := []struct {
		name   string
		feed   func(c *floodConn)
		charge int64 // bytes the budget charges per connection
	}{
		{"half-open (SYN only)", func(c *floodConn) { c.syn() }, halfOpenBytes},
		{"established, idle", func(c *floodConn) { c.handshake() }, connBytes},
		{"established, small request in flight", func(c *floodConn) { c.handshake(); c.client(0, get) }, connBytes},
		{"established, 1000 B out of order (charged with its 1 KiB buffer)", func(c *floodConn) {
			c.handshake()
			c.client(100, bytes.Repeat([]byte{'x'}, 1000))
		}, connBytes + oooFactor*1024},
		{"established, request announcing a 1 MiB body, 100 B sent", func(c *floodConn) { c.handshake(); c.client(0, post) }, connBytes},
	}
	measured := map[string]float64{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			per, st := measureConns(t, n, tc.feed)
			measured[tc.name] = per
			t.Logf("%-60s %6.0f B per connection (charged %d; open %d, buffered %d B)", tc.name, per, tc.charge, st.OpenConnections, st.BufferedBytes)
			if st.OpenConnections != n {
				t.Fatalf("%d connections open, want %d", st.OpenConnections, n)
			}
			if per > float64(tc.charge) {
				t.Errorf("%s: %.0f B per connection, more than the %d B memory.go charges: update the budget constants (or shrink the cost)", tc.name, per, tc.charge)
			}
		})
	}

	t.Run("out-of-order bytes", func(t *testing.T) {
		// The memory per accounted out-of-order byte, from the difference
		// between connections holding 33 and 2 one-byte segments (64 B of
		// buffer each): the segment records are the overhead, at their
		// worst just after their slice doubled (32 → 64).
		lo, stLo := measureConns(t, n/4, tiny(2))
		hi, stHi := measureConns(t, n/4, tiny(33))
		held := float64(stHi.BufferedBytes-stLo.BufferedBytes) / float64(n/4)
		factor := (hi - lo) / held
		t.Logf("out-of-order: %.2f B of memory per buffered byte accounted (charged %d), worst case of 1-byte segments", factor, oooFactor)
		if held <= 0 || factor > oooFactor {
			t.Errorf("out-of-order: %.2f B per accounted byte (held %.0f B per connection), more than oooFactor %d", factor, held, oooFactor)
		}
	})

	t.Run("queued transaction", func(t *testing.T) {
		per, count := measureTransactions(t)
		t.Logf("queued transaction: %.0f B each over %d JSON API exchanges (charged %d)", per, count, txBytes)
		if per > txBytes {
			t.Errorf("a queued transaction holds %.0f B, more than txBytes %d", per, txBytes)
		}
	})
}

// floodConn scripts the packets of one connection straight into an
// assembler.
type floodConn struct {
	a    *reassembly.Assembler
	flow capture.FlowKey
	ts   time.Time
}

const floodISN, floodServerISN = 1000, 5000

func (c *floodConn) send(p capture.Packet) {
	p.Timestamp = c.ts
	c.a.HandlePacket(&p)
}

func (c *floodConn) syn() {
	c.send(capture.Packet{Flow: c.flow, Seq: floodISN, Flags: capture.FlagSYN})
}

func (c *floodConn) handshake() {
	c.syn()
	c.send(capture.Packet{Flow: c.flow.Reverse(), Seq: floodServerISN, Ack: floodISN + 1, Flags: capture.FlagSYN | capture.FlagACK})
	c.send(capture.Packet{Flow: c.flow, Seq: floodISN + 1, Ack: floodServerISN + 1, Flags: capture.FlagACK})
}

// client sends payload at offset off of the client's stream.
func (c *floodConn) client(off uint32, payload []byte) {
	c.send(capture.Packet{Flow: c.flow, Seq: floodISN + 1 + off, Ack: floodServerISN + 1,
		Flags: capture.FlagACK | capture.FlagPSH, Payload: payload})
}

// floodFlow returns the client→server flow of connection i: distinct
// client addresses and ports towards one server.
func floodFlow(i int) capture.FlowKey {
	var k capture.FlowKey
	k.SrcIP[10], k.SrcIP[11], k.SrcIP[12], k.SrcIP[13] = 0xff, 0xff, 10, 9
	binary.BigEndian.PutUint16(k.SrcIP[14:], uint16(i>>14))
	k.DstIP[10], k.DstIP[11], k.DstIP[12], k.DstIP[13], k.DstIP[14], k.DstIP[15] = 0xff, 0xff, 10, 2, 0, 1
	k.SrcPort = uint16(1024 + i&(1<<14-1))
	k.DstPort = 80
	return k
}

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

type discardTx struct{ n int }

func (d *discardTx) HandleTransaction(*reassembly.Transaction) { d.n++ }

// measureConns opens n connections in a fresh worker (assembler and HTTP
// factory, default settings but a table of exactly n) and returns the heap
// they hold, per connection, and the assembler's stats.
func measureConns(t *testing.T, n int, feed func(c *floodConn)) (float64, reassembly.Stats) {
	t.Helper()
	f, err := http1.NewFactory(http1.Config{}, &discardTx{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := liveHeap()
	a, err := reassembly.NewAssembler(reassembly.Config{MaxConnections: n}, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := floodConn{a: a, ts: time.Unix(1_700_000_000, 0)}
	for i := range n {
		c.flow = floodFlow(i)
		feed(&c)
	}
	after := liveHeap()
	st := a.Stats()
	runtime.KeepAlive(a)
	runtime.KeepAlive(f)
	return float64(int64(after)-int64(before)) / float64(n), st
}

// keepTx keeps every transaction, as a full storage queue does.
type keepTx struct{ txs []*reassembly.Transaction }

func (k *keepTx) HandleTransaction(t *reassembly.Transaction) { k.txs = append(k.txs, t) }

// measureTransactions runs a synthesized JSON API capture through one
// worker, keeps the transactions and returns the heap each holds.
func measureTransactions(t *testing.T) (float64, int) {
	t.Helper()
	var pcap bytes.Buffer
	if _, err := synth.WriteBulkAPI(&pcap, synth.BulkConfig{Size: 8 << 20, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	keep := &keepTx{}
	f, err := http1.NewFactory(http1.Config{}, keep, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := reassembly.NewAssembler(reassembly.Config{}, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenFiles([]string{"-"}, capture.FileConfig{Stdin: bytes.NewReader(pcap.Bytes())})
	if err != nil {
		t.Fatal(err)
	}
	e, err := capture.NewEngine(capture.EngineConfig{Workers: 1}, []capture.Handler{a}, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := liveHeap()
	if err := e.Run(t.Context(), src); err != nil {
		t.Fatal(err)
	}
	after := liveHeap()
	if len(keep.txs) == 0 {
		t.Fatal("no transactions")
	}
	per := float64(int64(after)-int64(before)) / float64(len(keep.txs))
	runtime.KeepAlive(keep)
	runtime.KeepAlive(&pcap)
	return per, len(keep.txs)
}
