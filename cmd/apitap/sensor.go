package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/apitap/apitap/capture"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
)

func newSensorCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sensor --interface IFACE [flags]",
		Short: "Rebuild HTTP transactions live from a mirror port",
		Long: `Captures on a network interface (a SPAN/TAP mirror port) through an AF_PACKET
TPACKET_V3 ring, with a fanout group spreading packets over several sockets,
until SIGINT or SIGTERM; then flushes what is in flight and prints a summary.`,
		Example: `  apitap sensor --interface eth1 --transactions tx.jsonl
  apitap sensor -i eth1 --bpf 'tcp port 80 or tcp port 8080' --fanout 2 -t -`,
		Args: cobra.NoArgs,
	}
	addPipelineFlags(cmd.Flags())
	fs := cmd.Flags()
	fs.StringP("interface", "i", "", "interface to capture on (required)")
	fs.String("bpf", "", `capture filter in tcpdump syntax, e.g. "tcp port 80"`)
	fs.Int("fanout", 1, "AF_PACKET sockets in the fanout group (each read by its own goroutine)")
	fs.Bool("promiscuous", true, "put the interface in promiscuous mode")
	fs.String("ring-size", "64MiB", "ring buffer size per fanout socket")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		v, cfg, logger, err := pipelineSetup(cmd)
		if err != nil {
			return err
		}
		live := capture.LiveConfig{
			Interface:     v.GetString("interface"),
			BPF:           v.GetString("bpf"),
			FanoutMembers: v.GetInt("fanout"),
			Promiscuous:   v.GetBool("promiscuous"),
		}
		if live.Interface == "" {
			return usageError{fmt.Errorf("--interface is required (the mirror port to listen on, e.g. eth1)")}
		}
		if live.FanoutMembers < 1 || live.FanoutMembers > 64 {
			return usageError{fmt.Errorf("--fanout: %d is not between 1 and 64", live.FanoutMembers)}
		}
		ring, err := parseSize(v.GetString("ring-size"))
		if err != nil || ring < 1<<20 {
			return usageError{fmt.Errorf("--ring-size: %q must be a size of at least 1MiB", v.GetString("ring-size"))}
		}
		live.RingBytes = ring
		return sensor(cmd.Context(), live, cfg, logger, cmd)
	}
	return cmd
}

func sensor(ctx context.Context, live capture.LiveConfig, cfg pipelineConfig, logger *slog.Logger, cmd *cobra.Command) error {
	if ctx == nil {
		ctx = context.Background()
	}
	sigCtx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	reg := prometheus.NewRegistry()
	sources, err := capture.OpenInterface(live, reg)
	if err != nil {
		return err
	}
	// Live capture must never stall: full queues drop and count.
	cfg.Engine.Block = false
	cfg.Queue.Block = false
	p, err := newPipeline(cfg, logger, reg, cmd.OutOrStdout())
	if err != nil {
		closeAll(sources)
		return err
	}
	logger.Info("capturing; stop with Ctrl-C (SIGINT) or SIGTERM", "component", "capture", "interface", live.Interface, "fanout", live.FanoutMembers, "workers", cfg.Engine.Workers)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigCtx.Done():
		case <-done:
			return
		}
		// A second signal ends the process at once.
		stop()
		logger.Info("stopping: reading what the kernel has already captured, then flushing", "component", "capture", "interface", live.Interface)
		// The readers return io.EOF once the rings are empty; the engine
		// then flushes every stage. A signal is a normal end, not an
		// error: the engine's context is the caller's, not the signal's.
		drainAll(sources)
	}()
	runErr := p.run(ctx, sources...)
	close(done)
	closeAll(sources)
	sum := p.summary()
	if ls, err := capture.TotalLiveStats(sources); err == nil {
		sum.KernelDrops = ls.Dropped
	}
	sum.write(cmd.ErrOrStderr())
	if p.analyzer != nil && runErr == nil {
		// The sensor writes the inventory and the documents it was asked
		// for when it stops; it never prints the table.
		return writeAnalysis(cfg.Analysis, p.analyzer.Snapshot(), cmd.OutOrStdout(), logger)
	}
	return runErr
}

// drainer is a live source that can stop without losing the packets the
// kernel has already accepted (capture.AFPacketSource).
type drainer interface{ Drain() }

// drainAll stops the sources gracefully: a drainer is drained (its reader
// ends once its ring is empty), any other source is closed.
func drainAll(sources []capture.Source) {
	for _, s := range sources {
		if d, ok := s.(drainer); ok {
			d.Drain()
		} else {
			s.Close()
		}
	}
}

func closeAll(sources []capture.Source) {
	for _, s := range sources {
		s.Close()
	}
}
