//go:build !unix

package schema

import "time"

// cpuTime is unavailable here; benchmarks report wall time only.
func cpuTime() time.Duration { return 0 }
