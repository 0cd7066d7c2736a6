package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"unsafe"

	"github.com/apitap/apitap/analyze"
	"github.com/apitap/apitap/capture"
	"github.com/apitap/apitap/reassembly"
	"github.com/apitap/apitap/reassembly/http1"
)

// The memory budget.
//
// --memory-limit L (default 1 GiB, APITAP_MEMORY_LIMIT; 0 turns the budget
// off) caps the resident memory of a run. planMemory splits it top-down:
//
//	headroom    max(L/8, 24 MiB), plus the AF_PACKET rings of the sensor
//	            (--ring-size × --fanout): memory the Go heap does not
//	            account for (program text, goroutine stacks, runtime
//	            metadata, pages not yet returned to the kernel, the rings).
//	soft limit  L − headroom, handed to the Go runtime
//	            (debug.SetMemoryLimit): the collector runs as often as it
//	            must to keep the process's Go memory under it.
//	data D      3/4 of the soft limit: the live data the stages may hold;
//	            the last quarter is room for garbage between collections, so
//	            that the collector does not run back to back.
//
// D is shared out per stage, in this order. Each of the first four parts is
// capped both by its share and by what the stage's defaults would use (a
// generous limit changes nothing there):
//
//	capture batches  ≤ D/16  engine queue depth: each worker has up to
//	                         depth+sources+2 batches of BatchBytes payload
//	                         (copied, or capture-file read blocks retained)
//	                         plus BatchSize packet headers (only with more
//	                         than one worker or source); a file source also
//	                         keeps up to 2 MiB of released read blocks for
//	                         reuse, which the headroom covers
//	storage queue    ≤ D/16  queue depth, in batches of BatchSize
//	                         transactions of about txBytes each
//	IP fragments     ≤ D/32  fragment reassembly bytes, per source
//	HTTP messages    ≤ D/8   bodies being stored: a worker may hold
//	                         httpMessagesPerWorker messages at
//	                         --max-body-bytes while they arrive (derived
//	                         --max-body-bytes shrinks, never below 64 KiB)
//	analysis         ≤ D/8   the analyze stage (with --analyze): 3/8 for
//	                         --max-endpoints per worker at
//	                         analyze.EndpointBytes each, 3/8 for the
//	                         worker's schema learners (MaxSchemaBytes),
//	                         1/4 for its path templates over all hosts
//	                         (pathtmpl MaxTotalTemplates, templateBytes
//	                         each)
//	connections      3/4 of the rest: --max-connections per worker, at
//	                 connBytes each (a connection with its HTTP parser and
//	                 a small request waiting for its response)
//	out-of-order     1/4 of the rest: --max-reassembly-memory per worker,
//	                 at oooFactor bytes per buffered byte
//
// The settings derived are --max-connections, --max-reassembly-memory and
// --max-body-bytes, and (they have no flags) the capture and storage queue
// depths and the fragment reassembly bytes. A setting given explicitly
// (non-zero) is charged at its cost and the derived settings share what
// remains; when that is less than the minimum they need (minConnsPerWorker
// connections and minOOOPerWorker bytes per worker), planMemory fails with
// an error naming the explicit settings and their cost. The per-connection and per-byte costs are measured, not
// guessed: TestMemoryCosts (memory_cost_test.go) measures them and fails if
// a measurement exceeds the constant charged here.
//
// The budget bounds what grows with traffic: connections, out-of-order
// bytes, fragments, queued packets and transactions. Two costs are
// estimates the stages do not enforce: the storage queue holds a number of
// transactions, not bytes (a transaction with large captured bodies costs
// more than txBytes; in front of JSON Lines it holds their encoded lines,
// which with --bodies can be as large), and http1 caps the bodies stored
// per message, not over all connections.

// Costs charged by the budget. TestMemoryCosts holds them to measurement.
const (
	// connBytes is one tracked connection with its HTTP/1 parser and one
	// request waiting for its response: the connection table slot and
	// index entry, the parser's two directions, the pending transaction
	// and its stored header block (measured: 2.5 KiB with 200 B of
	// headers; 2.9 KiB when the request also announces a large body and
	// sends 100 B of it). Half-open connections (SYN only) cost
	// halfOpenBytes; the budget charges every slot as if established,
	// since any may become so.
	connBytes = 3584
	// halfOpenBytes is one tracked connection that saw only a SYN.
	halfOpenBytes = 320
	// oooFactor bounds the memory held per out-of-order byte accounted by
	// the assembler, which counts the capacity of the buffers (a power of
	// two, at least 64 B per segment). Each segment also has a 64-byte
	// record in a slice that grows by doubling and, the first time, a
	// 32-byte pool handle: 3.5 B per accounted byte for one-byte segments
	// just after the slice doubled, about 1.05 B for full-size ones.
	oooFactor = 4
	// txBytes is a transaction of a JSON API exchange waiting in the
	// storage queue, headers and (small) bodies included (or its JSON
	// line, smaller, in front of an encoding sink).
	txBytes = 8 << 10
	// packetBytes is one packet header in a capture batch.
	packetBytes = int64(unsafe.Sizeof(capture.Packet{}))
	// fragmentFixedBytes is what a decoder's fragment reassembly holds
	// besides MaxFragmentBytes: free buffer lists (16 per class, 2 to
	// 64 KiB) and the datagram table.
	fragmentFixedBytes = 16*(2+4+8+16+32+64)<<10 + capture.DefaultMaxFragmentDatagrams*256
	// httpMessagesPerWorker is how many messages per worker the budget
	// lets store a body of --max-body-bytes at the same time, with their
	// header blocks.
	httpMessagesPerWorker = 8
)

// Limits of the derived settings.
const (
	// DefaultMemoryLimit is --memory-limit's default.
	DefaultMemoryLimit = 1 << 30
	minHeadroom        = 24 << 20
	// minConnsPerWorker is the fewest connections a worker may be given.
	minConnsPerWorker = 1024
	// minOOOPerWorker is the least out-of-order memory a worker may be
	// given (it is also then its per-connection cap).
	minOOOPerWorker = 256 << 10
	minBodyBytes    = 64 << 10
	minQueueDepth   = 2
	// The analyze stage gets at least this much per worker however small
	// the budget.
	minEndpointsPerWorker   = 64
	minSchemaBytesPerWorker = 1 << 20
	minTemplatesPerWorker   = 1000
	// defaultMaxTotalTemplates is pathtmpl's own default.
	defaultMaxTotalTemplates = 50000
	// templateBytes is charged per learned path template (pathtmpl
	// measures about 250 B for a template with its evidence; deep paths
	// hold a node per segment).
	templateBytes = 512
)

// memoryEnv is what the budget needs to know besides the settings: the
// number of capture sources (each has its own decoder) and the bytes of
// the sensor's capture rings.
type memoryEnv struct {
	Sources   int
	RingBytes int64
}

// memoryPart is one line of the budget.
type memoryPart struct {
	Name    string // the stage
	Setting string // what it sets, e.g. "--max-connections 90000"
	Bytes   int64  // what it may hold at most
}

// memoryPlan is the budget of a run.
type memoryPlan struct {
	Limit     int64 // --memory-limit; 0: no budget
	SoftLimit int64 // for debug.SetMemoryLimit; 0: leave the runtime alone
	Data      int64 // D
	Parts     []memoryPart
}

// Total returns the sum of the parts.
func (p memoryPlan) Total() int64 {
	var n int64
	for _, part := range p.Parts {
		n += part.Bytes
	}
	return n
}

// LogValue describes the plan for the log.
func (p memoryPlan) LogValue() slog.Value {
	if p.Limit == 0 {
		return slog.StringValue("off")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "limit %s, soft %s, data %s:", formatSize(p.Limit), formatSize(p.SoftLimit), formatSize(p.Data))
	for _, part := range p.Parts {
		fmt.Fprintf(&b, " %s %s (%s);", part.Name, formatSize(part.Bytes), part.Setting)
	}
	return slog.StringValue(strings.TrimSuffix(b.String(), ";"))
}

// planMemory derives the settings left at zero in cfg from limit (see the
// budget above), writes them into cfg and returns the plan. limit 0 leaves
// cfg alone. The error names the settings that do not fit.
func planMemory(limit int64, cfg *pipelineConfig, env memoryEnv) (memoryPlan, error) {
	plan := memoryPlan{Limit: limit}
	if limit == 0 {
		return plan, nil
	}
	workers := int64(max(cfg.Engine.Workers, 1))
	sources := int64(max(env.Sources, 1))
	headroom := max(limit/8, minHeadroom) + env.RingBytes
	plan.SoftLimit = limit - headroom
	plan.Data = plan.SoftLimit / 4 * 3
	if plan.SoftLimit <= 0 {
		return plan, fmt.Errorf("--memory-limit %s is too small: the program itself needs %s%s",
			formatSize(limit), formatSize(headroom), ringNote(env))
	}
	d := plan.Data
	var explicit []string // the explicit settings the budget charges, with their cost
	add := func(name, setting string, bytes int64) {
		plan.Parts = append(plan.Parts, memoryPart{Name: name, Setting: setting, Bytes: bytes})
	}

	// Capture batches (only when packets are handed between goroutines).
	if workers > 1 || sources > 1 {
		e := &cfg.Engine
		size := int64(orInt(e.BatchSize, capture.DefaultBatchSize))
		bytes := int64(orInt(e.BatchBytes, capture.DefaultBatchBytes))
		perBatch := bytes + size*packetBytes
		depth := int64(e.QueueBatches)
		if depth == 0 {
			depth = min(int64(capture.DefaultQueueBatches), d/16/workers/perBatch-sources-2)
			depth = max(depth, minQueueDepth)
			e.QueueBatches = int(depth)
		}
		add("capture batches", fmt.Sprintf("%d batches of %s per worker", depth+sources+2, formatSize(perBatch)),
			workers*(depth+sources+2)*perBatch)
	}

	// Storage queue.
	{
		q := &cfg.Queue
		size := int64(orInt(q.BatchSize, 256))
		depth := int64(q.Depth)
		if depth == 0 {
			share := d / 16
			depth = min(64, share/(size*txBytes)-1-workers)
			if depth < minQueueDepth && q.BatchSize == 0 {
				// A small budget: smaller batches rather than no queue.
				depth = minQueueDepth
				size = max(16, share/((depth+1+workers)*txBytes))
				q.BatchSize = int(size)
			}
			depth = max(depth, minQueueDepth)
			q.Depth = int(depth)
		}
		// The queue, the batch being written and one being filled per worker.
		add("storage queue", fmt.Sprintf("depth %d × %d transactions", depth, size),
			(depth+1+workers)*size*txBytes)
	}

	// IP fragments, per source.
	{
		dc := &cfg.Engine.Decoder
		frag := int64(dc.MaxFragmentBytes)
		if frag == 0 {
			frag = min(int64(capture.DefaultMaxFragmentBytes), max(d/32/sources-fragmentFixedBytes, 256<<10))
			dc.MaxFragmentBytes = int(frag)
		}
		if frag > 0 {
			add("IP fragments", fmt.Sprintf("%s per source", formatSize(frag)), sources*(frag+fragmentFixedBytes))
		}
	}

	// HTTP messages in flight.
	{
		h := &cfg.HTTP
		header := int64(orInt(h.MaxHeaderBytes, http1.DefaultMaxHeaderBytes))
		body := int64(h.MaxBodyBytes)
		if body > 0 {
			explicit = append(explicit, fmt.Sprintf("--max-body-bytes %s (%s)", formatSize(body),
				formatSize(workers*httpMessagesPerWorker*(header+body))))
		}
		if body == 0 {
			per := d / 8 / workers / httpMessagesPerWorker
			body = min(int64(http1.DefaultMaxBodyBytes), max(per-header, minBodyBytes))
			if body < http1.DefaultMaxBodyBytes {
				h.MaxBodyBytes = int(body)
			}
		}
		body = max(body, 0)
		add("HTTP messages", fmt.Sprintf("%d bodies of %s per worker", httpMessagesPerWorker, formatSize(body)),
			workers*httpMessagesPerWorker*(header+body))
	}

	// The analyze stage: endpoint tables and schema learners, per worker.
	if cfg.Analysis.Enabled {
		a := &cfg.Analysis.Analyzer
		share := d / 8 / workers
		eps, schemaBytes := int64(a.MaxEndpoints), a.MaxSchemaBytes
		if eps != 0 {
			explicit = append(explicit, fmt.Sprintf("--max-endpoints %d (%s)", eps, formatSize(workers*eps*analyze.EndpointBytes)))
		} else {
			eps = min(analyze.DefaultMaxEndpoints, max(share*3/8/analyze.EndpointBytes, minEndpointsPerWorker))
			a.MaxEndpoints = int(eps)
		}
		if schemaBytes == 0 {
			schemaBytes = min(analyze.DefaultMaxSchemaBytes, max(share*3/8, minSchemaBytesPerWorker))
			a.MaxSchemaBytes = schemaBytes
		}
		templates := int64(a.Templates.MaxTotalTemplates)
		if templates == 0 {
			templates = min(defaultMaxTotalTemplates, max(share/4/templateBytes, minTemplatesPerWorker))
			a.Templates.MaxTotalTemplates = int(templates)
		}
		add("analysis", fmt.Sprintf("--max-endpoints %d, %d path templates and %s of schemas per worker", eps, templates, formatSize(schemaBytes)),
			workers*(eps*analyze.EndpointBytes+templates*templateBytes+schemaBytes))
	}

	// Connections and out-of-order bytes share the rest.
	rest := d - plan.Total()
	r := &cfg.Reassembly
	conns, ooo := int64(r.MaxConnections), r.MaxBufferedBytes
	connCost := func(n int64) int64 { return workers * n * connBytes }
	oooCost := func(n int64) int64 { return workers * n * oooFactor }
	if conns != 0 {
		explicit = append(explicit, fmt.Sprintf("--max-connections %d (%s)", conns, formatSize(connCost(conns))))
	}
	if ooo != 0 {
		explicit = append(explicit, fmt.Sprintf("--max-reassembly-memory %s (%s)", formatSize(ooo), formatSize(oooCost(ooo))))
	}
	// The minimums apply to derived settings; explicit ones are the user's.
	minConns, minOOO := int64(minConnsPerWorker), int64(minOOOPerWorker)
	if conns != 0 {
		minConns = 1
	}
	if ooo != 0 {
		minOOO = 1
	}
	switch {
	case conns == 0 && ooo == 0:
		conns = min(reassembly.DefaultMaxConnections, rest*3/4/connCost(1))
		ooo = min(reassembly.DefaultMaxBufferedBytes, (rest-connCost(conns))/oooCost(1))
	case conns == 0:
		conns = min(reassembly.DefaultMaxConnections, (rest-oooCost(ooo))/connCost(1))
	case ooo == 0:
		ooo = min(reassembly.DefaultMaxBufferedBytes, (rest-connCost(conns))/oooCost(1))
	}
	if conns < minConns || ooo < minOOO || connCost(conns)+oooCost(ooo) > rest {
		msg := fmt.Sprintf("--memory-limit %s leaves %s for connections and out-of-order bytes (after %s for the rest of the pipeline, %s for garbage and %s%s for the program), ",
			formatSize(limit), formatSize(max(rest, 0)), formatSize(plan.Total()), formatSize(plan.SoftLimit-d), formatSize(headroom-env.RingBytes), ringNote(env))
		if len(explicit) > 0 {
			msg += fmt.Sprintf("too little for %s with %d worker(s): raise --memory-limit or lower --workers, --max-connections, --max-reassembly-memory or --max-body-bytes",
				strings.Join(explicit, " and "), workers)
		} else {
			msg += fmt.Sprintf("less than the %s that %d worker(s) need at least: raise --memory-limit or lower --workers",
				formatSize(workers*(minConnsPerWorker*connBytes+minOOOPerWorker*oooFactor)), workers)
		}
		return plan, errors.New(msg)
	}
	r.MaxConnections = int(conns)
	r.MaxBufferedBytes = ooo
	if r.MaxBufferedBytesPerConn == 0 && ooo < reassembly.DefaultMaxBufferedBytesPerConn {
		r.MaxBufferedBytesPerConn = int(ooo)
	}
	add("connections", fmt.Sprintf("--max-connections %d per worker", conns), connCost(conns))
	add("out-of-order", fmt.Sprintf("--max-reassembly-memory %s per worker", formatSize(ooo)), oooCost(ooo))
	return plan, nil
}

func ringNote(env memoryEnv) string {
	if env.RingBytes == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s of it the capture rings: --ring-size × --fanout)", formatSize(env.RingBytes))
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// gcPercentWithLimit is the collector's GOGC while a memory limit holds the
// heap: the soft limit, not heap growth, is what bounds memory, so the
// collector may let garbage grow to 4 times the live heap between cycles
// (a sixth of the collections of GOGC=100 in the throughput benchmark)
// and still runs as often as the limit needs when the live data grows
// toward it.
const gcPercentWithLimit = 400

// applyMemoryLimit sets the Go runtime's soft memory limit of plan (unless
// a lower one, say from GOMEMLIMIT, is already set) and, unless GOGC is set
// in the environment, the collector's GOGC to gcPercentWithLimit. It
// returns a function that restores both.
func applyMemoryLimit(plan memoryPlan) (restore func()) {
	if plan.SoftLimit <= 0 {
		return func() {}
	}
	prevPercent := -2 // not changed
	if _, set := os.LookupEnv("GOGC"); !set {
		prevPercent = debug.SetGCPercent(gcPercentWithLimit)
	}
	restorePercent := func() {
		if prevPercent != -2 {
			debug.SetGCPercent(prevPercent)
		}
	}
	prev := debug.SetMemoryLimit(-1)
	if prev <= plan.SoftLimit {
		return restorePercent
	}
	debug.SetMemoryLimit(plan.SoftLimit)
	return func() {
		debug.SetMemoryLimit(prev)
		restorePercent()
	}
}

// peakRSS returns the peak resident set size of the process since it
// started (VmHWM in /proc/self/status), or 0 where that is not available.
// Unlike getrusage's ru_maxrss it does not count the memory of the parent
// that spawned the process (Go's os/exec shares it until exec).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	return parseVmHWM(b)
}

// parseVmHWM reads the "VmHWM:   1234 kB" line of a /proc/PID/status.
func parseVmHWM(status []byte) int64 {
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return n << 10
				}
			}
			return 0
		}
	}
	return 0
}

// formatSize writes n bytes in the largest binary unit that keeps one
// decimal, e.g. "1GiB", "230.4MiB", "512KiB", "100B".
func formatSize(n int64) string {
	units := []struct {
		name string
		mult int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}
	for _, u := range units {
		if n >= u.mult || -n >= u.mult {
			s := fmt.Sprintf("%.1f", float64(n)/float64(u.mult))
			return strings.TrimSuffix(s, ".0") + u.name
		}
	}
	return fmt.Sprintf("%dB", n)
}
