package synth

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize parses a capture size such as "1GB", "1.5 MB", "512MiB", "2G"
// or "1000" into bytes. Decimal units (KB, MB, GB and the bare K, M, G) are
// powers of ten, binary units (KiB, MiB, GiB) powers of two. The size must
// be positive.
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"b", 1}} {
		if strings.HasSuffix(t, u.suf) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suf)), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("invalid size %q: want e.g. 1GB, 512MiB or 1000000", s)
	}
	return int64(v * float64(mult)), nil
}
