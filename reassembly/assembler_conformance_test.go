//go:build conformance

package reassembly_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apitap/apitap/capture"
	"github.com/apitap/apitap/reassembly"
	"github.com/apitap/apitap/reassembly/reassemblytest"
)

// zeekDir is the Zeek material, relative to this package's directory (the
// repository is checked out at X/main with the shared data at X/shared).
const zeekDir = "../../shared/data/zeek"

// TestConformanceZeekTraces runs every capture of the Zeek set through the
// decoder and the assembler and checks that the stream contract holds on
// real traffic: no callback out of order, every handler closed, buffer
// accounting intact, no more bytes delivered than captured. It also checks
// that most connections carrying HTTP start their client stream with a
// common request method (a misdirected or garbled stream would not) and
// that no connection has its client and server swapped.
func TestConformanceZeekTraces(t *testing.T) {
	traces := readIndex(t)
	var total reassembly.Stats
	var httpConns, httpStarts, swapped int
	for _, tr := range traces {
		t.Run(tr, func(t *testing.T) {
			src, err := capture.OpenFiles([]string{filepath.Join(zeekDir, tr)}, capture.FileConfig{Warn: func(err error) {
				t.Logf("warning: %v", err)
			}})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			dec := capture.NewDecoder(capture.DecoderConfig{})
			rec := &reassemblytest.Recorder{}
			a, err := reassembly.NewAssembler(reassembly.Config{}, rec, nil)
			if err != nil {
				t.Fatal(err)
			}
			var f capture.Frame
			var p capture.Packet
			var last capture.Packet
			for {
				err := src.ReadFrame(&f)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if dec.Decode(&f, &p) {
					a.HandlePacket(&p)
					last.Timestamp = p.Timestamp
				}
			}
			a.Flush(last.Timestamp)
			if err := a.CheckInvariants(); err != nil {
				t.Fatal(err)
			}
			for _, v := range rec.Violations() {
				t.Error(v)
			}
			s := a.Stats()
			checkStats(t, s)
			if s.OpenConnections != 0 || s.BufferedBytes != 0 {
				t.Errorf("after Flush: %d open, %d bytes buffered", s.OpenConnections, s.BufferedBytes)
			}
			for i, c := range rec.Conns {
				if !c.Closed {
					t.Errorf("conn %d not closed", i)
				}
				if looksHTTP(c.Client) || looksHTTP(c.Server) {
					httpConns++
					if startsRequest(c.Client) {
						httpStarts++
					}
					if startsRequest(c.Server) && bytes.HasPrefix(c.Client, []byte("HTTP/1.")) {
						swapped++
						t.Errorf("conn %d %+v: client and server swapped: %.200s", i, c.Info, c.Transcript())
					}
				}
			}
			if s.Gaps > 0 {
				t.Logf("%d gaps, %d bytes lost (ack %d, limit %d, close %d)", s.Gaps, s.BytesLost, s.GapsAck, s.GapsLimit, s.GapsClose)
			}
			total.Add(s)
		})
	}
	t.Logf("%d traces: %d connections, %d streams, %d packets, %d payload bytes, %d delivered, "+
		"%d out of order, %d duplicates, %d overlaps (%d conflicting), %d gaps (%d bytes; ack %d, limit %d, close %d)",
		len(traces), total.ConnectionsOpened, total.Streams, total.Packets, total.PayloadBytes, total.DeliveredBytes,
		total.OutOfOrder, total.Duplicates, total.Overlaps, total.OverlapConflicts, total.Gaps, total.BytesLost,
		total.GapsAck, total.GapsLimit, total.GapsClose)
	t.Logf("%d connections carry HTTP, %d of them start the client stream with a common request method, %d swapped",
		httpConns, httpStarts, swapped)
	// The rest are deliberately malformed requests (zeek's http/methods
	// trace), other protocols tunnelling HTTP (SOCKS) and captures without
	// the request.
	if httpConns == 0 || float64(httpStarts) < 0.85*float64(httpConns) {
		t.Errorf("only %d of %d HTTP connections start with a request line", httpStarts, httpConns)
	}
}

func readIndex(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(zeekDir, "INDEX.tsv"))
	if err != nil {
		t.Fatalf("the Zeek traces are missing (%v): the conformance suite needs ../shared/data beside the repository", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		tr, _, _ := strings.Cut(sc.Text(), "\t")
		if tr == "trace" || tr == "" {
			continue
		}
		out = append(out, tr)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 100 {
		t.Fatalf("INDEX.tsv lists only %d traces", len(out))
	}
	return out
}

var methods = []string{"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "CONNECT ", "PATCH ", "TRACE "}

func startsRequest(b []byte) bool {
	for _, m := range methods {
		if bytes.HasPrefix(b, []byte(m)) {
			return true
		}
	}
	return false
}

func looksHTTP(b []byte) bool {
	return bytes.Contains(b, []byte(" HTTP/1.")) || bytes.HasPrefix(b, []byte("HTTP/1."))
}
