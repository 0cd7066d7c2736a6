package main

import "testing"

func TestFormatRate(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 0.43: "0.4", 0.04: "0.0", 9.96: "10.0", 10: "10", 53013.4: "53013",
	} {
		if got := formatRate(v); got != want {
			t.Errorf("formatRate(%v) = %q, want %q", v, got, want)
		}
	}
}
