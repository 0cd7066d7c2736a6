package capture

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// checkDelivery verifies that every flow reached one worker, the one its
// hash names, complete and in order, and that each handler was flushed
// once, at the end, with the last timestamp.
func checkDelivery(t *testing.T, tr *traffic, rs []*recHandler, last time.Time) {
	t.Helper()
	got := map[FlowKey][]pktRec{}
	owner := map[FlowKey]int{}
	total := 0
	for _, r := range rs {
		if r.flushes != 1 {
			t.Errorf("worker %d: Flush called %d times, want 1", r.index, r.flushes)
		}
		if !r.flushAt.Equal(last) {
			t.Errorf("worker %d: Flush(%v), want %v", r.index, r.flushAt, last)
		}
		if r.late != 0 || r.wrong != 0 {
			t.Errorf("worker %d: %d packets after Flush, %d packets of other workers' flows", r.index, r.late, r.wrong)
		}
		if n := r.overlap.Load(); n != 0 || r.lateTicks != 0 {
			t.Errorf("worker %d: %d calls concurrent with another, %d ticks after Flush", r.index, n, r.lateTicks)
		}
		for _, p := range r.pkts {
			k, ok := tr.canon[p.Flow]
			if !ok {
				t.Fatalf("worker %d: packet of unknown flow %v", r.index, p.Flow)
			}
			if w, seen := owner[k]; seen && w != r.index {
				t.Errorf("flow %v delivered to workers %d and %d", k.Src(), w, r.index)
			}
			owner[k] = r.index
			got[k] = append(got[k], p)
			total++
		}
	}
	if total != tr.packets {
		t.Errorf("handlers got %d packets, want %d", total, tr.packets)
	}
	for k, want := range tr.perFlow {
		g := got[k]
		if len(g) != len(want) {
			t.Errorf("flow %v: %d packets, want %d", k.Src(), len(g), len(want))
			continue
		}
		for i := range want {
			if g[i].Flow != want[i].Flow || g[i].Seq != want[i].Seq || g[i].Payload != want[i].Payload || !g[i].TS.Equal(want[i].TS) {
				t.Errorf("flow %v packet %d: got %+v, want %+v", k.Src(), i, g[i], want[i])
				break
			}
		}
	}
}

func TestEngineDelivery(t *testing.T) {
	tr := makeTraffic(t, 37, 40, 40000)
	last := tr.frames[len(tr.frames)-1].TS
	// Two sources: flows split between them, as fanout members would.
	var half [2][]testFrame
	for _, f := range tr.frames {
		client := tr.canon[frameFlow(f.Data)].SrcPort
		half[client%2] = append(half[client%2], f)
	}
	if len(half[0]) == 0 || len(half[1]) == 0 {
		t.Fatal("the flows were not split between the two sources")
	}
	tests := []struct {
		name       string
		workers    int
		sources    int
		batch      int
		batchBytes int
	}{
		{"1 worker inline", 1, 1, 0, 0},
		{"1 worker 2 sources", 1, 2, 0, 0},
		{"2 workers", 2, 1, 0, 0},
		{"3 workers small batches", 3, 1, 7, 0},
		{"4 workers 2 sources", 4, 2, 16, 0},
		{"2 workers tiny arena", 2, 1, 64, 100}, // payloads larger than the arena
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, hs := newRecorders(t, tt.workers)
			e, err := NewEngine(EngineConfig{Workers: tt.workers, BatchSize: tt.batch, BatchBytes: tt.batchBytes, QueueBatches: 2, Block: true}, hs, nil)
			if err != nil {
				t.Fatal(err)
			}
			var srcs []Source
			if tt.sources == 1 {
				srcs = []Source{&sliceSource{frames: tr.frames}}
			} else {
				srcs = []Source{&sliceSource{frames: half[0]}, &sliceSource{frames: half[1]}}
			}
			if err := e.Run(context.Background(), srcs...); err != nil {
				t.Fatalf("Run: %v", err)
			}
			checkDelivery(t, tr, rs, last)
			st := e.Stats()
			if st.Frames != uint64(len(tr.frames)) || st.Packets != uint64(tr.packets) || st.Bytes != uint64(tr.bytes) {
				t.Errorf("Stats frames/packets/bytes = %d/%d/%d, want %d/%d/%d", st.Frames, st.Packets, st.Bytes, len(tr.frames), tr.packets, tr.bytes)
			}
			var sum uint64
			for w, n := range st.WorkerPackets {
				if n != uint64(rs[w].count()) {
					t.Errorf("WorkerPackets[%d] = %d, handler got %d", w, n, rs[w].count())
				}
				sum += n
			}
			if sum != uint64(tr.packets) || st.DroppedBatches != 0 || st.DroppedPackets != 0 {
				t.Errorf("worker packets %d (want %d), dropped %d/%d", sum, tr.packets, st.DroppedBatches, st.DroppedPackets)
			}
			if !st.First.Equal(fileEpoch) || !st.Last.Equal(last) {
				t.Errorf("First, Last = %v, %v; want %v, %v", st.First, st.Last, fileEpoch, last)
			}
			if st.Decoder.TCP != uint64(tr.packets) {
				t.Errorf("Decoder.TCP = %d, want %d", st.Decoder.TCP, tr.packets)
			}
		})
	}
}

func TestEngineFromFiles(t *testing.T) {
	tr := makeTraffic(t, 9, 30, 50000)
	last := tr.frames[len(tr.frames)-1].TS
	dir := t.TempDir()
	// Split by frame position into two files: the merge must restore the order.
	var even, odd []testFrame
	for i, f := range tr.frames {
		if i%3 == 0 {
			even = append(even, f)
		} else {
			odd = append(odd, f)
		}
	}
	paths := []string{
		writeCapture(t, dir, "a.pcap", pcapgoFile(t, true, LinkTypeEthernet, even)),
		writeCapture(t, dir, "b.pcap.gz", gzipBytes(t, pcapgoFile(t, true, LinkTypeEthernet, odd))),
	}
	for _, workers := range []int{1, 2, 3} {
		t.Run("workers="+strconv.Itoa(workers), func(t *testing.T) {
			src := mustOpen(t, paths, FileConfig{})
			rs, hs := newRecorders(t, workers)
			e, err := NewEngine(EngineConfig{Workers: workers, Block: true}, hs, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Run(context.Background(), src); err != nil {
				t.Fatal(err)
			}
			checkDelivery(t, tr, rs, last)
			for _, r := range rs {
				if r.ticks != 0 {
					t.Errorf("worker %d: ticked %d times reading files (only live capture ticks)", r.index, r.ticks)
				}
			}
		})
	}
}

func TestEngineSourceError(t *testing.T) {
	tr := makeTraffic(t, 5, 20, 41000)
	cut := pcapgoFile(t, true, LinkTypeEthernet, tr.frames)
	cut = cut[:len(cut)-10] // the last frame is cut short
	p := writeCapture(t, t.TempDir(), "cut.pcap", cut)
	// Everything but the last frame must be delivered.
	last := tr.frames[len(tr.frames)-2].TS
	lastFlow := tr.canon[frameFlow(tr.frames[len(tr.frames)-1].Data)]
	tr.perFlow[lastFlow] = tr.perFlow[lastFlow][:len(tr.perFlow[lastFlow])-1]
	tr.packets--
	for _, workers := range []int{1, 2} {
		t.Run("workers="+strconv.Itoa(workers), func(t *testing.T) {
			src := mustOpen(t, []string{p}, FileConfig{})
			rs, hs := newRecorders(t, workers)
			e, err := NewEngine(EngineConfig{Workers: workers, Block: true}, hs, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = e.Run(context.Background(), src)
			if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "cut.pcap") {
				t.Fatalf("Run = %v, want the truncation of cut.pcap", err)
			}
			checkDelivery(t, tr, rs, last)
		})
	}
}

func TestEngineDropsWhenQueueFull(t *testing.T) {
	tr := makeTraffic(t, 16, 50, 42000)
	rs, hs := newRecorders(t, 2)
	// Worker handlers block until the source has been read to the end.
	release := make(chan struct{})
	for _, r := range rs {
		r.gate = release
	}
	src := &endSignal{sliceSource: sliceSource{frames: tr.frames}, atEnd: func() { close(release) }}
	e, err := NewEngine(EngineConfig{Workers: 2, BatchSize: 4, QueueBatches: 1, Block: false, FlushInterval: -1}, hs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	st := e.Stats()
	delivered := uint64(rs[0].count() + rs[1].count())
	if st.DroppedBatches == 0 || st.DroppedPackets == 0 {
		t.Fatalf("nothing dropped: %+v", st)
	}
	if delivered+st.DroppedPackets != uint64(tr.packets) {
		t.Errorf("delivered %d + dropped %d != %d packets", delivered, st.DroppedPackets, tr.packets)
	}
	if st.DroppedPackets > 4*st.DroppedBatches {
		t.Errorf("dropped %d packets in %d batches of at most 4", st.DroppedPackets, st.DroppedBatches)
	}
	for _, r := range rs {
		if r.flushes != 1 {
			t.Errorf("worker %d flushed %d times", r.index, r.flushes)
		}
	}
}

// endSignal calls atEnd when its frames run out.
type endSignal struct {
	sliceSource
	atEnd func()
	once  sync.Once
}

func (s *endSignal) ReadFrame(f *Frame) error {
	err := s.sliceSource.ReadFrame(f)
	if err == io.EOF {
		s.once.Do(s.atEnd)
	}
	return err
}

// quietSource yields its frames, then blocks until closed, like a quiet
// network interface; Close unblocks it.
type quietSource struct {
	sliceSource
	closed chan struct{}
	closes atomic.Int32
}

func newQuietSource(frames []testFrame) *quietSource {
	return &quietSource{sliceSource: sliceSource{frames: frames}, closed: make(chan struct{})}
}

func (s *quietSource) ReadFrame(f *Frame) error {
	if s.i < len(s.frames) {
		return s.sliceSource.ReadFrame(f)
	}
	<-s.closed
	return io.EOF
}

func (s *quietSource) Close() error {
	if s.closes.Add(1) == 1 {
		close(s.closed)
	}
	return nil
}

func TestEngineLive(t *testing.T) {
	tr := makeTraffic(t, 6, 5, 43000) // 30 packets: no batch of 256 fills
	for _, tc := range []struct {
		name    string
		workers int
		stream  bool // a stream (Block and Stream) rather than live capture
	}{
		{"live,workers=1", 1, false}, {"live,workers=2", 2, false},
		{"stream,workers=1", 1, true}, {"stream,workers=2", 2, true},
	} {
		workers := tc.workers
		t.Run(tc.name, func(t *testing.T) {
			rs, hs := newRecorders(t, workers)
			e, err := NewEngine(EngineConfig{Workers: workers, FlushInterval: 5 * time.Millisecond, Block: tc.stream, Stream: tc.stream}, hs, nil)
			if err != nil {
				t.Fatal(err)
			}
			src := newQuietSource(tr.frames)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- e.Run(ctx, src) }()
			// The partial batches reach the workers while the source is
			// quiet, before anything ends.
			deadline := time.Now().Add(10 * time.Second)
			for {
				n := 0
				for _, r := range rs {
					n += r.count()
				}
				if n == tr.packets {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after 10s the handlers have %d of %d packets", n, tr.packets)
				}
				time.Sleep(time.Millisecond)
			}
			// The counters are published while the source is quiet too.
			for e.Stats().Frames != uint64(len(tr.frames)) {
				if time.Now().After(deadline) {
					t.Fatalf("after 10s Stats().Frames = %d, want %d", e.Stats().Frames, len(tr.frames))
				}
				time.Sleep(time.Millisecond)
			}
			// And every handler keeps being ticked while nothing arrives.
			for w, r := range rs {
				from := r.tickCount()
				for r.tickCount() < from+3 {
					if time.Now().After(deadline) {
						t.Fatalf("worker %d: %d ticks while the source was quiet, want 3 within 10s", w, r.tickCount()-from)
					}
					time.Sleep(time.Millisecond)
				}
			}
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Run = %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
			if src.closes.Load() == 0 {
				t.Error("Run did not close the source on cancel")
			}
			checkDelivery(t, tr, rs, tr.frames[len(tr.frames)-1].TS)
		})
	}
}

// endlessSource yields the same frames forever.
type endlessSource struct {
	frames []testFrame
	i      int
	n      atomic.Int64
}

func (s *endlessSource) ReadFrame(f *Frame) error {
	fr := s.frames[s.i%len(s.frames)]
	s.i++
	s.n.Add(1)
	*f = Frame{Data: fr.Data, Timestamp: fr.TS, Length: fr.Len, LinkType: fr.Link}
	return nil
}

func (s *endlessSource) Close() error { return nil }

func TestEngineCancel(t *testing.T) {
	tr := makeTraffic(t, 8, 8, 44000)
	for _, workers := range []int{1, 2} {
		t.Run("workers="+strconv.Itoa(workers), func(t *testing.T) {
			rs, hs := newRecorders(t, workers)
			e, err := NewEngine(EngineConfig{Workers: workers, Block: true}, hs, nil)
			if err != nil {
				t.Fatal(err)
			}
			src := &endlessSource{frames: tr.frames}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- e.Run(ctx, src) }()
			for src.n.Load() < 5000 {
				time.Sleep(time.Millisecond)
			}
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Run = %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
			for _, r := range rs {
				if r.flushes != 1 || r.late != 0 {
					t.Errorf("worker %d: %d flushes, %d late packets", r.index, r.flushes, r.late)
				}
			}
			if err := e.Run(context.Background(), src); err == nil || !strings.Contains(err.Error(), "twice") {
				t.Errorf("second Run = %v", err)
			}
		})
	}
}

func TestNewEngineErrors(t *testing.T) {
	_, hs := newRecorders(t, 2)
	tests := []struct {
		name     string
		cfg      EngineConfig
		handlers []Handler
		substr   string
	}{
		{"too few handlers", EngineConfig{Workers: 3}, hs, "2 handlers for 3 workers"},
		{"zero workers means one", EngineConfig{}, hs, "2 handlers for 1 workers"},
		{"negative workers", EngineConfig{Workers: -1}, hs, "EngineConfig.Workers is -1"},
		{"negative batch", EngineConfig{Workers: 2, BatchSize: -5}, hs, "EngineConfig.BatchSize"},
		{"negative queue", EngineConfig{Workers: 2, QueueBatches: -1}, hs, "EngineConfig.QueueBatches"},
		{"negative bytes", EngineConfig{Workers: 2, BatchBytes: -1}, hs, "EngineConfig.BatchBytes"},
		{"nil handler", EngineConfig{Workers: 2}, []Handler{hs[0], nil}, "handler 1 is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewEngine(tt.cfg, tt.handlers, nil)
			if err == nil || !strings.Contains(err.Error(), tt.substr) || !strings.HasPrefix(err.Error(), "capture: ") {
				t.Errorf("NewEngine = %v, want an error containing %q", err, tt.substr)
			}
		})
	}
	t.Run("no sources", func(t *testing.T) {
		e, err := NewEngine(EngineConfig{Workers: 2}, hs, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Run(context.Background()); err == nil {
			t.Error("Run without sources succeeded")
		}
	})
	t.Run("registered twice", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		if _, err := NewEngine(EngineConfig{Workers: 2}, hs, reg); err != nil {
			t.Fatal(err)
		}
		if _, err := NewEngine(EngineConfig{Workers: 2}, hs, reg); err == nil {
			t.Error("a second engine registered on the same registry without error")
		}
	})
}

func TestEngineMetrics(t *testing.T) {
	tr := makeTraffic(t, 10, 10, 45000)
	reg := prometheus.NewRegistry()
	_, hs := newRecorders(t, 2)
	e, err := NewEngine(EngineConfig{Workers: 2, Block: true}, hs, reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err != nil { // before Run
		t.Fatal(err)
	}
	if st := e.Stats(); st.Frames != 0 || len(st.WorkerPackets) != 2 || st.QueueLen != nil {
		t.Errorf("Stats before Run = %+v", st)
	}
	if err := e.Run(context.Background(), &sliceSource{frames: tr.frames}); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			values[mf.GetName()+labelString(m)] += metricValue(m)
		}
	}
	want := map[string]float64{
		"apitap_capture_frames_total":                     float64(len(tr.frames)),
		"apitap_capture_packets_total":                    float64(tr.packets),
		"apitap_capture_bytes_total":                      float64(tr.bytes),
		"apitap_capture_dropped_batches_total":            0,
		"apitap_capture_dropped_packets_total":            0,
		"apitap_capture_queue_length{worker=0}":           0,
		"apitap_capture_queue_capacity":                   DefaultQueueBatches,
		"apitap_capture_worker_packets_total{worker=0}":   float64(hs[0].(*recHandler).count()),
		"apitap_capture_worker_packets_total{worker=1}":   float64(hs[1].(*recHandler).count()),
		"apitap_capture_decoder_frames_total{result=tcp}": float64(tr.packets),
	}
	for k, v := range want {
		got, ok := values[k]
		if !ok {
			t.Errorf("metric %s missing", k)
			continue
		}
		if got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
}

func labelString(m *dto.Metric) string {
	if len(m.GetLabel()) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range m.GetLabel() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.GetName() + "=" + l.GetValue())
	}
	b.WriteByte('}')
	return b.String()
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	}
	return 0
}

// TestEngineZeroCopyFromFiles checks that with several workers the packets
// of a capture file reach the workers without a copy (their batches retain
// the file's read blocks instead), that the payloads stay intact while the
// reader runs far ahead of a stalled worker, and that every block is
// released in the end.
func TestEngineZeroCopyFromFiles(t *testing.T) {
	tr := makeTraffic(t, 20, 1000, 40000) // 20k frames, ~2 MB: dozens of read blocks
	last := tr.frames[len(tr.frames)-1].TS
	dir := t.TempDir()
	for _, name := range []string{"plain.pcap", "compressed.pcap.gz"} {
		t.Run(name, func(t *testing.T) {
			b := pcapgoFile(t, true, LinkTypeEthernet, tr.frames)
			if strings.HasSuffix(name, ".gz") {
				b = gzipBytes(t, b)
			}
			src := mustOpen(t, []string{writeCapture(t, dir, name, b)}, FileConfig{})
			rs, hs := newRecorders(t, 2)
			// Worker 0 waits until the reader has filled its queue and moved
			// on through many blocks with worker 1's packets.
			rs[0].gate = make(chan struct{})
			time.AfterFunc(100*time.Millisecond, func() { close(rs[0].gate) })
			e, err := NewEngine(EngineConfig{Workers: 2, BatchSize: 16, QueueBatches: 64, Block: true}, hs, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Run(context.Background(), src); err != nil {
				t.Fatal(err)
			}
			checkDelivery(t, tr, rs, last)
			for w, free := range e.readers[0].free {
				for len(free) > 0 {
					b := <-free
					if b.arena != nil {
						t.Errorf("worker %d: a batch copied payloads; file packets should stay in the read blocks", w)
					}
					if len(b.blocks) != 0 || b.bytes != 0 {
						t.Errorf("worker %d: a handled batch still holds %d blocks (%d bytes)", w, len(b.blocks), b.bytes)
					}
				}
			}
			for _, f := range src.files {
				if n := f.buf.cur.refs.Load(); n != 1 {
					t.Errorf("the file's current block has %d holders after Run, want 1 (the file)", n)
				}
			}
		})
	}
}

// TestEngineCopiesReassembledPayloads checks that with several workers the
// payload of a datagram that IP fragment reassembly completed, which lives
// in the decoder's buffer and not in the file, is copied into the batch:
// later reassemblies must not change what the worker gets.
func TestEngineCopiesReassembledPayloads(t *testing.T) {
	var frames []testFrame
	var want []string
	for i := range 8 {
		pl := decBigPayload(3000, byte(i))
		pkt := decTCPPacket(t, false, pl)
		for _, f := range decFragment(t, pkt, false, uint32(100+i), decPiece{0, 1480}, decPiece{1480, 3020}) {
			data := decEthFrame(f)
			frames = append(frames, testFrame{TS: decTS.Add(time.Duration(len(frames)) * time.Millisecond), Data: data, Len: len(data), Link: LinkTypeEthernet})
		}
		want = append(want, string(pl))
	}
	path := writeCapture(t, t.TempDir(), "fragments.pcap", pcapgoFile(t, true, LinkTypeEthernet, frames))
	src := mustOpen(t, []string{path}, FileConfig{})
	rs, hs := newRecorders(t, 2)
	for _, r := range rs { // both wait until the reader has reassembled every datagram
		r.gate = make(chan struct{})
	}
	e, err := NewEngine(EngineConfig{Workers: 2, Block: true}, hs, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background(), src) }()
	time.Sleep(50 * time.Millisecond)
	for _, r := range rs {
		close(r.gate)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		for _, p := range r.pkts {
			got = append(got, p.Payload)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("workers got %d packets, want %d", len(got), len(want))
	}
	for i, g := range got {
		if g != want[i] {
			t.Errorf("packet %d: payload changed after it was queued (a reassembled payload must be copied)", i)
		}
	}
}
