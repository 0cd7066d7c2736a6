//go:build linux

package netlab

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestNamespaceBasics creates namespaces and a veth pair and checks
// addressing, Do, Listen/Dial across the pair, Run, Start and Sysctl.
func TestNamespaceBasics(t *testing.T) {
	lab := New(t)
	a, b := lab.Namespace("a"), lab.Namespace("b")
	if !strings.HasPrefix(a.Name, "apitap-test-"+lab.ID()+"-") {
		t.Errorf("namespace name %q lacks the lab prefix", a.Name)
	}
	lab.Veth(a, "x0", b, "y0")
	a.IP("addr", "add", "10.200.50.1/24", "dev", "x0")
	b.IP("addr", "add", "10.200.50.2/24", "dev", "y0")

	// Each namespace sees only its own interfaces.
	for _, tt := range []struct {
		ns   *Namespace
		want []string
	}{{a, []string{"lo", "x0"}}, {b, []string{"lo", "y0"}}} {
		var names []string
		if err := tt.ns.Do(func() error {
			ifs, err := net.Interfaces()
			for _, ifi := range ifs {
				names = append(names, ifi.Name)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if strings.Join(names, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s has interfaces %v, want %v", tt.ns.Name, names, tt.want)
		}
	}

	ln, err := b.Listen("tcp4", "10.200.50.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := a.Dial(ctx, "tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo = %q, %v", buf, err)
	}

	// The dialling goroutine's thread went back to the root namespace.
	if _, err := (&net.Dialer{Timeout: 200 * time.Millisecond}).Dial("tcp4", ln.Addr().String()); err == nil {
		t.Error("the namespace's address is reachable from the test's own namespace")
	}

	if out := a.Run("ip", "-o", "addr", "show", "dev", "x0"); !strings.Contains(out, "10.200.50.1/24") {
		t.Errorf("ip addr in %s: %q", a.Name, out)
	}
	a.Sysctl("net.ipv4.ip_forward", "1")
	if out := a.Run("cat", "/proc/sys/net/ipv4/ip_forward"); strings.TrimSpace(out) != "1" {
		t.Errorf("ip_forward = %q after Sysctl", out)
	}
	if out := b.Run("cat", "/proc/sys/net/ipv4/ip_forward"); strings.TrimSpace(out) != "0" {
		t.Errorf("Sysctl leaked into another namespace: ip_forward = %q", out)
	}

	var stdout lockedBuffer
	cmd := b.Start(func(c *exec.Cmd) { c.Stdout = &stdout }, "sh", "-c", "ip -o link show y0; sleep 60")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(stdout.String(), "y0") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(stdout.String(), "y0") {
		t.Errorf("command started in %s printed %q", b.Name, stdout.String())
	}
	if cmd.Process == nil {
		t.Fatal("Start returned an unstarted command")
	}
}

// TestCleanup checks that a lab's namespaces (and with them its links) are
// gone when its test ends.
func TestCleanup(t *testing.T) {
	var name string
	t.Run("lab", func(t *testing.T) {
		lab := New(t)
		a, b := lab.Namespace("a"), lab.Namespace("b")
		lab.Veth(a, "p0", b, "p1")
		name = a.Name
	})
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), name) {
		t.Errorf("namespace %s still exists after its test ended", name)
	}
}

// TestMirror checks the SPAN emulation: a raw socket on the sensor side
// sees the frames of a TCP exchange between client and server, in both
// directions, and no frame larger than the wire's MTU.
func TestMirror(t *testing.T) {
	lab := New(t)
	m := lab.MirrorPair(51)

	// A raw packet socket on the mirror's receiving end.
	var fd int
	if err := m.Sensor.Do(func() error {
		ifi, err := net.InterfaceByName(m.SensorLink)
		if err != nil {
			return err
		}
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index})
	}); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(int64(100 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}

	ln, err := m.Server.Listen("tcp4", net.JoinHostPort(m.ServerAddr.String(), "9000"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	reply := bytes.Repeat([]byte("S"), 20000) // several segments
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 64)
		c.Read(buf)
		c.Write(reply)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := m.Client.Dial(ctx, "tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("CLIENT-HELLO"))
	got, err := io.ReadAll(c)
	c.Close()
	if err != nil || len(got) != len(reply) {
		t.Fatalf("read %d bytes, %v; want %d", len(got), err, len(reply))
	}

	var sawRequest, sawReply bool
	buf := make([]byte, 70000)
	deadline := time.Now().Add(5 * time.Second)
	for (!sawRequest || !sawReply) && time.Now().Before(deadline) {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if n > 1514 {
			t.Errorf("mirrored frame of %d bytes: more than the wire's MTU", n)
		}
		frame := buf[:n]
		sawRequest = sawRequest || bytes.Contains(frame, []byte("CLIENT-HELLO"))
		sawReply = sawReply || bytes.Contains(frame, []byte("SSSSSSSSSSSSSSSS"))
	}
	if !sawRequest || !sawReply {
		t.Errorf("mirror carried the request: %v, the reply: %v; want both directions", sawRequest, sawReply)
	}
}

// TestInjectorAndTun writes a frame with an Injector across a veth and an
// IP packet into a tun device, and reads both back with raw sockets.
func TestInjectorAndTun(t *testing.T) {
	lab := New(t)
	a, b := lab.Namespace("a"), lab.Namespace("b")
	lab.Veth(a, "i0", b, "i1")
	tun := b.Tun("tun7", "10.200.52.1/24")

	open := func(dev string) int {
		var fd int
		if err := b.Do(func() error {
			ifi, err := net.InterfaceByName(dev)
			if err != nil {
				return err
			}
			fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
			if err != nil {
				return err
			}
			tv := unix.NsecToTimeval(int64(2 * time.Second))
			unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
			return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index})
		}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		return fd
	}
	readUntil := func(fd int, marker string) {
		t.Helper()
		buf := make([]byte, 2048)
		for range 50 {
			n, _, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				t.Fatalf("waiting for %q: %v", marker, err)
			}
			if bytes.Contains(buf[:n], []byte(marker)) {
				return
			}
		}
		t.Fatalf("%q never arrived", marker)
	}

	vethFd := open("i1")
	inj, err := a.Injector("i0")
	if err != nil {
		t.Fatal(err)
	}
	defer inj.Close()
	frame := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5}, []byte("INJECTED-FRAME")...)
	if err := inj.Write(frame); err != nil {
		t.Fatal(err)
	}
	readUntil(vethFd, "INJECTED-FRAME")

	tunFd := open("tun7")
	// A minimal IPv4/UDP packet 10.200.52.2 -> 10.200.52.1.
	pkt := []byte{0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 200, 52, 2, 10, 200, 52, 1,
		0x10, 0x00, 0x10, 0x01, 0, 0, 0, 0}
	pkt = append(pkt, []byte("TUN-PACKET")...)
	pkt[2], pkt[3] = byte(len(pkt)>>8), byte(len(pkt))
	pkt[24], pkt[25] = byte((len(pkt)-20)>>8), byte(len(pkt)-20)
	if _, err := tun.Write(pkt); err != nil {
		t.Fatal(err)
	}
	readUntil(tunFd, "TUN-PACKET")
}

// TestCheckPrivileges checks the message a test gets without privileges:
// it names the missing capability and says to run as root.
func TestCheckPrivileges(t *testing.T) {
	if err := CheckPrivileges(); err != nil {
		t.Fatalf("CheckPrivileges as the test runs: %v", err)
	}
	errc := make(chan error, 1)
	go func() {
		// Capabilities are per thread: drop CAP_SYS_ADMIN from this
		// one, which then dies with the goroutine (never unlocked).
		runtime.LockOSThread()
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			errc <- err
			return
		}
		data[0].Effective &^= 1 << unix.CAP_SYS_ADMIN
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			errc <- err
			return
		}
		errc <- CheckPrivileges()
	}()
	err := <-errc
	if err == nil {
		t.Fatal("CheckPrivileges without CAP_SYS_ADMIN = nil")
	}
	for _, want := range []string{"CAP_SYS_ADMIN", "root", "sudo"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "CAP_NET_RAW") {
		t.Errorf("error %q names a capability the thread has", err)
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// lockedBuffer is a bytes.Buffer safe for a writing command and a reading
// test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
