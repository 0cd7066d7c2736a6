package main

import (
	"context"

	"github.com/apitap/apitap/internal/accuracy"
	"github.com/apitap/apitap/internal/speclab"
)

// record runs the lab of internal/speclab; the samples per operation and
// status come from its log of every call.
func record(ctx context.Context, spec string, seed uint64, calls int, dir string) (accuracy.Recording, error) {
	res, err := speclab.Record(ctx, speclab.Config{Spec: spec, Seed: seed, CallsPerOperation: calls, Dir: dir})
	if err != nil {
		return accuracy.Recording{}, err
	}
	samples := make(accuracy.Samples)
	for _, c := range res.Log {
		samples[accuracy.SampleKey{Method: c.Method, Path: c.Template, Status: c.Status}]++
	}
	return accuracy.Recording{
		Pcap: res.Pcap, Host: res.Host, BasePath: res.BasePath,
		Operations: res.Operations, Called: res.Called, Calls: res.Calls, Skipped: res.Skipped,
		Samples: samples,
	}, nil
}
