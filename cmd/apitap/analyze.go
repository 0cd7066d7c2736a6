package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"

	"github.com/apitap/apitap/capture"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newAnalyzeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "analyze [flags] FILE...",
		Short: "Rebuild the HTTP transactions in capture files",
		Long: `Reads pcap or pcapng files (optionally gzip-compressed; "-" reads standard
input), merged in packet-time order, and rebuilds the HTTP/1.x transactions
in them, attributes each to an API endpoint (host, method, path template)
and learns the endpoints' parameters and request and response schemas.
At the end it prints the endpoint inventory on stdout (busiest first) and a
summary on stderr; --inventory, --openapi and --spec write the inventory as
JSON, the inferred OpenAPI document, and its comparison with a published one.`,
		Example: `  apitap analyze capture.pcap
  apitap analyze capture.pcap --openapi api.yaml --inventory inventory.json
  apitap analyze capture.pcap --spec published.yaml
  apitap analyze capture.pcap --transactions tx.jsonl
  apitap analyze day1.pcap.gz day2.pcapng -t - | jq .uri
  tcpdump -i eth1 -U --immediate-mode -w - | apitap analyze - -t tx.jsonl`,
		Args: cobra.MinimumNArgs(1),
	}
	addPipelineFlags(cmd.Flags())
	cmd.Flags().String("progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always, never")
	cmd.Flags().Bool("quiet", false, "print no summary")
	cmd.Flags().Bool("table", true, `print the endpoint inventory as a table on stdout (not when another output goes to stdout with "-")`)
	// For profiling the pipeline (docs/PERFORMANCE.md), not for users.
	cmd.Flags().String("cpuprofile", "", "write a CPU profile of the run to this file")
	cmd.Flags().String("memprofile", "", "write an allocation profile of the run (every allocation sampled, by bytes and count) to this file")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	_ = cmd.Flags().MarkHidden("memprofile")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		v, cfg, logger, err := pipelineSetup(cmd)
		if err != nil {
			return err
		}
		stderr := cmd.ErrOrStderr()
		progress, err := wantProgress(v.GetString("progress"), stderr)
		if err != nil {
			return err
		}
		a := &cfg.Analysis
		a.Table = v.GetBool("table") && a.Enabled && cfg.Transactions != "-" && a.Inventory != "-" && a.OpenAPI != "-"
		// Files are read as fast as the workers go: never drop.
		cfg.Engine.Block = true
		cfg.Queue.Block = true
		// Standard input may be a live capture (tcpdump -U -w - | apitap
		// analyze -): what it brings is written as it comes.
		cfg.Engine.Stream = slices.Contains(args, capture.StdinName)
		stopProfiles, err := startProfiles(v.GetString("cpuprofile"), v.GetString("memprofile"), stderr)
		if err != nil {
			return err
		}
		defer stopProfiles()
		return runAnalyze(cmd.Context(), args, cfg, logger, cmd.InOrStdin(), cmd.OutOrStdout(), stderr, progress, v.GetBool("quiet"))
	}
	return cmd
}

// startProfiles writes a CPU profile to cpuPath and an allocation profile
// to memPath (either "" for none) of what runs until the returned function
// is called. Errors name the flag; a profile that cannot be written at the
// end is reported on stderr.
func startProfiles(cpuPath, memPath string, stderr io.Writer) (stop func(), err error) {
	var cpu, mem *os.File
	rate := runtime.MemProfileRate
	stop = func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if mem != nil {
			if err := pprof.Lookup("allocs").WriteTo(mem, 0); err != nil {
				fmt.Fprintf(stderr, "apitap: --memprofile: %v\n", err)
			}
			mem.Close()
			runtime.MemProfileRate = rate
		}
	}
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		cpu = f
	}
	if memPath != "" {
		f, err := os.Create(memPath)
		if err != nil {
			stop()
			return nil, fmt.Errorf("--memprofile: %w", err)
		}
		mem = f
		// A finer sampling than the default one in 512 KiB, so that the
		// per-transaction allocations show.
		runtime.MemProfileRate = 4096
	}
	return stop, nil
}

func wantProgress(mode string, stderr io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		f, ok := stderr.(*os.File)
		return ok && term.IsTerminal(int(f.Fd())), nil
	}
	return false, usageError{fmt.Errorf("--progress: %q is not one of auto, always, never", mode)}
}

func runAnalyze(ctx context.Context, files []string, cfg pipelineConfig, logger *slog.Logger, stdin io.Reader, stdout, stderr io.Writer, progress, quiet bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Like tcpdump, a damaged file (truncated, corrupt record) is reported
	// and the files after it are still read: what came before the damage is good.
	warn := func(err error) {
		logger.Warn("capture file is damaged; everything before the damage was analyzed", "component", "capture", "err", err)
	}
	src, err := capture.OpenFiles(files, capture.FileConfig{Stdin: stdin, Warn: warn})
	if err != nil {
		return err
	}
	defer src.Close()
	reg := prometheus.NewRegistry()
	p, err := newPipeline(cfg, logger, reg, stdout)
	if err != nil {
		return err
	}
	var bar *progressBar
	if progress {
		bar = startProgress(stderr, src, p)
	}
	runErr := p.run(ctx, src)
	bar.stop()
	if runErr != nil {
		return runErr
	}
	if err := unknownLinkTypes(p.engine.Stats().Decoder, files, logger); err != nil {
		return err
	}
	sum := p.summary()
	if p.analyzer != nil {
		if err := writeAnalysis(cfg.Analysis, p.analyzer.Snapshot(), stdout, logger); err != nil {
			return err
		}
	}
	if !quiet {
		sum.write(stderr)
	}
	if sum.Dropped > 0 {
		logger.Warn("transactions were dropped on the way to the output", "dropped", sum.Dropped)
	}
	return nil
}

// unknownLinkTypes tells the user about frames of a link type the decoder
// does not know: an error when no frame could be decoded at all (the whole
// input is unusable), a warning otherwise.
func unknownLinkTypes(d capture.DecoderStats, files []string, logger *slog.Logger) error {
	if d.UnknownLinkType == 0 {
		return nil
	}
	msg := fmt.Sprintf("%d frames have link type %d, which apitap does not decode (it reads Ethernet, Linux cooked SLL/SLL2, raw IP, BSD loopback, NFLOG, PPP, Cisco HDLC and 802.11); convert the capture, e.g. with editcap -T ether, or capture on another interface",
		d.UnknownLinkType, d.LastUnknownLinkType)
	if d.UnknownLinkType == d.Frames {
		return fmt.Errorf("%s: %s", strings.Join(files, ", "), msg)
	}
	logger.Warn(msg, "component", "capture", "metric", "apitap_capture_decoder_frames_total{result=\"unknown_link_type\"}")
	return nil
}
