package speclab

import (
	"hash/fnv"
	"math/rand/v2"
)

// derive mixes a seed with labels into a new 64-bit seed (FNV-1a over the
// labels, finished with splitmix64), so that every random stream of the lab
// (one per call, one per response) depends only on Config.Seed and on what
// the stream is for, never on scheduling.
func derive(seed uint64, labels ...string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	h.Write(b[:])
	for _, l := range labels {
		h.Write([]byte(l))
		h.Write([]byte{0})
	}
	return splitmix(h.Sum64())
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// newRand returns a PCG generator seeded from seed and labels.
func newRand(seed uint64, labels ...string) *rand.Rand {
	s := derive(seed, labels...)
	return rand.New(rand.NewPCG(s, splitmix(s)))
}

// pick returns a random element of xs (which must not be empty).
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// chance reports true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }
