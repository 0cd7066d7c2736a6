package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Engine defaults.
const (
	DefaultBatchSize     = 256
	DefaultBatchBytes    = 256 << 10
	DefaultQueueBatches  = 64
	DefaultFlushInterval = 50 * time.Millisecond
)

// publishEvery is how many frames a reader processes between two updates of
// the statistics that Stats and the metrics read.
const publishEvery = 1024

// EngineConfig configures an Engine.
type EngineConfig struct {
	// Workers is the number of workers, each with its own Handler.
	// 0 means 1.
	Workers int

	// Decoder configures the decoder of each source's reader.
	Decoder DecoderConfig

	// BatchSize is the number of packets a batch holds before it is handed
	// to a worker (with more than one worker or source). 0 means 256.
	BatchSize int

	// BatchBytes bounds the payload memory of a batch: the payloads it
	// copies plus the read blocks it retains instead of copying (a capture
	// file's packets stay in the file's 64 KiB read blocks). A batch is
	// handed on early when the next packet would exceed it. 0 means 256 KiB.
	BatchBytes int

	// QueueBatches is the number of batches that may wait for each worker.
	// 0 means 64.
	QueueBatches int

	// Block makes readers wait when a worker's queue is full, so nothing
	// is lost: use it for files. When false (live capture) a reader never
	// waits: a batch that finds the queue full is dropped and counted in
	// EngineStats.DroppedBatches and DroppedPackets.
	Block bool

	// FlushInterval applies when Block is false or Stream is set: at this
	// wall-clock interval, partially filled batches are handed to the
	// workers, so the packets of a quiet link do not wait for a batch to
	// fill, handlers that are Tickers are ticked, and the counters read by
	// Stats are brought up to date. It only changes latency, never results.
	// 0 means 50ms; a negative value disables it (batches are handed on
	// when full and when a source ends; no ticks).
	FlushInterval time.Duration

	// Stream says that the sources deliver packets as they are captured,
	// with pauses (a pipe from tcpdump), although Block is set: FlushInterval
	// applies, as in live capture, and the partial batches it hands on wait
	// for room like the others.
	Stream bool
}

// EngineStats is a snapshot of an Engine's counters. Counters of a running
// reader are published every 1024 frames, every FlushInterval in live mode,
// and when it ends, so a snapshot taken during Run may lag slightly; after
// Run returns it is exact.
type EngineStats struct {
	Frames  uint64 // frames read from all sources
	Bytes   uint64 // captured bytes of those frames
	Packets uint64 // TCP packets decoded (before any drop)

	// WorkerPackets counts the packets each worker's Handler received.
	WorkerPackets []uint64

	// DroppedBatches and DroppedPackets count what was dropped because a
	// worker's queue was full (only when EngineConfig.Block is false).
	DroppedBatches, DroppedPackets uint64

	// QueueLen is the number of batches waiting for each worker now (nil
	// before Run and when packets are handed on inline).
	QueueLen []int

	// Decoder sums the statistics of the readers' decoders (current, not
	// lagging).
	Decoder DecoderStats

	// First and Last are the smallest and largest frame timestamps seen;
	// zero before the first frame.
	First, Last time.Time
}

// Engine reads Sources, decodes their frames and hands each TCP packet to
// the worker chosen by its flow: handlers[p.Flow.Hash() % Workers]. Both
// directions of a connection therefore reach the same Handler, and the
// packets of a flow reach it in the order its source yielded them.
//
// With one worker and one source the reader calls the Handler inline, with
// no copy and no channel. Otherwise each worker runs in its own goroutine
// and receives batches of packet headers. The payloads of a capture file's
// packets stay where the file was read into (the batch retains the read
// block until the worker is done with it); other payloads (live capture, IP
// fragments reassembled by the decoder) are copied into the batch's arena.
// Batches and read blocks are pooled, so the steady state allocates nothing.
//
// Run may be called once. Stats may be called from any goroutine at any
// time.
type Engine struct {
	cfg      EngineConfig
	handlers []Handler
	ran      atomic.Bool

	workerPackets []atomic.Uint64

	mu      sync.Mutex // guards readers and queues, which Run sets
	readers []*reader
	queues  []chan *batch
}

// NewEngine returns an engine whose workers hand packets to handlers;
// len(handlers) must equal cfg.Workers (1 when cfg.Workers is 0). Its
// metrics (apitap_capture_*) are registered on reg unless reg is nil.
func NewEngine(cfg EngineConfig, handlers []Handler, reg prometheus.Registerer) (*Engine, error) {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"Workers", cfg.Workers}, {"BatchSize", cfg.BatchSize},
		{"BatchBytes", cfg.BatchBytes}, {"QueueBatches", cfg.QueueBatches},
	} {
		if f.v < 0 {
			return nil, fmt.Errorf("capture: EngineConfig.%s is %d; it must not be negative", f.name, f.v)
		}
	}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.BatchBytes == 0 {
		cfg.BatchBytes = DefaultBatchBytes
	}
	if cfg.QueueBatches == 0 {
		cfg.QueueBatches = DefaultQueueBatches
	}
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if len(handlers) != cfg.Workers {
		return nil, fmt.Errorf("capture: %d handlers for %d workers; give one handler per worker", len(handlers), cfg.Workers)
	}
	for i, h := range handlers {
		if h == nil {
			return nil, fmt.Errorf("capture: handler %d is nil", i)
		}
	}
	e := &Engine{
		cfg:           cfg,
		handlers:      append([]Handler(nil), handlers...),
		workerPackets: make([]atomic.Uint64, cfg.Workers),
	}
	if reg != nil {
		if err := reg.Register(newEngineCollector(e)); err != nil {
			return nil, fmt.Errorf("capture: registering engine metrics: %w", err)
		}
		if err := RegisterDecoderMetrics(reg, e.decoderStats); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Run reads every source until it ends (io.EOF) or ctx is cancelled, one
// reader goroutine per source, each with its own Decoder. Then every
// Handler's Flush is called once, with the largest frame timestamp seen,
// from the goroutine that called its HandlePacket, and Run returns.
//
// A source that returns an error other than io.EOF is read no further;
// every frame it returned before is handled. Run returns the errors of the
// sources (joined, as the sources worded them: they name the file or
// interface), and ctx.Err() when ctx was cancelled before the sources
// ended. When ctx is cancelled, Run closes the sources so that a reader
// blocked in ReadFrame returns; otherwise closing them is the caller's job.
func (e *Engine) Run(ctx context.Context, sources ...Source) error {
	if e.ran.Swap(true) {
		return errors.New("capture: Engine.Run called twice; an Engine runs once")
	}
	if len(sources) == 0 {
		return errors.New("capture: Engine.Run needs at least one source")
	}
	inline := e.cfg.Workers == 1 && len(sources) == 1

	readers := make([]*reader, len(sources))
	for i, src := range sources {
		readers[i] = newReader(e, src, ctx.Done(), inline)
	}
	var queues []chan *batch
	if !inline {
		queues = make([]chan *batch, e.cfg.Workers)
		for w := range queues {
			queues[w] = make(chan *batch, e.cfg.QueueBatches)
		}
		// Every batch in circulation fits back in the free list: the
		// queue, one being handled, one being filled per reader.
		free := make([]chan *batch, e.cfg.Workers)
		for w := range free {
			free[w] = make(chan *batch, e.cfg.QueueBatches+len(sources)+2)
		}
		for _, r := range readers {
			r.queues, r.free = queues, free
		}
	}
	e.mu.Lock()
	e.readers, e.queues = readers, queues
	e.mu.Unlock()

	// Unblock readers when ctx is cancelled.
	stop := make(chan struct{})
	var closerDone sync.WaitGroup
	closerDone.Go(func() {
		select {
		case <-ctx.Done():
			for _, src := range sources {
				src.Close()
			}
		case <-stop:
		}
	})

	var flusher sync.WaitGroup
	stopFlush := make(chan struct{})
	if e.live() {
		flusher.Go(func() { e.flushLoop(readers, queues, stopFlush) })
	}
	var last time.Time
	if inline {
		readers[0].run()
		close(stopFlush)
		flusher.Wait()
		last = readers[0].last
	} else {
		// last is written before the queues are closed and read by the
		// workers after they see the close.
		var workers sync.WaitGroup
		for w := range e.cfg.Workers {
			free := readers[0].free[w]
			workers.Go(func() {
				h := e.handlers[w]
				tk := e.ticker(w)
				var ticked time.Time
				for b := range queues[w] {
					if b != tickBatch {
						for i := range b.n {
							h.HandlePacket(&b.pkts[i])
						}
						e.workerPackets[w].Add(uint64(b.n))
						b.reset()
						select {
						case free <- b:
						default:
						}
					}
					// Tick on the flusher's wake-up and, when the queue
					// never runs dry, between batches.
					if tk != nil {
						if now := time.Now(); b == tickBatch || now.Sub(ticked) >= e.cfg.FlushInterval {
							tk.Tick(now)
							ticked = now
						}
					}
				}
				h.Flush(last)
			})
		}
		var rs sync.WaitGroup
		for _, r := range readers {
			rs.Go(r.run)
		}
		rs.Wait()
		close(stopFlush)
		flusher.Wait()
		for _, r := range readers {
			if r.last.After(last) {
				last = r.last
			}
		}
		for _, q := range queues {
			close(q)
		}
		workers.Wait()
	}
	close(stop)
	closerDone.Wait()
	if inline {
		e.handlers[0].Flush(last)
	}

	var errs []error
	for _, r := range readers {
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	if err := ctx.Err(); err != nil && !allEnded(readers) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func allEnded(readers []*reader) bool {
	for _, r := range readers {
		if !r.ended {
			return false
		}
	}
	return true
}

// live reports whether readers run with a flusher: live capture or a
// stream, where a quiet source must not hold packets or counters back.
func (e *Engine) live() bool { return (!e.cfg.Block || e.cfg.Stream) && e.cfg.FlushInterval > 0 }

// flushLoop runs in live mode: every FlushInterval, until stop is closed,
// it hands partially filled batches to the workers, ticks the handlers that
// are Tickers and publishes the readers' counters. With one worker and one
// source (inline) it ticks the handler itself, under the reader's lock;
// otherwise it wakes each worker whose queue is empty with tickBatch, and
// the worker ticks its handler.
func (e *Engine) flushLoop(readers []*reader, queues []chan *batch, stop <-chan struct{}) {
	t := time.NewTicker(e.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			for _, r := range readers {
				r.fillMu.Lock()
				for w := range r.pending {
					if b := r.pending[w]; b != nil && b.n > 0 {
						r.send(w, e.cfg.Block)
					}
				}
				if tk := e.ticker(0); r.inline && tk != nil {
					tk.Tick(now)
				}
				r.publish()
				r.fillMu.Unlock()
			}
			for w, q := range queues {
				if e.ticker(w) != nil && len(q) == 0 {
					select {
					case q <- tickBatch:
					default: // filled meanwhile: the worker ticks between batches
					}
				}
			}
		}
	}
}

// tickBatch is the empty batch flushLoop sends to wake an idle worker for
// its tick. It is never filled, reset or put on a free list.
var tickBatch = &batch{}

// ticker returns worker w's handler as a Ticker, nil when it is not one or
// the engine does not tick (not live).
func (e *Engine) ticker(w int) Ticker {
	if !e.live() {
		return nil
	}
	tk, _ := e.handlers[w].(Ticker)
	return tk
}

// Stats returns a snapshot of the engine's counters.
func (e *Engine) Stats() EngineStats {
	e.mu.Lock()
	readers, queues := e.readers, e.queues
	e.mu.Unlock()
	s := EngineStats{WorkerPackets: make([]uint64, e.cfg.Workers)}
	for _, r := range readers {
		r.statMu.Lock()
		p := r.pub
		r.statMu.Unlock()
		s.Frames += p.frames
		s.Bytes += p.bytes
		s.Packets += p.packets
		s.DroppedBatches += p.droppedBatches
		s.DroppedPackets += p.droppedPackets
		s.Decoder.Add(r.dec.Stats())
		if p.frames > 0 {
			if s.First.IsZero() || p.first.Before(s.First) {
				s.First = p.first
			}
			if p.last.After(s.Last) {
				s.Last = p.last
			}
		}
		if r.inline {
			s.WorkerPackets[0] += p.packets
		}
	}
	if queues != nil {
		s.QueueLen = make([]int, len(queues))
		for w, q := range queues {
			s.QueueLen[w] = len(q)
		}
		for w := range s.WorkerPackets {
			s.WorkerPackets[w] = e.workerPackets[w].Load()
		}
	}
	return s
}

// decoderStats sums the statistics of the readers' decoders (Decoder.Stats
// is safe to call from any goroutine).
func (e *Engine) decoderStats() DecoderStats {
	e.mu.Lock()
	readers := e.readers
	e.mu.Unlock()
	var s DecoderStats
	for _, r := range readers {
		s.Add(r.dec.Stats())
	}
	return s
}

// readerStats are the counters of one reader.
type readerStats struct {
	frames, bytes, packets         uint64
	droppedBatches, droppedPackets uint64
	first, last                    time.Time
}

// reader reads one source in its own goroutine.
type reader struct {
	e      *Engine
	src    Source
	dec    *Decoder
	done   <-chan struct{}
	inline bool

	frame Frame
	pkt   Packet
	readerStats
	unpublished int
	err         error
	ended       bool // the source reached io.EOF or failed (not cancelled)

	// Batch mode.
	blocks  blockSource // src, when its frames' memory can be retained
	queues  []chan *batch
	free    []chan *batch
	pending []*batch // the batch being filled for each worker
	fillMu  sync.Mutex

	statMu sync.Mutex
	pub    readerStats
}

func newReader(e *Engine, src Source, done <-chan struct{}, inline bool) *reader {
	r := &reader{e: e, src: src, dec: NewDecoder(e.cfg.Decoder), done: done, inline: inline}
	if !inline {
		r.pending = make([]*batch, e.cfg.Workers)
		r.blocks, _ = src.(blockSource)
	}
	return r
}

// blockSource is a Source whose frames live in read blocks that a batch can
// retain (FileSource): a batch then keeps the block instead of copying the
// payload. frameBlock returns the block of the frame the last ReadFrame
// returned.
type blockSource interface {
	frameBlock() *block
}

func (r *reader) run() {
	defer func() {
		r.fillMu.Lock() // the flusher may be publishing too
		r.publish()
		r.fillMu.Unlock()
	}()
	live := r.e.live()
	if r.inline && !live {
		r.runInline()
		return
	}
	// In live mode the flusher goroutine hands on (or drops) pending
	// batches and publishes the counters between two frames: fillMu
	// guards them while a frame is processed, but not while ReadFrame
	// waits for the next one.
	var h Handler
	if r.inline {
		h = r.e.handlers[0]
	}
	for r.read() {
		if live {
			r.fillMu.Lock()
		}
		r.count()
		more := true
		if r.dec.Decode(&r.frame, &r.pkt) {
			r.packets++
			if h != nil {
				h.HandlePacket(&r.pkt)
			} else {
				more = r.enqueue()
			}
		}
		more = r.tick() && more
		if live {
			r.fillMu.Unlock()
		}
		if !more {
			break
		}
	}
	if r.inline {
		return
	}
	// Hand on what is left: workers are still draining their queues, so
	// this does not block for long, even when cancelled.
	r.fillMu.Lock()
	for w, b := range r.pending {
		if b != nil && b.n > 0 {
			r.queues[w] <- b
		}
		r.pending[w] = nil
	}
	r.fillMu.Unlock()
}

// runInline is the loop for one worker, one source and no flusher: no
// copies, no channels, no locks.
func (r *reader) runInline() {
	h := r.e.handlers[0]
	for r.read() {
		r.count()
		if r.dec.Decode(&r.frame, &r.pkt) {
			r.packets++
			h.HandlePacket(&r.pkt)
		}
		if !r.tick() {
			return
		}
	}
}

// read reads the next frame; false at the end.
func (r *reader) read() bool {
	err := r.src.ReadFrame(&r.frame)
	if err == nil {
		return true
	}
	select {
	case <-r.done:
		return false // cancelled: the error is most likely the close
	default:
	}
	r.ended = true
	if err != io.EOF {
		r.err = err
	}
	return false
}

// count counts the frame just read.
func (r *reader) count() {
	r.frames++
	r.bytes += uint64(len(r.frame.Data))
	ts := r.frame.Timestamp
	if r.frames == 1 {
		r.first, r.last = ts, ts
	} else if ts.After(r.last) {
		r.last = ts
	} else if ts.Before(r.first) {
		r.first = ts
	}
}

// tick publishes the counters now and then; false when cancelled.
func (r *reader) tick() bool {
	r.unpublished++
	if r.unpublished < publishEvery {
		return true
	}
	r.publish()
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

func (r *reader) publish() {
	r.unpublished = 0
	r.statMu.Lock()
	r.pub = r.readerStats
	r.statMu.Unlock()
}

// enqueue adds r.pkt to the batch of its worker: its payload stays where it
// is when the source's read block can be retained, and is copied into the
// batch otherwise. It returns false when the reader should stop (cancelled
// while waiting for room).
func (r *reader) enqueue() bool {
	w := int(r.pkt.Flow.Hash() % uint64(len(r.pending)))
	var blk *block
	if r.blocks != nil && !r.dec.reassembled {
		blk = r.blocks.frameBlock()
	}
	b := r.pending[w]
	if b == nil || !b.add(&r.pkt, blk) {
		if b != nil && !r.send(w, r.e.cfg.Block) {
			return false
		}
		if b = r.pending[w]; b == nil { // else the dropped batch, emptied for reuse
			b = r.getBatch(w)
		}
		b.add(&r.pkt, blk) // an empty batch takes any packet
	}
	if b.n == len(b.pkts) {
		return r.send(w, r.e.cfg.Block)
	}
	return true
}

func (r *reader) getBatch(w int) *batch {
	var b *batch
	select {
	case b = <-r.free[w]:
	default:
		b = newBatch(r.e.cfg.BatchSize, r.e.cfg.BatchBytes)
	}
	r.pending[w] = b
	return b
}

// send hands the pending batch of worker w on. With block it waits for
// room (or cancellation); without, a full queue drops the batch, which is
// counted and reused. It returns false when the reader should stop.
func (r *reader) send(w int, block bool) bool {
	b := r.pending[w]
	q := r.queues[w]
	if block {
		select {
		case q <- b:
			r.pending[w] = nil
			return true
		case <-r.done:
			return false
		}
	}
	select {
	case q <- b:
		r.pending[w] = nil
	default:
		r.droppedBatches++
		r.droppedPackets += uint64(b.n)
		b.reset()
	}
	return true
}

// batch carries packets to a worker. A packet's payload either stays in the
// source's read block, which the batch retains until the worker is done, or
// is copied into the batch's arena. The payload memory a batch holds, its
// retained blocks plus what it copied, stays within limit (BatchBytes),
// except that an empty batch takes any one packet.
type batch struct {
	pkts   []Packet
	n      int
	arena  []byte   // allocated by the first copy
	used   int      // bytes of arena in use
	blocks []*block // retained, in the order first used
	bytes  int      // the payload memory held: used plus the blocks' sizes
	limit  int
}

func newBatch(size, bytes int) *batch {
	return &batch{pkts: make([]Packet, size), limit: bytes}
}

// holds reports whether the batch retains blk.
func (b *batch) holds(blk *block) bool {
	for i := len(b.blocks) - 1; i >= 0; i-- {
		if b.blocks[i] == blk {
			return true
		}
	}
	return false
}

// add appends p unless it does not fit (see batch), and reports whether it
// did: its payload stays in blk, which the batch retains, or is copied when
// blk is nil. The arena grows (and stays grown) for a payload larger than
// it.
func (b *batch) add(p *Packet, blk *block) bool {
	if b.n == len(b.pkts) {
		return false
	}
	n := len(p.Payload)
	held := blk != nil && b.holds(blk)
	switch {
	case b.n == 0, held:
	case blk != nil && b.bytes+len(blk.buf) > b.limit, blk == nil && b.bytes+n > b.limit:
		return false
	}
	q := &b.pkts[b.n]
	*q = *p
	b.n++
	if blk != nil {
		if !held {
			blk.retain()
			b.blocks = append(b.blocks, blk)
			b.bytes += len(blk.buf)
		}
		return true
	}
	if b.used+n > len(b.arena) {
		b.arena = make([]byte, max(b.limit, n))
		b.used = 0
	}
	q.Payload = b.arena[b.used : b.used+n : b.used+n]
	copy(q.Payload, p.Payload)
	b.used += n
	b.bytes += n
	return true
}

// reset empties the batch and releases its blocks. Call it once the
// packets have been handled (or dropped).
func (b *batch) reset() {
	for i, blk := range b.blocks {
		blk.release()
		b.blocks[i] = nil
	}
	b.blocks = b.blocks[:0]
	b.n, b.used, b.bytes = 0, 0, 0
}
