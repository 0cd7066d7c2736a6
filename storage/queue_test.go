package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"weak"

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

// encodeSink is an EncodingSink whose encoding of a transaction is its
// Status as text and a newline.
type encodeSink struct {
	recordSink
	data        []byte
	plainWrites int
}

func (s *encodeSink) AppendTransaction(dst []byte, t *reassembly.Transaction) []byte {
	return append(strconv.AppendInt(dst, int64(t.Status), 10), '\n')
}

func (s *encodeSink) WriteEncoded(ctx context.Context, n int, data []byte) error {
	if lines := bytes.Count(data, []byte("\n")); lines != n {
		return fmt.Errorf("encoded batch %q holds %d transactions, not %d", data, lines, n)
	}
	s.data = append(s.data, data...)
	return s.recordSink.WriteTransactions(ctx, make([]*reassembly.Transaction, n))
}

func (s *encodeSink) WriteTransactions(ctx context.Context, b []*reassembly.Transaction) error {
	s.plainWrites++
	return s.recordSink.WriteTransactions(ctx, b)
}

// TestQueueEncodingSink checks that producers encode for an EncodingSink
// and that the consumer hands the encodings over with their batches, from
// several producers at once.
func TestQueueEncodingSink(t *testing.T) {
	tests := []struct {
		name      string
		cfg       QueueConfig
		producers int
		n         int // transactions per producer
	}{
		{"one producer, batches of one", QueueConfig{BatchSize: 1, Depth: 1, Block: true}, 1, 50},
		{"one producer, partial last batch", QueueConfig{BatchSize: 16, Depth: 2, Block: true}, 1, 100},
		{"four producers", QueueConfig{BatchSize: 8, Depth: 4, Block: true}, 4, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &encodeSink{}
			q, err := NewQueue(tt.cfg, sink, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for p := range tt.producers {
				prod := q.Producer()
				wg.Go(func() {
					for i := range tt.n {
						prod.HandleTransaction(&reassembly.Transaction{Status: p*tt.n + i})
					}
					prod.Flush()
				})
			}
			wg.Wait()
			if err := q.Close(); err != nil {
				t.Fatal(err)
			}
			total := tt.producers * tt.n
			if st := q.Stats(); st.Written != uint64(total) || st.Failed != 0 {
				t.Errorf("stats %+v, want %d written", st, total)
			}
			if sink.plainWrites != 0 {
				t.Errorf("WriteTransactions called %d times for an EncodingSink", sink.plainWrites)
			}
			// Each producer's transactions stay in order.
			next := make([]int, tt.producers)
			lines := strings.Split(strings.TrimSuffix(string(sink.data), "\n"), "\n")
			if len(lines) != total {
				t.Fatalf("%d lines, want %d", len(lines), total)
			}
			for _, l := range lines {
				v, _ := strconv.Atoi(l)
				p := v / tt.n
				if v != p*tt.n+next[p] {
					t.Fatalf("producer %d: got %d, want %d", p, v, p*tt.n+next[p])
				}
				next[p]++
			}
		})
	}
}

// TestQueueEncodingDrops checks that a batch dropped by a full queue is
// counted, and that its buffers are reused: the producer goes on encoding
// into a clean batch.
func TestQueueEncodingDrops(t *testing.T) {
	sink := &encodeSink{recordSink: recordSink{gate: make(chan struct{})}}
	q, err := NewQueue(QueueConfig{BatchSize: 2, Depth: 1}, sink, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := q.Producer()
	for i := range 20 {
		p.HandleTransaction(&reassembly.Transaction{Status: i})
		if i == 1 {
			for len(q.ch) != 0 { // the consumer holds the first batch at the gate
			}
		}
	}
	p.Flush()
	close(sink.gate)
	if err := q.Close(); err != nil {
		t.Fatal(err) // a stale encoding in a reused batch fails WriteEncoded
	}
	st := q.Stats()
	if st.Written != 4 || st.Dropped != 16 {
		t.Errorf("stats %+v, want 4 written (the held batch and the queued one), 16 dropped", st)
	}
}

// TestQueueEncodingKeepsNoTransaction checks that what waits for an
// EncodingSink is bytes: a transaction (with its bodies) can be collected
// as soon as the producer has encoded it, while its batch still waits in
// the queue.
func TestQueueEncodingKeepsNoTransaction(t *testing.T) {
	sink := &encodeSink{recordSink: recordSink{gate: make(chan struct{})}}
	q, err := NewQueue(QueueConfig{BatchSize: 4, Depth: 8, Block: true}, sink, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := q.Producer()
	var refs []weak.Pointer[reassembly.Transaction]
	for i := range 20 {
		tx := &reassembly.Transaction{Status: i, ResponseBody: make([]byte, 64<<10)}
		refs = append(refs, weak.Make(tx))
		p.HandleTransaction(tx)
	}
	p.Flush()
	runtime.GC() // the consumer holds the first batch at the gate; the rest wait in the queue
	for i, r := range refs {
		if r.Value() != nil {
			t.Errorf("transaction %d is still reachable after it was encoded", i)
		}
	}
	close(sink.gate)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if st := q.Stats(); st.Written != 20 || !strings.HasPrefix(string(sink.data), "0\n1\n2\n") {
		t.Errorf("stats %+v, data %q", st, sink.data)
	}
}

// nopSink writes nothing; nopEncodeSink encodes one byte per transaction.
type (
	nopSink       struct{}
	nopEncodeSink struct{ nopSink }
)

func (nopSink) WriteTransactions(context.Context, []*reassembly.Transaction) error { return nil }
func (nopSink) Close() error                                                       { return nil }
func (nopEncodeSink) AppendTransaction(dst []byte, _ *reassembly.Transaction) []byte {
	return append(dst, 'x')
}
func (nopEncodeSink) WriteEncoded(context.Context, int, []byte) error {
	return nil
}

// TestProducerAllocs holds the line: handing a transaction to a producer
// allocates nothing once the batches are pooled, encoding included.
func TestProducerAllocs(t *testing.T) {
	for _, sink := range []Sink{nopSink{}, nopEncodeSink{}} {
		t.Run(fmt.Sprintf("%T", sink), func(t *testing.T) {
			q, err := NewQueue(QueueConfig{BatchSize: 4, Depth: 4, Block: true}, sink, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			tx := &reassembly.Transaction{Status: 200}
			p := q.Producer()
			for range 256 { // fill the pool
				p.HandleTransaction(tx)
			}
			if n := testing.AllocsPerRun(1000, func() { p.HandleTransaction(tx) }); n != 0 {
				t.Errorf("HandleTransaction allocates %v times per transaction", n)
			}
		})
	}
}

// flushSink buffers what it is given and fails its flushes when told to.
type flushSink struct {
	recordSink
	flushes  atomic.Int32
	failWith error
}

func (s *flushSink) Flush() error {
	s.flushes.Add(1)
	return s.failWith
}

// TestQueueFlushesWhenIdle checks that a Flusher sink is flushed once the
// queue has written what waits, before Close, and that a failed flush is
// counted and reported like a failed write.
func TestQueueFlushesWhenIdle(t *testing.T) {
	sink := &flushSink{}
	q, err := NewQueue(QueueConfig{BatchSize: 8}, sink, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := q.Producer()
	p.HandleTransaction(&reassembly.Transaction{Status: 200})
	p.Flush()
	deadline := time.Now().Add(10 * time.Second)
	for sink.flushes.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the sink was not flushed within 10s of the queue running dry")
		}
		time.Sleep(time.Millisecond)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}

	sink = &flushSink{failWith: errors.New("disk full")}
	q, err = NewQueue(QueueConfig{BatchSize: 8, Block: true}, sink, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p = q.Producer()
	p.HandleTransaction(&reassembly.Transaction{Status: 200})
	p.Flush()
	if err := q.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Close = %v, want the flush's error", err)
	}
	if st := q.Stats(); st.WriteErrors == 0 {
		t.Errorf("stats %+v: the failed flush is not counted", st)
	}
}
