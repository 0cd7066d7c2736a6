// Package synth writes capture files of scripted TCP conversations, for
// tests and benchmarks of the capture → reassembly → HTTP pipeline.
//
// Two generators live here:
//
//   - Capture and Conn script conversations segment by segment: endpoints
//     (IPv4 or IPv6), a deterministic clock (RTT, server time, think time),
//     the handshake or a mid-stream start, client and server sends cut at a
//     chosen MSS, FIN and RST, keep-alive and pipelined HTTP exchanges.
//     Impairments (loss, reordering, duplicates, retransmissions with
//     overlapping and conflicting ranges) are applied per segment, either
//     explicitly (Action) or at random from a seed (Impairments). Each
//     direction of a connection has its own encapsulation stack (Ethernet,
//     Linux SLL v1 and v2, raw IP, BSD loopback, 802.1Q/QinQ, MPLS, GRE, ERSPAN II
//     and III, VXLAN, GENEVE, IP-in-IP, IPv4 fragments of the outer or the
//     inner packet). Capture.Truth returns what the script sent: one
//     Exchange per HTTP request/response with byte counts and how much of
//     each message the capture holds.
//   - WriteBulkAPI writes large captures (gigabytes) of keep-alive JSON REST
//     traffic between many clients and servers, fast (hundreds of MB/s),
//     from precomputed templates; it is what `make bench` analyses.
//   - WriteFlood writes a connection flood: a million half-open connections
//     (SYN only) and idle established ones, interleaved with normal API
//     traffic, for the memory-cap checks.
//
// Everything is deterministic: the same script or BulkConfig with the same
// seed produces the same bytes. Packet timestamps come from the scripted
// clock, never from the wall clock.
//
// Ownership and concurrency: a Capture and its Conns are used by one
// goroutine. Frames returned by Capture.Frames alias the capture's memory
// and must not be modified. Nothing in this package keeps global state.
package synth
