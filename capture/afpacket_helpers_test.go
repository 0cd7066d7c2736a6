//go:build linux

package capture

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apitap/apitap/internal/netlab"
)

// afMagic marks the payload of the frames these tests write, followed by a
// big-endian sequence number, so that readers recognise them among
// whatever else an interface carries.
const afMagic = "APITAPLV"

// afSpec describes one frame for afFrame.
type afSpec struct {
	udp      bool
	src, dst netip.AddrPort
	seq      uint32 // carried in the payload after afMagic
	vlan     uint16 // 802.1Q VLAN id; 0: untagged
	pad      int    // extra payload bytes
	ipOnly   bool   // no Ethernet header (for a tun device)
}

// afFrame builds an Ethernet (optionally 802.1Q) / IPv4 / TCP or UDP frame
// with a valid IPv4 header checksum and the spec's payload.
func afFrame(s afSpec) []byte {
	payload := make([]byte, len(afMagic)+4+s.pad)
	copy(payload, afMagic)
	binary.BigEndian.PutUint32(payload[len(afMagic):], s.seq)

	l4len := 20
	proto := byte(6)
	if s.udp {
		l4len, proto = 8, 17
	}
	ipLen := 20 + l4len + len(payload)
	var b []byte
	if !s.ipOnly {
		b = append(b, 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01)
		if s.vlan != 0 {
			b = append(b, 0x81, 0x00, byte(s.vlan>>8), byte(s.vlan))
		}
		b = append(b, 0x08, 0x00)
	}
	ip := len(b)
	src, dst := s.src.Addr().As4(), s.dst.Addr().As4()
	b = append(b, 0x45, 0, byte(ipLen>>8), byte(ipLen), 0, 0, 0x40, 0, 64, proto, 0, 0)
	b = append(b, src[:]...)
	b = append(b, dst[:]...)
	binary.BigEndian.PutUint16(b[ip+10:], ipChecksum(b[ip:ip+20]))
	b = binary.BigEndian.AppendUint16(b, s.src.Port())
	b = binary.BigEndian.AppendUint16(b, s.dst.Port())
	if s.udp {
		b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
		b = append(b, 0, 0)
	} else {
		b = binary.BigEndian.AppendUint32(b, 1000+s.seq)  // seq
		b = binary.BigEndian.AppendUint32(b, 0)           // ack
		b = append(b, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0) // PSH|ACK
	}
	return append(b, payload...)
}

func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// afParsed is what the tests read back from a captured frame.
type afParsed struct {
	udp      bool
	src, dst netip.AddrPort
	seq      uint32
	ok       bool // an IPv4 TCP/UDP frame carrying afMagic
}

// afParse parses a frame built by afFrame (or any Ethernet or raw IPv4
// TCP/UDP frame, for the addresses) without allocating.
func afParse(lt LinkType, b []byte) afParsed {
	var p afParsed
	if lt == LinkTypeEthernet {
		if len(b) < 14 {
			return p
		}
		et := binary.BigEndian.Uint16(b[12:])
		b = b[14:]
		if et == 0x8100 {
			if len(b) < 4 {
				return p
			}
			et = binary.BigEndian.Uint16(b[2:])
			b = b[4:]
		}
		if et != 0x0800 {
			return p
		}
	}
	if len(b) < 20 || b[0]>>4 != 4 {
		return p
	}
	ihl := int(b[0]&0x0f) * 4
	proto := b[9]
	src := netip.AddrFrom4([4]byte(b[12:16]))
	dst := netip.AddrFrom4([4]byte(b[16:20]))
	b = b[ihl:]
	var off int
	switch proto {
	case 6:
		if len(b) < 20 {
			return p
		}
		off = int(b[12]>>4) * 4
	case 17:
		p.udp, off = true, 8
	default:
		return p
	}
	if len(b) < off {
		return p
	}
	p.src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[0:]))
	p.dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:]))
	pl := b[off:]
	if len(pl) >= len(afMagic)+4 && string(pl[:len(afMagic)]) == afMagic {
		p.seq = binary.BigEndian.Uint32(pl[len(afMagic):])
		p.ok = true
	}
	return p
}

// afLink is a veth pair between two namespaces: frames written with inj
// on "a0" arrive on "b0", where the tests capture.
type afLink struct {
	lab    *netlab.Lab
	a, b   *netlab.Namespace
	inj    *netlab.Injector
	client netip.Addr // source address of the frames the tests write
	server netip.Addr
}

func newAFLink(t *testing.T) *afLink {
	t.Helper()
	lab := netlab.New(t)
	l := &afLink{
		lab:    lab,
		a:      lab.Namespace("a"),
		b:      lab.Namespace("b"),
		client: netip.MustParseAddr("10.200.1.1"),
		server: netip.MustParseAddr("10.200.1.2"),
	}
	lab.Veth(l.a, "a0", l.b, "b0")
	inj, err := l.a.Injector("a0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inj.Close() })
	l.inj = inj
	return l
}

// open opens an AF_PACKET capture on b0 inside namespace b.
func (l *afLink) open(t *testing.T, cfg LiveConfig) []Source {
	t.Helper()
	if cfg.Interface == "" {
		cfg.Interface = "b0"
	}
	var srcs []Source
	err := l.b.Do(func() (err error) {
		srcs, err = OpenInterface(cfg, nil)
		return err
	})
	if err != nil {
		t.Fatalf("OpenInterface: %v", err)
	}
	t.Cleanup(func() {
		for _, s := range srcs {
			s.Close()
		}
	})
	return srcs
}

// send writes frames on a0.
func (l *afLink) send(t testing.TB, frames ...[]byte) {
	t.Helper()
	for _, f := range frames {
		if err := l.inj.Write(f); err != nil {
			t.Fatal(err)
		}
	}
}

// waitReceived waits until the kernel has accepted at least n packets on
// the sources (LiveStats.Received) and returns the total.
func waitReceived(t testing.TB, srcs []Source, n uint64) uint64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := TotalLiveStats(srcs)
		if err != nil {
			t.Fatalf("LiveStats: %v", err)
		}
		if st.Received >= n {
			return st.Received
		}
		if time.Now().After(deadline) {
			t.Fatalf("kernel accepted %d packets, want %d", st.Received, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// afGot is one frame a collector read.
type afGot struct {
	member int
	p      afParsed
	lt     LinkType
	length int
	data   []byte
	ts     time.Time
}

// collector reads sources on one goroutine each until they return io.EOF
// and keeps (copies of) the frames that keep selects (nil: all).
type collector struct {
	mu   sync.Mutex
	got  []afGot
	errs []error
	wg   sync.WaitGroup
	cond chan struct{} // signalled on every frame kept
}

func collect(srcs []Source, keep func(afParsed) bool) *collector {
	c := &collector{cond: make(chan struct{}, 1)}
	for i, s := range srcs {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			var f Frame
			for {
				err := s.ReadFrame(&f)
				if err != nil {
					if !errors.Is(err, io.EOF) {
						c.mu.Lock()
						c.errs = append(c.errs, err)
						c.mu.Unlock()
					}
					return
				}
				p := afParse(f.LinkType, f.Data)
				if keep != nil && !keep(p) {
					continue
				}
				c.mu.Lock()
				c.got = append(c.got, afGot{member: i, p: p, lt: f.LinkType, length: f.Length,
					data: append([]byte(nil), f.Data...), ts: f.Timestamp})
				c.mu.Unlock()
				select {
				case c.cond <- struct{}{}:
				default:
				}
			}
		}()
	}
	return c
}

// wait waits until n frames were kept, or fails the test after 10s.
func (c *collector) wait(t testing.TB, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		have := len(c.got)
		c.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-c.cond:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("collected %d frames, want %d", have, n)
		}
	}
}

// stop closes the sources, waits for the readers and returns what they
// kept; it fails the test on a read error.
func (c *collector) stop(t testing.TB, srcs []Source) []afGot {
	t.Helper()
	for _, s := range srcs {
		s.Close()
	}
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("readers did not return after Close")
	}
	if len(c.errs) > 0 {
		t.Fatalf("read errors: %v", c.errs)
	}
	return c.got
}

// packetSockets counts the AF_PACKET sockets of the namespace
// (/proc/thread-self/net/packet: /proc/net shows the main thread's).
func packetSockets(t testing.TB, ns *netlab.Namespace) int {
	t.Helper()
	var n int
	err := ns.Do(func() error {
		b, err := os.ReadFile("/proc/thread-self/net/packet")
		if err != nil {
			return err
		}
		n = strings.Count(strings.TrimSpace(string(b)), "\n") // minus the header line
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
