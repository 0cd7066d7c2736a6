//go:build linux

package netlab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The capabilities a Lab needs (linux/capability.h bit numbers).
const (
	capNetAdmin = 12
	capNetRaw   = 13
	capSysAdmin = 21
)

// Lab owns the namespaces created for one test and removes them (and with
// them every link inside) when the test ends.
type Lab struct {
	tb testing.TB
	id string

	mu  sync.Mutex
	nss []*Namespace
}

// New returns an empty Lab. It fails the test, with a message naming what is
// missing, when the process lacks the privileges or tools a Lab needs.
func New(tb testing.TB) *Lab {
	tb.Helper()
	if err := CheckPrivileges(); err != nil {
		tb.Fatalf("%v", err)
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatalf("netlab: random id: %v", err)
	}
	l := &Lab{tb: tb, id: hex.EncodeToString(b[:])}
	tb.Cleanup(l.cleanup)
	return l
}

// CheckPrivileges reports, as one line saying what to do, why this process
// cannot build a Lab: missing capabilities or missing ip/tc binaries.
func CheckPrivileges() error {
	eff, err := effectiveCaps()
	if err != nil {
		return fmt.Errorf("netlab: reading capabilities: %w", err)
	}
	var missing []string
	for _, c := range []struct {
		bit  uint
		name string
	}{{capSysAdmin, "CAP_SYS_ADMIN"}, {capNetAdmin, "CAP_NET_ADMIN"}, {capNetRaw, "CAP_NET_RAW"}} {
		if eff&(1<<c.bit) == 0 {
			missing = append(missing, c.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("netlab: this test builds network namespaces and needs root (missing %s); run it as root, e.g. `sudo go test ./...` or `go test -exec sudo ./...`",
			strings.Join(missing, ", "))
	}
	for _, tool := range []string{"ip", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("netlab: %q not found in PATH; install iproute2 (apt-get install iproute2)", tool)
		}
	}
	if _, err := os.Stat("/proc/thread-self/ns/net"); err != nil {
		return fmt.Errorf("netlab: network namespaces are not available: %w", err)
	}
	return nil
}

// effectiveCaps returns the CapEff mask of the calling thread (capabilities
// are per thread; they are normally the same in every thread).
func effectiveCaps() (uint64, error) {
	b, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, errors.New("no CapEff line in /proc/self/status")
}

// ID is the random part of every name this Lab gives a namespace.
func (l *Lab) ID() string { return l.id }

// Namespace creates a network namespace named "apitap-test-<id>-<name>"
// with its loopback up. IPv6 stays available, but interfaces created in it
// later get no automatic link-local address (addr_gen_mode none), so they
// send no neighbour or router solicitations: captures stay quiet.
func (l *Lab) Namespace(name string) *Namespace {
	l.tb.Helper()
	full := "apitap-test-" + l.id + "-" + name
	if _, err := runCmd(context.Background(), "ip", "netns", "add", full); err != nil {
		l.tb.Fatalf("netlab: %v", err)
	}
	n := &Namespace{lab: l, Name: full, path: "/run/netns/" + full}
	l.mu.Lock()
	l.nss = append(l.nss, n)
	l.mu.Unlock()
	n.IP("link", "set", "lo", "up")
	if _, err := os.Stat("/proc/sys/net/ipv6"); err == nil {
		n.Sysctl("net.ipv6.conf.default.addr_gen_mode", "1")
		n.Sysctl("net.ipv6.conf.default.accept_dad", "0")
	}
	return n
}

// Veth creates a veth pair, aName in a and bName in b (interface names of
// at most 15 bytes), and sets both ends up.
func (l *Lab) Veth(a *Namespace, aName string, b *Namespace, bName string) {
	l.tb.Helper()
	if _, err := runCmd(context.Background(), "ip", "link", "add", aName, "netns", a.Name,
		"type", "veth", "peer", "name", bName, "netns", b.Name); err != nil {
		l.tb.Fatalf("netlab: %v", err)
	}
	a.IP("link", "set", aName, "up")
	b.IP("link", "set", bName, "up")
}

// MirrorNet is the topology MirrorPair builds.
type MirrorNet struct {
	Client, Server, Sensor *Namespace
	// ClientAddr and ServerAddr are the IPv4 addresses of c0 and s0.
	ClientAddr, ServerAddr net.IP
	// SensorLink is the interface in Sensor that receives a copy of every
	// frame crossing c0 in either direction.
	SensorLink string
}

// MirrorPair builds the mirror-port topology of the package documentation:
// client (c0, 10.200.<subnet>.1/24) and server (s0, 10.200.<subnet>.2/24)
// namespaces joined by a veth pair, and a sensor namespace whose m1 receives
// a copy of every frame crossing c0, in both directions. Segmentation
// offload is limited on c0 and s0 so the mirror carries wire-sized frames,
// as a switch's SPAN port would.
func (l *Lab) MirrorPair(subnet byte) *MirrorNet {
	l.tb.Helper()
	m := &MirrorNet{
		Client:     l.Namespace("client"),
		Server:     l.Namespace("server"),
		Sensor:     l.Namespace("sensor"),
		ClientAddr: net.IPv4(10, 200, subnet, 1).To4(),
		ServerAddr: net.IPv4(10, 200, subnet, 2).To4(),
		SensorLink: "m1",
	}
	l.Veth(m.Client, "c0", m.Server, "s0")
	l.Veth(m.Client, "m0", m.Sensor, "m1")
	m.Client.IP("addr", "add", m.ClientAddr.String()+"/24", "dev", "c0")
	m.Server.IP("addr", "add", m.ServerAddr.String()+"/24", "dev", "s0")
	m.Client.WireSizedFrames("c0")
	m.Server.WireSizedFrames("s0")
	m.Client.Mirror("c0", "m0")
	return m
}

func (l *Lab) cleanup() {
	l.mu.Lock()
	nss := l.nss
	l.nss = nil
	l.mu.Unlock()
	for i := len(nss) - 1; i >= 0; i-- {
		// Deleting a namespace destroys its interfaces and their veth peers.
		if _, err := runCmd(context.Background(), "ip", "netns", "del", nss[i].Name); err != nil {
			l.tb.Errorf("netlab: cleanup: %v", err)
		}
	}
}

// Namespace is one network namespace of a Lab.
type Namespace struct {
	lab *Lab
	// Name is the namespace's name for `ip netns` (and `ip netns exec`).
	Name string
	path string
}

// IP runs `ip -n <ns> args...`, failing the test on error, and returns its
// standard output.
func (n *Namespace) IP(args ...string) string {
	n.lab.tb.Helper()
	out, err := runCmd(context.Background(), "ip", append([]string{"-n", n.Name}, args...)...)
	if err != nil {
		n.lab.tb.Fatalf("netlab: %v", err)
	}
	return out
}

// Run runs a command inside the namespace (`ip netns exec`), failing the
// test on error, and returns its standard output.
func (n *Namespace) Run(name string, args ...string) string {
	n.lab.tb.Helper()
	out, err := runCmd(context.Background(), "ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
	if err != nil {
		n.lab.tb.Fatalf("netlab: %v", err)
	}
	return out
}

// Command returns a command that runs inside the namespace (through `ip
// netns exec`); the caller starts and waits for it. ctx bounds its life.
func (n *Namespace) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Start starts a command inside the namespace, in a process group of its
// own, and registers a Cleanup that kills the group (the command and
// whatever it started) and waits for the command. The caller may set the
// command's Stdout/Stderr and the like through prep before the start (prep
// may be nil).
func (n *Namespace) Start(prep func(*exec.Cmd), name string, args ...string) *exec.Cmd {
	n.lab.tb.Helper()
	cmd := n.Command(context.Background(), name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Do not wait long for output pipes held open by stray children.
	cmd.WaitDelay = 5 * time.Second
	if prep != nil {
		prep(cmd)
	}
	if err := cmd.Start(); err != nil {
		n.lab.tb.Fatalf("netlab: starting %s in %s: %v", name, n.Name, err)
	}
	n.lab.tb.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	return cmd
}

// Sysctl sets a sysctl of this namespace (key in dotted form, e.g.
// "net.ipv4.ip_forward").
func (n *Namespace) Sysctl(key, value string) {
	n.lab.tb.Helper()
	path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	if err := n.Do(func() error { return os.WriteFile(path, []byte(value), 0o644) }); err != nil {
		n.lab.tb.Fatalf("netlab: sysctl %s=%s in %s: %v", key, value, n.Name, err)
	}
}

// Mirror copies every frame received or sent on dev to span (both in this
// namespace), as a switch's SPAN session does: a clsact qdisc on dev with
// u32 match-all filters on ingress and egress whose action is `mirred
// egress mirror dev span`.
func (n *Namespace) Mirror(dev, span string) {
	n.lab.tb.Helper()
	n.Run("tc", "qdisc", "add", "dev", dev, "clsact")
	for _, dir := range []string{"ingress", "egress"} {
		n.Run("tc", "filter", "add", "dev", dev, dir, "protocol", "all",
			"u32", "match", "u32", "0", "0", "action", "mirred", "egress", "mirror", "dev", span)
	}
}

// WireSizedFrames limits generic segmentation offload on dev to one segment
// per packet, so TCP sends frames no larger than the MTU on it (instead of
// 64 KiB super-frames that a real wire never carries).
func (n *Namespace) WireSizedFrames(dev string) {
	n.lab.tb.Helper()
	n.IP("link", "set", "dev", dev, "gso_max_segs", "1")
}

// Do runs fn on a goroutine locked to an OS thread that has entered the
// namespace, and returns fn's error. Sockets fn opens (listeners, packet
// sockets, dialled connections) stay in the namespace after Do returns and
// may be used from any goroutine. Goroutines fn starts do not run in the
// namespace.
func (n *Namespace) Do(fn func() error) error {
	type result struct{ err error }
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is only unlocked (returned to the scheduler) when it is
		// back in its original namespace; otherwise it dies with this
		// goroutine.
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			done <- result{fmt.Errorf("netlab: %w", err)}
			return
		}
		defer orig.Close()
		target, err := os.Open(n.path)
		if err != nil {
			done <- result{fmt.Errorf("netlab: namespace %s: %w", n.Name, err)}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{fmt.Errorf("netlab: entering %s: %w", n.Name, err)}
			return
		}
		ferr := fn()
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		done <- result{ferr}
	}()
	return (<-done).err
}

// Listen opens a listener inside the namespace.
func (n *Namespace) Listen(network, addr string) (net.Listener, error) {
	var ln net.Listener
	err := n.Do(func() (err error) {
		ln, err = net.Listen(network, addr)
		return err
	})
	return ln, err
}

// Dial connects from inside the namespace.
func (n *Namespace) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := n.Do(func() (err error) {
		var d net.Dialer
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// Injector writes raw link-layer frames onto one interface.
type Injector struct {
	fd      int
	ifindex int
	name    string
}

// Injector opens an AF_PACKET socket on dev inside the namespace for
// writing frames (it receives nothing). Close it when done.
func (n *Namespace) Injector(dev string) (*Injector, error) {
	inj := &Injector{fd: -1, name: dev}
	err := n.Do(func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return fmt.Errorf("netlab: injector on %s in %s: %w", dev, n.Name, err)
		}
		// Protocol 0: the socket sends but receives nothing.
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("netlab: injector on %s in %s: %w", dev, n.Name, err)
		}
		inj.fd, inj.ifindex = fd, ifi.Index
		return nil
	})
	if err != nil {
		return nil, err
	}
	return inj, nil
}

// Write sends one frame as is (for an Ethernet link: from the destination
// MAC address on; for a tun device: the IP packet).
func (i *Injector) Write(frame []byte) error {
	sa := unix.SockaddrLinklayer{Ifindex: i.ifindex}
	for {
		err := unix.Sendto(i.fd, frame, 0, &sa)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.ENOBUFS), errors.Is(err, unix.EAGAIN):
			// The device queue is full: give the receiver a moment.
			time.Sleep(100 * time.Microsecond)
		case errors.Is(err, unix.EINTR):
		default:
			return fmt.Errorf("netlab: writing a frame on %s: %w", i.name, err)
		}
	}
}

// Close closes the socket.
func (i *Injector) Close() error {
	if i.fd < 0 {
		return nil
	}
	err := unix.Close(i.fd)
	i.fd = -1
	return err
}

// Tun creates a tun device (layer 3, no packet information header) named
// name inside the namespace and sets it up, with addr (CIDR, may be "")
// assigned. Writing an IP packet to the returned file makes the kernel
// receive it on the device; the device disappears when the file is closed,
// which the test's Cleanup also does.
func (n *Namespace) Tun(name, addr string) *os.File {
	n.lab.tb.Helper()
	var f *os.File
	err := n.Do(func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening /dev/net/tun: %w", err)
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			unix.Close(fd)
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return fmt.Errorf("TUNSETIFF %s: %w", name, err)
		}
		f = os.NewFile(uintptr(fd), "/dev/net/tun:"+name)
		return nil
	})
	if err != nil {
		n.lab.tb.Fatalf("netlab: tun %s in %s: %v", name, n.Name, err)
	}
	n.lab.tb.Cleanup(func() { f.Close() })
	if addr != "" {
		n.IP("addr", "add", addr, "dev", name)
	}
	n.IP("link", "set", name, "up")
	return f
}

// runCmd runs a command and returns its standard output, or an error that
// quotes the command line and its standard error.
func runCmd(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
