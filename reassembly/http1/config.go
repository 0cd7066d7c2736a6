package http1

import (
	"errors"
	"fmt"
)

// Config bounds the parser. The zero value is a usable configuration;
// NewFactory rejects negative values where the field does not give them a
// meaning.
type Config struct {
	// MaxHeaderBytes caps the start line plus header block of one message,
	// and separately the trailer block of a chunked body. 0 means 64 KiB.
	// Beyond it the rest of the block is skipped up to its empty line
	// without being stored (framing headers already seen still apply), the
	// message gets FlagHeaderLimit and Stats.HeaderBytesLimit counts it.
	MaxHeaderBytes int
	// MaxHeaders caps the header fields stored per message (trailers
	// included). 0 means 256. Fields beyond it are not stored but framing
	// fields among them (Content-Length, Transfer-Encoding) still apply;
	// the message gets FlagHeaderLimit, counted in Stats.HeaderCountLimit.
	MaxHeaders int
	// MaxBodyBytes caps the body bytes stored per message, counted before
	// content decoding. 0 means 1 MiB; a negative value stores no body at
	// all (lengths are still counted). A body cut at the cap gets
	// FlagBodyTruncated, counted in Stats.BodyLimit.
	MaxBodyBytes int
	// MaxDecodedBytes caps a body after content decoding. 0 means 4 MiB.
	// Decoding stops at the cap (FlagDecodeError and FlagBodyTruncated,
	// Stats.DecodedSizeLimit).
	MaxDecodedBytes int
	// MaxDecodeRatio caps the decoded size at this multiple of the stored
	// encoded size, against decompression bombs. 0 means 100. The first
	// DecodeRatioFloor bytes of output are always allowed, so that small
	// but very compressible bodies decode. Decoding stops at the limit
	// (FlagDecodeError and FlagBodyTruncated, Stats.DecodeRatioLimit).
	MaxDecodeRatio int
	// MaxPendingRequests caps the transactions a connection holds while
	// waiting for their responses (pipelining). 0 means 64. When a new
	// request would exceed it, the oldest transaction is emitted at once,
	// with FlagNoResponse (or FlagTruncated if its response had started);
	// counted in Stats.PendingLimit.
	MaxPendingRequests int
	// MaxResyncBytes is how many bytes a connection may skip while looking
	// for a first HTTP message before the handler gives up on it (Data
	// returns false; Stats.GaveUp). It does not apply once a message has
	// been seen. 0 means 1 MiB; a negative value never gives up.
	MaxResyncBytes int64
	// DisableDecoding stores bodies as sent, without content decoding,
	// when true. The zero value decodes.
	DisableDecoding bool
}

// Defaults applied for zero Config fields, and the fixed floor of the
// decode ratio limit.
const (
	DefaultMaxHeaderBytes     = 64 << 10
	DefaultMaxHeaders         = 256
	DefaultMaxBodyBytes       = 1 << 20
	DefaultMaxDecodedBytes    = 4 << 20
	DefaultMaxDecodeRatio     = 100
	DefaultMaxPendingRequests = 64
	DefaultMaxResyncBytes     = 1 << 20
	DecodeRatioFloor          = 64 << 10
)

// errConfig is wrapped by every configuration error.
var errConfig = errors.New("invalid configuration")

// normalize returns cfg with defaults applied, or an error naming the
// first invalid field.
func (cfg Config) normalize() (Config, error) {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"MaxHeaderBytes", cfg.MaxHeaderBytes},
		{"MaxHeaders", cfg.MaxHeaders},
		{"MaxDecodedBytes", cfg.MaxDecodedBytes},
		{"MaxDecodeRatio", cfg.MaxDecodeRatio},
		{"MaxPendingRequests", cfg.MaxPendingRequests},
	} {
		if f.v < 0 {
			return cfg, fmt.Errorf("http1: %s is %d, must not be negative: %w", f.name, f.v, errConfig)
		}
	}
	if cfg.MaxHeaderBytes == 0 {
		cfg.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if cfg.MaxHeaders == 0 {
		cfg.MaxHeaders = DefaultMaxHeaders
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxDecodedBytes == 0 {
		cfg.MaxDecodedBytes = DefaultMaxDecodedBytes
	}
	if cfg.MaxDecodeRatio == 0 {
		cfg.MaxDecodeRatio = DefaultMaxDecodeRatio
	}
	if cfg.MaxPendingRequests == 0 {
		cfg.MaxPendingRequests = DefaultMaxPendingRequests
	}
	if cfg.MaxResyncBytes == 0 {
		cfg.MaxResyncBytes = DefaultMaxResyncBytes
	}
	return cfg, nil
}
