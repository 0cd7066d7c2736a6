package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
)

// ErrCorrupt reports a capture file with a record that cannot be right (a
// length beyond FileConfig.MaxFrameSize, inconsistent block lengths, damaged
// gzip data). Like ErrTruncated, it is returned after every packet before
// the bad record.
var ErrCorrupt = errors.New("capture file is corrupt")

// ErrNotCapture reports an input that is neither a pcap nor a pcapng file
// (after gzip decompression when it is compressed).
var ErrNotCapture = errors.New("not a pcap or pcapng file")

// StdinName is the file name that OpenFiles reads from standard input.
const StdinName = "-"

// DefaultMaxFrameSize is the largest captured frame a file may hold by
// default; a larger record length means the file is corrupt.
const DefaultMaxFrameSize = 256 << 10

// FileConfig configures OpenFiles.
type FileConfig struct {
	// MaxFrameSize is the largest captured length of one record; a record
	// claiming more is reported as corrupt (ErrCorrupt) and counted in
	// FileStats.OversizeRecords. 0 means DefaultMaxFrameSize (256 KiB).
	MaxFrameSize int

	// Warn, when set, turns a truncated or corrupt file (errors wrapping
	// ErrTruncated or ErrCorrupt, and read errors after the file header)
	// into a warning, as tcpdump does: the error is passed to Warn, that
	// file ends there and reading goes on with the other files. When nil,
	// ReadFrame returns such an error once (after every frame before the
	// bad record); a caller that calls ReadFrame again gets the frames of
	// the other files. Warn is called from the goroutine calling
	// ReadFrame.
	Warn func(err error)

	// Open opens a named file. nil means os.Open. Tests use it to produce
	// errors such as permission denied; the returned file's Stat reports
	// its size for Progress.
	Open func(name string) (fs.File, error)

	// Stdin is read for the name "-". nil means os.Stdin.
	Stdin io.Reader
}

// FileStats counts the problems a FileSource met. Frames and bytes are
// counted by the Engine.
type FileStats struct {
	Files           int    // files opened
	TruncatedFiles  uint64 // files that ended in the middle of a record (ErrTruncated)
	CorruptFiles    uint64 // files with a corrupt record (ErrCorrupt), oversize records included
	OversizeRecords uint64 // records longer than MaxFrameSize (the limit hit; also counted in CorruptFiles)
}

// FileSource reads frames from one or more capture files, merged in packet
// time order. OpenFiles returns one; it implements Source.
//
// ReadFrame and Close follow the Source contract. Progress and Stats may
// be called from any goroutine. Close may be called while another goroutine
// is in ReadFrame: the files are closed, and ReadFrame returns io.EOF from
// then on (an operating-system read that is blocked may or may not return).
type FileSource struct {
	files []*fileReader // all files, in the order given
	heap  []*fileReader // files with a frame in head, min-heap by (key, index)

	// cur is the file whose head was returned by the last ReadFrame: its
	// buffer still backs the caller's frame, so it is advanced only on the
	// next call.
	cur *fileReader

	primed int // files whose first frame has been read
	warn   func(error)
	free   *blockList // the files' read blocks, once released

	counters fileCounters
	closed   atomic.Bool
}

// OpenFiles opens capture files for reading: pcap (either byte order,
// microsecond or nanosecond timestamps) and pcapng (any number of sections
// and interfaces, each with its own link type and timestamp resolution),
// gzip-compressed or not (detected from the content, not the name). The name
// "-" reads standard input (FileConfig.Stdin). Several files are merged in
// packet time order; equal timestamps keep the order the files were given.
//
// Every file is opened and its header read before OpenFiles returns; the
// error names each file that cannot be read and says why (not found,
// permission denied, a directory, not a capture file). The Source returned
// is a *FileSource: assert to it for Progress and Stats. Reading a frame
// allocates nothing.
func OpenFiles(paths []string, cfg FileConfig) (Source, error) {
	if len(paths) == 0 {
		return nil, errors.New("capture: no capture files given")
	}
	if cfg.MaxFrameSize < 0 {
		return nil, fmt.Errorf("capture: FileConfig.MaxFrameSize %d is negative", cfg.MaxFrameSize)
	}
	if cfg.MaxFrameSize == 0 {
		cfg.MaxFrameSize = DefaultMaxFrameSize
	}
	s := &FileSource{warn: cfg.Warn, free: newBlockList()}
	var errs []error
	stdin := false
	for i, name := range paths {
		if name == StdinName {
			if stdin {
				errs = append(errs, errors.New("capture: standard input (-) is named more than once"))
				continue
			}
			stdin = true
		}
		r, err := openFile(name, i, &cfg, &s.counters, s.free)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.files = append(s.files, r)
	}
	if len(errs) > 0 {
		s.Close()
		return nil, errors.Join(errs...)
	}
	s.heap = make([]*fileReader, 0, len(s.files))
	return s, nil
}

// openFile opens one input, detects gzip and reads the capture header.
func openFile(name string, index int, cfg *FileConfig, counters *fileCounters, free *blockList) (*fileReader, error) {
	r := &fileReader{name: name, index: index, size: -1, counters: counters, maxFrame: cfg.MaxFrameSize}
	var in io.Reader
	if name == StdinName {
		r.name = "standard input"
		in = cfg.Stdin
		if in == nil {
			in = os.Stdin
		}
		if st, ok := in.(interface{ Stat() (fs.FileInfo, error) }); ok {
			if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() {
				r.size = fi.Size()
			}
		}
		r.close = func() error { return nil } // standard input belongs to the process
	} else {
		open := cfg.Open
		if open == nil {
			open = func(name string) (fs.File, error) { return os.Open(name) }
		}
		f, err := open(name)
		if err != nil {
			return nil, openError(name, err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("capture: %s: cannot stat the file: %w", name, err)
		}
		if fi.IsDir() {
			f.Close()
			return nil, fmt.Errorf("capture: %s: is a directory, not a capture file (name the capture files inside it)", name)
		}
		if fi.Mode().IsRegular() {
			r.size = fi.Size()
		}
		in, r.close = f, f.Close
	}
	counted := countingReader{rd: in, n: &r.consumed}

	// Sniff the format from the first bytes, then put them back.
	var magic [4]byte
	n, err := io.ReadFull(counted, magic[:])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		r.close()
		return nil, openError(name, err)
	}
	if n < 4 {
		r.close()
		return nil, fmt.Errorf("capture: %s: %w: only %d bytes long", r.name, ErrNotCapture, n)
	}
	var data io.Reader = &prefixReader{prefix: magic[:n], rd: counted}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		r.gz = true
		zr, err := gzip.NewReader(bufio.NewReaderSize(data, 64<<10))
		if err != nil {
			r.close()
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("capture: %s: %w: the gzip header is cut short", r.name, ErrTruncated)
			}
			return nil, fmt.Errorf("capture: %s: %w: bad gzip header: %v", r.name, ErrCorrupt, err)
		}
		data = zr
		if _, err := io.ReadFull(zr, magic[:]); err != nil {
			r.close()
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("capture: %s: gzip-compressed, but %w inside: it holds fewer than 4 bytes", r.name, ErrNotCapture)
			}
			return nil, fmt.Errorf("capture: %s: %w: the gzip data is damaged: %v", r.name, ErrCorrupt, err)
		}
		data = &prefixReader{prefix: magic[:], rd: zr}
	}
	// The largest record: a packet block of MaxFrameSize with generous
	// room for options, or a section header.
	r.buf = newRecordBuffer(data, max(512<<10, cfg.MaxFrameSize+2*ngBlockOverhead), free)
	if err := r.readHeader(leUint32(magic[:])); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func leUint32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// openError explains why a file cannot be opened.
func openError(name string, err error) error {
	inner := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		inner = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("capture: %s: %w (check the path)", name, inner)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("capture: %s: %w (make the file readable by this user, or run apitap as a user who can read it)", name, inner)
	}
	return fmt.Errorf("capture: %s: cannot open: %w", name, inner)
}

// ReadFrame returns the next frame in packet time order across all files.
// f.Data is borrowed until the next call. It returns io.EOF when every file
// is exhausted, or an error naming the file (see FileConfig.Warn).
func (s *FileSource) ReadFrame(f *Frame) error {
	for {
		if s.closed.Load() {
			return io.EOF
		}
		var err error
		if cur := s.cur; cur != nil {
			// Advance the file whose frame the caller had.
			s.cur = nil
			if err = cur.next(); err == nil {
				s.down(0)
			} else {
				s.pop()
			}
		} else if s.primed < len(s.files) {
			r := s.files[s.primed]
			s.primed++
			if err = r.next(); err == nil {
				s.push(r)
			}
			if err == nil || err == io.EOF {
				continue
			}
		}
		if err != nil && err != io.EOF {
			if s.closed.Load() {
				return io.EOF
			}
			if s.warn == nil {
				return err
			}
			s.warn(err)
			continue
		}
		if len(s.heap) == 0 {
			return io.EOF
		}
		top := s.heap[0]
		*f = top.head
		s.cur = top
		return nil
	}
}

// frameBlock returns the read block that holds the Data of the frame the
// last ReadFrame returned (nil before the first frame). The Engine retains
// it to keep that Data valid beyond the next ReadFrame.
func (s *FileSource) frameBlock() *block {
	if s.cur == nil {
		return nil
	}
	return s.cur.buf.cur
}

// less orders files by the time of their next frame, then by position.
func less(a, b *fileReader) bool {
	return a.key < b.key || a.key == b.key && a.index < b.index
}

func (s *FileSource) push(r *fileReader) {
	s.heap = append(s.heap, r)
	h := s.heap
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !less(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

// pop removes the top of the heap.
func (s *FileSource) pop() {
	n := len(s.heap) - 1
	s.heap[0] = s.heap[n]
	s.heap[n] = nil
	s.heap = s.heap[:n]
	if n > 0 {
		s.down(0)
	}
}

func (s *FileSource) down(i int) {
	h := s.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && less(h[r], h[l]) {
			m = r
		}
		if !less(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// Close closes every file (standard input is left open). It may be called
// more than once and concurrently with ReadFrame.
func (s *FileSource) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	var errs []error
	for _, r := range s.files {
		if err := r.close(); err != nil {
			errs = append(errs, fmt.Errorf("capture: closing %s: %w", r.name, err))
		}
	}
	return errors.Join(errs...)
}

// Progress reports how many bytes of input have been read so far and how
// many there are in all (compressed bytes for gzip files, so the ratio is
// the fraction done). total is -1 when unknown (standard input from a
// pipe). Safe to call from any goroutine.
func (s *FileSource) Progress() (done, total int64) {
	for _, r := range s.files {
		done += r.consumed.Load()
		if total >= 0 && r.size >= 0 {
			total += r.size
		} else {
			total = -1
		}
	}
	if total >= 0 && done > total {
		done = total // a file that grew while being read
	}
	return done, total
}

// Stats returns the problems counted so far. Safe to call from any
// goroutine.
func (s *FileSource) Stats() FileStats {
	return FileStats{
		Files:           len(s.files),
		TruncatedFiles:  s.counters.truncated.Load(),
		CorruptFiles:    s.counters.corrupt.Load(),
		OversizeRecords: s.counters.oversize.Load(),
	}
}
