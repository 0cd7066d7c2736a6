package http1

import (
	"github.com/apitap/apitap/reassembly"
)

// maxKeptScratch is the largest body scratch buffer a direction keeps
// between messages; larger ones are dropped so that idle connections do
// not pin memory.
const maxKeptScratch = 256 << 10

// startBody prepares the storage of a body; length is its size when known
// (Content-Length), -1 otherwise.
func (d *dir) startBody(length int64) {
	d.bodyLen = 0
	d.bodyLost = false
	d.bodyTrunc = false
	d.bodyDirect = false
	d.bodyBuf = nil
	d.bodyCap = 0
	max := d.c.f.cfg.MaxBodyBytes
	if max < 0 || d.cur == nil {
		return
	}
	d.bodyCap = max
	if length >= 0 && (d.fr.ncodings == 0 || d.c.f.cfg.DisableDecoding) {
		// The size is known and the bytes are kept as they are: store
		// them straight into the slice the transaction will own, which
		// grows as they arrive (growDirect), up to that size.
		if n := int(min(length, int64(max))); n > 0 {
			d.bodyCap = n
			d.bodyDirect = true
		}
		return
	}
	d.bodyBuf = d.bodyScratch[:0]
}

// bodyBytes counts body bytes and stores them up to the cap.
func (d *dir) bodyBytes(p []byte) {
	d.bodyLen += int64(len(p))
	if d.bodyCap == 0 || d.bodyLost {
		return
	}
	room := d.bodyCap - len(d.bodyBuf)
	if d.bodyDirect && cap(d.bodyBuf)-len(d.bodyBuf) < min(room, len(p)) {
		d.growDirect(min(room, len(p)))
	}
	if room >= len(p) {
		d.bodyBuf = append(d.bodyBuf, p...)
		return
	}
	d.bodyBuf = append(d.bodyBuf, p[:room]...)
	if !d.bodyTrunc {
		d.bodyTrunc = true
		d.c.f.stats.BodyLimit++
	}
}

// Direct bodies are not allocated at the size their Content-Length
// announces, which costs a peer nothing to send: the buffer is at most
// directGrowth times the bytes received (at least minDirectBody), so that
// idle connections announcing large bodies hold little. A body that
// arrives whole in one segment still takes one allocation of its exact
// size; a long one takes a few (×directGrowth each).
const (
	directGrowth  = 4
	minDirectBody = 512
)

// growDirect makes room for n more bytes in the direct body buffer.
func (d *dir) growDirect(n int) {
	need := len(d.bodyBuf) + n
	c := min(d.bodyCap, max(need, directGrowth*max(cap(d.bodyBuf), n), minDirectBody))
	b := make([]byte, len(d.bodyBuf), c)
	copy(b, d.bodyBuf)
	d.bodyBuf = b
}

// finishBody returns the stored body of the message ending now, decoded
// and owned, with the flags describing it.
func (d *dir) finishBody() ([]byte, reassembly.Flags) {
	raw := d.bodyBuf
	d.bodyBuf = nil
	if !d.bodyDirect {
		d.keepScratch(raw)
	}
	var flags reassembly.Flags
	if d.bodyTrunc {
		flags |= reassembly.FlagBodyTruncated
	}
	if len(raw) == 0 {
		return nil, flags
	}
	if d.bodyDirect {
		return raw, flags
	}
	if d.fr.ncodings > 0 && !d.c.f.cfg.DisableDecoding {
		incomplete := d.bodyLost || d.bodyTrunc || d.flags&(reassembly.FlagTruncated|reassembly.FlagGap) != 0
		out, f := d.c.f.decode(raw, d.fr.codings[:d.fr.ncodings], incomplete)
		return out, flags | f
	}
	return append([]byte(nil), raw...), flags
}

// dropBody forgets the body of a message that has no transaction.
func (d *dir) dropBody() {
	if !d.bodyDirect {
		d.keepScratch(d.bodyBuf)
	}
	d.bodyBuf = nil
	d.bodyDirect = false
}

func (d *dir) keepScratch(b []byte) {
	if cap(b) > maxKeptScratch {
		d.bodyScratch = nil
		return
	}
	if cap(b) > cap(d.bodyScratch) {
		d.bodyScratch = b[:0]
	}
}
