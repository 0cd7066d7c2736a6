// Package reassembly rebuilds the byte streams of TCP connections from
// decoded packets and, through a StreamFactory (the HTTP/1.x parser in
// reassembly/http1), turns them into Transactions.
//
// Each worker owns one Assembler and calls it from a single goroutine; no
// state is shared between workers. Slices handed to a StreamHandler are
// borrowed for the duration of the call. A Transaction owns its memory.
package reassembly
