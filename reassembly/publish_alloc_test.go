package reassembly_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/apitap/apitap/reassembly"
	"github.com/apitap/apitap/reassembly/reassemblytest"
)

// TestPublishAllocs measures whole seconds of packet time, so that each
// measured run publishes the metrics once (TestAssemblerSteadyStateAllocs
// measures single exchanges: one allocation per second of packet time
// vanishes in its average). Regression: publishing copied Stats to the
// heap once per second.
func TestPublishAllocs(t *testing.T) {
	for _, tc := range []struct {
		name string
		reg  prometheus.Registerer
	}{{"with metrics", prometheus.NewRegistry()}, {"without metrics", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			const conns = 10
			a, err := reassembly.NewAssembler(reassembly.Config{}, reassemblytest.NewDiscard(conns), tc.reg)
			if err != nil {
				t.Fatal(err)
			}
			k := newKeepAlive(conns, 200, 600)
			k.open(a)
			for range 2000 { // two seconds: buffers grown, metrics published
				k.step(a)
			}
			before := a.StatsSnapshot()
			allocs := testing.AllocsPerRun(5, func() {
				for range 1000 { // one second of packet time, 1 ms per exchange
					k.step(a)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per second of packet time, want 0", allocs)
			}
			if after := a.StatsSnapshot(); after.Packets-before.Packets < 5*3000 {
				t.Errorf("the snapshot was published %d packets later, want every second", after.Packets-before.Packets)
			}
		})
	}
}
