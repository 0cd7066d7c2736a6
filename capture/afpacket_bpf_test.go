//go:build linux && cgo

package capture

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestAFPacketBPF checks that the kernel filter keeps exactly the frames
// the expression selects, and that the snap length cuts frames (and is
// counted).
func TestAFPacketBPF(t *testing.T) {
	l := newAFLink(t)
	type kind struct {
		udp  bool
		port uint16
	}
	kinds := []kind{{false, 8080}, {false, 9090}, {true, 53}}
	tests := []struct {
		expr string
		want []kind
	}{
		{"", kinds},
		{"tcp port 8080", []kind{{false, 8080}}},
		{"udp", []kind{{true, 53}}},
		{"not tcp port 8080", []kind{{false, 9090}, {true, 53}}},
		{"tcp and dst port 9090 and src net 10.200.1.0/24", []kind{{false, 9090}}},
		{"tcp port 1", nil},
	}
	const each = 10
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.expr), func(t *testing.T) {
			srcs := l.open(t, LiveConfig{BPF: tt.expr, BlockTimeout: 5 * time.Millisecond})
			c := collect(srcs, nil)
			var seq uint32
			for range each {
				for _, k := range kinds {
					l.send(t, afFrame(afSpec{udp: k.udp, src: netip.AddrPortFrom(l.client, 40000), dst: netip.AddrPortFrom(l.server, k.port), seq: seq}))
					seq++
				}
			}
			want := each * len(tt.want)
			if want > 0 {
				c.wait(t, want)
			}
			// Every frame is through the kernel filter once the sends
			// returned; give the ring a few block timeouts to show any
			// frame that should not be there.
			time.Sleep(50 * time.Millisecond)
			st, err := srcs[0].(LiveStatsReader).LiveStats()
			if err != nil {
				t.Fatal(err)
			}
			got := c.stop(t, srcs)
			if st.Received != uint64(want) {
				t.Errorf("kernel accepted %d packets, want %d", st.Received, want)
			}
			if len(got) != want {
				t.Fatalf("read %d frames, want %d", len(got), want)
			}
			for _, g := range got {
				if !slices.Contains(tt.want, kind{g.p.udp, g.p.dst.Port()}) {
					t.Errorf("filter %q let through udp=%v port %d", tt.expr, g.p.udp, g.p.dst.Port())
				}
			}
		})
	}

	t.Run("snaplen", func(t *testing.T) {
		for _, expr := range []string{"", "tcp"} {
			srcs := l.open(t, LiveConfig{BPF: expr, SnapLen: 64, BlockTimeout: 5 * time.Millisecond})
			c := collect(srcs, nil)
			f := afFrame(afSpec{src: netip.AddrPortFrom(l.client, 1), dst: netip.AddrPortFrom(l.server, 2), pad: 500})
			l.send(t, f)
			c.wait(t, 1)
			got := c.stop(t, srcs)
			if len(got[0].data) != 64 || got[0].length != len(f) {
				t.Errorf("BPF %q: captured %d of %d bytes, want 64 of %d", expr, len(got[0].data), got[0].length, len(f))
			}
			if st, _ := srcs[0].(LiveStatsReader).LiveStats(); st.Truncated != 1 || st.Frames != 1 {
				t.Errorf("BPF %q: LiveStats Frames=%d Truncated=%d, want 1 and 1", expr, st.Frames, st.Truncated)
			}
		}
	})
}
