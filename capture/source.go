package capture

import (
	"errors"
	"time"
)

// Source yields captured frames: a capture file (or several, merged in time
// order), standard input, or a live interface.
//
// ReadFrame fills f with the next frame and returns nil, or io.EOF when the
// source is exhausted, or an error that names the file or interface. The
// frame's Data is borrowed until the next ReadFrame call. A Source is not
// safe for concurrent use.
type Source interface {
	ReadFrame(f *Frame) error
	Close() error
}

// Handler consumes the decoded packets of one worker. A worker calls it from
// a single goroutine; Payload is valid only until HandlePacket returns.
type Handler interface {
	HandlePacket(p *Packet)
	// Flush is called once when the input ends: the handler completes what
	// is in flight (open connections, pending requests) at packet time now.
	Flush(now time.Time)
}

// Ticker is an optional interface of a Handler. In live capture (an Engine
// with Block false or Stream set, and a FlushInterval) the engine calls Tick about every
// FlushInterval, whether packets arrive or not, with the wall-clock time:
// the handler hands on what it has collected (transactions waiting for a
// batch to fill), so that the results of a quiet link are not held back.
// Tick is never called concurrently with the handler's other methods, nor
// after Flush.
type Ticker interface {
	Tick(now time.Time)
}

// ErrTruncated reports a capture file that ends in the middle of a record.
var ErrTruncated = errors.New("capture file is truncated")
