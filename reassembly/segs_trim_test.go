package reassembly_test

import (
	"testing"
	"time"

	"github.com/apitap/apitap/capture"
	"github.com/apitap/apitap/reassembly"
	"github.com/apitap/apitap/reassembly/reassemblytest"
)

// TestSegmentRecordsReleased checks that the records of a burst of
// out-of-order segments do not outlive the burst: once the holes are
// filled (or the connection is gone) a connection keeps at most a few
// empty records per direction, so that the memory of many connections
// that each once buffered thousands of tiny segments stays bounded by
// what is buffered now.
func TestSegmentRecordsReleased(t *testing.T) {
	const conns, burst = 50, 500
	tests := []struct {
		name string
		end  func(a *reassembly.Assembler, flow capture.FlowKey, ts time.Time)
	}{
		{"holes filled", func(a *reassembly.Assembler, flow capture.FlowKey, ts time.Time) {
			// The missing bytes: every even offset.
			for i := range burst {
				a.HandlePacket(&capture.Packet{Timestamp: ts, Flow: flow, Seq: 1001 + uint32(2*i), Ack: 5001,
					Flags: capture.FlagACK, Payload: []byte{'a'}})
			}
		}},
		{"connection reset", func(a *reassembly.Assembler, flow capture.FlowKey, ts time.Time) {
			a.HandlePacket(&capture.Packet{Timestamp: ts, Flow: flow.Reverse(), Seq: 5001, Flags: capture.FlagRST})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := reassembly.NewAssembler(reassembly.Config{}, reassemblytest.NewDiscard(conns), nil)
			if err != nil {
				t.Fatal(err)
			}
			ts := time.Unix(1_700_000_000, 0)
			for c := range conns {
				var flow capture.FlowKey
				flow.SrcIP[15], flow.DstIP[15] = 1, 2
				flow.SrcPort, flow.DstPort = uint16(40000+c), 80
				a.HandlePacket(&capture.Packet{Timestamp: ts, Flow: flow, Seq: 1000, Flags: capture.FlagSYN})
				a.HandlePacket(&capture.Packet{Timestamp: ts, Flow: flow.Reverse(), Seq: 5000, Ack: 1001, Flags: capture.FlagSYN | capture.FlagACK})
				// One byte at every odd offset: burst segments, none adjacent.
				for i := range burst {
					a.HandlePacket(&capture.Packet{Timestamp: ts, Flow: flow, Seq: 1001 + uint32(2*i+1), Ack: 5001,
						Flags: capture.FlagACK, Payload: []byte{'b'}})
				}
				if a.SegmentRecordCap() < burst {
					t.Fatalf("the burst was not buffered (%d records)", a.SegmentRecordCap())
				}
				tc.end(a, flow, ts)
				if err := a.CheckInvariants(); err != nil {
					t.Fatal(err)
				}
			}
			if st := a.Stats(); st.BufferedBytes != 0 || st.OutOfOrder < conns*burst {
				t.Fatalf("stats %+v", st)
			}
			// keptSegs (4) per direction, for the live connections and the
			// free slots alike.
			if n, limit := a.SegmentRecordCap(), 2*4*conns; n > limit {
				t.Errorf("%d segment records kept after the bursts, want at most %d", n, limit)
			}
		})
	}
}
