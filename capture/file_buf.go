package capture

import (
	"io"
	"sync/atomic"
)

// recordBuffer is a read buffer that hands out records as slices of its own
// memory. peek returns the next n bytes without consuming them; discard
// consumes them. The buffer only moves or overwrites data when it refills,
// which happens inside peek, so a slice returned by peek stays valid until
// the next peek: exactly the lifetime of a Frame's Data.
//
// The memory is a block, which the Engine may retain (block.retain) to keep
// the frames in it valid for longer, so that it hands payloads to its
// workers without copying them. A refill that would overwrite bytes already
// handed out moves the unread tail into a fresh block instead when the
// current one is retained; the retained block is reused only once every
// holder has released it.
//
// The buffer starts small and grows (up to max) the first time a record
// needs more room, so many files merged at once stay cheap; after that,
// reading a record allocates nothing (retained blocks come back through
// the free list).
type recordBuffer struct {
	rd   io.Reader
	cur  *block // the memory: buf is cur.buf
	buf  []byte
	free *blockList
	max  int   // the largest size buf may grow to; peek(n) needs n <= max
	r, w int   // unread bytes are buf[r:w]
	off  int64 // stream offset of buf[r]
	err  error // sticky error from rd (io.EOF at the end)
}

// recordBufferStart is the initial size of a recordBuffer, and the size of
// the blocks a blockList keeps.
const recordBufferStart = 64 << 10

// newRecordBuffer returns a buffer reading rd; free (nil for none) is where
// it takes fresh blocks from and where released ones go.
func newRecordBuffer(rd io.Reader, max int, free *blockList) *recordBuffer {
	b := &recordBuffer{rd: rd, free: free, max: max}
	b.use(free.get(min(recordBufferStart, max)))
	return b
}

// use makes blk the buffer's memory; the buffer holds one reference to it.
func (b *recordBuffer) use(blk *block) {
	if b.cur != nil {
		b.cur.release()
	}
	blk.refs.Store(1)
	b.cur, b.buf = blk, blk.buf
}

// offset is the stream offset of the next unread byte.
func (b *recordBuffer) offset() int64 { return b.off }

// peek returns the next n bytes (n <= b.max) without consuming them.
// When fewer than n bytes remain it returns what there is and the reader's
// error (io.EOF at a clean end of the stream).
func (b *recordBuffer) peek(n int) ([]byte, error) {
	if b.w-b.r >= n {
		return b.buf[b.r : b.r+n], nil
	}
	b.fill(n)
	if b.w-b.r >= n {
		return b.buf[b.r : b.r+n], nil
	}
	return b.buf[b.r:b.w], b.err
}

// fill reads until n bytes are buffered or the reader fails.
func (b *recordBuffer) fill(n int) {
	if n > len(b.buf) || b.r+n > len(b.buf) && b.cur.retained() {
		// Not enough room, or no room after r in a block others still
		// read: move the unread tail into a new block. Slices handed out
		// before stay valid: they keep the old one.
		size := len(b.buf)
		if n > size {
			size = min(max(n, 2*size), b.max)
		}
		old := b.buf[b.r:b.w]
		b.use(b.free.get(size))
		b.w = copy(b.buf, old)
		b.r = 0
	} else if b.r+n > len(b.buf) {
		// Not enough room after r: move the unread tail to the front.
		copy(b.buf, b.buf[b.r:b.w])
		b.w -= b.r
		b.r = 0
	}
	for b.w-b.r < n && b.err == nil {
		m, err := b.rd.Read(b.buf[b.w:])
		b.w += m
		if err != nil {
			b.err = err
		} else if m == 0 {
			// A reader returning 0, nil repeatedly is broken; give up
			// rather than spin.
			b.err = io.ErrNoProgress
		}
	}
}

// discard consumes n bytes previously returned by peek.
func (b *recordBuffer) discard(n int) {
	b.r += n
	b.off += int64(n)
}

// skip consumes n bytes, which may be more than the buffer holds. It returns
// the reader's error when the stream ends first.
func (b *recordBuffer) skip(n int64) error {
	for n > 0 {
		if b.r == b.w {
			if b.err != nil {
				return b.err
			}
			if b.cur.retained() {
				b.use(b.free.get(len(b.buf)))
			}
			b.r, b.w = 0, 0
			b.fill(1)
			continue
		}
		k := int64(b.w - b.r)
		if k > n {
			k = n
		}
		b.discard(int(k))
		n -= k
	}
	return nil
}

// block is memory a recordBuffer reads records into. refs counts its
// holders: the buffer while it reads into it, and each Engine batch with a
// packet whose payload lies in it. The block is handed back to its free
// list (or left to the collector) when the last holder releases it.
type block struct {
	buf  []byte
	refs atomic.Int32
	free *blockList // nil: not pooled
}

// retain adds a holder. Only the goroutine reading the source retains (it
// already holds the block through the buffer, so refs never rises from 0).
func (k *block) retain() { k.refs.Add(1) }

// retained reports whether a holder other than the buffer has it.
func (k *block) retained() bool { return k.refs.Load() > 1 }

// release drops a holder; the last one returns the block to its list.
func (k *block) release() {
	if k.refs.Add(-1) == 0 && k.free != nil {
		k.free.put(k)
	}
}

// blockList is a bounded free list of recordBufferStart-sized blocks,
// shared by the buffers of one FileSource. A nil *blockList allocates every
// block and keeps none.
type blockList struct{ ch chan *block }

// freeBlocks is how many released blocks a blockList keeps (2 MiB).
const freeBlocks = 32

func newBlockList() *blockList { return &blockList{ch: make(chan *block, freeBlocks)} }

// get returns a block of at least size bytes.
func (l *blockList) get(size int) *block {
	if l != nil && size <= recordBufferStart {
		select {
		case k := <-l.ch:
			return k
		default:
		}
		return &block{buf: make([]byte, recordBufferStart), free: l}
	}
	return &block{buf: make([]byte, size)}
}

func (l *blockList) put(k *block) {
	select {
	case l.ch <- k:
	default: // full: leave it to the collector
	}
}

// countingReader counts the bytes read from the underlying input for
// progress reporting. The count is read from other goroutines.
type countingReader struct {
	rd io.Reader
	n  *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.rd.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// prefixReader returns prefix and then reads from rd: the bytes that were
// read to sniff a file's format are put back in front of the stream.
type prefixReader struct {
	prefix []byte
	rd     io.Reader
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	return p.rd.Read(b)
}
