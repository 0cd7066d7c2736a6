package http1

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/apitap/apitap/reassembly"
)

func gzipped(t testing.TB, p []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(p)
	w.Close()
	return b.Bytes()
}

func zlibbed(t testing.TB, p []byte) []byte {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write(p)
	w.Close()
	return b.Bytes()
}

func deflated(t testing.TB, p []byte) []byte {
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(p)
	w.Close()
	return b.Bytes()
}

func brotlied(t testing.TB, p []byte) []byte {
	var b bytes.Buffer
	w := brotli.NewWriter(&b)
	w.Write(p)
	w.Close()
	return b.Bytes()
}

func zstded(t testing.TB, p []byte) []byte {
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll(p, nil)
}

// encodedResponse is a response carrying body with the given
// Content-Encoding, framed by Content-Length or chunked.
func encodedResponse(encoding string, body []byte, chunked bool) string {
	if chunked {
		return msg("HTTP/1.1 200 OK", "Content-Encoding: "+encoding, "Transfer-Encoding: chunked") +
			strconv.FormatInt(int64(len(body)), 16) + "\r\n" + string(body) + "\r\n0\r\n\r\n"
	}
	return msg("HTTP/1.1 200 OK", "Content-Encoding: "+encoding, "Content-Length: "+strconv.Itoa(len(body))) + string(body)
}

func TestContentDecoding(t *testing.T) {
	plain := []byte(strings.Repeat(`{"id":1,"name":"widget","tags":["a","b"]},`, 50))
	tests := []struct {
		name     string
		encoding string
		body     []byte
		chunked  bool
		cfg      Config
		want     []byte
		flags    reassembly.Flags
		stat     func(Stats) uint64
	}{
		{name: "gzip", encoding: "gzip", body: gzipped(t, plain), want: plain, stat: func(s Stats) uint64 { return s.Decoded }},
		{name: "x-gzip chunked", encoding: "x-gzip", body: gzipped(t, plain), chunked: true, want: plain},
		{name: "deflate as zlib", encoding: "deflate", body: zlibbed(t, plain), want: plain},
		{name: "deflate raw", encoding: "deflate", body: deflated(t, plain), want: plain},
		{name: "gzip labelled deflate", encoding: "deflate", body: gzipped(t, plain), want: plain},
		{name: "deflate labelled gzip", encoding: "gzip", body: zlibbed(t, plain), want: plain},
		{name: "br", encoding: "br", body: brotlied(t, plain), want: plain},
		{name: "zstd", encoding: "zstd", body: zstded(t, plain), want: plain},
		{name: "gzip then br", encoding: "gzip, br", body: brotlied(t, gzipped(t, plain)), want: plain},
		{name: "identity", encoding: "identity", body: plain, want: plain},
		{name: "disabled", encoding: "gzip", body: gzipped(t, plain), cfg: Config{DisableDecoding: true}, want: gzipped(t, plain)},
		{
			name: "corrupt keeps the raw bytes", encoding: "gzip", body: []byte("\x1f\x8bnot really gzip at all"),
			want: []byte("\x1f\x8bnot really gzip at all"), flags: fDecodeErr, stat: func(s Stats) uint64 { return s.DecodeErrors },
		},
		{
			name: "unknown coding", encoding: "compress", body: []byte("LZW?"), want: []byte("LZW?"), flags: fDecodeErr,
			stat: func(s Stats) uint64 { return s.DecodeUnsupported },
		},
		{
			name: "decoded size limit", encoding: "gzip", body: gzipped(t, plain), cfg: Config{MaxDecodedBytes: 100},
			want: plain[:100], flags: fDecodeErr | fBodyTrunc, stat: func(s Stats) uint64 { return s.DecodedSizeLimit },
		},
		{
			name: "body cut before decoding", encoding: "gzip", body: gzipped(t, plain), cfg: Config{MaxBodyBytes: 40},
			flags: fBodyTrunc, stat: func(s Stats) uint64 { return s.BodyLimit },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			txs, st := script{cfg: tc.cfg, steps: []step{
				C(msg("GET / HTTP/1.1", "Host: h", "Accept-Encoding: gzip, br, zstd")),
				S(encodedResponse(tc.encoding, tc.body, tc.chunked)),
			}}.run(t)
			if len(txs) != 1 {
				t.Fatalf("%d transactions", len(txs))
			}
			tx := txs[0]
			if tx.ResponseBodyLen != int64(len(tc.body)) {
				t.Errorf("ResponseBodyLen = %d, want the encoded length %d", tx.ResponseBodyLen, len(tc.body))
			}
			if tc.want != nil && !bytes.Equal(tx.ResponseBody, tc.want) {
				t.Errorf("body = %q, want %q", clip(string(tx.ResponseBody)), clip(string(tc.want)))
			}
			if tc.want == nil && (len(tx.ResponseBody) == 0 || !bytes.HasPrefix(plain, tx.ResponseBody)) {
				t.Errorf("body = %q, want a decoded prefix", clip(string(tx.ResponseBody)))
			}
			if tx.Flags != tc.flags {
				t.Errorf("flags = %v, want %v", tx.Flags.Names(), tc.flags.Names())
			}
			if tc.stat != nil && tc.stat(st) != 1 {
				t.Errorf("stat not counted: %+v", st)
			}
		})
	}
}

// TestDecompressionBomb sends 10 MB of zeros gzipped (about 10 KB): decoding
// must stop at the ratio limit, flag it, and allocate a bounded amount.
func TestDecompressionBomb(t *testing.T) {
	bomb := gzipped(t, make([]byte, 10<<20))
	resp := encodedResponse("gzip", bomb, false)
	steps := []step{C(msg("GET /bomb HTTP/1.1", "Host: h")), S(resp)}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	txs, st := script{steps: steps}.run(t)
	runtime.ReadMemStats(&after)

	tx := txs[0]
	limit := max(DefaultMaxDecodeRatio*len(bomb), DecodeRatioFloor)
	if len(tx.ResponseBody) != limit {
		t.Errorf("decoded %d bytes, want the ratio limit %d", len(tx.ResponseBody), limit)
	}
	if tx.Flags != fDecodeErr|fBodyTrunc || st.DecodeRatioLimit != 1 {
		t.Errorf("flags %v, stats %+v", tx.Flags.Names(), st)
	}
	if tx.ResponseBodyLen != int64(len(bomb)) {
		t.Errorf("ResponseBodyLen = %d", tx.ResponseBodyLen)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("decoding the bomb allocated %d bytes, want under 8 MiB", alloc)
	}

	// The size limit stops it too when it is the smaller one.
	txs, st = script{cfg: Config{MaxDecodedBytes: 1 << 20, MaxDecodeRatio: 1 << 20}, steps: steps}.run(t)
	if len(txs[0].ResponseBody) != 1<<20 || st.DecodedSizeLimit != 1 {
		t.Errorf("size limit: %d bytes, stats %+v", len(txs[0].ResponseBody), st)
	}
}
