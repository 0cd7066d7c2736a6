package http1

import (
	"bytes"

	"github.com/apitap/apitap/reassembly"
)

// hspan locates one header field of a block: the name in the block, the
// value in the block or, once folded lines were joined to it, in the
// fold buffer.
type hspan struct {
	nameOff, nameLen int32
	valOff, valLen   int32
	inFold           bool // the value lives in dir.fold
	folded           bool // obsolete line folding continued the value
}

// bodyKind is how a message body is delimited.
type bodyKind uint8

const (
	bodyNone    bodyKind = iota // no body
	bodyLength                  // Content-Length
	bodyChunked                 // chunked transfer coding
	bodyClose                   // until the end of the direction
	bodyTunnel                  // the connection leaves HTTP after the head
)

// coding is a content coding to undo.
type coding uint8

const (
	codingGzip    coding = iota + 1 // gzip, x-gzip
	codingDeflate                   // deflate (zlib or raw)
	codingBrotli                    // br
	codingZstd                      // zstd
	codingUnknown                   // anything else: not decoded
)

const maxCodings = 4

// framing is what the head of a message says about its body.
type framing struct {
	body      bodyKind
	length    int64
	codings   [maxCodings]coding
	ncodings  int
	expect100 bool
	hostIdx   int // index in dir.hdrs of the first Host field, -1 if none
}

// parseHeaders splits the header fields of block into dir.hdrs, up to the
// empty line ending the block, and returns the offset just past that line
// (-1 when block holds none). When startLine is true the first line of
// block is a start line and is skipped. Obsolete line folding is joined
// with one space, like libhtp. The end found is the one findBlockEnd
// finds.
func (d *dir) parseHeaders(block []byte, startLine bool) int {
	d.hdrs = d.hdrs[:0]
	d.fold = d.fold[:0]
	d.hdrMalformed = false
	pos := 0
	if startLine {
		i := bytes.IndexByte(block, '\n')
		if i < 0 {
			return -1
		}
		pos = i + 1
	}
	for pos < len(block) {
		line := block[pos:]
		next := len(block)
		if nl := bytes.IndexByte(line, '\n'); nl >= 0 {
			line = line[:nl]
			next = pos + nl + 1
		}
		start := pos
		pos = next
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			if next == len(block) && block[len(block)-1] != '\n' {
				return -1 // a lone CR at the end: the line is not over
			}
			return next // the empty line ending the block
		}
		if isSpace(line[0]) {
			d.hdrMalformed = true
			if len(d.hdrs) == 0 {
				continue
			}
			h := &d.hdrs[len(d.hdrs)-1]
			if !h.inFold {
				off := len(d.fold)
				d.fold = append(d.fold, block[h.valOff:h.valOff+h.valLen]...)
				h.valOff, h.inFold = int32(off), true
			}
			if cont := trimSpace(line); len(cont) > 0 {
				if h.valLen > 0 {
					d.fold = append(d.fold, ' ')
				}
				d.fold = append(d.fold, cont...)
				h.valLen = int32(len(d.fold)) - h.valOff
			}
			h.folded = true
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			d.hdrMalformed = true // not a field: ignored, as Zeek does
			continue
		}
		name := trimRightSpace(line[:colon])
		if len(name) != colon {
			d.hdrMalformed = true // white space before the colon
		}
		if len(name) == 0 {
			d.hdrMalformed = true
			continue
		}
		j := colon + 1
		for j < len(line) && isSpace(line[j]) {
			j++
		}
		value := trimRightSpace(line[j:])
		valOff := start + j
		d.hdrs = append(d.hdrs, hspan{
			nameOff: int32(start), nameLen: int32(len(name)),
			valOff: int32(valOff), valLen: int32(len(value)),
		})
	}
	return -1
}

func (d *dir) hname(block []byte, h *hspan) []byte {
	return block[h.nameOff : h.nameOff+h.nameLen]
}

func (d *dir) hvalue(block []byte, h *hspan) []byte {
	if h.inFold {
		return d.fold[h.valOff : h.valOff+h.valLen]
	}
	return block[h.valOff : h.valOff+h.valLen]
}

// frameFacts gathers the framing fields of a header block.
type frameFacts struct {
	clSeen, clHave, clInvalid, clConflict, clZeros bool
	cl                                             int64
	teSeen, teChunked, teLastChunked, teOther      bool
	teChunkedCount                                 int
	foldedFraming                                  bool
}

// readFraming interprets the fields that frame the message and fills
// d.fr (except the body kind), returning the raw facts.
func (d *dir) readFraming(block []byte) (ff frameFacts) {
	fr := &d.fr
	*fr = framing{hostIdx: -1}
	for i := range d.hdrs {
		h := &d.hdrs[i]
		name := d.hname(block, h)
		switch len(name) {
		case 4:
			if fr.hostIdx < 0 && equalFold(name, "host") {
				fr.hostIdx = i
			}
		case 6:
			if equalFold(name, "expect") && hasPrefixFold(d.hvalue(block, h), "100-continue") {
				fr.expect100 = true
			}
		case 14:
			if !equalFold(name, "content-length") {
				continue
			}
			ff.clSeen = true
			ff.foldedFraming = ff.foldedFraming || h.folded
			for v := d.hvalue(block, h); ; {
				var tok []byte
				tok, v = nextToken(v)
				n, ok, zeros := parseContentLength(tok)
				switch {
				case !ok:
					ff.clInvalid = true
				case !ff.clHave:
					ff.cl, ff.clHave = n, true
				case n != ff.cl:
					ff.clConflict = true
				}
				ff.clZeros = ff.clZeros || zeros
				if v == nil {
					break
				}
			}
		case 16:
			if !equalFold(name, "content-encoding") {
				continue
			}
			for v := d.hvalue(block, h); ; {
				var tok []byte
				tok, v = nextToken(v)
				if c := codingOf(tok); c != 0 {
					if fr.ncodings < maxCodings {
						fr.codings[fr.ncodings] = c
						fr.ncodings++
					} else {
						fr.codings[maxCodings-1] = codingUnknown
					}
				}
				if v == nil {
					break
				}
			}
		case 17:
			if !equalFold(name, "transfer-encoding") {
				continue
			}
			ff.teSeen = true
			ff.foldedFraming = ff.foldedFraming || h.folded
			for v := d.hvalue(block, h); ; {
				var tok []byte
				tok, v = nextToken(v)
				switch {
				case equalFold(tok, "chunked"):
					ff.teChunked, ff.teLastChunked = true, true
					ff.teChunkedCount++
				case len(tok) > 0:
					ff.teOther, ff.teLastChunked = true, false
				}
				if v == nil {
					break
				}
			}
		}
	}
	return ff
}

func codingOf(tok []byte) coding {
	switch {
	case len(tok) == 0, equalFold(tok, "identity"):
		return 0
	case equalFold(tok, "gzip"), equalFold(tok, "x-gzip"):
		return codingGzip
	case equalFold(tok, "deflate"):
		return codingDeflate
	case equalFold(tok, "br"):
		return codingBrotli
	case equalFold(tok, "zstd"):
		return codingZstd
	}
	return codingUnknown
}

// decideBody sets d.fr.body from the framing facts, the way RFC 9112
// section 6.3 orders them, flagging the ambiguous shapes. A response has
// its own rules first (no body for HEAD, 1xx, 204, 304; a tunnel after a
// 2xx to CONNECT).
func (d *dir) decideBody(ff frameFacts, isRequest bool, version []byte, method methodKind, status int) {
	fr := &d.fr
	smuggle := func() { d.flags |= reassembly.FlagSmuggling }
	if ff.foldedFraming {
		smuggle()
	}
	decided := false
	if ff.teSeen {
		if ff.teChunked {
			fr.body = bodyChunked
			decided = true
			if !ff.teLastChunked || ff.teOther || ff.teChunkedCount > 1 {
				smuggle()
				d.markMalformed()
			}
			if string(version) == "1.0" {
				smuggle()
				d.markMalformed()
			}
		} else {
			smuggle()
			d.markMalformed()
		}
		if ff.clSeen {
			smuggle()
		}
	}
	if ff.clSeen {
		// An unreadable length is a smuggling shape in a request; in a
		// response (read to the close anyway) only malformed, as libhtp.
		if ff.clConflict || ff.clZeros || ff.clInvalid && isRequest {
			smuggle()
		}
		if ff.clInvalid {
			d.markMalformed()
		}
		if !decided && ff.clHave {
			fr.body, fr.length = bodyLength, ff.cl
			decided = true
		}
	}
	if !decided {
		fr.body = bodyNone
		if !isRequest {
			fr.body = bodyClose
		}
	}
	if !isRequest {
		switch {
		case method == methodHEAD, status >= 100 && status < 200, status == 204, status == 304:
			fr.body = bodyNone
		case method == methodCONNECT && status >= 200 && status < 300:
			fr.body = bodyTunnel
		}
	}
}

// requestHead records the request side of e's transaction from its head.
func (d *dir) requestHead(block []byte, e *entry) {
	rl := requestLine{method: d.start.get(0, block), target: d.start.get(1, block), version: d.start.get(2, block), http09: d.start.http09}
	ff := d.readFraming(block)
	if e == nil {
		d.decideBody(ff, true, rl.version, methodOther, 0)
		return
	}
	e.expect100 = d.fr.expect100
	d.decideBody(ff, true, rl.version, e.method, 0)
	e.reqHead.capture(d, block, d.storedHeaders())
}

// responseHead records the response side of e's transaction from its head.
func (d *dir) responseHead(block []byte, e *entry) {
	ff := d.readFraming(block)
	d.decideBody(ff, false, d.start.get(0, block), d.method, d.start.code)
	if e == nil {
		return
	}
	e.tx.Status = d.start.code
	e.respHead.capture(d, block, d.storedHeaders())
}

// storedHeaders applies Config.MaxHeaders: it returns how many fields are
// stored.
func (d *dir) storedHeaders() int {
	stored := len(d.hdrs)
	if max := d.c.f.cfg.MaxHeaders; stored > max {
		stored = max
		d.flags |= reassembly.FlagHeaderLimit
		d.c.f.stats.HeaderCountLimit++
	}
	return stored
}

// addTrailers appends the fields of a trailer block to the headers of
// the message in progress.
func (d *dir) addTrailers(block []byte) {
	e := d.cur
	d.parseHeaders(block, false)
	if d.hdrMalformed {
		d.markMalformed()
	}
	if e == nil || len(d.hdrs) == 0 {
		return
	}
	h := &e.reqHead
	if d.role == roleResponse {
		h = &e.respHead
	}
	n := len(d.hdrs)
	if room := d.c.f.cfg.MaxHeaders - len(h.hdrs); n > room {
		n = max(room, 0)
		d.flags |= reassembly.FlagHeaderLimit
		d.c.f.stats.HeaderCountLimit++
	}
	h.appendFields(d, block, n)
}

// splitTarget derives the path (target without query and fragment; for
// absolute-form also without scheme and authority) and, for absolute-form,
// the authority without user information. The results are substrings of
// target.
func splitTarget(target string, connect bool) (path, authority string) {
	rest := target
	if i := schemeEnd(target); i > 0 {
		rest = target[i:]
		end := len(rest)
		for j := 0; j < len(rest); j++ {
			if c := rest[j]; c == '/' || c == '?' || c == '#' {
				end = j
				break
			}
		}
		authority = rest[:end]
		for j := len(authority) - 1; j >= 0; j-- {
			if authority[j] == '@' {
				authority = authority[j+1:]
				break
			}
		}
		rest = rest[end:]
		if rest == "" || rest[0] != '/' {
			return "/", authority
		}
	} else if connect && (rest == "" || rest[0] != '/') {
		return "", ""
	}
	for j := 0; j < len(rest); j++ {
		if rest[j] == '?' || rest[j] == '#' {
			return rest[:j], authority
		}
	}
	return rest, authority
}

// schemeEnd returns the length of a leading "scheme://", or 0.
func schemeEnd(s string) int {
	for i := 0; i < len(s) && i < 32; i++ {
		c := s[i]
		switch {
		case c|0x20 >= 'a' && c|0x20 <= 'z':
		case i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':' && len(s) >= i+3 && s[i+1] == '/' && s[i+2] == '/':
			return i + 3
		default:
			return 0
		}
	}
	return 0
}
