// Package conformance scores apitap's transactions against the HTTP
// transactions Zeek logged for the same captures (../shared/data/zeek).
//
// SelectBaselines picks, for every trace with an http.log baseline, the one
// log to compare with; ReadTransactions reads apitap's --transactions JSON
// Lines; CompareTrace matches the two as multisets on the tuple (method,
// host, uri, status), restricted to the columns the baseline has; a Report
// sums the traces into recall and precision and renders them as text (for
// test logs) or Markdown (for docs/CONFORMANCE.md and CI artifacts).
//
// Everything here is deterministic: results are sorted, nothing reads the
// clock. Values are plain and own their memory; no function keeps state
// between calls, so all are safe for concurrent use. The package is test
// support: it has no metrics and no Config, because nothing in it is bounded
// by configuration.
package conformance
