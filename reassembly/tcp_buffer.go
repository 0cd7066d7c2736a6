package reassembly

import (
	"math/bits"
	"sync"
	"time"
)

// Out-of-order bytes are copied into pooled buffers of power-of-two size
// classes, from 1<<minClass to 1<<maxClass bytes. A buffer is accounted at
// its capacity, so the configured caps bound the memory really held, not
// just the payload (1-byte segments cannot multiply it).
const (
	minClass = 6  // 64 B
	maxClass = 16 // 64 KiB: the largest TCP payload an IPv4 packet can carry
	nClasses = maxClass - minClass + 1
)

// segment is one buffered out-of-order segment.
type segment struct {
	seq  uint32
	data []byte    // the segment's bytes, a prefix of *buf (or the whole unpooled allocation)
	buf  *[]byte   // the pooled buffer data lives in; nil when it was too large to pool
	ts   time.Time // capture time of the packet that carried the bytes
}

// end returns the sequence number after the segment's last byte.
func (s *segment) end() uint32 { return s.seq + uint32(len(s.data)) }

// bufPool hands out byte buffers by size class. Each Assembler owns one;
// it is used from the assembler's goroutine only, but sync.Pool lets the
// garbage collector reclaim buffers no longer needed after a burst.
type bufPool struct {
	classes [nClasses]sync.Pool
}

// sizeClass returns the class index for n bytes, or -1 when n is larger
// than the largest class.
func sizeClass(n int) int {
	if n <= 1<<minClass {
		return 0
	}
	c := bits.Len(uint(n-1)) - minClass
	if c >= nClasses {
		return -1
	}
	return c
}

// heldSize is the number of bytes a buffer for n bytes holds.
func heldSize(n int) int {
	c := sizeClass(n)
	if c < 0 {
		return n
	}
	return 1 << (c + minClass)
}

// get returns a buffer able to hold n bytes: data has length n; buf is nil
// when n was too large to pool.
func (p *bufPool) get(n int) (data []byte, buf *[]byte) {
	c := sizeClass(n)
	if c < 0 {
		return make([]byte, n), nil
	}
	if v := p.classes[c].Get(); v != nil {
		buf = v.(*[]byte)
	} else {
		b := make([]byte, 1<<(c+minClass))
		buf = &b
	}
	return (*buf)[:n], buf
}

// put returns a buffer obtained from get.
func (p *bufPool) put(buf *[]byte) {
	if buf == nil {
		return
	}
	if c := sizeClass(cap(*buf)); c >= 0 && cap(*buf) == 1<<(c+minClass) {
		p.classes[c].Put(buf)
	}
}
