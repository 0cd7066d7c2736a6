package http1

import (
	"net/netip"
	"time"

	"github.com/apitap/apitap/reassembly"
)

// methodKind is what the response framing needs to know of a request
// method.
type methodKind uint8

const (
	methodOther methodKind = iota
	methodHEAD
	methodCONNECT
	methodPRI // "PRI * HTTP/2.0": the HTTP/2 connection preface
)

// progress of one side of a transaction.
type progress uint8

const (
	notSeen progress = iota
	inProgress
	done
	lostInGap // (response) taken to be lost in a gap: none will come
)

// entry is a transaction being assembled: its request and response
// progress and what the response parser needs from the request. Entries
// are recycled by the factory.
type entry struct {
	// tx collects the transaction as parsing goes; its strings and
	// headers are built at emission from the heads kept below.
	tx                reassembly.Transaction
	reqHead, respHead head
	req, resp         progress
	method            methodKind
	http09            bool // the request is an HTTP/0.9 simple request
	expect100         bool // the request carries Expect: 100-continue
	noRequest         bool // a response seen without a request
	afterGap          bool // the request came right after a gap on the request side
}

// role of a direction: which messages its bytes carry.
type role uint8

const (
	roleUnknown role = iota
	roleRequest
	roleResponse
)

// conn is the reassembly.StreamHandler of one connection.
type conn struct {
	f        *Factory
	info     reassembly.ConnInfo
	client   netip.AddrPort // after the role decision
	server   netip.AddrPort
	dirs     [2]dir // by sender: 0 = info.Client, 1 = info.Server
	queue    []*entry
	httpSeen bool // a valid message start was seen
	stopped  bool // no more parsing (upgrade, CONNECT, gave up, closed)
	closed   bool
	respDone bool // the response direction has ended: no more responses can come
	resync   int64
	// pipelined: a final response began while two requests or more
	// awaited theirs. It changes what a gap on the response side is
	// taken to have lost (see dir.lostResponses).
	pipelined bool
	// reqGap: the request side lost bytes since the last request began,
	// and no response without a request has accounted for them.
	reqGap bool
	// orphan: since the last request began, a response without a
	// request began, or a gap on the response side at a message boundary
	// took the start of a response no request awaited.
	orphan bool
}

func (c *conn) init(f *Factory, info reassembly.ConnInfo) {
	c.f = f
	c.info = info
	c.client, c.server = info.Client, info.Server
	for i := range c.dirs {
		d := &c.dirs[i]
		d.c = c
		d.side = i
		d.state = stIdle
		f.takeBuffers(d)
	}
	c.queue = f.takeQueue()
}

// Data implements reassembly.StreamHandler.
func (c *conn) Data(fromClient bool, data []byte, ts time.Time) bool {
	if c.stopped || c.closed {
		return false
	}
	c.dirs[sideOf(fromClient)].feed(data, ts)
	c.f.maybePublish(ts)
	return !c.stopped
}

// Gap implements reassembly.StreamHandler.
func (c *conn) Gap(fromClient bool, n int, ts time.Time) {
	if c.stopped || c.closed {
		return
	}
	c.f.stats.Gaps++
	if n > 0 {
		c.f.stats.GapBytes += uint64(n)
	}
	c.dirs[sideOf(fromClient)].gap(n, ts)
}

// Fin implements reassembly.StreamHandler.
func (c *conn) Fin(fromClient bool, ts time.Time) {
	if c.closed {
		return
	}
	d := &c.dirs[sideOf(fromClient)]
	d.end(ts, true)
	c.tryEmit()
}

// Close implements reassembly.StreamHandler. CloseFIN ends a body
// delimited by the close cleanly; any other reason marks it FlagTruncated.
// Every transaction still queued is emitted, in order.
func (c *conn) Close(reason reassembly.CloseReason, ts time.Time) {
	if c.closed {
		return
	}
	clean := reason == reassembly.CloseFIN
	for i := range c.dirs {
		c.dirs[i].end(ts, clean)
	}
	c.respDone = true
	c.flush()
	c.closed = true
	c.stopped = true
	for i := range c.dirs {
		c.f.releaseBuffers(&c.dirs[i])
	}
	c.f.releaseQueue(c.queue)
	c.queue = nil
	c.f.maybePublish(ts)
}

func sideOf(fromClient bool) int {
	if fromClient {
		return 0
	}
	return 1
}

// decideRoles fixes the roles of both directions: side sends requests when
// isRequest, responses otherwise.
func (c *conn) decideRoles(side int, isRequest bool) {
	reqSide := side
	if !isRequest {
		reqSide = 1 - side
	}
	c.dirs[reqSide].role = roleRequest
	c.dirs[1-reqSide].role = roleResponse
	if reqSide == 1 {
		c.client, c.server = c.info.Server, c.info.Client
	}
}

// reqDir returns the requests' direction; it is only meaningful once
// roles are decided.
func (c *conn) reqDir() *dir {
	if c.dirs[0].role == roleRequest {
		return &c.dirs[0]
	}
	return &c.dirs[1]
}

// newEntry queues a new transaction, first making room under
// Config.MaxPendingRequests by emitting the oldest one.
func (c *conn) newEntry() *entry {
	if len(c.queue) >= c.f.cfg.MaxPendingRequests {
		c.f.stats.PendingLimit++
		c.evictHead()
	}
	e := c.f.takeEntry()
	e.tx = reassembly.Transaction{Client: c.client, Server: c.server}
	if !c.info.HandshakeSeen {
		e.tx.Flags |= reassembly.FlagMidstream
	}
	c.queue = append(c.queue, e)
	return e
}

// evictHead emits the oldest transaction before its time. Parsers still
// working on it are detached from it.
func (c *conn) evictHead() {
	e := c.queue[0]
	for i := range c.dirs {
		if d := &c.dirs[i]; d.cur == e {
			d.detach()
		}
	}
	if e.resp == inProgress {
		e.tx.Flags |= reassembly.FlagTruncated
		c.f.stats.Truncated++
		e.resp = done
	}
	if e.req == inProgress {
		e.tx.Flags |= reassembly.FlagTruncated
		c.f.stats.Truncated++
		e.req = done
	}
	c.emitHead()
}

// firstAwaiting returns the oldest request still waiting for its response.
func (c *conn) firstAwaiting() *entry {
	for _, e := range c.queue {
		if e.awaiting() {
			return e
		}
	}
	return nil
}

// awaiting reports whether e is a request still waiting for its response.
func (e *entry) awaiting() bool { return e.resp == notSeen && !e.noRequest }

// loseResponse records that the response to e was lost in a gap: e is
// emitted in its turn, with FlagNoResponse and FlagGap.
func (c *conn) loseResponse(e *entry) {
	e.resp = lostInGap
	e.tx.Flags |= reassembly.FlagGap
	c.f.stats.ResponsesLost++
}

// tryEmit hands completed transactions to the sink, in request order.
func (c *conn) tryEmit() {
	for len(c.queue) > 0 {
		e := c.queue[0]
		if e.req == inProgress || e.resp == inProgress {
			return
		}
		if e.resp == notSeen && !c.respDone {
			return
		}
		c.emitHead()
	}
}

// flush emits every queued transaction, complete or not.
func (c *conn) flush() {
	for len(c.queue) > 0 {
		e := c.queue[0]
		for i := range c.dirs {
			if d := &c.dirs[i]; d.cur == e {
				d.detach()
			}
		}
		if e.req == inProgress || e.resp == inProgress {
			e.tx.Flags |= reassembly.FlagTruncated
			c.f.stats.Truncated++
		}
		c.emitHead()
	}
}

func (c *conn) emitHead() {
	e := c.queue[0]
	copy(c.queue, c.queue[1:])
	c.queue[len(c.queue)-1] = nil
	c.queue = c.queue[:len(c.queue)-1]
	for i := range c.dirs {
		if c.dirs[i].gapCheck == e { // e is recycled below
			c.dirs[i].gapCheck, c.dirs[i].gapSeen = nil, 0
		}
	}
	if e.resp == notSeen || e.resp == lostInGap {
		e.tx.Flags |= reassembly.FlagNoResponse
		c.f.stats.NoResponse++
	}
	if e.noRequest {
		e.tx.Flags |= reassembly.FlagNoRequest
		c.f.stats.NoRequest++
	}
	c.f.stats.Transactions++
	tx := e.build()
	c.f.putEntry(e)
	c.f.sink.HandleTransaction(tx)
}

// stop ends parsing of the connection (upgrade, CONNECT tunnel, not HTTP):
// whatever is in progress is emitted now and Data returns false from now
// on.
func (c *conn) stop() {
	if c.stopped {
		return
	}
	c.stopped = true
	c.respDone = true
	for i := range c.dirs {
		d := &c.dirs[i]
		if d.cur != nil && d.state != stIdle {
			d.truncate()
		}
		d.state = stDone
	}
	c.flush()
}
