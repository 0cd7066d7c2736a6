package capture

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// FuzzReadFile feeds arbitrary bytes to the capture file reader through
// standard input. It must never panic or hang; frames must respect the
// frame size limit; every error must name the input and be one of the
// documented kinds. Every third frame's read block is retained, as the
// Engine's batches do: the retained frames must not change while the
// reader goes on.
func FuzzReadFile(f *testing.F) {
	fs := makeFrames("fz", 3, fileEpoch, time.Millisecond, LinkTypeEthernet)
	ngRes, _ := pcapngResolutions(true)
	ngTwo, _ := pcapngTwoSections()
	for _, seed := range [][]byte{
		rawPcap(false, magicPcapMicro, LinkTypeEthernet, fs),
		rawPcap(true, magicPcapNano, LinkTypeRaw, fs),
		rawPcap(false, magicPcapModified, LinkTypeEthernet, fs[:1]),
		ngRes,
		ngTwo,
		gzipBytes(f, rawPcap(false, magicPcapNano, LinkTypeEthernet, fs)),
		[]byte("not a capture"),
	} {
		f.Add(seed)
	}
	const maxFrame = 4096
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := OpenFiles([]string{StdinName}, FileConfig{Stdin: bytes.NewReader(data), MaxFrameSize: maxFrame})
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		defer src.Close()
		type kept struct {
			blk        *block
			data, want []byte
		}
		var held []kept
		check := func() {
			for i, k := range held {
				if !bytes.Equal(k.data, k.want) {
					t.Fatalf("retained frame %d changed while its block was held", i)
				}
				k.blk.release()
			}
			held = held[:0]
		}
		defer check()
		fsrc := src.(*FileSource)
		var fr Frame
		for n := 0; ; n++ {
			err := src.ReadFrame(&fr)
			if err == io.EOF {
				return
			}
			if err != nil {
				checkFuzzError(t, err)
				return
			}
			if len(fr.Data) > maxFrame {
				t.Fatalf("frame of %d bytes, limit %d", len(fr.Data), maxFrame)
			}
			if n%3 == 0 {
				blk := fsrc.frameBlock()
				blk.retain()
				held = append(held, kept{blk, fr.Data, bytes.Clone(fr.Data)})
			}
			if len(held) == 64 {
				check()
			}
		}
	})
}

func checkFuzzError(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if !bytes.HasPrefix([]byte(msg), []byte("capture: standard input: ")) {
		t.Fatalf("error %q does not name the input", msg)
	}
	if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotCapture) {
		t.Fatalf("error %q is not ErrTruncated, ErrCorrupt or ErrNotCapture", msg)
	}
}
