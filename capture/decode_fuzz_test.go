package capture

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateDecodeCorpus = flag.Bool("update-decode-corpus", false, "rewrite testdata/fuzz/FuzzDecode from the decoder's test frames")

const fuzzDecodeDir = "testdata/fuzz/FuzzDecode"

// FuzzDecode feeds arbitrary frames of any link type to a decoder. A frame
// is decoded as captured, again as if the snap length had cut it, and twice
// more on one decoder (duplicates exercise fragment reassembly). Nothing may
// panic, the counters must add up, and decoding must be deterministic.
func FuzzDecode(f *testing.F) {
	f.Add(uint16(LinkTypeEthernet), []byte{})
	f.Fuzz(func(t *testing.T, link uint16, data []byte) {
		decode := func(d *Decoder, length int) (bool, Packet) {
			var p Packet
			fr := Frame{Data: data, Length: length, LinkType: LinkType(link), Timestamp: decTS}
			ok := d.Decode(&fr, &p)
			if ok {
				p.Payload = bytes.Clone(p.Payload)
				if len(p.Payload) > len(data) && d.Stats().Reassembled == 0 {
					t.Fatalf("payload of %d bytes from a %d-byte frame", len(p.Payload), len(data))
				}
			}
			return ok, p
		}
		d1, d2 := NewDecoder(DecoderConfig{}), NewDecoder(DecoderConfig{})
		ok1, p1 := decode(d1, len(data))
		ok2, p2 := decode(d2, len(data))
		if ok1 != ok2 || p1.Flow != p2.Flow || p1.Seq != p2.Seq || !bytes.Equal(p1.Payload, p2.Payload) {
			t.Fatalf("not deterministic: %v %+v / %v %+v", ok1, p1, ok2, p2)
		}
		if s1, s2 := d1.Stats(), d2.Stats(); s1 != s2 {
			t.Fatalf("stats differ: %+v / %+v", s1, s2)
		}
		decode(d1, len(data)+100)
		decode(d1, len(data))
		s := d1.Stats()
		if s.Frames != 3 {
			t.Fatalf("Frames = %d after 3 frames", s.Frames)
		}
		if s.Frames != s.TCP+s.NonTCP+s.Malformed+s.UnknownLinkType+s.FragmentsPending ||
			s.NonTCP != s.NonIP+s.UDP+s.ICMP+s.OtherIP {
			t.Fatalf("counters do not add up: %+v", s)
		}
	})
}

// corpusSeeds returns the frames of every decoder test case, by file name.
func decCorpusSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	name := func(prefix, s string) string {
		s = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				return r
			}
			if r >= 'A' && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return '-'
		}, s)
		return prefix + "-" + s
	}
	enc := func(link LinkType, b []byte) []byte {
		return fmt.Appendf(nil, "go test fuzz v1\nuint16(%d)\n[]byte(%q)\n", uint16(link), b)
	}
	for _, tc := range decCases() {
		seeds[name("encap", tc.name)] = enc(tc.link, tc.frame(t))
	}
	pkt := decTCPPacket(t, false, decBigPayload(2000, 1))
	for i, f := range decFragment(t, pkt, false, 3, decPiece{0, 1480}, decPiece{1480, 2020}) {
		seeds[fmt.Sprintf("frag-ipv4-%d", i)] = enc(LinkTypeEthernet, decEthFrame(f))
	}
	pkt = decTCPPacket(t, true, decBigPayload(2000, 1))
	for i, f := range decFragment(t, pkt, true, 3, decPiece{0, 1480}, decPiece{1480, 2020}) {
		seeds[fmt.Sprintf("frag-ipv6-%d", i)] = enc(LinkTypeEthernet, decEthFrame(f))
	}
	return seeds
}

// TestDecodeFuzzCorpus checks that the committed seed corpus holds the
// current test frames (regenerate with -update-decode-corpus).
func TestDecodeFuzzCorpus(t *testing.T) {
	seeds := decCorpusSeeds(t)
	if *updateDecodeCorpus {
		if err := os.MkdirAll(fuzzDecodeDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range seeds {
			if err := os.WriteFile(filepath.Join(fuzzDecodeDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, want := range seeds {
		got, err := os.ReadFile(filepath.Join(fuzzDecodeDir, name))
		if err != nil {
			t.Errorf("seed corpus: %v (run go test -run TestDecodeFuzzCorpus -update-decode-corpus)", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("seed corpus file %s is stale (run with -update-decode-corpus)", name)
		}
	}
}
