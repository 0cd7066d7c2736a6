package http1

import (
	"bytes"
	"time"
	"unsafe"

	"github.com/apitap/apitap/reassembly"
)

// state of a direction's parser.
type state uint8

const (
	stIdle        state = iota // between messages: skipping empty lines
	stHead                     // start line and header block, accumulating in buf
	stSkipHead                 // header block over the limit: skipping to its end
	stBodyLength               // Content-Length body
	stChunkSize                // chunk-size line
	stChunkData                // chunk data
	stChunkEnd                 // line end after chunk data
	stTrailer                  // trailer block, accumulating in buf
	stSkipTrailer              // trailer block over the limit
	stBodyClose                // body delimited by the end of the direction
	stResync                   // looking for the next message start
	stIgnore                   // the rest of the direction is not HTTP (after HTTP/0.9)
	stDone                     // the direction has ended
)

// resyncWindow caps the bytes kept while looking for a message start: a
// request line split across Data calls is found if it is shorter.
const resyncWindow = 8 << 10

// maxChunkLine caps a chunk-size line (extensions included).
const maxChunkLine = 4 << 10

// dir parses the messages of one direction of a connection.
type dir struct {
	c     *conn
	side  int
	role  role
	state state

	// buf accumulates a header block, trailer block or chunk-size line
	// that spans Data calls; scan is where to look for its end next.
	buf    []byte
	scan   int
	lineOK bool // the start line in buf was accepted (beginMessage done)

	cur      *entry // transaction of the message in progress; nil when detached or interim
	interim  bool   // the message in progress is a 1xx interim response
	msgStart time.Time
	lastTS   time.Time
	flags    reassembly.Flags // flags of the message in progress

	// Framing of the message in progress.
	fr          framing
	remaining   int64
	bodyLen     int64
	chunkJunk   bool // bytes between chunk data and its line end
	skipLine    uint8
	method      methodKind // of the request a response answers
	bodyBuf     []byte     // stored body (bodyScratch when it is copied or decoded at the end)
	bodyScratch []byte     // reusable storage for bodies
	bodyDirect  bool       // bodyBuf is the final, owned slice
	bodyCap     int        // bytes of body to store
	bodyLost    bool       // a gap cut the stored body
	bodyTrunc   bool       // the body went over Config.MaxBodyBytes

	// Resynchronisation windows.
	lineWin  []byte // client: the current line, while it may be a request line
	lineCut  bool   // client: lineWin does not start at a line start
	lineBad  bool   // client: the current line begins with a rejected message start
	badStart bool   // server: the next byte to scan begins a rejected message start
	statWin  []byte // server: the last bytes, a possible "HTTP/1.x NNN" prefix
	resyncs  bool   // counting: inside a resync episode

	// gapCheck (response side) is the request awaiting a response when a
	// gap was reported: if the bytes after the gap do not begin a
	// response (or, gapStrict, whatever they are), the gap took the start
	// of its response (checkGap).
	gapCheck  *entry
	gapStrict bool
	gapSeen   uint8 // bytes of "HTTP/" matched after the gap so far

	// Header parsing scratch.
	hdrs         []hspan
	fold         []byte
	hdrMalformed bool // parseHeaders met lines it had to be lenient with

	// The start line accepted by beginMessage, as offsets from the start
	// of the line (which is also the start of the header block).
	start startSpans
}

// startSpans locates the parts of a start line: method, target and
// version of a request; version and reason of a response.
type startSpans struct {
	p      [3][2]int32
	code   int
	http09 bool
}

func spanOf(sub, base []byte) [2]int32 {
	if len(sub) == 0 {
		return [2]int32{}
	}
	off := uintptr(unsafe.Pointer(unsafe.SliceData(sub))) - uintptr(unsafe.Pointer(unsafe.SliceData(base)))
	return [2]int32{int32(off), int32(len(sub))}
}

func (s *startSpans) get(i int, block []byte) []byte {
	return block[s.p[i][0] : s.p[i][0]+s.p[i][1]]
}

// feed runs the state machine over data.
func (d *dir) feed(data []byte, ts time.Time) {
	d.lastTS = ts
	if d.gapCheck != nil {
		d.checkGap(data)
	}
	for len(data) > 0 && !d.c.stopped {
		switch d.state {
		case stIdle:
			data = d.idle(data, ts)
		case stHead:
			data = d.head(data, ts)
		case stSkipHead, stSkipTrailer:
			data = d.skipBlock(data, ts)
		case stBodyLength, stChunkData:
			n := int(min(d.remaining, int64(len(data))))
			d.bodyBytes(data[:n])
			d.remaining -= int64(n)
			data = data[n:]
			if d.remaining == 0 {
				if d.state == stChunkData {
					d.state = stChunkEnd
					d.chunkJunk = false
				} else {
					d.endMessage(ts)
				}
			}
		case stChunkSize:
			data = d.chunkSize(data, ts)
		case stChunkEnd:
			i := bytes.IndexByte(data, '\n')
			junk := data
			if i >= 0 {
				junk = data[:i]
			}
			for _, b := range junk {
				if b != '\r' {
					d.chunkJunk = true
				}
			}
			if i < 0 {
				return
			}
			if d.chunkJunk {
				d.markMalformed()
			}
			data = data[i+1:]
			d.state = stChunkSize
		case stTrailer:
			data = d.trailer(data, ts)
		case stBodyClose:
			d.bodyBytes(data)
			return
		case stResync:
			data = d.resyncData(data, ts)
		case stIgnore, stDone:
			return
		}
	}
}

// idle skips the empty lines between messages and starts the next one.
func (d *dir) idle(data []byte, ts time.Time) []byte {
	if d.role == roleResponse {
		if e := d.c.firstAwaiting(); e != nil && e.http09 {
			// The answer to an HTTP/0.9 request is the raw rest of the
			// server stream.
			d.beginHTTP09Response(e, ts)
			return data
		}
	}
	i := 0
	for i < len(data) && (data[i] == '\r' || data[i] == '\n') {
		i++
	}
	if i < len(data) {
		d.startHead(ts)
	}
	return data[i:]
}

// startHead prepares for the start line of a new message.
func (d *dir) startHead(ts time.Time) {
	d.state = stHead
	d.msgStart = ts
	d.buf = d.buf[:0]
	d.scan = 0
	d.lineOK = false
}

// head accumulates a start line and header block and processes it once
// complete. The common case, a whole block inside data, is parsed in place.
func (d *dir) head(data []byte, ts time.Time) []byte {
	max := d.c.f.cfg.MaxHeaderBytes
	if len(d.buf) == 0 {
		if !d.lineOK {
			nl := bytes.IndexByte(data, '\n')
			if nl < 0 || nl >= max {
				if !d.plausibleStart(data) {
					d.c.f.stats.BadStartLines++
					d.startResync(true)
					return data
				}
				return d.appendHead(data, ts)
			}
			switch d.beginMessage(lineOf(data[:nl+1]), ts) {
			case lineBad:
				d.startResync(true)
				return data
			case lineBlank:
				d.state = stIdle
				return data[nl+1:]
			}
			d.lineOK = true
		}
		// Parse the fields while looking for the end of the block.
		if end := d.parseHeaders(data[:min(len(data), max)], true); end >= 0 {
			d.headParsed(data[:end], ts)
			return data[end:]
		}
	}
	return d.appendHead(data, ts)
}

// appendHead is head's slow path: data goes into buf, at most up to the
// header limit.
func (d *dir) appendHead(data []byte, ts time.Time) []byte {
	max := d.c.f.cfg.MaxHeaderBytes
	room := max - len(d.buf)
	n := min(room, len(data))
	old := len(d.buf)
	d.buf = append(d.buf, data[:n]...)
	if !d.lineOK {
		nl := bytes.IndexByte(d.buf[old:], '\n')
		if nl < 0 {
			if !d.plausibleStart(d.buf) {
				d.c.f.stats.BadStartLines++
				return d.reject(data[n:])
			}
			if len(d.buf) >= max {
				// A start line longer than the header limit: not HTTP.
				d.c.f.stats.HeaderBytesLimit++
				return d.reject(data[n:])
			}
			return data[n:]
		}
		nl += old
		switch d.beginMessage(lineOf(d.buf[:nl+1]), ts) {
		case lineBad:
			return d.reject(data[n:])
		case lineBlank:
			// Give back what followed the blank line (rare: copied out).
			rest := append([]byte(nil), d.buf[nl+1:]...)
			d.state = stIdle
			d.buf = d.buf[:0]
			d.feedNested(rest, ts)
			return data[n:]
		}
		d.lineOK = true
		d.scan = nl
	}
	end, next := findBlockEnd(d.buf, d.scan)
	if end >= 0 {
		// The block ends inside buf: give back what was copied past it.
		extra := len(d.buf) - end
		d.finishHead(d.buf[:end], true, ts)
		return data[n-extra:]
	}
	d.scan = next
	if len(d.buf) >= max {
		d.c.f.stats.HeaderBytesLimit++
		d.flags |= reassembly.FlagHeaderLimit
		d.skipLine = tailState(d.buf)
		block := d.buf
		if i := bytes.LastIndexByte(block, '\n'); i >= 0 {
			block = block[:i+1]
		}
		d.finishHead(block, false, ts)
		return data[n:]
	}
	return data[n:]
}

// plausibleStart reports whether a start line beginning with p (no line
// end yet) may still be accepted by beginMessage, so that bytes that are
// clearly not HTTP are not buffered up to the header limit.
func (d *dir) plausibleStart(p []byte) bool {
	if d.role != roleRequest && prefixOfHTTP(p) {
		return true
	}
	// Only the first bytes are looked at, so that this costs O(1)
	// however the line arrives; parseRequestLine and beginMessage apply
	// the same bounds to whole lines.
	j := 0
	for j < len(p) && j <= maxBlankLine && (isSpace(p[j]) || p[j] == '\r') {
		j++
	}
	if j == len(p) {
		return j <= maxBlankLine // a blank line, so far
	}
	if d.role == roleResponse {
		return false
	}
	i := 0
	for i < len(p) && i <= maxLeadingSpace && isSpace(p[i]) {
		i++
	}
	if i > maxLeadingSpace {
		return false
	}
	start := i
	for i < len(p) && i-start <= maxMethod && tchar[p[i]] {
		i++
	}
	switch n := i - start; {
	case n > maxMethod:
		return false
	case i == len(p):
		return true
	case n == 0:
		return false
	}
	return isSpace(p[i])
}

// prefixOfHTTP reports whether the first bytes of p (up to five) are a
// prefix of "HTTP/", ignoring case.
func prefixOfHTTP(p []byte) bool {
	const h = "http/"
	for i := 0; i < len(p) && i < len(h); i++ {
		c := p[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != h[i] {
			return false
		}
	}
	return true
}

// reject handles a message start that turned out not to be one while in
// buf: buf and the rest go to resynchronisation.
func (d *dir) reject(rest []byte) []byte {
	// Rare path: the bytes in buf must be scanned again, so they are
	// copied out of buf first.
	old := append([]byte(nil), d.buf...)
	d.buf = d.buf[:0]
	d.startResync(true)
	d.feedNested(old, d.lastTS)
	return rest
}

// feedNested runs the state machine over bytes that were already delivered
// once (they came back out of a buffer).
func (d *dir) feedNested(b []byte, ts time.Time) {
	last := d.lastTS
	d.feed(b, ts)
	d.lastTS = last
}

// tailState tells skipBlock where a truncated block stopped: 1 at the
// start of a line, 2 after a CR at the start of a line, 0 inside a line.
func tailState(b []byte) uint8 {
	switch {
	case len(b) > 0 && b[len(b)-1] == '\n':
		return 1
	case len(b) > 1 && b[len(b)-1] == '\r' && b[len(b)-2] == '\n':
		return 2
	}
	return 0
}

// skipBlock discards the rest of an over-long header or trailer block up
// to its empty line.
func (d *dir) skipBlock(data []byte, ts time.Time) []byte {
	for i, b := range data {
		switch {
		case b == '\n' && d.skipLine != 0:
			if d.state == stSkipTrailer {
				d.endMessage(ts)
			} else {
				d.enterBody(ts)
			}
			return data[i+1:]
		case b == '\n':
			d.skipLine = 1
		case b == '\r' && d.skipLine == 1:
			d.skipLine = 2
		default:
			d.skipLine = 0
		}
	}
	return nil
}

// chunkSize reads a chunk-size line.
func (d *dir) chunkSize(data []byte, ts time.Time) []byte {
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 && len(d.buf)+len(data) <= maxChunkLine {
		d.buf = append(d.buf, data...)
		return nil
	}
	if nl < 0 || len(d.buf)+nl+1 > maxChunkLine {
		// An endless chunk-size line: the body is over; what follows
		// is searched for the next message, from the line's start.
		old := append([]byte(nil), d.buf...)
		d.badChunk()
		d.endMessage(ts)
		d.startResync(true)
		d.feedNested(old, ts)
		return data
	}
	var line []byte
	if len(d.buf) > 0 {
		d.buf = append(d.buf, data[:nl+1]...)
		line = lineOf(d.buf)
	} else {
		line = lineOf(data[:nl+1])
	}
	data = data[nl+1:]
	n, ok := parseChunkSize(line)
	d.buf = d.buf[:0]
	if !ok {
		// Like Zeek: an unreadable size ends the body.
		d.badChunk()
		n = 0
	}
	if n == 0 {
		d.state = stTrailer
		d.scan = 0
		return data
	}
	d.remaining = n
	d.state = stChunkData
	return data
}

func (d *dir) badChunk() {
	d.c.f.stats.BadChunks++
	d.flags |= reassembly.FlagMalformed | reassembly.FlagSmuggling
}

// trailer accumulates the trailer block of a chunked body.
func (d *dir) trailer(data []byte, ts time.Time) []byte {
	max := d.c.f.cfg.MaxHeaderBytes
	if len(d.buf) == 0 {
		if end, _ := findBlockEnd(data, 0); end >= 0 && end <= max {
			d.addTrailers(data[:end])
			d.endMessage(ts)
			return data[end:]
		}
	}
	room := max - len(d.buf)
	n := min(room, len(data))
	d.buf = append(d.buf, data[:n]...)
	end, next := findBlockEnd(d.buf, d.scan)
	if end >= 0 {
		extra := len(d.buf) - end
		d.addTrailers(d.buf[:end])
		d.buf = d.buf[:0]
		d.endMessage(ts)
		return data[n-extra:]
	}
	d.scan = next
	if len(d.buf) >= max {
		d.c.f.stats.HeaderBytesLimit++
		d.flags |= reassembly.FlagHeaderLimit
		d.skipLine = tailState(d.buf)
		d.addTrailers(d.buf)
		d.buf = d.buf[:0]
		d.state = stSkipTrailer
	}
	return data[n:]
}

// lineVerdict is what beginMessage made of a start line.
type lineVerdict uint8

const (
	lineOK    lineVerdict = iota
	lineBad               // not a start line: resynchronise
	lineBlank             // only white space: skip it
)

// beginMessage checks the start line of a new message and, when it is
// one, decides the roles if needed and attaches the message to its
// transaction.
func (d *dir) beginMessage(line []byte, ts time.Time) lineVerdict {
	c := d.c
	if len(line) <= maxBlankLine && isBlank(line) {
		return lineBlank
	}
	d.flags = 0
	d.interim = false
	if d.role != roleResponse {
		if rl, ok := parseRequestLine(line, false); ok {
			d.start = startSpans{p: [3][2]int32{spanOf(rl.method, line), spanOf(rl.target, line), spanOf(rl.version, line)}, http09: rl.http09}
			if d.role == roleUnknown {
				c.decideRoles(d.side, true)
			}
			d.beginRequest(rl, ts)
			return lineOK
		}
	}
	if d.role != roleRequest {
		if sl, ok := parseStatusLine(line); ok {
			d.start = startSpans{p: [3][2]int32{spanOf(sl.version, line), spanOf(sl.reason, line)}, code: sl.code}
			if d.role == roleUnknown {
				c.decideRoles(d.side, false)
			}
			d.beginResponse(sl, ts)
			return lineOK
		}
	}
	c.f.stats.BadStartLines++
	return lineBad
}

func (d *dir) beginRequest(rl requestLine, ts time.Time) {
	c := d.c
	c.httpSeen = true
	c.f.stats.Requests++
	e := c.newEntry()
	e.req = inProgress
	e.afterGap, c.reqGap, c.orphan = c.reqGap, false, false
	switch {
	case equalFold(rl.method, "head"):
		e.method = methodHEAD
	case equalFold(rl.method, "connect"):
		e.method = methodCONNECT
	case string(rl.method) == "PRI" && string(rl.target) == "*" && string(rl.version) == "2.0":
		e.method = methodPRI
	}
	e.http09 = rl.http09
	if rl.http09 {
		c.f.stats.HTTP09++
	}
	if rl.malformed {
		d.flags |= reassembly.FlagMalformed
	}
	e.tx.RequestStart = d.msgStart
	d.cur = e
}

func (d *dir) beginResponse(sl statusLine, ts time.Time) {
	c := d.c
	c.httpSeen = true
	if sl.malformed {
		d.flags |= reassembly.FlagMalformed
	}
	if sl.code >= 100 && sl.code < 200 && sl.code != 101 {
		// Interim response: skipped, the final one follows.
		c.f.stats.Interim++
		d.interim = true
		d.cur = nil
		d.method = methodOther
		if sl.code == 100 {
			if e := c.firstAwaiting(); e != nil {
				e.tx.Flags |= reassembly.FlagContinue
			}
		}
		return
	}
	c.f.stats.Responses++
	e := c.firstAwaiting()
	if e != nil && !c.pipelined {
		for _, o := range c.queue {
			if o != e && o.awaiting() {
				c.pipelined = true
				break
			}
		}
	}
	if e == nil {
		e = c.newEntry()
		e.noRequest = true
		e.req = done
		c.orphan = true
	}
	e.resp = inProgress
	e.tx.ResponseStart = d.msgStart
	d.cur = e
	d.method = e.method
	if e.req == inProgress && e.expect100 {
		// A final answer to "Expect: 100-continue" before any body byte:
		// the client will not send the body (libhtp does the same).
		if rd := c.reqDir(); rd.cur == e && rd.bodyLen == 0 &&
			(rd.state == stBodyLength || rd.state == stChunkSize) && len(rd.buf) == 0 {
			rd.endMessage(ts)
		}
	}
}

// beginHTTP09Response starts the raw response to an HTTP/0.9 request.
func (d *dir) beginHTTP09Response(e *entry, ts time.Time) {
	c := d.c
	c.f.stats.Responses++
	d.flags = 0
	d.interim = false
	d.msgStart = ts
	e.resp = inProgress
	e.tx.ResponseStart = ts
	e.tx.ResponseVersion = "0.9"
	d.cur = e
	d.fr = framing{}
	d.startBody(-1)
	d.state = stBodyClose
}

// finishHead parses the header block of the message started by
// beginMessage (block begins with the start line) and sets up its body.
// complete is false when the block was cut by the header limit or the end
// of the direction.
func (d *dir) finishHead(block []byte, complete bool, ts time.Time) {
	d.parseHeaders(block, true)
	d.useHead(block, complete, ts)
}

// headParsed is finishHead for a complete block already parsed.
func (d *dir) headParsed(block []byte, ts time.Time) {
	d.useHead(block, true, ts)
}

func (d *dir) useHead(block []byte, complete bool, ts time.Time) {
	if d.hdrMalformed {
		d.markMalformed()
	}
	e := d.cur
	switch {
	case d.role == roleRequest:
		d.requestHead(block, e)
	case d.interim:
		d.fr = framing{}
	default:
		d.responseHead(block, e)
	}
	d.buf = d.buf[:0]
	d.scan = 0
	d.lineOK = false
	if !complete {
		if d.state == stHead && d.flags&reassembly.FlagHeaderLimit != 0 {
			d.state = stSkipHead
		}
		return
	}
	d.enterBody(ts)
}

// enterBody moves on to the body decided by the framing of the head.
func (d *dir) enterBody(ts time.Time) {
	fr := &d.fr
	switch {
	case d.interim:
		d.state = stIdle
		d.interim = false
		d.cur = nil
		return
	case d.role == roleRequest && d.cur != nil && d.cur.http09:
		d.endMessage(ts)
		return
	}
	switch fr.body {
	case bodyNone:
		d.endMessage(ts)
	case bodyLength:
		d.startBody(fr.length)
		d.remaining = fr.length
		d.state = stBodyLength
		if fr.length == 0 {
			d.endMessage(ts)
		}
	case bodyChunked:
		d.startBody(-1)
		d.state = stChunkSize
		d.buf = d.buf[:0]
	case bodyClose:
		d.startBody(-1)
		d.state = stBodyClose
	case bodyTunnel:
		d.endMessage(ts)
	}
}

// endMessage completes the message in progress: its body is stored (and
// decoded), its transaction side marked done.
func (d *dir) endMessage(ts time.Time) {
	c := d.c
	e := d.cur
	d.cur = nil
	next := stIdle
	if e != nil {
		tx := &e.tx
		if d.flags&reassembly.FlagMalformed != 0 {
			c.f.stats.Malformed++
		}
		if d.flags&reassembly.FlagSmuggling != 0 {
			c.f.stats.Smuggling++
		}
		tx.Flags |= d.flags
		body, flags := d.finishBody()
		tx.Flags |= flags
		if d.role == roleRequest {
			tx.RequestBodyLen = d.bodyLen
			tx.RequestBody = body
			tx.RequestEnd = ts
			e.req = done
			if e.http09 {
				next = stIgnore
			}
		} else {
			tx.ResponseBodyLen = d.bodyLen
			tx.ResponseBody = body
			tx.ResponseEnd = ts
			e.resp = done
		}
	} else {
		d.dropBody()
	}
	d.flags = 0
	d.fr.body = bodyNone
	d.remaining = 0
	d.bodyLen = 0
	d.buf = d.buf[:0]
	d.scan = 0
	d.lineOK = false
	d.state = next
	if e != nil && d.role == roleRequest && e.method == methodPRI {
		// HTTP/2 with prior knowledge: the rest is not HTTP/1.x.
		e.tx.Flags |= reassembly.FlagUpgrade
		c.f.stats.Upgrades++
		c.stop()
		return
	}
	if e != nil && d.role == roleResponse {
		switch {
		case e.tx.Status == 101:
			e.tx.Flags |= reassembly.FlagUpgrade
			c.f.stats.Upgrades++
			c.stop()
			return
		case e.method == methodCONNECT && e.tx.Status >= 200 && e.tx.Status < 300:
			e.tx.Flags |= reassembly.FlagConnect
			c.f.stats.Connects++
			c.stop()
			return
		}
	}
	c.tryEmit()
}

// detach cuts the message in progress from its transaction, which is
// about to be emitted early; parsing goes on without storing anything.
func (d *dir) detach() {
	if d.cur != nil {
		d.cur.tx.Flags |= d.flags
	}
	d.cur = nil
}

// end handles the end of the direction (FIN, or the connection closing):
// a close-delimited body ends (cleanly when clean), any other message in
// progress is truncated.
func (d *dir) end(ts time.Time, clean bool) {
	if d.state == stDone {
		return
	}
	if d.gapCheck != nil {
		// Nothing (or no whole "HTTP/") followed the gap: the response
		// was in it.
		d.decideGap(false)
	}
	if d.state == stHead && d.lineOK && len(d.buf) > 0 && d.buf[len(d.buf)-1] == '\n' {
		// Only the empty line is missing: the head is complete, as libhtp
		// and Zeek have it; what the body needs is checked below.
		d.finishHead(d.buf, true, ts)
	}
	if d.state == stTrailer && (len(d.buf) == 0 || d.buf[len(d.buf)-1] == '\n') {
		d.addTrailers(d.buf)
		d.endMessage(ts)
	}
	switch d.state {
	case stHead:
		if d.lineOK {
			http09 := d.role == roleRequest && d.cur != nil && d.cur.http09
			if !http09 {
				d.markTruncated()
			}
			block := d.buf
			if i := bytes.LastIndexByte(block, '\n'); i >= 0 {
				block = block[:i+1]
			}
			d.finishHead(block, false, ts)
			d.endMessage(ts)
		} else if len(d.buf) > 0 && d.c.httpSeen {
			// An incomplete first line at the end: check it anyway.
			if d.beginMessage(lineOf(d.buf), ts) == lineOK {
				d.markTruncated()
				d.finishHead(d.buf, false, ts)
				d.endMessage(ts)
			}
		}
	case stBodyClose:
		if !clean {
			d.markTruncated()
		}
		d.endMessage(ts)
	case stSkipHead, stBodyLength, stChunkSize, stChunkData, stChunkEnd, stTrailer, stSkipTrailer:
		d.markTruncated()
		d.endMessage(ts)
	}
	d.state = stDone
	if d.role == roleResponse {
		d.c.respDone = true
	}
}

// truncate ends the message in progress as cut short.
func (d *dir) truncate() {
	d.end(d.lastTS, false)
}

func (d *dir) markTruncated() {
	if d.cur != nil && d.flags&reassembly.FlagTruncated == 0 {
		d.flags |= reassembly.FlagTruncated
		d.c.f.stats.Truncated++
	}
}

func (d *dir) markMalformed() {
	d.flags |= reassembly.FlagMalformed
}

// gap handles n lost bytes (n < 0: unknown) before the next Data call.
func (d *dir) gap(n int, ts time.Time) {
	boundary := false // the gap began at a message boundary
	switch d.state {
	case stBodyLength, stChunkData:
		if n >= 0 && int64(n) <= d.remaining {
			// Inside a body of known length: skip and go on.
			d.flags |= reassembly.FlagGap
			d.bodyLost = true
			d.bodyLen += int64(n)
			d.remaining -= int64(n)
			if d.remaining == 0 {
				if d.state == stChunkData {
					d.state = stChunkEnd
					d.chunkJunk = false
				} else {
					d.endMessage(ts)
				}
			}
			return
		}
		if n > 0 && d.state == stBodyLength {
			// The gap took the end of the body and the start of what
			// follows: the body is complete, with the loss.
			d.bodyLost = true
			d.bodyLen += d.remaining
			d.remaining = 0
			boundary = true
		}
	case stBodyClose:
		d.flags |= reassembly.FlagGap
		d.bodyLost = true
		if n > 0 {
			d.bodyLen += int64(n)
		}
		return
	case stIgnore, stDone:
		return
	case stIdle, stResync:
		boundary = d.state == stIdle
		d.startResync(false)
		d.lostResponses(boundary)
		return
	}
	// Anywhere else the message in progress ends here.
	if d.cur != nil {
		d.flags |= reassembly.FlagGap
		if d.state == stHead && d.lineOK {
			block := d.buf
			if i := bytes.LastIndexByte(block, '\n'); i >= 0 {
				block = block[:i+1]
			}
			d.finishHead(block, false, ts)
		}
		d.endMessage(ts)
	} else if d.state == stHead && d.interim {
		d.interim = false
	}
	d.startResync(false)
	d.lostResponses(boundary)
}

// lostResponses decides, after a gap (boundary: one that began at a
// message boundary), which of the requests awaiting a response lost it in
// the gap, so that the responses after the gap pair with the right
// requests rather than each with the request before its own for the rest
// of the connection. On the request side it only notes the gap.
//
// Without pipelining a client sends a request only once the response to
// the one before has arrived: every awaiting request but the last had its
// whole response sent before the bytes that follow the gap, so those
// responses were lost. The last one lost the start of its response when
// the bytes after the gap do not begin a response, or when nothing
// follows the gap (checkGap). It lost its response whatever follows when
// the request side lost bytes after it (the response after the gap
// answers a request the capture lost), or when it is the only one
// awaiting and the gap began at a message boundary: the gap held whole
// messages, its response among them, unless the request carries Expect:
// 100-continue (the interim response was lost) or came right after a gap
// on the request side (the response to the lost request was lost). A gap
// at a boundary with no request awaiting took the response to a request
// the capture lost, as a response without a request does. With
// pipelining, responses may still be on their way: only a gap at a
// message boundary is known to have taken the start of the oldest
// awaiting response.
func (d *dir) lostResponses(boundary bool) {
	c := d.c
	switch {
	case d.role == roleRequest || d.role == roleUnknown && d.side == 0:
		// (Before the first message the connection's client is the
		// assembler's guess.) A gap at a boundary lost a request, unless
		// a response already seen without its request accounts for it.
		c.reqGap = c.reqGap || boundary && !c.orphan
		return
	case d.role != roleResponse:
		return
	case c.pipelined:
		if e := c.firstAwaiting(); boundary && e != nil && !e.http09 {
			c.loseResponse(e)
			c.tryEmit()
		}
		return
	}
	var last *entry
	n := 0
	for _, e := range c.queue {
		if e.awaiting() {
			if last != nil {
				c.loseResponse(last)
			}
			last = e
			n++
		}
	}
	d.gapCheck, d.gapStrict, d.gapSeen = nil, false, 0
	switch {
	case last == nil:
		if boundary {
			c.orphan = true // the response to a request the capture lost
		}
	case !last.http09:
		d.gapCheck = last
		// A gap on the request side since last began lost a request,
		// which the response after the gap answers.
		d.gapStrict = c.reqGap || n == 1 && boundary && !last.afterGap &&
			!(last.expect100 && last.tx.Flags&reassembly.FlagContinue == 0)
	}
	c.tryEmit()
}

// checkGap looks at the first bytes after a gap (data, and the calls
// after it until decided) on the response side: unless they begin a
// response ("HTTP/" after empty lines) or, gapStrict, whatever they are,
// the gap took the start of the response to d.gapCheck.
func (d *dir) checkGap(data []byte) {
	const start = "http/"
	i := 0
	if d.gapSeen == 0 {
		for i < len(data) && (data[i] == '\r' || data[i] == '\n') {
			i++
		}
	}
	for ; i < len(data) && int(d.gapSeen) < len(start); i++ {
		c := data[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != start[d.gapSeen] {
			d.decideGap(false)
			return
		}
		d.gapSeen++
	}
	if int(d.gapSeen) == len(start) {
		d.decideGap(true)
	}
}

// decideGap ends the check of checkGap: isStart tells whether the bytes
// after the gap begin a response.
func (d *dir) decideGap(isStart bool) {
	e := d.gapCheck
	d.gapCheck, d.gapSeen = nil, 0
	if e.awaiting() && (d.gapStrict || !isStart) {
		d.c.loseResponse(e)
		d.c.tryEmit()
	}
}

// startResync enters resynchronisation. afterBadLine is true when the
// bytes about to be scanned start with a line already rejected.
func (d *dir) startResync(afterBadLine bool) {
	d.state = stResync
	d.buf = d.buf[:0]
	d.scan = 0
	d.lineOK = false
	d.lineWin = d.lineWin[:0]
	d.lineCut = afterBadLine
	d.lineBad = afterBadLine
	d.badStart = afterBadLine
	d.statWin = d.statWin[:0]
	if !d.resyncs {
		d.resyncs = true
		d.c.f.stats.Resyncs++
	}
}

// resyncData scans data for the next message start and hands over to the
// message parser when it finds one.
func (d *dir) resyncData(data []byte, ts time.Time) []byte {
	n, prefix, found := d.resync(data)
	skipped := int64(n)
	c := d.c
	if !found {
		c.f.stats.ResyncBytes += uint64(skipped)
		c.resync += skipped
		if !c.httpSeen && c.f.cfg.MaxResyncBytes > 0 && c.resync > c.f.cfg.MaxResyncBytes {
			c.f.stats.GaveUp++
			c.stop()
		}
		return data[n:]
	}
	c.f.stats.ResyncBytes += uint64(skipped)
	d.resyncs = false
	d.startHead(ts)
	if len(prefix) > 0 {
		c.f.stats.ResyncBytes -= min(uint64(len(prefix)), c.f.stats.ResyncBytes)
		d.buf = append(d.buf, prefix...)
		d.lineWin = d.lineWin[:0]
		d.statWin = d.statWin[:0]
	}
	return data[n:]
}

// resync looks for a message start: a strict request line at the start of
// a line (request side), "HTTP/1.x NNN" anywhere (response side), either
// while the roles are unknown. It returns how many bytes of data to skip
// and, when found, the bytes kept from earlier calls that begin the
// message.
func (d *dir) resync(data []byte) (n int, prefix []byte, found bool) {
	wantReq := d.role != roleResponse
	wantResp := d.role != roleRequest
	best := len(data) + 1 // earliest candidate, relative to data
	var bestPrefix []byte

	if wantResp {
		// A status line begun in the last bytes of the previous call.
		if len(d.statWin) > 0 {
			join := append(d.c.f.scratch[:0], d.statWin...)
			join = append(join, data[:min(len(data), 16)]...)
			d.c.f.scratch = join[:0]
			for i := range d.statWin {
				if matchStatusStart(join[i:]) == 1 {
					best = i - len(d.statWin)
					bestPrefix = d.statWin[i:]
					break
				}
			}
		}
		if best > len(data) {
			from := 0
			if d.badStart && len(d.statWin) == 0 {
				from = 1 // the rejected start itself
			}
			for from < len(data) {
				i := bytes.Index(data[from:], []byte("HTTP/1."))
				if i < 0 {
					break
				}
				i += from
				if matchStatusStart(data[i:]) == 1 {
					best = i
					break
				}
				from = i + 1
			}
		}
	}
	d.badStart = false
	if wantReq {
		if pos, pre, ok := d.findRequestLine(data, best); ok {
			best, bestPrefix = pos, pre
		}
	}
	if best <= len(data) {
		if best < 0 {
			return 0, bestPrefix, true
		}
		return best, nil, true
	}

	// Nothing yet: keep what a candidate split by the next call needs.
	if wantResp {
		tail := data[max(0, len(data)-12):]
		if len(tail) < 12 {
			keep := max(0, len(d.statWin)+len(tail)-12)
			d.statWin = append(d.statWin[:0], d.statWin[keep:]...)
		} else {
			d.statWin = d.statWin[:0]
		}
		d.statWin = append(d.statWin, tail...)
	}
	if wantReq {
		part := data
		if nl := bytes.LastIndexByte(data, '\n'); nl >= 0 {
			part = data[nl+1:]
			d.lineWin = d.lineWin[:0]
			d.lineCut = false
			d.lineBad = false
		}
		if len(d.lineWin)+len(part) > 2*resyncWindow {
			// Keep the end of an over-long line: a request line may still
			// begin inside it. The window is trimmed to resyncWindow only
			// when it doubles, so that tiny segments cost O(1) each.
			d.lineCut = true
			d.lineBad = false
			if len(part) >= resyncWindow {
				d.lineWin = append(d.lineWin[:0], part[len(part)-resyncWindow:]...)
			} else {
				drop := len(d.lineWin) + len(part) - resyncWindow
				d.lineWin = append(d.lineWin[:0], d.lineWin[drop:]...)
				d.lineWin = append(d.lineWin, part...)
			}
		} else {
			d.lineWin = append(d.lineWin, part...)
		}
	}
	return len(data), nil, false
}

// findRequestLine looks for a request line in the complete lines of data
// (the first one possibly begun in lineWin), at a position before limit.
// A line is a candidate from its start when it is a strict request line;
// otherwise a known method glued to the end of other bytes ("...}GET /x
// HTTP/1.1") is one too, so that a request following a body of unknown
// length is found. Positions are relative to data; a negative one is in
// lineWin, returned as prefix.
func (d *dir) findRequestLine(data []byte, limit int) (pos int, prefix []byte, ok bool) {
	for start := 0; start < len(data) && start < limit; {
		nl := bytes.IndexByte(data[start:], '\n')
		if nl < 0 {
			return 0, nil, false
		}
		var line []byte
		base := start // stream position of line[0]
		atStart, bad := true, false
		if start == 0 && (len(d.lineWin) > 0 || d.lineCut) {
			join := append(d.c.f.scratch[:0], d.lineWin...)
			join = append(join, data[:nl]...)
			d.c.f.scratch = join[:0]
			line, base, atStart, bad = join, -len(d.lineWin), !d.lineCut, d.lineBad
		} else {
			line = data[start : start+nl]
		}
		if cut := len(line) - resyncWindow; cut > 0 {
			line, base, atStart, bad = line[cut:], base+cut, false, false
		}
		if p, found := requestLineIn(line, atStart); found && !(bad && p == 0) && base+p < limit {
			if pos := base + p; pos < 0 {
				return pos, d.lineWin[len(d.lineWin)+pos:], true
			}
			return base + p, nil, true
		}
		start += nl + 1
	}
	return 0, nil, false
}

// knownMethods may start a request in the middle of a line.
var knownMethods = [...]string{"OPTIONS", "CONNECT", "DELETE", "PATCH", "TRACE", "POST", "HEAD", "GET", "PUT"}

// requestLineIn finds where a request line starts in line (without its
// LF): at 0 when atStart and the whole line is a strict request line, or
// at a known method ending a run of other token bytes or following a
// non-token byte other than white space (a request line preceded by white
// space is a bad request line, as Zeek has it).
func requestLineIn(line []byte, atStart bool) (int, bool) {
	if atStart {
		if _, ok := parseRequestLine(line, true); ok {
			return 0, true
		}
	}
	l := trimRightSpace(line)
	if len(l) < 16 || !bytes.HasPrefix(l[len(l)-9:], []byte(" HTTP/1.")) || (l[len(l)-1] != '0' && l[len(l)-1] != '1') {
		return 0, false
	}
	rest := l[:len(l)-9]
	sp := bytes.LastIndexByte(rest, ' ')
	if sp < 1 || sp == len(rest)-1 || bytes.IndexByte(rest[sp+1:], '\t') >= 0 {
		return 0, false
	}
	run := sp
	for run > 0 && tchar[rest[run-1]] {
		run--
	}
	for _, m := range knownMethods {
		if sp-run < len(m) || string(rest[sp-len(m):sp]) != m {
			continue
		}
		at := sp - len(m)
		switch {
		case at > run:
			return at, true // "...fooGET /x HTTP/1.1"
		case at == 0:
			return at, !atStart // a cut line: what came before is unknown
		case isSpace(rest[at-1]):
			return 0, false
		default:
			return at, true // "...}GET /x HTTP/1.1"
		}
	}
	return 0, false
}
