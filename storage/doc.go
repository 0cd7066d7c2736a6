// Package storage delivers what the pipeline produces to its destinations
// (ClickHouse, an embedded engine, JSON Lines files) through one Sink
// interface.
//
// Workers hand transactions to a Producer (one per worker, not safe for
// concurrent use); producers batch them onto a bounded Queue whose single
// consumer goroutine writes each batch to the Sink. A sink that writes bytes
// (an EncodingSink, such as JSON Lines) has its transactions encoded by the
// producers, on the workers' goroutines, so that encoding scales with the
// workers and the single consumer only writes. When the queue is full a
// producer either waits (Config.Block, for capture files, where losing data
// is never right) or drops the batch and counts it (live capture, which must
// never stall). A producer's partial batch waits for more until its worker
// calls Flush (live capture does on every tick, about every 50ms), and a
// sink that buffers (a Flusher) is flushed whenever the queue runs dry, so
// the output of a quiet link is current. Nothing is lost silently: every
// dropped transaction and every failed write is counted in Stats and in
// the metrics.
package storage
