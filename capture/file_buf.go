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
// The buffer starts small and grows (up to max) the first time a record
// needs more room, so many files merged at once stay cheap; after that,
// reading a record allocates nothing.
type recordBuffer struct {
	rd   io.Reader
	buf  []byte
	max  int   // the largest size buf may grow to; peek(n) needs n <= max
	r, w int   // unread bytes are buf[r:w]
	off  int64 // stream offset of buf[r]
	err  error // sticky error from rd (io.EOF at the end)
}

// recordBufferStart is the initial size of a recordBuffer.
const recordBufferStart = 64 << 10

func newRecordBuffer(rd io.Reader, max int) *recordBuffer {
	return &recordBuffer{rd: rd, buf: make([]byte, min(recordBufferStart, max)), max: max}
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
	if n > len(b.buf) {
		// Slices handed out before stay valid: they keep the old array.
		nb := make([]byte, min(max(n, 2*len(b.buf)), b.max))
		b.w = copy(nb, b.buf[b.r:b.w])
		b.r = 0
		b.buf = nb
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
			b.r, b.w = 0, 0
			if b.err != nil {
				return b.err
			}
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
