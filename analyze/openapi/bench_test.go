package openapi

import (
	"strconv"
	"testing"

	"github.com/apitap/apitap/analyze"
)

// bigInventory repeats the fixture's endpoints under n/10 resource names:
// about n endpoints with realistic schemas.
func bigInventory(n int) *analyze.Inventory {
	base := fixtureInventory()
	inv := &analyze.Inventory{First: base.First, Last: base.Last}
	for i := 0; len(inv.Endpoints) < n; i++ {
		for _, ep := range fixtureInventory().Endpoints {
			ep.Template = "/r" + strconv.Itoa(i) + ep.Template
			inv.Endpoints = append(inv.Endpoints, ep)
		}
	}
	return inv
}

// BenchmarkBuild measures Build and Marshal of a 1000-endpoint inventory,
// validation included.
func BenchmarkBuild(b *testing.B) {
	for _, v := range versions {
		b.Run(v, func(b *testing.B) {
			inv := bigInventory(1000)
			b.ReportAllocs()
			for b.Loop() {
				doc, err := Build(inv, Options{Version: v})
				if err != nil {
					b.Fatal(err)
				}
				out, err := Marshal(doc, "yaml")
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(out)))
			}
			b.ReportMetric(float64(len(inv.Endpoints)*b.N)/b.Elapsed().Seconds(), "endpoints/s")
		})
	}
}
