package storage

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/apitap/apitap/reassembly"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// recordSink keeps what it is given; gate, when set, holds every write until closed.
type recordSink struct {
	mu     sync.Mutex
	got    []*reassembly.Transaction
	gate   chan struct{}
	fail   bool
	closed bool
}

func (s *recordSink) WriteTransactions(_ context.Context, b []*reassembly.Transaction) error {
	if s.gate != nil {
		<-s.gate
	}
	if s.fail {
		return errors.New("disk full")
	}
	s.mu.Lock()
	s.got = append(s.got, b...)
	s.mu.Unlock()
	return nil
}

func (s *recordSink) Close() error { s.closed = true; return nil }

func TestQueue(t *testing.T) {
	tests := []struct {
		name                  string
		cfg                   QueueConfig
		gate, fail            bool
		n                     int
		wantWritten, wantDrop uint64
		wantFailed            uint64
	}{
		{name: "blocking never drops", cfg: QueueConfig{BatchSize: 3, Depth: 1, Block: true}, n: 100, wantWritten: 100},
		{name: "non-blocking drops when full", cfg: QueueConfig{BatchSize: 10, Depth: 2}, gate: true, n: 100,
			// the consumer holds one batch at the gate, two wait in the queue; the rest are dropped
			wantWritten: 30, wantDrop: 70},
		{name: "write failures counted", cfg: QueueConfig{BatchSize: 4, Block: true}, fail: true, n: 10, wantFailed: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recordSink{fail: tt.fail}
			if tt.gate {
				sink.gate = make(chan struct{})
			}
			reg := prometheus.NewRegistry()
			q, err := NewQueue(tt.cfg, sink, nil, reg)
			if err != nil {
				t.Fatal(err)
			}
			p := q.Producer()
			for i := range tt.n {
				p.HandleTransaction(&reassembly.Transaction{Status: i})
				if tt.gate && i == tt.cfg.BatchSize-1 {
					// wait until the consumer holds the first batch
					for len(q.ch) != 0 {
					}
				}
			}
			p.Flush()
			if tt.gate {
				close(sink.gate)
			}
			err = q.Close()
			if tt.fail != (err != nil) {
				t.Fatalf("Close error = %v", err)
			}
			st := q.Stats()
			if st.Written != tt.wantWritten || st.Dropped != tt.wantDrop || st.Failed != tt.wantFailed {
				t.Errorf("stats %+v, want written %d dropped %d failed %d", st, tt.wantWritten, tt.wantDrop, tt.wantFailed)
			}
			if st.Enqueued != uint64(tt.n) {
				t.Errorf("enqueued %d, want %d", st.Enqueued, tt.n)
			}
			if got := testutil.ToFloat64(q.mDropped); got != float64(tt.wantDrop) {
				t.Errorf("dropped metric %v", got)
			}
			if !sink.closed {
				t.Error("sink not closed")
			}
			if !tt.gate && !tt.fail {
				for i, tx := range sink.got {
					if tx.Status != i {
						t.Fatalf("order: position %d holds %d", i, tx.Status)
					}
				}
			}
		})
	}
}

func TestQueueConfigErrors(t *testing.T) {
	for _, cfg := range []QueueConfig{{BatchSize: -1}, {Depth: -2}} {
		if _, err := NewQueue(cfg, &recordSink{}, nil, nil); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}
