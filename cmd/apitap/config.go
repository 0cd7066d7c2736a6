package main

import (
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"

	"github.com/apitap/apitap/reassembly"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// newViper returns a viper instance bound to the command's flags and to the
// environment: flag --max-body-bytes is also APITAP_MAX_BODY_BYTES.
func newViper(cmd *cobra.Command) (*viper.Viper, error) {
	v := viper.New()
	v.SetEnvPrefix("APITAP")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	if err := v.BindPFlags(cmd.Flags()); err != nil {
		return nil, fmt.Errorf("binding flags: %w", err)
	}
	if path, _ := cmd.Flags().GetString("config"); path != "" {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return nil, usageError{fmt.Errorf("--config: %w", err)}
		}
	}
	return v, nil
}

// pipelineSetup reads what analyze and sensor share: the command's
// settings (newViper), the pipeline's (pipelineConfigFrom) and a logger
// writing text to the command's stderr at --log-level. Errors are theirs.
func pipelineSetup(cmd *cobra.Command) (*viper.Viper, pipelineConfig, *slog.Logger, error) {
	v, err := newViper(cmd)
	if err != nil {
		return nil, pipelineConfig{}, nil, err
	}
	cfg, err := pipelineConfigFrom(v)
	if err != nil {
		return nil, pipelineConfig{}, nil, err
	}
	level, err := logLevel(v.GetString("log-level"))
	if err != nil {
		return nil, pipelineConfig{}, nil, err
	}
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
	return v, cfg, logger, nil
}

// addPipelineFlags declares the settings shared by analyze and sensor.
func addPipelineFlags(fs *pflag.FlagSet) {
	fs.StringP("transactions", "t", "", `write transactions as JSON Lines to this file ("-" for stdout)`)
	fs.Bool("headers", false, "include request and response headers in the transactions output")
	fs.Bool("bodies", false, "include the captured (decoded, capped) bodies in the transactions output")
	fs.IntP("workers", "w", runtime.NumCPU(), "reassembly workers (connections are sharded across them)")
	fs.String("memory-limit", "1GiB", "resident memory cap of the run; the settings below left at 0 are derived from it (0: no cap, stage defaults)")
	fs.Int("max-connections", 0, "TCP connections tracked per worker before the least recently active is evicted (0: derived from --memory-limit, at most 1048576)")
	fs.String("max-reassembly-memory", "0", "out-of-order bytes buffered per worker, e.g. 256MiB (0: derived from --memory-limit, at most 256 MiB)")
	fs.Duration("idle-timeout", 0, "close connections idle this long in packet time, or in time of silence when a live link or streamed input goes quiet (0: 2m)")
	fs.Duration("reorder-window", 0, "wait this long in packet time for a segment the peer already acknowledged before taking it for lost by the capture (0: 10ms; at most 1m)")
	fs.String("max-header-bytes", "0", "header block size limit per HTTP message (0: 64 KiB)")
	fs.Int("max-headers", 0, "header count limit per HTTP message (0: 256)")
	fs.String("max-body-bytes", "0", "body bytes captured per HTTP message (0: 1 MiB, less if --memory-limit needs it; -1: none)")
	fs.String("max-decoded-bytes", "0", "decoded (decompressed) body limit per message (0: 4 MiB)")
	fs.Int("max-decode-ratio", 0, "decompression ratio limit against bombs (0: 100)")
	fs.Int("max-pending-requests", 0, "requests awaiting a response per connection (0: 64)")
	fs.String("log-level", "info", "log level: debug, info, warn, error")
	fs.String("config", "", "read settings from this file (YAML, TOML or JSON; keys are the flag names, e.g. template: [\"/users/{userId}\"]); flags and APITAP_* variables override it")
	addAnalysisFlags(fs)
}

// pipelineConfigFrom reads the shared settings. Errors name the setting.
func pipelineConfigFrom(v *viper.Viper) (pipelineConfig, error) {
	var cfg pipelineConfig
	var errs []string
	size := func(key string) int64 {
		n, err := parseSize(v.GetString(key))
		if err != nil {
			errs = append(errs, fmt.Sprintf("--%s: %v", key, err))
		}
		return n
	}
	nonNeg := func(key string) int {
		n := v.GetInt(key)
		if n < 0 {
			errs = append(errs, fmt.Sprintf("--%s: %d must not be negative", key, n))
		}
		return n
	}
	cfg.Transactions = v.GetString("transactions")
	cfg.JSONL.Headers = v.GetBool("headers")
	cfg.JSONL.Bodies = v.GetBool("bodies")
	cfg.Engine.Workers = v.GetInt("workers")
	if cfg.Engine.Workers < 1 || cfg.Engine.Workers > 1024 {
		errs = append(errs, fmt.Sprintf("--workers: %d is not between 1 and 1024", cfg.Engine.Workers))
	}
	cfg.Reassembly.MaxConnections = nonNeg("max-connections")
	cfg.Reassembly.MaxBufferedBytes = size("max-reassembly-memory")
	cfg.Reassembly.IdleTimeout = v.GetDuration("idle-timeout")
	if cfg.Reassembly.IdleTimeout < 0 {
		errs = append(errs, "--idle-timeout: must not be negative")
	}
	cfg.Reassembly.ReorderWindow = v.GetDuration("reorder-window")
	// The message spells reassembly.MaxReorderWindow as the flag's help does.
	if w := cfg.Reassembly.ReorderWindow; w < 0 || w > reassembly.MaxReorderWindow {
		errs = append(errs, fmt.Sprintf("--reorder-window: %v is not between 0 and 1m", w))
	}
	cfg.HTTP.MaxHeaderBytes = int(size("max-header-bytes"))
	cfg.HTTP.MaxHeaders = nonNeg("max-headers")
	cfg.HTTP.MaxBodyBytes = int(size("max-body-bytes"))
	cfg.HTTP.MaxDecodedBytes = int(size("max-decoded-bytes"))
	cfg.HTTP.MaxDecodeRatio = nonNeg("max-decode-ratio")
	cfg.HTTP.MaxPendingRequests = nonNeg("max-pending-requests")
	limit := size("memory-limit")
	if limit < 0 {
		errs = append(errs, fmt.Sprintf("--memory-limit: %d must not be negative", limit))
	}
	if len(errs) > 0 {
		return cfg, usageError{fmt.Errorf("invalid settings: %s", strings.Join(errs, "; "))}
	}
	analysis, err := analysisConfigFrom(v)
	if err != nil {
		return cfg, err
	}
	cfg.Analysis = analysis
	plan, err := planMemory(limit, &cfg, memoryEnvFrom(v))
	if err != nil {
		return cfg, usageError{err}
	}
	cfg.Memory = plan
	return cfg, nil
}

// memoryEnvFrom reads what the memory budget needs from the sensor's
// settings (the analyze command has none: one source, no ring). Invalid
// values are left for the sensor to report.
func memoryEnvFrom(v *viper.Viper) memoryEnv {
	env := memoryEnv{Sources: 1}
	if !slices.Contains(v.AllKeys(), "fanout") { // not the sensor (an APITAP_FANOUT variable aside)
		return env
	}
	fanout := v.GetInt("fanout")
	if fanout < 1 || fanout > 64 {
		return env
	}
	env.Sources = fanout
	if ring, err := parseSize(v.GetString("ring-size")); err == nil && ring > 0 {
		env.RingBytes = ring * int64(fanout)
	}
	return env
}

// parseSize parses "1048576", "64KiB", "1MiB", "1GiB", "1GB", "-1".
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(s), strings.ToUpper(u.suffix)) {
			s = strings.TrimSpace(s[:len(s)-len(u.suffix)])
			mult = u.mult
			break
		}
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || fmt.Sprint(n) != s {
		return 0, fmt.Errorf("%q is not a size (examples: 65536, 64KiB, 1GiB)", s)
	}
	return n * mult, nil
}

// logLevel parses --log-level.
func logLevel(s string) (level slog.Level, err error) {
	err = level.UnmarshalText([]byte(s))
	if err != nil {
		err = usageError{fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", s)}
	}
	return level, err
}
