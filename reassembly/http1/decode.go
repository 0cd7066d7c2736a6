package http1

import (
	"bytes"
	"errors"
	"io"
	"slices"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/apitap/apitap/reassembly"
)

// zstdMaxWindow bounds the memory a zstd stream may ask for.
const zstdMaxWindow = 8 << 20

// decoders are the factory's reusable decompressors, created on first use,
// and the scratch buffers decoded bytes go through.
type decoders struct {
	// src reads the body being decoded. It is a *bytes.Reader because the
	// flate decoder (gzip, deflate) reads that type through a fast path
	// instead of an interface call per byte; it is reused for every body.
	src bytes.Reader
	gz  *gzip.Reader
	zl  io.ReadCloser
	fl  io.ReadCloser
	br  *brotli.Reader
	zs  *zstd.Decoder
	out [2][]byte
}

// decodeResult is how one decoding step ended.
type decodeResult uint8

const (
	decodeOK          decodeResult = iota
	decodeCorrupt                  // bad data (some output may have been produced)
	decodeUnsupported              // unknown coding
	decodeSizeLimit                // MaxDecodedBytes reached
	decodeRatioLimit               // the ratio limit reached
)

// decode undoes the content codings of raw, last applied first, under the
// size and ratio limits. It returns an owned slice and the flags to add.
// incomplete says raw is only a prefix of the body (cut by a limit, a gap
// or the end of the connection): a decoder running out of input is then
// expected, not an error.
func (f *Factory) decode(raw []byte, codings []coding, incomplete bool) ([]byte, reassembly.Flags) {
	limit := int64(f.cfg.MaxDecodedBytes)
	limitKind := decodeSizeLimit
	if r := max(int64(f.cfg.MaxDecodeRatio)*int64(len(raw)), DecodeRatioFloor); r < limit {
		limit, limitKind = r, decodeRatioLimit
	}
	in := raw
	var flags reassembly.Flags
	result := decodeOK
	for i, k := len(codings)-1, 0; i >= 0; i-- {
		out, res := f.decodeStep(codings[i], in, f.dec.out[k][:0], limit, incomplete)
		f.dec.out[k] = out[:0]
		if res == decodeRatioLimit || res == decodeSizeLimit {
			res = limitKind
		}
		if len(out) > 0 || res == decodeOK {
			in = out
			k = 1 - k
		}
		if res != decodeOK {
			result = res
			break
		}
	}
	switch result {
	case decodeOK:
		f.stats.Decoded++
	case decodeCorrupt:
		f.stats.DecodeErrors++
		flags |= reassembly.FlagDecodeError
	case decodeUnsupported:
		f.stats.DecodeUnsupported++
		flags |= reassembly.FlagDecodeError
	case decodeSizeLimit:
		f.stats.DecodedSizeLimit++
		flags |= reassembly.FlagDecodeError | reassembly.FlagBodyTruncated
	case decodeRatioLimit:
		f.stats.DecodeRatioLimit++
		flags |= reassembly.FlagDecodeError | reassembly.FlagBodyTruncated
	}
	if len(in) == 0 {
		return nil, flags
	}
	return append([]byte(nil), in...), flags
}

// decodeStep runs one decoder over in, appending to out up to limit bytes.
func (f *Factory) decodeStep(c coding, in, out []byte, limit int64, incomplete bool) ([]byte, decodeResult) {
	r, err := f.reader(c, in)
	if err != nil {
		if errors.Is(err, errUnsupported) {
			return out, decodeUnsupported
		}
		if incomplete && errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return out, decodeOK
		}
		return out, decodeCorrupt
	}
	for {
		if len(out) == cap(out) {
			if int64(len(out)) > limit {
				return out[:limit], decodeSizeLimit
			}
			out = slices.Grow(out, min(max(2*cap(out), 4<<10), int(limit)+1)-len(out))
		}
		n, err := r.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if int64(len(out)) > limit {
			return out[:limit], decodeSizeLimit
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			return out, decodeOK
		case incomplete && errors.Is(err, io.ErrUnexpectedEOF):
			return out, decodeOK
		default:
			return out, decodeCorrupt
		}
	}
}

var errUnsupported = errors.New("unsupported content coding")

// reader returns a decompressor reading in. gzip and deflate are told
// apart by their first bytes, whatever the header said, like libhtp:
// servers mix them up.
func (f *Factory) reader(c coding, in []byte) (io.Reader, error) {
	dec := &f.dec
	dec.src.Reset(in)
	switch c {
	case codingGzip, codingDeflate:
		switch {
		case len(in) >= 2 && in[0] == 0x1f && in[1] == 0x8b:
			if dec.gz == nil {
				dec.gz = new(gzip.Reader)
			}
			if err := dec.gz.Reset(&dec.src); err != nil {
				return nil, err
			}
			dec.gz.Multistream(false)
			return dec.gz, nil
		case len(in) >= 2 && in[0]&0x0f == 8 && in[0]>>4 <= 7 && (uint16(in[0])<<8|uint16(in[1]))%31 == 0:
			if dec.zl == nil {
				zl, err := zlib.NewReader(&dec.src)
				if err != nil {
					return nil, err
				}
				dec.zl = zl
				return zl, nil
			}
			if err := dec.zl.(zlib.Resetter).Reset(&dec.src, nil); err != nil {
				return nil, err
			}
			return dec.zl, nil
		default:
			if dec.fl == nil {
				dec.fl = flate.NewReader(&dec.src)
				return dec.fl, nil
			}
			if err := dec.fl.(flate.Resetter).Reset(&dec.src, nil); err != nil {
				return nil, err
			}
			return dec.fl, nil
		}
	case codingBrotli:
		if dec.br == nil {
			dec.br = brotli.NewReader(&dec.src)
			return dec.br, nil
		}
		if err := dec.br.Reset(&dec.src); err != nil {
			return nil, err
		}
		return dec.br, nil
	case codingZstd:
		if dec.zs == nil {
			zs, err := zstd.NewReader(nil,
				zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderLowmem(true),
				zstd.WithDecoderMaxWindow(zstdMaxWindow),
				zstd.WithDecoderMaxMemory(uint64(max(f.cfg.MaxDecodedBytes, zstdMaxWindow))),
			)
			if err != nil {
				return nil, errUnsupported
			}
			dec.zs = zs
		}
		if err := dec.zs.Reset(&dec.src); err != nil {
			return nil, err
		}
		return dec.zs, nil
	}
	return nil, errUnsupported
}
