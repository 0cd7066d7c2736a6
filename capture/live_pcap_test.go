//go:build linux && cgo

package capture

import (
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func (l *afLink) openPcap(t *testing.T, cfg LiveConfig, reg prometheus.Registerer) (Source, error) {
	t.Helper()
	if cfg.Interface == "" {
		cfg.Interface = "b0"
	}
	var src Source
	err := l.b.Do(func() (err error) {
		src, err = OpenPcapLive(cfg, reg)
		return err
	})
	if src != nil {
		t.Cleanup(func() { src.Close() })
	}
	return src, err
}

// TestPcapLive checks the libpcap fallback: link type, filtering, counters
// and metrics, Close unblocking a blocked ReadFrame, and its errors.
func TestPcapLive(t *testing.T) {
	l := newAFLink(t)

	t.Run("capture with a filter", func(t *testing.T) {
		reg := prometheus.NewPedanticRegistry()
		src, err := l.openPcap(t, LiveConfig{BPF: "udp", BlockTimeout: 5 * time.Millisecond}, reg)
		if err != nil {
			t.Fatal(err)
		}
		if lt := src.(*PcapSource).LinkType(); lt != LinkTypeEthernet {
			t.Fatalf("LinkType() = %d, want Ethernet", lt)
		}
		c := collect([]Source{src}, nil)
		const n = 20
		for i := range n {
			// Odd frames are TCP, which the filter drops.
			l.send(t, afFrame(afSpec{udp: i%2 == 0, src: netip.AddrPortFrom(l.client, 1), dst: netip.AddrPortFrom(l.server, 2), seq: uint32(i)}))
		}
		c.wait(t, n/2)
		st, err := src.(LiveStatsReader).LiveStats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Received != n/2 || st.Frames < n/2 || st.Interface != "b0" {
			t.Errorf("LiveStats = %+v, want %d received", st, n/2)
		}
		if mfs, err := reg.Gather(); err != nil || len(mfs) == 0 {
			t.Errorf("metrics: %d families, %v", len(mfs), err)
		}
		got := c.stop(t, []Source{src})
		if len(got) != n/2 {
			t.Fatalf("read %d frames, want %d", len(got), n/2)
		}
		for _, g := range got {
			if !g.p.ok || !g.p.udp || g.p.seq%2 != 0 || g.lt != LinkTypeEthernet {
				t.Errorf("unexpected frame %+v", g.p)
			}
		}
		if mfs, _ := reg.Gather(); len(mfs) != 0 {
			t.Errorf("%d metric families still registered after Close", len(mfs))
		}
	})

	t.Run("Close unblocks ReadFrame", func(t *testing.T) {
		src, err := l.openPcap(t, LiveConfig{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() {
			var f Frame
			errc <- src.ReadFrame(&f)
		}()
		time.Sleep(100 * time.Millisecond)
		src.Close()
		select {
		case err := <-errc:
			if err != io.EOF {
				t.Fatalf("ReadFrame after Close = %v, want io.EOF", err)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("ReadFrame still blocked 3s after Close")
		}
		var f Frame
		if err := src.ReadFrame(&f); err != io.EOF {
			t.Fatalf("second ReadFrame = %v, want io.EOF", err)
		}
		if _, err := src.(LiveStatsReader).LiveStats(); err != nil {
			t.Errorf("LiveStats after Close: %v", err)
		}
	})

	errTests := []struct {
		name     string
		cfg      LiveConfig
		dropRaw  bool
		sentinel error
		prefix   string
	}{
		{"invalid BPF", LiveConfig{BPF: "tcp port banana"}, false, ErrBadFilter, `capture: invalid BPF filter "tcp port banana": `},
		{"no such interface", LiveConfig{Interface: "eth9"}, false, ErrNoInterface, "capture: interface eth9 not found; available: lo, b0"},
		{"permission", LiveConfig{}, true, ErrPermission, "capture: opening b0 needs root or CAP_NET_RAW (try sudo setcap"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg.Interface == "" {
				cfg.Interface = "b0"
			}
			var err error
			if doErr := l.b.Do(func() error {
				if tt.dropRaw {
					restore := dropCapNetRaw(t)
					defer restore()
				}
				var src Source
				src, err = OpenPcapLive(cfg, nil)
				if src != nil {
					src.Close()
				}
				return nil
			}); doErr != nil {
				t.Fatal(doErr)
			}
			if err == nil {
				t.Fatal("OpenPcapLive succeeded, want an error")
			}
			if !strings.HasPrefix(err.Error(), tt.prefix) || !errors.Is(err, tt.sentinel) {
				t.Errorf("error %q (errors.Is %v: %v), want prefix %q", err, tt.sentinel, errors.Is(err, tt.sentinel), tt.prefix)
			}
		})
	}
}
