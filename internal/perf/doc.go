// Package perf is apitap's end-to-end throughput benchmark: it times
// `apitap analyze` with one and with two workers, each with analysis on
// (the default: endpoint attribution, inventory, schema learning) and
// with --analyze=false (transaction extraction only), against tshark on
// the same synthesized capture of keep-alive JSON API traffic, and checks
// the ratios the project promises: with analysis on, apitap with one
// worker at least 50 times faster than tshark and two workers at least 1.7
// times faster than one (issue 2; the same ratios without analysis are
// reported beside them, not judged); and analysis keeping at least 70 % of
// the extraction throughput with two workers (issue 3; the same ratio
// with one worker is reported, not judged). Beside them it times a
// reference for the worker ratio, the sharded reference: the capture cut
// beforehand by flow into the two halves the two workers of apitap -w2 get
// (ensureShards, with the engine's flow hash), and apitap -w1 on each half,
// both processes at once: what the machine gives two CPUs at best for the
// same work, with nothing shared and nothing handed between them.
//
// Run makes the capture with internal/synth (or reuses the one in its cache
// directory when the size and seed match), builds apitap from this module
// unless a binary is given, then runs the commands interleaved, reading the
// capture before each run so that every command finds it in the page cache:
// each round runs the four apitap commands and the sharded reference, in an
// order that rotates by one command from round to round, and, on rounds
// spread evenly over the run, tshark, last. Every apitap command runs with --table=false (no inventory
// table; its standard output is discarded anyway). Every command writes its
// output to a new file in the cache directory, on the same disk as the
// capture, as a user would; before each run the previous output is removed
// and dirty pages are written out (sync), outside the timed region, so that
// no run pays for the one before. The outputs are checked after each run,
// also outside the timed region: the transactions apitap wrote must equal
// the exchanges the synthesizer wrote, and carry "endpoint" when analysis
// is on, never when it is off. Figures are medians of wall time, because
// machines are noisy; the ratios are ratios of medians.
//
// Result.WriteMarkdown renders the figures as the tables of
// docs/PERFORMANCE.md, and Splice replaces the generated part of that file.
//
// Nothing here is safe for concurrent use, and nothing keeps global state.
// Run starts CPU-heavy processes one at a time: do not run anything else
// heavy meanwhile, or the figures measure the machine's load.
package perf
