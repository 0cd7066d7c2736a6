package http1

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/apitap/apitap/reassembly"
)

// TestDirectBodyGrowth checks that a body of known length is stored
// without being allocated at its announced size: while it arrives the
// buffer holds at most directGrowth times the bytes received (at least
// minDirectBody), and the complete body is intact and exactly sized. A
// peer announcing a large body and sending little must not cost the
// sensor its size (cmd/apitap's memory budget counts on it).
func TestDirectBodyGrowth(t *testing.T) {
	tests := []struct {
		name      string
		length    int // Content-Length
		maxBody   int // Config.MaxBodyBytes
		segment   int // bytes per Data call
		stored    int // bytes the transaction keeps
		truncated bool
	}{
		{"small body in one segment", 300, 0, 1448, 300, false},
		{"body over many segments", 300 << 10, 0, 1448, 300 << 10, false},
		{"one-byte segments", 5000, 0, 1, 5000, false},
		{"body over the cap", 3 << 20, 0, 1448, DefaultMaxBodyBytes, true},
		{"small cap", 100 << 10, 10 << 10, 1000, 10 << 10, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := &collector{}
			f, err := NewFactory(Config{MaxBodyBytes: tc.maxBody}, sink, nil)
			if err != nil {
				t.Fatal(err)
			}
			h := f.New(reassembly.ConnInfo{Client: testClient, Server: testServer, HandshakeSeen: true}, testBase)
			body := bytes.Repeat([]byte("0123456789abcdef"), tc.length/16+1)[:tc.length]
			head := "POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: " + strconv.Itoa(tc.length) + "\r\n\r\n"
			h.Data(true, []byte(head), testBase)
			c := h.(*conn)
			d := &c.dirs[0]
			received := 0
			for off := 0; off < len(body); off += tc.segment {
				seg := body[off:min(off+tc.segment, len(body))]
				h.Data(true, seg, testBase)
				received += len(seg)
				if received < len(body) {
					if limit := max(directGrowth*received, minDirectBody); cap(d.bodyBuf) > limit {
						t.Fatalf("after %d bytes the body buffer holds %d, more than %d", received, cap(d.bodyBuf), limit)
					}
				}
			}
			h.Data(false, []byte("HTTP/1.1 204 No Content\r\n\r\n"), testBase)
			h.Close(reassembly.CloseFIN, testBase)
			if len(sink.txs) != 1 {
				t.Fatalf("%d transactions", len(sink.txs))
			}
			tx := sink.txs[0]
			if tx.RequestBodyLen != int64(tc.length) || !bytes.Equal(tx.RequestBody, body[:tc.stored]) {
				t.Errorf("body of %d bytes (%d counted), want the first %d of %d", len(tx.RequestBody), tx.RequestBodyLen, tc.stored, tc.length)
			}
			if cap(tx.RequestBody) != len(tx.RequestBody) {
				t.Errorf("stored body has capacity %d for %d bytes", cap(tx.RequestBody), len(tx.RequestBody))
			}
			if got := tx.Flags&reassembly.FlagBodyTruncated != 0; got != tc.truncated {
				t.Errorf("truncated flag %v, want %v", got, tc.truncated)
			}
		})
	}
}
