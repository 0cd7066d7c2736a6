package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"
)

// summary is what a run did, printed on stderr at its end.
type summary struct {
	Elapsed       time.Duration
	Frames, Bytes uint64
	Packets       uint64 // TCP segments decoded
	NotTCP        uint64
	Malformed     uint64
	Connections   uint64
	Transactions  uint64
	ParseErrors   uint64
	Gaps          uint64
	LimitsHit     map[string]uint64
	Written       uint64
	Dropped       uint64
	KernelDrops   uint64
	FirstPacket   time.Time
	LastPacket    time.Time
	PeakRSS       int64 // peak resident memory of the process so far (0: unknown)
	MemoryLimit   int64 // --memory-limit (0: none)
}

func (s summary) write(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	secs := s.Elapsed.Seconds()
	rate := func(n uint64) float64 {
		if secs <= 0 {
			return 0
		}
		return float64(n) / secs
	}
	fmt.Fprintf(tw, "packets\t%d\t(%d TCP segments, %d not TCP, %d malformed)\n", s.Frames, s.Packets, s.NotTCP, s.Malformed)
	fmt.Fprintf(tw, "bytes\t%d\t(%.1f MB)\n", s.Bytes, float64(s.Bytes)/1e6)
	fmt.Fprintf(tw, "connections\t%d\t\n", s.Connections)
	fmt.Fprintf(tw, "transactions\t%d\t(%d written, %d dropped)\n", s.Transactions, s.Written, s.Dropped)
	fmt.Fprintf(tw, "parse errors\t%d\t(%d TCP gaps)\n", s.ParseErrors, s.Gaps)
	var limits uint64
	detail := ""
	for _, k := range slices.Sorted(maps.Keys(s.LimitsHit)) {
		if n := s.LimitsHit[k]; n > 0 {
			limits += n
			detail += fmt.Sprintf(" %s=%d", k, n)
		}
	}
	fmt.Fprintf(tw, "limits hit\t%d\t%s\n", limits, detail)
	if s.KernelDrops > 0 {
		fmt.Fprintf(tw, "kernel drops\t%d\t\n", s.KernelDrops)
	}
	if s.PeakRSS > 0 {
		limit := "no --memory-limit"
		if s.MemoryLimit > 0 {
			limit = "--memory-limit " + formatSize(s.MemoryLimit)
		}
		fmt.Fprintf(tw, "memory\t%s\t(peak resident; %s)\n", formatSize(s.PeakRSS), limit)
	}
	if !s.FirstPacket.IsZero() {
		fmt.Fprintf(tw, "capture span\t%s\t(%s to %s)\n", s.LastPacket.Sub(s.FirstPacket).Round(time.Millisecond),
			s.FirstPacket.UTC().Format(time.RFC3339), s.LastPacket.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(tw, "elapsed\t%s\t(%s packets/s, %.1f MB/s, %s transactions/s)\n", s.Elapsed.Round(time.Millisecond),
		formatRate(rate(s.Frames)), rate(s.Bytes)/1e6, formatRate(rate(s.Transactions)))
	tw.Flush()
}

// formatRate formats a per-second rate: whole numbers from 10 up, one
// decimal below, so that a quiet sensor's few calls do not read as none.
func formatRate(v float64) string {
	if v >= 10 || v == 0 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}
