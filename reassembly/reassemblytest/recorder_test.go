package reassemblytest_test

import (
	"testing"
	"time"

	"github.com/apitap/apitap/reassembly"
	"github.com/apitap/apitap/reassembly/reassemblytest"
)

func TestRecorder(t *testing.T) {
	ts := time.Unix(1, 0)
	tests := []struct {
		name           string
		declineAfter   int
		calls          func(h reassembly.StreamHandler)
		wantTranscript string
		wantViolations int
	}{
		{
			name: "well-formed connection",
			calls: func(h reassembly.StreamHandler) {
				h.Data(true, []byte("GET "), ts)
				h.Data(true, []byte("/"), ts)
				h.Gap(false, 3, ts)
				h.Data(false, []byte("200"), ts)
				h.Fin(true, ts)
				h.Fin(false, ts)
				h.Close(reassembly.CloseFIN, ts)
			},
			wantTranscript: `C"GET /" S<gap 3> S"200" C<fin> S<fin> <close fin>`,
		},
		{
			name: "contract violations are recorded",
			calls: func(h reassembly.StreamHandler) {
				h.Fin(true, ts)
				h.Data(true, []byte("x"), ts) // after Fin
				h.Gap(false, 0, ts)           // zero gap
				h.Close(reassembly.CloseRST, ts)
				h.Close(reassembly.CloseRST, ts) // second Close
			},
			wantTranscript: `C<fin> C"x" S<gap 0> <close rst> <close rst>`,
			wantViolations: 3, // Data after Fin, Gap of 0 bytes, second Close
		},
		{
			name:         "DeclineAfter",
			declineAfter: 4,
			calls: func(h reassembly.StreamHandler) {
				if !h.Data(true, []byte("ab"), ts) {
					t.Error("declined too early")
				}
				if h.Data(false, []byte("cd"), ts) {
					t.Error("did not decline after 4 bytes")
				}
			},
			wantTranscript: `C"ab" S"cd"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &reassemblytest.Recorder{DeclineAfter: tc.declineAfter}
			tc.calls(r.New(reassembly.ConnInfo{}, ts))
			c := r.Conns[0]
			if got := c.Transcript(); got != tc.wantTranscript {
				t.Errorf("transcript %s, want %s", got, tc.wantTranscript)
			}
			if got := r.Violations(); len(got) != tc.wantViolations {
				t.Errorf("violations %q, want %d", got, tc.wantViolations)
			}
		})
	}
}

func TestDiscardDoesNotAllocate(t *testing.T) {
	d := reassemblytest.NewDiscard(1)
	h := d.New(reassembly.ConnInfo{}, time.Time{})
	buf := []byte("payload")
	if n := testing.AllocsPerRun(100, func() { h.Data(true, buf, time.Time{}) }); n != 0 {
		t.Errorf("%v allocations per Data", n)
	}
	if d.Bytes != 7*101 || d.Streams != 1 {
		t.Errorf("counted %d bytes, %d streams", d.Bytes, d.Streams)
	}
}
