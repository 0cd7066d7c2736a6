package capture

import (
	"bytes"
	"io"
	"testing"
)

// TestRecordBufferRetain checks the contract the Engine's zero-copy batches
// rely on: the records in a retained block stay as they were while the
// buffer reads on (through many refills and a skip), and a block comes back
// through the free list once the last holder releases it.
func TestRecordBufferRetain(t *testing.T) {
	const rec = 1000 // record size: 65 records per 64 KiB block
	stream := make([]byte, 400*rec)
	for i := range stream {
		stream[i] = byte(i/rec) ^ byte(i)
	}
	free := newBlockList()
	b := newRecordBuffer(bytes.NewReader(stream), 512<<10, free)
	// next peeks record i and checks its bytes; when says at which stage.
	next := func(i int, when string) []byte {
		p, err := b.peek(rec)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !bytes.Equal(p, stream[i*rec:(i+1)*rec]) {
			t.Fatalf("record %d%s: wrong bytes", i, when)
		}
		return p
	}

	type kept struct {
		blk  *block
		data []byte
		want []byte
	}
	var held []kept
	for i := 0; i < 300; i++ {
		p := next(i, "")
		if i%7 == 0 { // an Engine batch retains the block of this record
			b.cur.retain()
			held = append(held, kept{b.cur, p, stream[i*rec : (i+1)*rec]})
		}
		b.discard(rec)
	}
	if err := b.skip(50 * rec); err != nil {
		t.Fatal(err)
	}
	for i, k := range held {
		if !bytes.Equal(k.data, k.want) {
			t.Fatalf("retained record %d was overwritten while its block was held", i*7)
		}
	}
	if len(free.ch) != 0 {
		t.Fatalf("%d blocks on the free list while every block read is still held", len(free.ch))
	}

	// Released blocks come back, and the buffer reads into them again.
	seen := map[*block]bool{}
	for _, k := range held {
		seen[k.blk] = true
		k.blk.release()
	}
	if n := len(free.ch); n == 0 || n > freeBlocks {
		t.Fatalf("%d blocks on the free list after every holder released them; want 1..%d", n, freeBlocks)
	}
	reused := false
	var again []*block
	for i := 350; i < 400; i++ {
		next(i, " after reuse")
		reused = reused || seen[b.cur]
		b.cur.retain() // force a new block at every refill
		again = append(again, b.cur)
		b.discard(rec)
	}
	for _, k := range again {
		k.release()
	}
	if !reused {
		t.Error("the buffer never read into a released block again")
	}
	if _, err := b.peek(1); err != io.EOF {
		t.Errorf("peek at the end: %v, want io.EOF", err)
	}
}

// TestRecordBufferReusesInPlace checks that a buffer whose block nobody else
// holds keeps reading into that one block (the single-worker path).
func TestRecordBufferReusesInPlace(t *testing.T) {
	stream := bytes.Repeat([]byte("0123456789"), 100000) // 1 MB
	b := newRecordBuffer(bytes.NewReader(stream), 512<<10, newBlockList())
	first := b.cur
	for off := 0; off < len(stream); off += 100 {
		p, err := b.peek(100)
		if err != nil || !bytes.Equal(p, stream[off:off+100]) {
			t.Fatalf("offset %d: %q, %v", off, p, err)
		}
		b.discard(100)
	}
	if b.cur != first {
		t.Error("the buffer changed blocks although no one retained one")
	}
}
