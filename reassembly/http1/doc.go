// Package http1 is apitap's HTTP/1.x parser. It turns the reassembled byte
// streams of TCP connections into reassembly.Transactions.
//
// A Factory implements reassembly.StreamFactory: the TCP assembler asks it
// for one reassembly.StreamHandler per connection and feeds that handler
// the bytes of both directions, in order, as they arrive. The handler runs
// an incremental state machine per direction, so a message may be split
// anywhere across Data calls; the transactions produced do not depend on
// where the splits fall.
//
// # What is parsed
//
// Requests and responses with Content-Length, chunked (extensions and
// trailers included) and close-delimited bodies; no body for HEAD
// responses, 1xx, 204 and 304, nor for requests without a length.
// Pipelined requests are paired with responses in order. Interim 1xx
// responses are skipped (FlagContinue for 100). A 101 response or a 2xx
// answer to CONNECT records the transaction (FlagUpgrade, FlagConnect) and
// stops parsing the connection: Data returns false from then on. HTTP/0.9
// simple requests ("GET /path" without a version) get Version "0.9" and
// the rest of the server stream, up to its end, as a response with
// Status 0, as Zeek does. The parser is lenient the way servers are: bare
// LF line endings, extra white space, lower-case methods and names, empty
// lines between messages and obsolete line folding are accepted, and
// marked FlagMalformed when they break RFC 9112. Ambiguous framing
// (Content-Length with Transfer-Encoding, differing Content-Lengths, a
// Transfer-Encoding whose last coding is not chunked, a Content-Length or
// chunk size with a sign, leading zeros or overflow, folded framing
// headers) is recorded with FlagSmuggling and framed the way Zeek and
// libhtp frame it: chunked wins over Content-Length, the first
// Content-Length wins over later ones, an invalid Content-Length counts as
// zero in a request (a response is then read to its close), an invalid
// chunk size ends the body.
//
// Roles are decided from the bytes: the side whose first message is a
// request line is the client, whatever reassembly.ConnInfo guessed. A
// response without a pending request is emitted alone with FlagNoRequest.
// After a gap (Gap) inside a body of known length the lost bytes are
// skipped and parsing goes on (a gap that also takes what follows the
// body leaves the body at its full length); anywhere else the message in
// progress is closed with FlagGap and the direction resynchronises on the
// next plausible message start: on the client side a request line ending in
// HTTP/1.x at the start of a line, or a known method glued to the end of
// the previous bytes ("...}POST /x HTTP/1.1", a body of unknown length);
// on the server side "HTTP/1.x NNN" anywhere. Bytes that are not HTTP at
// a message boundary are skipped the same way and counted; a connection
// that shows no HTTP message within Config.MaxResyncBytes is given up.
// A gap on the server side may take whole responses or their starts: the
// requests judged to have lost their responses in it are emitted with
// FlagNoResponse and FlagGap, counted in Stats.ResponsesLost, so that the
// responses after the gap pair with their own requests. Without
// pipelining these are all the requests awaiting a response but the last,
// and the last too unless the bytes after the gap begin a response (or,
// for a gap at a message boundary that holds whole messages, unless it
// expects 100-continue or follows a lost request); once the connection
// has pipelined, only the oldest awaiting request, and only for a gap at
// a message boundary. The pairing after losses on both sides at once is a
// best guess: the parser sees no acknowledgements. As
// in Zeek, a request line after other bytes and white space on its line,
// a lone word, or a version-less line whose target does not start with
// "/" or a scheme is not a request, so that the first line of another
// text protocol is not counted as HTTP. The HTTP/2 connection preface
// ("PRI * HTTP/2.0") is recorded with FlagUpgrade and ends parsing too.
//
// # Transactions
//
// Transactions are handed to the reassembly.TransactionSink in request
// order, each as soon as both its request and its response are complete
// (or known never to come: end of connection, pending-request limit).
// Every string and slice in a Transaction is a private copy: one arena per
// message holds method, target, reason and header text, and bodies are
// copied, capped at Config.MaxBodyBytes before content decoding. Bodies
// with a Content-Encoding of gzip, x-gzip, deflate (zlib or raw), br or
// zstd are decoded under Config.MaxDecodedBytes and Config.MaxDecodeRatio.
// When decoding fails the body keeps what the last successful step
// produced (the raw bytes when the first step fails) and FlagDecodeError
// is set; when a limit stops it the decoded prefix is kept with
// FlagDecodeError and FlagBodyTruncated. Body lengths count entity bytes
// after de-chunking and before content decoding; trailer fields are
// appended to the headers.
//
// # Ownership and concurrency
//
// A Factory and its handlers belong to one worker goroutine: none of their
// methods may be called concurrently, and Factory.Stats must be called
// from that goroutine too (sum several factories with Stats.Add). Slices
// passed to Data are borrowed for the duration of the call only. The
// handler keeps per-direction buffers (at most Config.MaxHeaderBytes for a
// header block and Config.MaxBodyBytes for a body) which go back to the
// factory when the connection closes; no handler method may be called
// after Close. Framing allocates nothing per message in the steady state
// of a keep-alive connection; each transaction costs three allocations
// (the Transaction, one slice of header fields, one arena holding all its
// strings) plus one per stored body.
package http1
