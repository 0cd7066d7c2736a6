package synth

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Header is one header field, written as given.
type Header struct{ Name, Value string }

// Request is an HTTP/1.x request to script. The zero value is
// "GET / HTTP/1.1" with a Host header naming the server.
type Request struct {
	Method  string // "": GET
	URI     string // request target as sent; "": "/"
	Version string // "1.1" (""), "1.0" or "0.9" (request line only, no headers)
	// Host is the Host header; "": the server's address ("ip" for port 80,
	// "ip:port" otherwise). NoHost sends no Host header.
	Host   string
	NoHost bool
	// Header fields follow Host, in order. Content-Length and
	// Transfer-Encoding are added from Body and Chunked unless present.
	Header []Header
	Body   []byte
	// Chunked sends Body with chunked transfer coding in ChunkSize pieces
	// (0: 4096).
	Chunked   bool
	ChunkSize int
	// Expect100 adds "Expect: 100-continue"; Conn.Exchange then sends the
	// header, the server's "100 Continue", then the body.
	Expect100 bool
}

// Response is an HTTP/1.x response to script. The zero value is
// "HTTP/1.1 200 OK" with "Content-Length: 0".
type Response struct {
	Status  int    // 0: 200
	Reason  string // "": the standard reason phrase
	Version string // "": "1.1"
	Header  []Header
	// Body is the entity before content coding; it is not sent for HEAD
	// requests and 1xx, 204 and 304 responses.
	Body []byte
	// Gzip compresses Body and adds "Content-Encoding: gzip".
	Gzip bool
	// Chunked sends the body chunked in ChunkSize pieces (0: 4096), with
	// Trailer fields after the last chunk.
	Chunked   bool
	ChunkSize int
	Trailer   []Header
	// CloseDelimited sends neither Content-Length nor Transfer-Encoding:
	// the body ends when the server closes; Conn.Response sends the
	// server's FIN after it.
	CloseDelimited bool
}

// Coverage says how much of a message the capture holds.
type Coverage uint8

// Coverage values.
const (
	NotSent     Coverage = iota // the message was never sent
	Captured                    // every byte is in the capture
	Partial                     // some bytes are missing (a gap)
	NotCaptured                 // sent, but none of its bytes are in the capture
)

var coverageNames = [...]string{"not_sent", "captured", "partial", "not_captured"}

func (c Coverage) String() string {
	if int(c) < len(coverageNames) {
		return coverageNames[c]
	}
	return "unknown"
}

// Exchange is the ground truth of one scripted HTTP request and its
// response, as the script sent them. Field names and JSON names follow the
// pipeline's transaction output.
type Exchange struct {
	Conn   int            `json:"conn"` // index of the connection in the capture
	Client netip.AddrPort `json:"client"`
	Server netip.AddrPort `json:"server"`

	Method  string `json:"method"` // "" when the script sent a response without a request
	Host    string `json:"host"`   // Host header sent ("" when none)
	URI     string `json:"uri"`
	Version string `json:"version"`
	Status  int    `json:"status"` // 0 when no response was sent (interim 100 not counted)

	// Entity bytes after de-chunking, before content decoding.
	RequestBodyLen  int64 `json:"request_body_len"`
	ResponseBodyLen int64 `json:"response_body_len"`
	// Bytes of the whole message on the wire (start line to end of body).
	RequestBytes  int64 `json:"request_bytes"`
	ResponseBytes int64 `json:"response_bytes"`

	// Scripted time at which the first byte of each message was sent.
	RequestTime  time.Time `json:"request_time"`
	ResponseTime time.Time `json:"response_time"`

	// How much of each message the capture holds.
	Request  Coverage `json:"request_coverage"`
	Response Coverage `json:"response_coverage"`
	// Conflict: a retransmission with different content overlaps one of
	// the messages.
	Conflict bool `json:"conflict"`

	reqOff, respOff int64 // stream offsets of the messages
}

type exchRec struct {
	Exchange
	reqSent, respSent bool
	method            string // for response framing
}

func (r *Request) method() string {
	if r.Method == "" {
		return "GET"
	}
	return r.Method
}

func (r *Request) uri() string {
	if r.URI == "" {
		return "/"
	}
	return r.URI
}

func (r *Request) version() string {
	if r.Version == "" {
		return "1.1"
	}
	return r.Version
}

func hostOf(server netip.AddrPort) string {
	a := server.Addr().String()
	if server.Addr().Is6() {
		a = "[" + a + "]"
	}
	if server.Port() == 80 {
		return a
	}
	return a + ":" + strconv.Itoa(int(server.Port()))
}

func hasHeader(hs []Header, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}

// Marshal returns the request's head (request line and header block) and
// its body as sent (chunked when asked). server fills the default Host.
func (r *Request) Marshal(server netip.AddrPort) (head, body []byte) {
	var b bytes.Buffer
	if r.version() == "0.9" {
		b.WriteString(r.method() + " " + r.uri() + "\r\n")
		return b.Bytes(), nil
	}
	b.WriteString(r.method() + " " + r.uri() + " HTTP/" + r.version() + "\r\n")
	if !r.NoHost && !hasHeader(r.Header, "Host") {
		h := r.Host
		if h == "" {
			h = hostOf(server)
		}
		b.WriteString("Host: " + h + "\r\n")
	}
	for _, h := range r.Header {
		b.WriteString(h.Name + ": " + h.Value + "\r\n")
	}
	if r.Expect100 && !hasHeader(r.Header, "Expect") {
		b.WriteString("Expect: 100-continue\r\n")
	}
	body = r.Body
	switch {
	case r.Chunked:
		if !hasHeader(r.Header, "Transfer-Encoding") {
			b.WriteString("Transfer-Encoding: chunked\r\n")
		}
		body = chunk(r.Body, r.ChunkSize, nil)
	case !hasHeader(r.Header, "Content-Length") && (len(r.Body) > 0 || bodyMethod(r.method())):
		b.WriteString("Content-Length: " + strconv.Itoa(len(r.Body)) + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes(), body
}

func bodyMethod(m string) bool { return m == "POST" || m == "PUT" || m == "PATCH" }

// chunk encodes b with chunked transfer coding.
func chunk(b []byte, size int, trailer []Header) []byte {
	if size <= 0 {
		size = 4096
	}
	var out bytes.Buffer
	for len(b) > 0 {
		n := min(size, len(b))
		out.WriteString(strconv.FormatInt(int64(n), 16) + "\r\n")
		out.Write(b[:n])
		out.WriteString("\r\n")
		b = b[n:]
	}
	out.WriteString("0\r\n")
	for _, h := range trailer {
		out.WriteString(h.Name + ": " + h.Value + "\r\n")
	}
	out.WriteString("\r\n")
	return out.Bytes()
}

// gzipBytes compresses b deterministically (no name, no modification time).
func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// Marshal returns the response as sent in answer to a request with the
// given method, and its entity length (after de-chunking, before content
// decoding; 0 when no body is sent).
func (r *Response) Marshal(method string) (wire []byte, bodyLen int64) {
	status := r.Status
	if status == 0 {
		status = 200
	}
	reason := r.Reason
	if reason == "" {
		reason = http.StatusText(status)
	}
	ver := r.Version
	if ver == "" {
		ver = "1.1"
	}
	var b bytes.Buffer
	b.WriteString("HTTP/" + ver + " " + strconv.Itoa(status) + " " + reason + "\r\n")
	for _, h := range r.Header {
		b.WriteString(h.Name + ": " + h.Value + "\r\n")
	}
	entity := r.Body
	if r.Gzip {
		entity = gzipBytes(r.Body)
		if !hasHeader(r.Header, "Content-Encoding") {
			b.WriteString("Content-Encoding: gzip\r\n")
		}
	}
	noBody := status < 200 || status == 204 || status == 304
	switch {
	case noBody:
	case r.Chunked:
		if !hasHeader(r.Header, "Transfer-Encoding") {
			b.WriteString("Transfer-Encoding: chunked\r\n")
		}
	case r.CloseDelimited:
	case !hasHeader(r.Header, "Content-Length"):
		b.WriteString("Content-Length: " + strconv.Itoa(len(entity)) + "\r\n")
	}
	b.WriteString("\r\n")
	if noBody || method == "HEAD" {
		return b.Bytes(), 0
	}
	if r.Chunked {
		b.Write(chunk(entity, r.ChunkSize, r.Trailer))
	} else {
		b.Write(entity)
	}
	return b.Bytes(), int64(len(entity))
}

// Request sends a request from the client (header and body in one send,
// impaired by acts) and returns the index of its Exchange. Expect100 is not
// honoured here (use Exchange).
func (cn *Conn) Request(req Request, acts ...Action) int {
	head, body := req.Marshal(cn.cfg.Server)
	i := cn.beginRequest(req, int64(len(head)+len(body)))
	cn.ClientSend(append(head, body...), acts...)
	return i
}

func (cn *Conn) beginRequest(req Request, wireLen int64) int {
	e := exchRec{method: req.method(), reqSent: true}
	e.Conn, e.Client, e.Server = cn.index, cn.cfg.Client, cn.cfg.Server
	e.Method, e.URI, e.Version = req.method(), req.uri(), req.version()
	if req.version() != "0.9" && !req.NoHost {
		e.Host = req.Host
		if e.Host == "" {
			e.Host = hostOf(cn.cfg.Server)
		}
		for _, h := range req.Header {
			if strings.EqualFold(h.Name, "Host") {
				e.Host = h.Value
			}
		}
	}
	e.RequestBodyLen = int64(len(req.Body))
	e.RequestBytes = wireLen
	e.RequestTime = cn.now
	e.reqOff = cn.dirs[0].next
	cn.exch = append(cn.exch, e)
	cn.pending = append(cn.pending, len(cn.exch)-1)
	return len(cn.exch) - 1
}

// Response sends a response from the server to the oldest request that has
// none, or, when none is pending, records a response without a request.
// A CloseDelimited response is followed by the server's FIN.
func (cn *Conn) Response(resp Response, acts ...Action) {
	i := cn.beginResponse()
	wire, n := resp.Marshal(cn.exch[i].method)
	cn.finishResponse(i, resp, wire, n)
	cn.ServerSend(wire, acts...)
	if resp.CloseDelimited {
		cn.Fin(false)
	}
}

func (cn *Conn) beginResponse() int {
	if len(cn.pending) > 0 {
		i := cn.pending[0]
		cn.pending = cn.pending[1:]
		return i
	}
	e := exchRec{}
	e.Conn, e.Client, e.Server = cn.index, cn.cfg.Client, cn.cfg.Server
	cn.exch = append(cn.exch, e)
	return len(cn.exch) - 1
}

func (cn *Conn) finishResponse(i int, resp Response, wire []byte, bodyLen int64) {
	e := &cn.exch[i]
	e.respSent = true
	e.Status = resp.Status
	if e.Status == 0 {
		e.Status = 200
	}
	e.ResponseBodyLen = bodyLen
	e.ResponseBytes = int64(len(wire))
	e.ResponseTime = cn.now
	e.respOff = cn.dirs[1].next
}

// Exchange scripts one request and its response: the request, the
// server's processing time, the response, the client's think time. With
// req.Expect100 the client sends the header, the server answers
// "100 Continue", then the client sends the body.
func (cn *Conn) Exchange(req Request, resp Response) {
	if req.Expect100 && req.version() != "0.9" {
		head, body := req.Marshal(cn.cfg.Server)
		cn.beginRequest(req, int64(len(head)+len(body)))
		cn.ClientSend(head)
		cn.Wait(cn.cfg.ServerTime)
		cn.ServerSend([]byte("HTTP/1.1 100 Continue\r\n\r\n"))
		cn.ClientSend(body)
	} else {
		cn.Request(req)
	}
	cn.Wait(cn.cfg.ServerTime)
	cn.Response(resp)
	cn.Wait(cn.cfg.Think)
}

// Pipeline sends all requests in one client send, then, after the server
// time, all responses in one server send (responses answer requests in
// order; extra requests stay unanswered).
func (cn *Conn) Pipeline(reqs []Request, resps []Response) {
	var all []byte
	for _, r := range reqs {
		head, body := r.Marshal(cn.cfg.Server)
		cn.beginRequest(r, int64(len(head)+len(body)))
		cn.exch[len(cn.exch)-1].reqOff = cn.dirs[0].next + int64(len(all))
		all = append(append(all, head...), body...)
	}
	cn.ClientSend(all)
	cn.Wait(cn.cfg.ServerTime)
	all = all[:0:0]
	closeAfter := false
	for _, r := range resps {
		i := cn.beginResponse()
		wire, n := r.Marshal(cn.exch[i].method)
		cn.finishResponse(i, r, wire, n)
		cn.exch[i].respOff = cn.dirs[1].next + int64(len(all))
		all = append(all, wire...)
		closeAfter = closeAfter || r.CloseDelimited
	}
	cn.ServerSend(all)
	if closeAfter {
		cn.Fin(false)
	}
	cn.Wait(cn.cfg.Think)
}

// Truth returns the ground truth of the connection's exchanges in the
// order they were scripted.
func (cn *Conn) Truth() []Exchange {
	out := make([]Exchange, 0, len(cn.exch))
	for _, e := range cn.exch {
		x := e.Exchange
		if e.reqSent {
			x.Request = coverage(cn.dirs[0].captured, x.reqOff, x.reqOff+x.RequestBytes)
			x.Conflict = overlaps(cn.dirs[0].conflict, x.reqOff, x.reqOff+x.RequestBytes)
		}
		if e.respSent {
			x.Response = coverage(cn.dirs[1].captured, x.respOff, x.respOff+x.ResponseBytes)
			x.Conflict = x.Conflict || overlaps(cn.dirs[1].conflict, x.respOff, x.respOff+x.ResponseBytes)
		}
		out = append(out, x)
	}
	return out
}

// coverage reports how much of [lo, hi) the captured spans hold.
func coverage(spans []span, lo, hi int64) Coverage {
	if hi <= lo {
		return Captured
	}
	// Walk the range, extending the covered prefix with any span that
	// starts inside it (spans are few; quadratic is fine).
	covered := int64(0)
	pos := lo
	for progress := true; progress && pos < hi; {
		progress = false
		for _, s := range spans {
			if s.lo <= pos && s.hi > pos {
				covered += min(s.hi, hi) - pos
				pos = min(s.hi, hi)
				progress = true
			}
		}
	}
	if pos >= hi {
		return Captured
	}
	if covered > 0 || overlaps(spans, lo, hi) {
		return Partial
	}
	return NotCaptured
}

func overlaps(spans []span, lo, hi int64) bool {
	for _, s := range spans {
		if s.lo < hi && s.hi > lo {
			return true
		}
	}
	return false
}
