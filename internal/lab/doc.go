// Package lab records real HTTP traffic on the loopback interface as a pcap
// file, together with the ground truth of every exchange in it.
//
// Record starts a Go net/http server (and, when the scenario asks, nginx
// serving static JSON and proxying to the Go server), starts tcpdump on the
// servers' ports, runs the scenario's clients — Go's net/http client, curl
// (several requests on one keep-alive connection), pipelined requests on a
// raw TCP connection, wrk for bounded load — then stops everything cleanly
// so the capture is complete, and returns the capture's path and one
// Exchange per request/response on the wire.
//
// Ground truth comes from the side that knows it: the Go client and curl
// (--write-out) report what they sent and received; nginx's access log (a
// custom JSON format) reports wrk's requests; the Go server's own log
// reports the requests nginx proxied to it. Record cross-checks the
// servers' logs against the clients' reports and fails when they disagree,
// so the truth it returns is complete.
//
// Only loopback addresses (127.0.0.1 or ::1) and ports chosen by the kernel
// are used. The tools are Debian packages: tcpdump, curl, nginx, wrk. A
// missing tool is an error that names the package to install; Record never
// skips. Capturing needs root or CAP_NET_RAW.
//
// Concurrency: Record may run concurrently with itself (each call has its
// own servers, ports and capture). An Env's methods are safe to call from
// several goroutines of one scenario.
package lab
