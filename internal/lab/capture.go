package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// CaptureConfig configures StartCapture.
type CaptureConfig struct {
	// Path is the pcap file to write (required); its directory must exist.
	Path string
	// Ports are the TCP ports to capture (at least one).
	Ports []uint16
	// Loopback is the address of the probe port tcpdump's readiness and
	// flushing are checked with. Zero: 127.0.0.1.
	Loopback netip.Addr
	// Interface is the interface tcpdump listens on. "": "lo".
	Interface string
	// StartTimeout bounds the wait for tcpdump to be ready and for the
	// capture to be flushed at the end. Zero: 15s.
	StartTimeout time.Duration
}

// Capture is a tcpdump recording of some TCP ports, as Record makes for its
// servers, for callers that run their own servers and clients. Start it
// before the traffic, Stop it after: the file then holds every packet of
// the traffic, whole (snap length 0), and nothing else (the UDP probes that
// check tcpdump is capturing are removed). Stop and Close may be called
// from any goroutine, once each; Close after Stop does nothing.
type Capture struct {
	td    *tcpdumpProc
	probe *net.UDPConn
	port  uint16
	path  string
	once  sync.Once
}

// StartCapture starts tcpdump and returns once it is capturing. A missing
// tcpdump is an error wrapping ErrToolMissing that names the Debian
// package; capturing needs root or CAP_NET_RAW.
func StartCapture(ctx context.Context, cfg CaptureConfig) (*Capture, error) {
	if cfg.Path == "" {
		return nil, errors.New("lab: capture: no path")
	}
	if len(cfg.Ports) == 0 {
		return nil, errors.New("lab: capture: no ports")
	}
	if !cfg.Loopback.IsValid() {
		cfg.Loopback = netip.MustParseAddr("127.0.0.1")
	}
	lcfg := Config{Dir: filepath.Dir(cfg.Path), Interface: cfg.Interface, StartTimeout: cfg.StartTimeout}
	if lcfg.Interface == "" {
		lcfg.Interface = "lo"
	}
	if lcfg.StartTimeout <= 0 {
		lcfg.StartTimeout = 15 * time.Second
	}
	tcpdump, err := lookTool("tcpdump")
	if err != nil {
		return nil, err
	}
	probe, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(cfg.Loopback, 0)))
	if err != nil {
		return nil, fmt.Errorf("lab: open the probe port: %w", err)
	}
	go io.Copy(io.Discard, readerFunc(func(b []byte) (int, error) { n, _, err := probe.ReadFromUDP(b); return n, err }))
	port := probe.LocalAddr().(*net.UDPAddr).AddrPort().Port()
	terms := make([]string, 0, len(cfg.Ports)+1)
	for _, p := range cfg.Ports {
		terms = append(terms, fmt.Sprintf("tcp port %d", p))
	}
	terms = append(terms, fmt.Sprintf("udp port %d", port))
	os.Remove(cfg.Path)
	td, err := startTcpdump(ctx, tcpdump, lcfg, cfg.Path, strings.Join(terms, " or "), netip.AddrPortFrom(cfg.Loopback, port))
	if err != nil {
		probe.Close()
		return nil, err
	}
	return &Capture{td: td, probe: probe, port: port, path: cfg.Path}, nil
}

// Path is the capture file.
func (c *Capture) Path() string { return c.path }

// Stop waits until everything captured so far is in the file, stops
// tcpdump, fails when the kernel dropped packets, and removes the probes
// from the file.
func (c *Capture) Stop(ctx context.Context) error {
	var err error
	done := false
	c.once.Do(func() {
		done = true
		defer c.probe.Close()
		if err = c.td.stop(ctx); err != nil {
			c.td.kill()
			return
		}
		err = stripProbes(c.path, c.port)
	})
	if !done {
		return errors.New("lab: capture already stopped")
	}
	return err
}

// Close kills tcpdump if Stop was not called (the file is then incomplete).
func (c *Capture) Close() {
	c.once.Do(func() {
		c.td.kill()
		c.probe.Close()
	})
}
