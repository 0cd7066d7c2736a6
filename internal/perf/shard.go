package perf

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apitap/apitap/capture"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// shards is the number of pieces the sharded reference splits the capture
// into: one per worker of apitap -w2.
const shards = 2

// shardStats is the sidecar of the shards, to reuse them while the capture
// they were cut from is unchanged.
type shardStats struct {
	Source int64   // size of the capture they were cut from
	Bytes  []int64 // size of each shard file
	Frames []int64
}

// ensureShards returns the capture cut into shards files by the engine's
// own choice of worker (a TCP packet goes to shard Flow.Hash() % shards,
// as `apitap analyze --workers 2` hands it to that worker; frames without
// TCP go to shard 0), writing them next to the capture unless a previous
// run did. Each shard is what one worker of apitap -w2 handles.
func ensureShards(cfg Config, capInfo CaptureInfo) ([]string, error) {
	paths := make([]string, shards)
	for i := range paths {
		paths[i] = fmt.Sprintf("%s.shard%dof%d", capInfo.Path, i, shards)
	}
	meta := capInfo.Path + fmt.Sprintf(".shards%d.json", shards)
	var st shardStats
	if b, err := os.ReadFile(meta); err == nil && json.Unmarshal(b, &st) == nil && st.Source == capInfo.Bytes && len(st.Bytes) == shards {
		ok := true
		for i, p := range paths {
			if fi, err := os.Stat(p); err != nil || fi.Size() != st.Bytes[i] {
				ok = false
			}
		}
		if ok {
			fmt.Fprintf(cfg.Log, "reusing the %d shards of %s\n", shards, capInfo.Path)
			return paths, nil
		}
	}
	fmt.Fprintf(cfg.Log, "cutting %s into %d shards by flow\n", capInfo.Path, shards)
	st, err := writeShards(capInfo.Path, paths)
	if err == nil {
		var b []byte
		if b, err = json.MarshalIndent(st, "", "  "); err == nil {
			err = os.WriteFile(meta, b, 0o644)
		}
	}
	if err != nil {
		for _, p := range paths {
			os.Remove(p)
		}
		return nil, fmt.Errorf("perf: cutting the capture into shards: %w", err)
	}
	return paths, nil
}

// writeShards cuts the pcap at src into the files at paths, by flow.
func writeShards(src string, paths []string) (shardStats, error) {
	st := shardStats{Bytes: make([]int64, len(paths)), Frames: make([]int64, len(paths))}
	in, err := capture.OpenFiles([]string{src}, capture.FileConfig{})
	if err != nil {
		return st, err
	}
	defer in.Close()
	if fi, err := os.Stat(src); err == nil {
		st.Source = fi.Size()
	}
	files := make([]*os.File, len(paths))
	bufs := make([]*bufio.Writer, len(paths))
	ws := make([]*pcapgo.Writer, len(paths))
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	dec := capture.NewDecoder(capture.DecoderConfig{})
	var fr capture.Frame
	var pkt capture.Packet
	for {
		err := in.ReadFrame(&fr)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return st, err
		}
		if ws[0] == nil { // the link type of the first frame, which the synthesizer keeps
			for i, p := range paths {
				if files[i], err = os.Create(p); err != nil {
					return st, err
				}
				bufs[i] = bufio.NewWriterSize(files[i], 1<<20)
				ws[i] = pcapgo.NewWriterNanos(bufs[i])
				if err := ws[i].WriteFileHeader(capture.DefaultMaxFrameSize, layers.LinkType(fr.LinkType)); err != nil {
					return st, err
				}
			}
		}
		i := 0
		if dec.Decode(&fr, &pkt) {
			i = int(pkt.Flow.Hash() % uint64(len(paths)))
		}
		ci := gopacket.CaptureInfo{Timestamp: fr.Timestamp, CaptureLength: len(fr.Data), Length: fr.Length}
		if err := ws[i].WritePacket(ci, fr.Data); err != nil {
			return st, err
		}
		st.Frames[i]++
	}
	for i, b := range bufs {
		if b == nil {
			return st, errors.New("the capture holds no frame")
		}
		if err := b.Flush(); err != nil {
			return st, err
		}
		fi, err := files[i].Stat()
		if err != nil {
			return st, err
		}
		st.Bytes[i] = fi.Size()
		if err := files[i].Close(); err != nil {
			return st, err
		}
		files[i] = nil
	}
	return st, nil
}
