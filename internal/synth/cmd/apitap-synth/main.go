// Command apitap-synth writes a synthetic capture of keep-alive JSON REST
// API traffic for benchmarks (see synth.WriteBulkAPI).
//
//	apitap-synth -out bench.pcap -size 1GB -seed 1
//
// It prints what it wrote (packets, connections, exchanges, the write
// rate) to standard error.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apitap/apitap/internal/synth"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "apitap-synth:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("apitap-synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "capture file to write (- for standard output)")
	size := fs.String("size", "64MB", "target size: a number of bytes with an optional KB, MB, GB (powers of 1000) or KiB, MiB, GiB suffix")
	seed := fs.Uint64("seed", 1, "seed; the same seed and flags write the same bytes")
	clients := fs.Int("clients", 0, "distinct client addresses (0: 200)")
	servers := fs.Int("servers", 0, "distinct servers (0: 16, at most 100)")
	conns := fs.Int("conns", 0, "connections open at once (0: 64)")
	exchanges := fs.Int("exchanges", 0, "mean exchanges per connection (0: 100)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		fs.Usage()
		return fmt.Errorf("-out FILE is required")
	}
	n, err := synth.ParseSize(*size)
	if err != nil {
		return fmt.Errorf("-size: %w", err)
	}
	var w io.Writer = os.Stdout
	var f *os.File
	if *out != "-" {
		if f, err = os.Create(*out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	start := time.Now()
	st, err := synth.WriteBulkAPI(w, synth.BulkConfig{
		Size: n, Seed: *seed, Clients: *clients, Servers: *servers, Conns: *conns, Exchanges: *exchanges,
	})
	if err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
	}
	el := time.Since(start)
	methods := make([]string, 0, len(st.Methods))
	for m, c := range st.Methods {
		methods = append(methods, m+"="+strconv.FormatInt(c, 10))
	}
	sort.Strings(methods)
	fmt.Fprintf(stderr, "wrote %s: %d bytes, %d packets, %d connections, %d exchanges (%s; %d chunked, %d gzip) in %v (%.0f MB/s)\n",
		*out, st.Bytes, st.Packets, st.Connections, st.Exchanges, strings.Join(methods, " "), st.Chunked, st.Gzip,
		el.Round(time.Millisecond), float64(st.Bytes)/1e6/el.Seconds())
	return nil
}
