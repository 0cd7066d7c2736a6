package reassembly

import (
	"net/netip"
	"time"
)

// ConnInfo describes a TCP connection when the assembler first sees it.
type ConnInfo struct {
	// Client and Server are the assembler's best guess: the sender of the
	// SYN is the client; without a handshake, the endpoint with the higher
	// port (or, on a tie, the first sender) is. A StreamHandler may decide
	// otherwise from the bytes it sees.
	Client, Server netip.AddrPort
	// HandshakeSeen is false when the connection was picked up mid-stream.
	HandshakeSeen bool
}

// CloseReason says why a connection ended.
type CloseReason uint8

// Reasons a connection ends.
const (
	CloseFIN        CloseReason = iota // both sides sent FIN
	CloseRST                           // a RST was seen
	CloseIdle                          // no packet within the idle timeout (packet time)
	CloseEvicted                       // evicted to stay within the memory or connection cap
	CloseEndOfInput                    // the capture ended (Flush)
)

var closeReasonNames = [...]string{"fin", "rst", "idle", "evicted", "end_of_input"}

func (r CloseReason) String() string {
	if int(r) < len(closeReasonNames) {
		return closeReasonNames[r]
	}
	return "unknown"
}

// StreamFactory creates the handler of each new connection. Each worker has
// its own factory; it is called from the worker's goroutine only.
type StreamFactory interface {
	New(info ConnInfo, ts time.Time) StreamHandler
}

// StreamHandler receives the reassembled bytes of one connection, in order,
// from the worker's goroutine. Every slice passed in is borrowed: it must not
// be kept after the call returns.
type StreamHandler interface {
	// Data delivers the next in-order bytes sent by the client (fromClient)
	// or the server; ts is the capture time of the segment that carried
	// them. It returns false when the handler wants no more payload (after
	// an Upgrade or CONNECT, say); the assembler then stops buffering
	// payload for the connection but still tracks its end.
	Data(fromClient bool, data []byte, ts time.Time) bool
	// Gap reports that n bytes (n < 0: an unknown number) sent by one side
	// were lost before the next Data call for that side.
	Gap(fromClient bool, n int, ts time.Time)
	// Fin reports that one side closed its direction (FIN) after the bytes
	// delivered so far.
	Fin(fromClient bool, ts time.Time)
	// Close ends the connection; no call follows it.
	Close(reason CloseReason, ts time.Time)
}
