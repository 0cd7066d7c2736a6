package http1

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Stats are the plain counters of a Factory (and of all its connections).
// They only grow. Sum the stats of several factories with Add.
type Stats struct {
	Connections  uint64 // handlers created
	Requests     uint64 // requests whose start line was parsed
	Responses    uint64 // final responses whose status line was parsed (HTTP/0.9 responses included)
	Interim      uint64 // interim 1xx responses skipped
	Transactions uint64 // transactions handed to the sink
	NoResponse   uint64 // transactions emitted without a response
	NoRequest    uint64 // transactions emitted without a request
	HTTP09       uint64 // HTTP/0.9 simple requests
	Upgrades     uint64 // connections switched to another protocol (101)
	Connects     uint64 // CONNECT tunnels established

	// Parse errors, by kind.
	BadStartLines uint64 // message boundaries where neither a request nor a status line was found
	Malformed     uint64 // messages parsed leniently (FlagMalformed)
	Smuggling     uint64 // messages with ambiguous framing (FlagSmuggling)
	BadChunks     uint64 // chunk size lines that could not be parsed
	Truncated     uint64 // messages cut short by the end of their direction (FlagTruncated)

	// Resynchronisation and lost bytes.
	Resyncs     uint64 // times a direction started looking for the next message start
	ResyncBytes uint64 // bytes skipped while looking
	GaveUp      uint64 // connections abandoned as not HTTP (Config.MaxResyncBytes)
	Gaps        uint64 // gaps reported by the assembler
	GapBytes    uint64 // bytes reported lost (gaps of known size)
	// ResponsesLost counts responses taken to be lost in a gap on the
	// response side (part of NoResponse): their requests are emitted with
	// FlagNoResponse and FlagGap, so that the responses after the gap
	// pair with the right requests.
	ResponsesLost uint64

	// Limits hit, by limit.
	HeaderBytesLimit uint64 // header or trailer blocks cut at Config.MaxHeaderBytes
	HeaderCountLimit uint64 // messages with more than Config.MaxHeaders fields
	BodyLimit        uint64 // bodies cut at Config.MaxBodyBytes
	PendingLimit     uint64 // transactions emitted early by Config.MaxPendingRequests
	DecodedSizeLimit uint64 // decodings stopped at Config.MaxDecodedBytes
	DecodeRatioLimit uint64 // decodings stopped by Config.MaxDecodeRatio (bombs)

	// Content decoding.
	Decoded           uint64 // bodies content-decoded completely
	DecodeErrors      uint64 // bodies whose encoded data was corrupt
	DecodeUnsupported uint64 // bodies with a content coding the parser does not know
}

// Add adds o to s.
func (s *Stats) Add(o Stats) {
	for i, f := range statFields {
		*f.get(s) += *statFields[i].get(&o)
	}
}

// statField describes one Stats counter and the Prometheus series that
// mirrors it.
type statField struct {
	metric string // metric name without namespace and subsystem
	help   string
	label  string // label name, empty for an unlabelled counter
	value  string // label value
	get    func(*Stats) *uint64
}

// statFields lists every Stats counter; it is read-only.
var statFields = [...]statField{
	{"connections_total", "Connections handed to the HTTP parser.", "", "", func(s *Stats) *uint64 { return &s.Connections }},
	{"requests_total", "HTTP requests parsed.", "", "", func(s *Stats) *uint64 { return &s.Requests }},
	{"responses_total", "Final HTTP responses parsed.", "", "", func(s *Stats) *uint64 { return &s.Responses }},
	{"interim_responses_total", "Interim 1xx responses skipped.", "", "", func(s *Stats) *uint64 { return &s.Interim }},
	{"transactions_total", "Transactions emitted.", "", "", func(s *Stats) *uint64 { return &s.Transactions }},
	{"unpaired_total", "Transactions emitted with only one side, by missing side.", "missing", "response", func(s *Stats) *uint64 { return &s.NoResponse }},
	{"unpaired_total", "Transactions emitted with only one side, by missing side.", "missing", "request", func(s *Stats) *uint64 { return &s.NoRequest }},
	{"http09_requests_total", "HTTP/0.9 simple requests.", "", "", func(s *Stats) *uint64 { return &s.HTTP09 }},
	{"switches_total", "Connections that left HTTP, by kind.", "kind", "upgrade", func(s *Stats) *uint64 { return &s.Upgrades }},
	{"switches_total", "Connections that left HTTP, by kind.", "kind", "connect", func(s *Stats) *uint64 { return &s.Connects }},
	{"parse_errors_total", "HTTP parse errors, by kind.", "kind", "bad_start_line", func(s *Stats) *uint64 { return &s.BadStartLines }},
	{"parse_errors_total", "HTTP parse errors, by kind.", "kind", "malformed", func(s *Stats) *uint64 { return &s.Malformed }},
	{"parse_errors_total", "HTTP parse errors, by kind.", "kind", "smuggling", func(s *Stats) *uint64 { return &s.Smuggling }},
	{"parse_errors_total", "HTTP parse errors, by kind.", "kind", "bad_chunk", func(s *Stats) *uint64 { return &s.BadChunks }},
	{"parse_errors_total", "HTTP parse errors, by kind.", "kind", "truncated", func(s *Stats) *uint64 { return &s.Truncated }},
	{"resyncs_total", "Times a direction looked for the next message start.", "", "", func(s *Stats) *uint64 { return &s.Resyncs }},
	{"resync_bytes_total", "Bytes skipped while looking for a message start.", "", "", func(s *Stats) *uint64 { return &s.ResyncBytes }},
	{"gave_up_total", "Connections abandoned as not HTTP.", "", "", func(s *Stats) *uint64 { return &s.GaveUp }},
	{"gaps_total", "Gaps reported by the TCP assembler.", "", "", func(s *Stats) *uint64 { return &s.Gaps }},
	{"gap_bytes_total", "Bytes reported lost by the TCP assembler.", "", "", func(s *Stats) *uint64 { return &s.GapBytes }},
	{"responses_lost_total", "Responses taken to be lost in a gap (their requests are emitted with the no_response and gap flags).", "", "", func(s *Stats) *uint64 { return &s.ResponsesLost }},
	{"limits_total", "Parser limits hit, by limit.", "limit", "header_bytes", func(s *Stats) *uint64 { return &s.HeaderBytesLimit }},
	{"limits_total", "Parser limits hit, by limit.", "limit", "header_count", func(s *Stats) *uint64 { return &s.HeaderCountLimit }},
	{"limits_total", "Parser limits hit, by limit.", "limit", "body_bytes", func(s *Stats) *uint64 { return &s.BodyLimit }},
	{"limits_total", "Parser limits hit, by limit.", "limit", "pending_requests", func(s *Stats) *uint64 { return &s.PendingLimit }},
	{"limits_total", "Parser limits hit, by limit.", "limit", "decoded_bytes", func(s *Stats) *uint64 { return &s.DecodedSizeLimit }},
	{"limits_total", "Parser limits hit, by limit.", "limit", "decode_ratio", func(s *Stats) *uint64 { return &s.DecodeRatioLimit }},
	{"decodes_total", "Content decodings, by result.", "result", "ok", func(s *Stats) *uint64 { return &s.Decoded }},
	{"decodes_total", "Content decodings, by result.", "result", "error", func(s *Stats) *uint64 { return &s.DecodeErrors }},
	{"decodes_total", "Content decodings, by result.", "result", "unsupported", func(s *Stats) *uint64 { return &s.DecodeUnsupported }},
}

const (
	metricNamespace = "apitap"
	metricSubsystem = "http"
)

// metrics mirrors Stats on a Prometheus registerer. The factory publishes
// the change of its plain counters now and then (see Factory.publish), so
// the hot path touches no atomics and factories sharing a registerer add
// up.
type metrics struct {
	counters  [len(statFields)]prometheus.Counter
	published Stats
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{}
	vecs := map[string]*prometheus.CounterVec{}
	for i, f := range statFields {
		opts := prometheus.CounterOpts{Namespace: metricNamespace, Subsystem: metricSubsystem, Name: f.metric, Help: f.help}
		if f.label == "" {
			c := prometheus.NewCounter(opts)
			if err := reg.Register(c); err != nil {
				are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err)
				if !ok {
					return nil, fmt.Errorf("http1: registering metric %s: %w", f.metric, err)
				}
				if c, ok = are.ExistingCollector.(prometheus.Counter); !ok {
					return nil, fmt.Errorf("http1: registering metric %s: %w", f.metric, err)
				}
			}
			m.counters[i] = c
			continue
		}
		vec, ok := vecs[f.metric]
		if !ok {
			vec = prometheus.NewCounterVec(opts, []string{f.label})
			if err := reg.Register(vec); err != nil {
				are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err)
				if !ok {
					return nil, fmt.Errorf("http1: registering metric %s: %w", f.metric, err)
				}
				if vec, ok = are.ExistingCollector.(*prometheus.CounterVec); !ok {
					return nil, fmt.Errorf("http1: registering metric %s: %w", f.metric, err)
				}
			}
			vecs[f.metric] = vec
		}
		m.counters[i] = vec.WithLabelValues(f.value)
	}
	return m, nil
}

// publish adds the change since the last call to the metrics.
func (m *metrics) publish(s *Stats) {
	for i, f := range statFields {
		cur, old := *f.get(s), *f.get(&m.published)
		if cur > old {
			m.counters[i].Add(float64(cur - old))
		}
	}
	m.published = *s
}
