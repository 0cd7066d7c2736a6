package synth

import "testing"

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "1GB", want: 1e9},
		{in: "1gb", want: 1e9},
		{in: "1.5 GB", want: 1.5e9},
		{in: "512MiB", want: 512 << 20},
		{in: "1.5 MB", want: 1.5e6},
		{in: "64KB", want: 64e3},
		{in: "100KiB", want: 100 << 10},
		{in: "2G", want: 2e9},
		{in: "1000", want: 1000},
		{in: "12345", want: 12345},
		{in: "1000B", want: 1000},
		{in: "10B", want: 10},
		{in: "", bad: true},
		{in: "0", bad: true},
		{in: "-1GB", bad: true},
		{in: "lots", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if (err != nil) != tt.bad {
				t.Fatalf("error %v, want error %v", err, tt.bad)
			}
			if !tt.bad && got != tt.want {
				t.Errorf("ParseSize(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}
