package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apitap/apitap/capture"
	"github.com/apitap/apitap/reassembly"
	"github.com/apitap/apitap/reassembly/http1"
)

// TestMemoryLimitSettings checks the budget's derived settings, explicit
// overrides and errors, through the command line.
func TestMemoryLimitSettings(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		sensor  bool // the sensor command's flags, not analyze's
		check   func(t *testing.T, cfg pipelineConfig)
		wantErr string
	}{
		{name: "sensor rings in the headroom", sensor: true, args: []string{"-w", "2", "--fanout", "4", "--ring-size", "64MiB"}, check: func(t *testing.T, cfg pipelineConfig) {
			if want := int64(DefaultMemoryLimit - DefaultMemoryLimit/8 - 4*64<<20); cfg.Memory.SoftLimit != want {
				t.Errorf("soft limit %s, want %s", formatSize(cfg.Memory.SoftLimit), formatSize(want))
			}
		}},
		{name: "sensor rings too large", sensor: true, args: []string{"--memory-limit", "256MiB", "--fanout", "4", "--ring-size", "64MiB"},
			wantErr: "256MiB of it the capture rings"},
		{name: "default 1GiB", args: []string{"-w", "2"}, check: func(t *testing.T, cfg pipelineConfig) {
			if cfg.Memory.Limit != DefaultMemoryLimit || cfg.Memory.SoftLimit >= DefaultMemoryLimit {
				t.Errorf("plan %v", cfg.Memory)
			}
			if cfg.Reassembly.MaxConnections == 0 || cfg.Reassembly.MaxBufferedBytes == 0 || cfg.Queue.Depth == 0 || cfg.Engine.QueueBatches == 0 {
				t.Errorf("settings not derived: %+v", cfg)
			}
		}},
		{name: "environment", args: []string{"-w", "2"}, env: map[string]string{"APITAP_MEMORY_LIMIT": "256MiB"}, check: func(t *testing.T, cfg pipelineConfig) {
			if cfg.Memory.Limit != 256<<20 {
				t.Errorf("limit %d, want 256MiB", cfg.Memory.Limit)
			}
		}},
		{name: "explicit max-connections kept", args: []string{"-w", "2", "--memory-limit", "256MiB", "--max-connections", "5000"}, check: func(t *testing.T, cfg pipelineConfig) {
			if cfg.Reassembly.MaxConnections != 5000 {
				t.Errorf("max connections %d, want 5000", cfg.Reassembly.MaxConnections)
			}
		}},
		{name: "off", args: []string{"--memory-limit", "0"}, check: func(t *testing.T, cfg pipelineConfig) {
			if cfg.Memory.SoftLimit != 0 || cfg.Reassembly.MaxConnections != 0 || cfg.Queue.Depth != 0 {
				t.Errorf("derived settings without a limit: %+v", cfg)
			}
		}},
		{name: "explicit small settings kept", args: []string{"-w", "2", "--max-connections", "100", "--max-reassembly-memory", "64KiB"}, check: func(t *testing.T, cfg pipelineConfig) {
			if r := cfg.Reassembly; r.MaxConnections != 100 || r.MaxBufferedBytes != 64<<10 || r.MaxBufferedBytesPerConn != 64<<10 {
				t.Errorf("reassembly settings %+v", r)
			}
		}},
		{name: "explicit body too large", args: []string{"-w", "2", "--memory-limit", "256MiB", "--max-body-bytes", "16MiB"},
			wantErr: "too little for --max-body-bytes 16MiB"},
		{name: "analyze ignores APITAP_FANOUT", args: []string{"-w", "2"}, env: map[string]string{"APITAP_FANOUT": "8", "APITAP_RING_SIZE": "1GiB"}, check: func(t *testing.T, cfg pipelineConfig) {
			if cfg.Memory.SoftLimit != DefaultMemoryLimit-DefaultMemoryLimit/8 {
				t.Errorf("soft limit %s: the analyze budget counted sensor rings", formatSize(cfg.Memory.SoftLimit))
			}
		}},
		{name: "too many connections", args: []string{"-w", "4", "--memory-limit", "256MiB", "--max-connections", "1000000"},
			wantErr: "--max-connections 1000000"},
		{name: "too small", args: []string{"-w", "2", "--memory-limit", "24MiB"}, wantErr: "--memory-limit 24MiB is too small"},
		{name: "not a size", args: []string{"--memory-limit", "lots"}, wantErr: "--memory-limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cmd := newAnalyzeCommand()
			if tc.sensor {
				cmd = newSensorCommand()
			}
			if err := cmd.ParseFlags(tc.args); err != nil {
				t.Fatal(err)
			}
			v, err := newViper(cmd)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := pipelineConfigFrom(v)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, cfg)
			if total := cfg.Memory.Total(); cfg.Memory.Limit > 0 && total > cfg.Memory.Data {
				t.Errorf("parts sum to %s, over the data budget %s", formatSize(total), formatSize(cfg.Memory.Data))
			}
		})
	}
}

// TestPlanMemory checks the budget's invariants over a range of limits,
// worker counts and capture setups: the parts fit the data budget, the
// derived settings stay within the stages' defaults and are accepted by
// them, and only limits too small for the setup are refused.
func TestPlanMemory(t *testing.T) {
	envs := map[string]memoryEnv{
		"analyze":                      {Sources: 1},
		"sensor, fanout 4, 64MiB ring": {Sources: 4, RingBytes: 4 * 64 << 20},
	}
	for envName, env := range envs {
		for _, limit := range []int64{32 << 20, 64 << 20, 256 << 20, 1 << 30, 4 << 30, 64 << 30} {
			for _, workers := range []int{1, 2, 8, 32} {
				name := envName + "/" + formatSize(limit) + "/workers=" + strconv.Itoa(workers)
				t.Run(name, func(t *testing.T) {
					cfg := pipelineConfig{}
					cfg.Engine.Workers = workers
					plan, err := planMemory(limit, &cfg, env)
					if err != nil {
						if limit >= 1<<30 || (limit >= 256<<20 && workers <= 8 && env.RingBytes == 0) {
							t.Fatalf("refused: %v", err)
						}
						if !strings.Contains(err.Error(), "--memory-limit") {
							t.Errorf("error does not name --memory-limit: %v", err)
						}
						return
					}
					if plan.SoftLimit <= 0 || plan.SoftLimit >= limit || plan.Data >= plan.SoftLimit {
						t.Errorf("limit %d, soft %d, data %d", limit, plan.SoftLimit, plan.Data)
					}
					if total := plan.Total(); total > plan.Data {
						t.Errorf("parts sum to %s, over the data budget %s: %v", formatSize(total), formatSize(plan.Data), plan.LogValue())
					}
					r := cfg.Reassembly
					if r.MaxConnections < minConnsPerWorker || r.MaxConnections > reassembly.DefaultMaxConnections ||
						r.MaxBufferedBytes < minOOOPerWorker || r.MaxBufferedBytes > reassembly.DefaultMaxBufferedBytes {
						t.Errorf("reassembly settings out of range: %+v", r)
					}
					if q := cfg.Engine.QueueBatches; (workers > 1 || env.Sources > 1) && (q < minQueueDepth || q > capture.DefaultQueueBatches) {
						t.Errorf("engine queue %d", q)
					}
					if d := cfg.Queue.Depth; d < minQueueDepth || d > 64 {
						t.Errorf("storage queue depth %d", d)
					}
					if b := cfg.HTTP.MaxBodyBytes; b != 0 && (b < minBodyBytes || b > http1.DefaultMaxBodyBytes) {
						t.Errorf("max body bytes %d", b)
					}
					if _, err := reassembly.NewAssembler(cfg.Reassembly, nopFactory{}, nil); err != nil {
						t.Errorf("reassembly refuses the derived settings: %v", err)
					}
					if _, err := http1.NewFactory(cfg.HTTP, &discardTx{}, nil); err != nil {
						t.Errorf("http1 refuses the derived settings: %v", err)
					}
				})
			}
		}
	}
}

// TestPlanMemoryGrows checks that a larger limit never gives a stage less.
func TestPlanMemoryGrows(t *testing.T) {
	var prev pipelineConfig
	for limit := int64(64 << 20); limit <= 64<<30; limit *= 2 {
		cfg := pipelineConfig{}
		cfg.Engine.Workers = 2
		if _, err := planMemory(limit, &cfg, memoryEnv{Sources: 1}); err != nil {
			t.Fatalf("%s: %v", formatSize(limit), err)
		}
		if limit > 64<<20 {
			if cfg.Reassembly.MaxConnections < prev.Reassembly.MaxConnections ||
				cfg.Reassembly.MaxBufferedBytes < prev.Reassembly.MaxBufferedBytes ||
				cfg.Queue.Depth < prev.Queue.Depth || cfg.Engine.QueueBatches < prev.Engine.QueueBatches {
				t.Errorf("%s gives less than half of it: %+v then %+v", formatSize(limit), prev, cfg)
			}
		}
		prev = cfg
	}
	if prev.Reassembly.MaxConnections != reassembly.DefaultMaxConnections || prev.Reassembly.MaxBufferedBytes != reassembly.DefaultMaxBufferedBytes {
		t.Errorf("a 64GiB limit does not give the defaults: %+v", prev.Reassembly)
	}
}

func TestParseVmHWM(t *testing.T) {
	tests := []struct {
		name, status string
		want         int64
	}{
		{"linux", "Name:\tapitap\nVmPeak:\t  812345 kB\nVmHWM:\t   45678 kB\nVmRSS:\t   40000 kB\n", 45678 << 10},
		{"missing", "Name:\tapitap\n", 0},
		{"garbage", "VmHWM: lots\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseVmHWM([]byte(tc.status)); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0B", 1000: "1000B", 1 << 10: "1KiB", 1536: "1.5KiB", 256 << 20: "256MiB", 1 << 30: "1GiB", 3 << 29: "1.5GiB"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
		if !strings.Contains(want, ".") {
			if back, err := parseSize(want); err != nil || back != n {
				t.Errorf("parseSize(%q) = %d, %v; want %d", want, back, err, n)
			}
		}
	}
}

type nopFactory struct{}

func (nopFactory) New(reassembly.ConnInfo, time.Time) reassembly.StreamHandler { return nil }
