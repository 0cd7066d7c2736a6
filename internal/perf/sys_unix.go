//go:build unix

package perf

import (
	"os"
	"runtime"
	"syscall"
)

// maxRSS returns the peak resident memory of an exited process in bytes,
// 0 when unknown.
func maxRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss) // bytes there
	}
	return int64(ru.Maxrss) << 10 // KiB elsewhere
}

// syncDisks writes dirty pages out (sync(2)), so that the writeback of one
// run's output does not take CPU time from the next run.
func syncDisks() { syscall.Sync() }
