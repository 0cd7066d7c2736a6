//go:build !cgo

package capture

// cgoEnabled tells tests whether libpcap (BPF compilation, OpenPcapLive)
// is built in.
const cgoEnabled = false
