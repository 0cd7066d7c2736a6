//go:build !unix

package perf

import "os"

// maxRSS returns 0: the peak resident memory is unknown here.
func maxRSS(*os.ProcessState) int64 { return 0 }

// syncDisks does nothing here.
func syncDisks() {}
