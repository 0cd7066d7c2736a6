// Package netlab builds small throw-away networks out of Linux network
// namespaces for tests: namespaces, veth pairs, addresses, a SPAN-style
// mirror of a link onto another interface (tc mirred), commands and Go code
// run inside a namespace, raw frame injection and tun devices.
//
// Everything a Lab creates carries a random name prefix and is removed by
// the test's Cleanup, so tests may run in parallel with each other and with
// other packages. A Lab needs root (or CAP_SYS_ADMIN, CAP_NET_ADMIN and
// CAP_NET_RAW) and the iproute2 tools ip and tc; without them New fails the
// test with a message saying so: it never skips.
//
// A typical mirror-port topology (see Lab.MirrorPair):
//
//	client ns: c0 ──veth── s0 :server ns
//	           │ tc mirred (ingress and egress of c0)
//	           m0 ──veth── m1 :sensor ns   (capture here)
//
// Helpers that take no error return report failures with tb.Fatalf and must
// be called from the test's goroutine; Do, Listen, Dial and the Injector
// methods return errors and may be called from any goroutine.
package netlab
