package capture

import (
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/bpf"
)

func TestLiveConfigDefaults(t *testing.T) {
	tests := []struct {
		name    string
		in      LiveConfig
		want    LiveConfig
		wantErr string
	}{
		{
			name: "zero values",
			in:   LiveConfig{Interface: "eth1"},
			want: LiveConfig{Interface: "eth1", FanoutMembers: 1, BlockSize: 1 << 20, NumBlocks: 64, RingBytes: 64 << 20,
				FrameSize: 2048, BlockTimeout: 100 * time.Millisecond, SnapLen: 262144},
		},
		{
			name: "ring size rounds up to whole blocks",
			in:   LiveConfig{Interface: "eth1", RingBytes: 3<<20 + 1, FanoutMembers: 4},
			want: LiveConfig{Interface: "eth1", FanoutMembers: 4, BlockSize: 1 << 20, NumBlocks: 4, RingBytes: 4 << 20,
				FrameSize: 2048, BlockTimeout: 100 * time.Millisecond, SnapLen: 262144},
		},
		{
			name: "explicit values kept",
			in: LiveConfig{Interface: "eth1", BlockSize: 64 << 10, NumBlocks: 3, FrameSize: 4096,
				BlockTimeout: 5 * time.Millisecond, SnapLen: 128, FanoutMode: FanoutCPU, FanoutGroup: 7, BPF: "tcp", Promiscuous: true},
			want: LiveConfig{Interface: "eth1", FanoutMembers: 1, BlockSize: 64 << 10, NumBlocks: 3, RingBytes: 3 * 64 << 10,
				FrameSize: 4096, BlockTimeout: 5 * time.Millisecond, SnapLen: 128, FanoutMode: FanoutCPU, FanoutGroup: 7, BPF: "tcp", Promiscuous: true},
		},
		{name: "no interface", in: LiveConfig{}, wantErr: "capture: no interface given"},
		{name: "negative members", in: LiveConfig{Interface: "x", FanoutMembers: -1}, wantErr: "capture: interface x: fanout members -1"},
		{name: "bad mode", in: LiveConfig{Interface: "x", FanoutMode: 9}, wantErr: "capture: interface x: unknown fanout mode 9"},
		{name: "block not page aligned", in: LiveConfig{Interface: "x", BlockSize: 5000}, wantErr: "ring block size 5000 must be a positive multiple of the page size 4096"},
		{name: "frame does not divide block", in: LiveConfig{Interface: "x", FrameSize: 3008}, wantErr: "ring frame size 3008"},
		{name: "frame too small", in: LiveConfig{Interface: "x", FrameSize: 64}, wantErr: "ring frame size 64"},
		{name: "both ring sizes", in: LiveConfig{Interface: "x", RingBytes: 1, NumBlocks: 1}, wantErr: "set either the ring size"},
		{name: "negative blocks", in: LiveConfig{Interface: "x", NumBlocks: -1}, wantErr: "ring size must not be negative"},
		{name: "block timeout too short", in: LiveConfig{Interface: "x", BlockTimeout: time.Microsecond}, wantErr: "block timeout 1µs must be between 1ms and 1m"},
		{name: "snaplen too small", in: LiveConfig{Interface: "x", SnapLen: 10}, wantErr: "snap length 10 must be between 64 and 262144"},
		{name: "snaplen too large", in: LiveConfig{Interface: "x", SnapLen: 1 << 20}, wantErr: "snap length 1048576"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.withDefaults(4096)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "capture: ") {
					t.Errorf("error %q lacks the package prefix", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("withDefaults =\n%+v, want\n%+v", got, tt.want)
			}
		})
	}
}

func TestLiveConfigPollInterval(t *testing.T) {
	for _, tt := range []struct{ block, want time.Duration }{
		{5 * time.Millisecond, 5 * time.Millisecond},
		{100 * time.Millisecond, 50 * time.Millisecond},
		{time.Second, 50 * time.Millisecond},
	} {
		if got := (LiveConfig{BlockTimeout: tt.block}).pollInterval(); got != tt.want {
			t.Errorf("pollInterval with block timeout %v = %v, want %v", tt.block, got, tt.want)
		}
	}
}

func TestFanoutModeString(t *testing.T) {
	for m, want := range map[FanoutMode]string{
		FanoutHash: "hash", FanoutLoadBalance: "lb", FanoutCPU: "cpu", FanoutQueueMapping: "queue",
		FanoutRandom: "random", 42: "FanoutMode(42)",
	} {
		if got := m.String(); got != want {
			t.Errorf("FanoutMode(%d).String() = %q, want %q", m, got, want)
		}
	}
}

// statsSource is a Source with fixed LiveStats.
type statsSource struct {
	st  LiveStats
	err error
}

func (s *statsSource) ReadFrame(*Frame) error        { return io.EOF }
func (s *statsSource) Close() error                  { return nil }
func (s *statsSource) LiveStats() (LiveStats, error) { return s.st, s.err }

func TestTotalLiveStats(t *testing.T) {
	boom := errors.New("boom")
	a := &statsSource{st: LiveStats{Interface: "eth1", Member: 0, Received: 10, Dropped: 1, QueueFreezes: 2, Frames: 9, Truncated: 1}}
	b := &statsSource{st: LiveStats{Interface: "eth1", Member: 1, Received: 5, Dropped: 2, InterfaceDrops: 3, Frames: 3}}
	tests := []struct {
		name    string
		sources []Source
		want    LiveStats
		wantErr error
	}{
		{"none", nil, LiveStats{}, nil},
		{"non-live sources are skipped", []Source{&sliceOnly{}}, LiveStats{}, nil},
		{"sum", []Source{a, &sliceOnly{}, b}, LiveStats{Interface: "eth1", Received: 15, Dropped: 3, QueueFreezes: 2, InterfaceDrops: 3, Frames: 12, Truncated: 1}, nil},
		{"error kept, values summed", []Source{a, &statsSource{st: b.st, err: boom}},
			LiveStats{Interface: "eth1", Received: 15, Dropped: 3, QueueFreezes: 2, InterfaceDrops: 3, Frames: 12, Truncated: 1}, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TotalLiveStats(tt.sources)
			if got != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("TotalLiveStats = %+v, %v; want %+v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// sliceOnly is a Source that is not a live source.
type sliceOnly struct{}

func (*sliceOnly) ReadFrame(*Frame) error { return io.EOF }
func (*sliceOnly) Close() error           { return nil }

func TestLiveCollector(t *testing.T) {
	a := &statsSource{st: LiveStats{Interface: "eth1", Member: 0, Received: 10, Dropped: 1, QueueFreezes: 2, Frames: 9, Truncated: 1}}
	b := &statsSource{st: LiveStats{Interface: "eth1", Member: 1, Received: 5, InterfaceDrops: 3}}
	reg := prometheus.NewPedanticRegistry()
	g := &liveGroup{}
	g.open.Store(2)
	if err := g.register("eth1", reg, []LiveStatsReader{a, b}); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got[mf.GetName()+"{"+labelPairsOf(m.GetLabel())+"}"] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"apitap_capture_kernel_packets_total{interface=eth1,member=0}":       10,
		"apitap_capture_kernel_packets_total{interface=eth1,member=1}":       5,
		"apitap_capture_kernel_drops_total{interface=eth1,member=0}":         1,
		"apitap_capture_kernel_drops_total{interface=eth1,member=1}":         0,
		"apitap_capture_kernel_queue_freezes_total{interface=eth1,member=0}": 2,
		"apitap_capture_kernel_queue_freezes_total{interface=eth1,member=1}": 0,
		"apitap_capture_interface_drops_total{interface=eth1,member=0}":      0,
		"apitap_capture_interface_drops_total{interface=eth1,member=1}":      3,
		"apitap_capture_live_frames_total{interface=eth1,member=0}":          9,
		"apitap_capture_live_frames_total{interface=eth1,member=1}":          0,
		"apitap_capture_live_truncated_total{interface=eth1,member=0}":       1,
		"apitap_capture_live_truncated_total{interface=eth1,member=1}":       0,
	}
	if len(got) != len(want) {
		t.Errorf("got %d series, want %d: %v", len(got), len(want), got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}

	// A second capture of the same interface on the same registry is
	// refused; another interface is fine.
	if err := (&liveGroup{}).register("eth1", reg, []LiveStatsReader{a}); err == nil || !strings.Contains(err.Error(), "interface eth1") {
		t.Errorf("registering eth1 twice: %v, want an error naming eth1", err)
	}
	other := &liveGroup{}
	other.open.Store(1)
	if err := other.register("eth2", reg, []LiveStatsReader{a}); err != nil {
		t.Errorf("registering eth2: %v", err)
	}
	other.memberClosed()

	// The metrics go away when the last member closes; nil registerers
	// are fine.
	g.memberClosed()
	if mfs, _ := reg.Gather(); len(mfs) == 0 {
		t.Error("metrics unregistered while a member is still open")
	}
	g.memberClosed()
	if mfs, _ := reg.Gather(); len(mfs) != 0 {
		t.Errorf("%d metric families left after every member closed", len(mfs))
	}
	nilReg := &liveGroup{}
	nilReg.open.Store(1)
	if err := nilReg.register("eth1", nil, []LiveStatsReader{a}); err != nil {
		t.Fatal(err)
	}
	nilReg.memberClosed()
}

func labelPairsOf[L interface {
	GetName() string
	GetValue() string
}](ls []L) string {
	var s []string
	for _, l := range ls {
		s = append(s, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(s, ",")
}

// TestLiveGate checks who releases the handle: Close when no frame is
// out, else the next ReadFrame; and that Close waits for a ReadFrame in
// progress.
func TestLiveGate(t *testing.T) {
	type counts struct{ released, quiesced int }
	newGate := func(c *counts) *liveGate {
		return &liveGate{release: func() { c.released++ }, quiesce: func() { c.quiesced++ }}
	}
	// read simulates ReadFrame returning a frame (true) or not.
	read := func(g *liveGate, frame bool) bool {
		if !g.enter() {
			return false
		}
		g.leave(frame)
		return true
	}
	tests := []struct {
		name  string
		steps func(g *liveGate) // before the checks
		want  counts
		open  bool // whether a ReadFrame after the steps still works
	}{
		{"open", func(g *liveGate) {}, counts{}, true},
		{"close before any read", func(g *liveGate) { g.close() }, counts{released: 1}, false},
		{"close after an error", func(g *liveGate) { read(g, true); read(g, false); g.close() }, counts{released: 1}, false},
		{"close with a frame out", func(g *liveGate) { read(g, true); g.close() }, counts{quiesced: 1}, false},
		{"second close with a frame out", func(g *liveGate) { read(g, true); g.close(); g.close() }, counts{quiesced: 1}, false},
		{"reader comes back", func(g *liveGate) { read(g, true); g.close(); read(g, false) }, counts{quiesced: 1, released: 1}, false},
		{"closes twice", func(g *liveGate) { g.close(); g.close(); read(g, false) }, counts{released: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c counts
			g := newGate(&c)
			tt.steps(g)
			if c != tt.want {
				t.Errorf("after the steps: %+v, want %+v", c, tt.want)
			}
			if open := read(g, false); open != tt.open {
				t.Errorf("ReadFrame possible = %v, want %v", open, tt.open)
			}
			if !tt.open && c.released != 1 {
				t.Errorf("released %d times after the last ReadFrame, want 1", c.released)
			}
		})
	}

	t.Run("first close reports first", func(t *testing.T) {
		g := newGate(&counts{})
		if !g.close() || g.close() {
			t.Error("close() should report true once")
		}
	})

	t.Run("close waits for a read in progress", func(t *testing.T) {
		var c counts
		g := newGate(&c)
		var wg sync.WaitGroup
		if !g.enter() {
			t.Fatal("enter on an open gate failed")
		}
		closed := make(chan struct{})
		wg.Go(func() { g.close(); close(closed) })
		select {
		case <-closed:
			t.Fatal("close returned while a ReadFrame held the gate")
		case <-time.After(20 * time.Millisecond):
		}
		if !g.stopping() {
			t.Fatal("stopping() = false after close started")
		}
		if err := g.stopEOF(); err != io.EOF {
			t.Fatalf("stopEOF = %v", err)
		}
		wg.Wait()
		if c.released != 1 || c.quiesced != 0 {
			t.Errorf("%+v, want one release", c)
		}
	})
}

func TestCompileFilter(t *testing.T) {
	ret := func(k uint32) bpf.RawInstruction { r, _ := bpf.RetConstant{Val: k}.Assemble(); return r }
	tests := []struct {
		expr    string
		lt      LinkType
		wantErr bool
	}{
		{"", LinkTypeEthernet, false},
		{"tcp port 80", LinkTypeEthernet, false},
		{"tcp port 80 or tcp port 8080", LinkTypeRaw, false},
		{"ip6 and tcp", LinkTypeRaw, false},
		{"tcp port banana", LinkTypeEthernet, true},
		{"(((", LinkTypeEthernet, true},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			prog, err := compileFilter(tt.expr, tt.lt, 1500)
			if tt.wantErr {
				if !errors.Is(err, ErrBadFilter) || !strings.Contains(err.Error(), `"`+tt.expr+`"`) {
					t.Fatalf("error %v, want ErrBadFilter naming the expression", err)
				}
				return
			}
			if err != nil {
				if !cgoEnabled && tt.expr != "" {
					return // without libpcap only the empty filter compiles
				}
				t.Fatal(err)
			}
			if !containsRet(prog, ret(1500)) {
				t.Errorf("program %v does not accept with the snap length", prog)
			}
			if tt.expr == "" && len(prog) != 1 {
				t.Errorf("empty expression gave %d instructions, want 1", len(prog))
			}
		})
	}
	if d := dropAll(); len(d) != 1 || d[0] != ret(0) {
		t.Errorf("dropAll() = %v", d)
	}
}

func containsRet(prog []bpf.RawInstruction, r bpf.RawInstruction) bool {
	for _, in := range prog {
		if in == r {
			return true
		}
	}
	return false
}
