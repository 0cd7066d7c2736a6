// Package reassemblytest provides test doubles for the reassembly stream
// contract: a Recorder (a StreamFactory whose handlers record every
// callback and check the contract's ordering rules) and a Discard factory
// whose handlers only count, without allocating.
//
// They are meant for tests of the assembler and of anything fed by it; a
// Recorder is not safe for concurrent use (neither is an assembler).
package reassemblytest

import (
	"fmt"
	"strings"
	"time"

	"github.com/apitap/apitap/reassembly"
)

// EventKind is the kind of a recorded callback.
type EventKind uint8

// Callback kinds.
const (
	EventData EventKind = iota
	EventGap
	EventFin
	EventClose
)

// Event is one recorded callback. Data is a copy of the bytes passed.
type Event struct {
	Kind       EventKind
	FromClient bool
	Data       []byte
	N          int // Gap: bytes lost
	Reason     reassembly.CloseReason
	TS         time.Time
}

// Recorder is a reassembly.StreamFactory that records the connections it
// is asked for, in order.
type Recorder struct {
	// DeclineAfter, when positive, makes each handler return false from
	// Data once it has received that many bytes in total.
	DeclineAfter int
	// Nil makes New return nil (the connection is not wanted).
	Nil bool

	Conns []*Conn
}

// New implements reassembly.StreamFactory.
func (r *Recorder) New(info reassembly.ConnInfo, ts time.Time) reassembly.StreamHandler {
	if r.Nil {
		return nil
	}
	c := &Conn{Info: info, Opened: ts, declineAfter: r.DeclineAfter}
	r.Conns = append(r.Conns, c)
	return c
}

// Violations returns the contract violations of all recorded connections.
func (r *Recorder) Violations() []string {
	var v []string
	for i, c := range r.Conns {
		for _, s := range c.Violations {
			v = append(v, fmt.Sprintf("conn %d: %s", i, s))
		}
	}
	return v
}

// Conn is the recording StreamHandler of one connection.
type Conn struct {
	Info   reassembly.ConnInfo
	Opened time.Time
	Events []Event
	// Client and Server are the concatenated Data of each side.
	Client, Server []byte
	Closed         bool
	Reason         reassembly.CloseReason
	// Violations lists breaches of the StreamHandler contract: a callback
	// after Close, Data or Gap of a side after its Fin, a second Fin, a
	// Gap of zero bytes, empty Data.
	Violations []string

	declineAfter int
	total        int
	fin          [2]bool
}

func side(fromClient bool) int {
	if fromClient {
		return 0
	}
	return 1
}

func (c *Conn) violate(format string, args ...any) {
	c.Violations = append(c.Violations, fmt.Sprintf(format, args...))
}

func (c *Conn) check(what string, fromClient bool) {
	if c.Closed {
		c.violate("%s after Close", what)
	}
	if c.fin[side(fromClient)] {
		c.violate("%s (fromClient=%v) after Fin", what, fromClient)
	}
}

// Data implements reassembly.StreamHandler.
func (c *Conn) Data(fromClient bool, data []byte, ts time.Time) bool {
	c.check("Data", fromClient)
	if len(data) == 0 {
		c.violate("empty Data")
	}
	c.Events = append(c.Events, Event{Kind: EventData, FromClient: fromClient, Data: append([]byte(nil), data...), TS: ts})
	if fromClient {
		c.Client = append(c.Client, data...)
	} else {
		c.Server = append(c.Server, data...)
	}
	c.total += len(data)
	return c.declineAfter <= 0 || c.total < c.declineAfter
}

// Gap implements reassembly.StreamHandler.
func (c *Conn) Gap(fromClient bool, n int, ts time.Time) {
	c.check("Gap", fromClient)
	if n == 0 {
		c.violate("Gap of 0 bytes")
	}
	c.Events = append(c.Events, Event{Kind: EventGap, FromClient: fromClient, N: n, TS: ts})
}

// Fin implements reassembly.StreamHandler.
func (c *Conn) Fin(fromClient bool, ts time.Time) {
	c.check("Fin", fromClient)
	c.fin[side(fromClient)] = true
	c.Events = append(c.Events, Event{Kind: EventFin, FromClient: fromClient, TS: ts})
}

// Close implements reassembly.StreamHandler.
func (c *Conn) Close(reason reassembly.CloseReason, ts time.Time) {
	if c.Closed {
		c.violate("second Close")
	}
	c.Closed, c.Reason = true, reason
	c.Events = append(c.Events, Event{Kind: EventClose, Reason: reason, TS: ts})
}

// Transcript renders the events compactly, merging consecutive Data of the
// same side: `C"GET /" S"HTTP/1.1 200" C<gap 5> C<fin> S<fin> <close fin>`.
// C and S are the client and server as the assembler guessed them.
func (c *Conn) Transcript() string {
	var b strings.Builder
	for i := 0; i < len(c.Events); i++ {
		e := c.Events[i]
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		who := "S"
		if e.FromClient {
			who = "C"
		}
		switch e.Kind {
		case EventData:
			data := e.Data
			for i+1 < len(c.Events) && c.Events[i+1].Kind == EventData && c.Events[i+1].FromClient == e.FromClient {
				i++
				data = append(data[:len(data):len(data)], c.Events[i].Data...)
			}
			fmt.Fprintf(&b, "%s%q", who, data)
		case EventGap:
			fmt.Fprintf(&b, "%s<gap %d>", who, e.N)
		case EventFin:
			fmt.Fprintf(&b, "%s<fin>", who)
		case EventClose:
			fmt.Fprintf(&b, "<close %s>", e.Reason)
		}
	}
	return b.String()
}

var _ reassembly.StreamFactory = (*Recorder)(nil)
var _ reassembly.StreamHandler = (*Conn)(nil)

// Discard is a StreamFactory whose handlers count what they receive
// without allocating (after the handler itself) or keeping anything. Its
// totals cover all its connections.
type Discard struct {
	Streams, Bytes, Gaps, Fins, Closes int
	handlers                           []discardConn
	next                               int
}

// NewDiscard returns a Discard that preallocates handlers for n
// connections, so that New does not allocate until n is exceeded.
func NewDiscard(n int) *Discard {
	return &Discard{handlers: make([]discardConn, n)}
}

// New implements reassembly.StreamFactory.
func (d *Discard) New(reassembly.ConnInfo, time.Time) reassembly.StreamHandler {
	d.Streams++
	if d.next < len(d.handlers) {
		h := &d.handlers[d.next]
		d.next++
		h.d = d
		return h
	}
	return &discardConn{d: d}
}

type discardConn struct{ d *Discard }

func (h *discardConn) Data(_ bool, data []byte, _ time.Time) bool {
	h.d.Bytes += len(data)
	return true
}
func (h *discardConn) Gap(bool, int, time.Time)                { h.d.Gaps++ }
func (h *discardConn) Fin(bool, time.Time)                     { h.d.Fins++ }
func (h *discardConn) Close(reassembly.CloseReason, time.Time) { h.d.Closes++ }
