package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/apitap/apitap/reassembly"
	"github.com/prometheus/client_golang/prometheus"
)

// Sink writes batches of transactions somewhere. WriteTransactions is called
// from one goroutine at a time; it must not keep the slice (it may keep the
// *Transaction values, which it owns from then on).
type Sink interface {
	WriteTransactions(ctx context.Context, batch []*reassembly.Transaction) error
	// Close flushes what is buffered and releases the destination.
	Close() error
}

// EncodingSink is a Sink that writes transactions as bytes (JSON Lines,
// say). A Queue in front of one encodes each transaction in the Producer,
// on its worker's goroutine, so that the encoding scales with the workers
// instead of running in the queue's single consumer; the consumer then
// calls WriteEncoded instead of WriteTransactions. The queue keeps no
// transaction once it is encoded: what waits for the sink is bytes, and a
// transaction's memory (its bodies) is free as soon as it is encoded.
type EncodingSink interface {
	Sink
	// AppendTransaction appends the encoding of t to dst and returns the
	// extended slice. Producers call it concurrently: it must be safe for
	// concurrent use, and keep neither t nor dst.
	AppendTransaction(dst []byte, t *reassembly.Transaction) []byte
	// WriteEncoded writes data, the encodings of n transactions appended
	// in order by AppendTransaction. Like WriteTransactions it is called
	// from one goroutine at a time; it must not keep data.
	WriteEncoded(ctx context.Context, n int, data []byte) error
}

// Flusher is a Sink that buffers what it is given. The queue calls Flush
// each time it has written every batch waiting, so that the transactions of
// a quiet link reach the destination (a file someone tails, say) at once
// instead of when the buffer fills. Flush is called from the goroutine that
// writes.
type Flusher interface {
	Flush() error
}

// QueueConfig sets up a Queue.
type QueueConfig struct {
	// BatchSize is how many transactions a producer collects before it hands
	// the batch on. Zero means 256.
	BatchSize int
	// Depth is how many batches may wait for the sink. Zero means 64.
	Depth int
	// Block makes producers wait for room instead of dropping when the queue
	// is full. Set it for capture files; leave it false for live capture.
	Block bool
}

// QueueStats are cumulative counters of a Queue.
type QueueStats struct {
	Enqueued    uint64 // transactions handed to the queue
	Written     uint64 // transactions the sink accepted
	Dropped     uint64 // transactions dropped because the queue was full
	WriteErrors uint64 // failed writes of a batch (its transactions are counted in Failed) or of what the sink buffered (Flusher)
	Failed      uint64 // transactions in batches the sink failed to write
}

// maxKeptEncoded is the largest encoding buffer a batch keeps for reuse.
const maxKeptEncoded = 1 << 20

// batch is what producers hand to the consumer: transactions, or, when
// the sink is an EncodingSink, the encodings of n of them. Batches are
// pooled.
type batch struct {
	txs  []*reassembly.Transaction
	data []byte
	n    int // transactions in the batch
}

// Queue is a bounded queue of transaction batches in front of a Sink.
type Queue struct {
	cfg    QueueConfig
	sink   Sink
	enc    EncodingSink // sink, when it encodes in the producers
	flush  Flusher      // sink, when it buffers
	log    *slog.Logger
	ch     chan *batch
	done   chan struct{}
	closed atomic.Bool
	err    error // first write error, read after done

	enqueued, written, dropped, writeErrors, failed atomic.Uint64
	mDropped, mWritten, mErrors                     prometheus.Counter
	pool                                            sync.Pool
}

// NewQueue starts the consumer goroutine that writes to sink. Close stops it.
func NewQueue(cfg QueueConfig, sink Sink, logger *slog.Logger, reg prometheus.Registerer) (*Queue, error) {
	if cfg.BatchSize < 0 {
		return nil, fmt.Errorf("storage: queue batch size %d: must not be negative", cfg.BatchSize)
	}
	if cfg.Depth < 0 {
		return nil, fmt.Errorf("storage: queue depth %d: must not be negative", cfg.Depth)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 256
	}
	if cfg.Depth == 0 {
		cfg.Depth = 64
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	q := &Queue{
		cfg:  cfg,
		sink: sink,
		log:  logger.With("component", "storage"),
		ch:   make(chan *batch, cfg.Depth),
		done: make(chan struct{}),
		mDropped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "apitap", Subsystem: "storage",
			Name: "dropped_transactions_total", Help: "Transactions dropped because the storage queue was full."}),
		mWritten: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "apitap", Subsystem: "storage",
			Name: "written_transactions_total", Help: "Transactions written to the sink."}),
		mErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "apitap", Subsystem: "storage",
			Name: "write_errors_total", Help: "Failed writes of a batch of transactions, or of what the sink buffered."}),
	}
	q.enc, _ = sink.(EncodingSink)
	q.flush, _ = sink.(Flusher)
	q.pool.New = func() any { return &batch{txs: make([]*reassembly.Transaction, 0, cfg.BatchSize)} }
	if reg != nil {
		for _, c := range []prometheus.Collector{q.mDropped, q.mWritten, q.mErrors,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "apitap", Subsystem: "storage",
				Name: "queue_batches", Help: "Batches waiting for the sink."}, func() float64 { return float64(len(q.ch)) }),
		} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("storage: registering metrics: %w", err)
			}
		}
	}
	go q.consume()
	return q, nil
}

func (q *Queue) consume() {
	defer close(q.done)
	ctx := context.Background()
	for b := range q.ch {
		var err error
		if q.enc != nil {
			err = q.enc.WriteEncoded(ctx, b.n, b.data)
		} else {
			err = q.sink.WriteTransactions(ctx, b.txs)
		}
		n := b.n
		if err != nil {
			q.failed.Add(uint64(n))
			q.writeFailed(err)
		} else {
			q.written.Add(uint64(n))
			q.mWritten.Add(float64(n))
		}
		q.putBatch(b)
		if q.flush != nil && len(q.ch) == 0 {
			if err := q.flush.Flush(); err != nil {
				q.writeFailed(err)
			}
		}
	}
}

// writeFailed counts a failed write (or flush) and logs the first.
func (q *Queue) writeFailed(err error) {
	q.writeErrors.Add(1)
	q.mErrors.Inc()
	if q.err == nil {
		q.err = err
		q.log.Error("writing transactions failed; later failures are counted in apitap_storage_write_errors_total", "err", err)
	}
}

func (q *Queue) getBatch() *batch { return q.pool.Get().(*batch) }

// putBatch empties b and pools it, with its encoding buffer unless that
// grew large.
func (q *Queue) putBatch(b *batch) {
	clear(b.txs)
	b.txs = b.txs[:0]
	b.data = b.data[:0]
	b.n = 0
	if cap(b.data) > maxKeptEncoded {
		b.data = nil
	}
	q.pool.Put(b)
}

// Producer returns a new producer for one worker goroutine.
func (q *Queue) Producer() *Producer {
	return &Producer{q: q}
}

func (q *Queue) send(b *batch) {
	n := uint64(b.n)
	q.enqueued.Add(n)
	if q.cfg.Block {
		q.ch <- b
		return
	}
	select {
	case q.ch <- b:
	default:
		q.dropped.Add(n)
		q.mDropped.Add(float64(n))
		q.putBatch(b)
	}
}

// Close waits until every batch handed on has been written, closes the sink
// and returns the first write or close error. Producers must have been
// flushed, and must not be used afterwards.
func (q *Queue) Close() error {
	if q.closed.Swap(true) {
		return errors.New("storage: queue closed twice")
	}
	close(q.ch)
	<-q.done
	return errors.Join(q.err, q.sink.Close())
}

// Stats returns the queue's counters; it is safe to call concurrently.
func (q *Queue) Stats() QueueStats {
	return QueueStats{
		Enqueued:    q.enqueued.Load(),
		Written:     q.written.Load(),
		Dropped:     q.dropped.Load(),
		WriteErrors: q.writeErrors.Load(),
		Failed:      q.failed.Load(),
	}
}

// Producer collects one worker's transactions into batches. It implements
// reassembly.TransactionSink. It is not safe for concurrent use.
type Producer struct {
	q     *Queue
	batch *batch
}

// HandleTransaction adds t to the current batch (only its encoding when
// the sink is an EncodingSink), handing the batch to the queue when it is
// full.
func (p *Producer) HandleTransaction(t *reassembly.Transaction) {
	if p.batch == nil {
		p.batch = p.q.getBatch()
	}
	b := p.batch
	if p.q.enc != nil {
		b.data = p.q.enc.AppendTransaction(b.data, t)
	} else {
		b.txs = append(b.txs, t)
	}
	b.n++
	if b.n >= p.q.cfg.BatchSize {
		p.Flush()
	}
}

// Flush hands the partial batch to the queue.
func (p *Producer) Flush() {
	if p.batch != nil && p.batch.n > 0 {
		p.q.send(p.batch)
		p.batch = nil
	}
}
