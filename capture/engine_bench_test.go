package capture

import (
	"context"
	"io"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

// flowsPerWorker returns one client->server frame template per worker, each
// of a flow that hashes to that worker.
func flowsPerWorker(t testing.TB, workers int, payload []byte) [][]byte {
	server := netip.AddrPortFrom(netip.MustParseAddr("10.1.0.1"), 80)
	out := make([][]byte, workers)
	found := 0
	for port := uint16(1024); found < workers; port++ {
		client := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.7"), port)
		w := int(keyOf(client, server).Hash() % uint64(workers))
		if out[w] == nil {
			out[w] = ethTCPFrame(t, client, server, 1, payload)
			found++
		}
	}
	return out
}

// gatedSource yields frames in rounds: each value received on gate lets that
// many frames through. It cycles through frames.
type gatedSource struct {
	frames []testFrame
	i      int
	left   int
	gate   chan int
	closed chan struct{}
}

func (s *gatedSource) ReadFrame(f *Frame) error {
	if s.left == 0 {
		select {
		case s.left = <-s.gate:
		case <-s.closed:
			return io.EOF
		}
	}
	s.left--
	fr := &s.frames[s.i]
	if s.i++; s.i == len(s.frames) {
		s.i = 0
	}
	*f = Frame{Data: fr.Data, Timestamp: fr.TS, Length: fr.Len, LinkType: fr.Link}
	return nil
}

func (s *gatedSource) Close() error { return nil }

// roundHandler signals done after every per packets.
type roundHandler struct {
	n, per int
	bytes  int
	done   chan struct{}
}

func (h *roundHandler) HandlePacket(p *Packet) {
	h.bytes += len(p.Payload)
	if h.n++; h.n%h.per == 0 {
		h.done <- struct{}{}
	}
}

func (h *roundHandler) Flush(time.Time) {}

// TestEngineAllocs proves that the steady state allocates nothing per
// packet, inline (1 worker) and through batches (2 workers): one measured
// run moves a full batch to each worker and waits until the handlers have
// seen every packet.
func TestEngineAllocs(t *testing.T) {
	const batch = 32
	for _, workers := range []int{1, 2} {
		t.Run("workers="+strconv.Itoa(workers), func(t *testing.T) {
			tmpl := flowsPerWorker(t, workers, make([]byte, 700))
			var frames []testFrame
			for i := range batch {
				for w := range workers {
					frames = append(frames, testFrame{TS: fileEpoch.Add(time.Duration(i*workers+w) * time.Microsecond), Data: tmpl[w], Len: len(tmpl[w]), Link: LinkTypeEthernet})
				}
			}
			done := make(chan struct{}, workers)
			hs := make([]Handler, workers)
			for w := range hs {
				hs[w] = &roundHandler{per: batch, done: done}
			}
			e, err := NewEngine(EngineConfig{Workers: workers, BatchSize: batch, Block: true}, hs, nil)
			if err != nil {
				t.Fatal(err)
			}
			src := &gatedSource{frames: frames, gate: make(chan int), closed: make(chan struct{})}
			ran := make(chan error, 1)
			go func() { ran <- e.Run(context.Background(), src) }()
			round := func() {
				src.gate <- len(frames)
				for range workers {
					<-done
				}
			}
			for range 50 { // let the batch pool fill
				round()
			}
			allocs := testing.AllocsPerRun(200, round)
			close(src.closed)
			if err := <-ran; err != nil {
				t.Fatal(err)
			}
			if perPacket := allocs / float64(len(frames)); allocs != 0 {
				t.Errorf("%v allocations per round of %d packets (%.3f per packet), want 0", allocs, len(frames), perPacket)
			}
			if st := e.Stats(); st.Packets != uint64(251*len(frames)) {
				t.Errorf("Stats().Packets = %d, want %d", st.Packets, 251*len(frames))
			}
		})
	}
}

// countSource yields n frames cycling through frames.
type countSource struct {
	frames []testFrame
	i, n   int
}

func (s *countSource) ReadFrame(f *Frame) error {
	if s.n == 0 {
		return io.EOF
	}
	s.n--
	fr := &s.frames[s.i]
	if s.i++; s.i == len(s.frames) {
		s.i = 0
	}
	*f = Frame{Data: fr.Data, Timestamp: fr.TS, Length: fr.Len, LinkType: fr.Link}
	return nil
}

func (s *countSource) Close() error { return nil }

// sumHandler does some work per packet: it reads every payload byte
// rounds times (a stand-in for reassembly and HTTP parsing).
type sumHandler struct {
	rounds int
	sum    uint64
}

func (h *sumHandler) HandlePacket(p *Packet) {
	for range h.rounds {
		for _, c := range p.Payload {
			h.sum = h.sum*31 + uint64(c)
		}
	}
}

func (h *sumHandler) Flush(time.Time) {}

// BenchmarkEngine measures the engine's cost per packet (decode, shard,
// batch, hand-off) with a handler that only reads the payload ("light"),
// and how it scales with a handler that costs about a microsecond per
// packet ("heavy", roughly reassembly plus HTTP parsing). One op is one
// frame.
func BenchmarkEngine(b *testing.B) {
	tr := makeTraffic(b, 1024, 4, 20000) // many flows: an even split between workers
	frameBytes := tr.bytes / len(tr.frames)
	for _, bc := range []struct {
		name    string
		rounds  int
		workers int
	}{
		{"light/workers=1", 1, 1}, {"light/workers=2", 1, 2},
		{"heavy/workers=1", 20, 1}, {"heavy/workers=2", 20, 2},
	} {
		workers := bc.workers
		b.Run(bc.name, func(b *testing.B) {
			hs := make([]Handler, workers)
			for w := range hs {
				hs[w] = &sumHandler{rounds: bc.rounds}
			}
			e, err := NewEngine(EngineConfig{Workers: workers, Block: true}, hs, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(frameBytes))
			b.ReportAllocs()
			b.ResetTimer()
			if err := e.Run(context.Background(), &countSource{frames: tr.frames, n: b.N}); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
		})
	}
}
