package reassembly

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics mirrors Stats on a Prometheus registerer. The assembler publishes
// deltas of its plain counters (at most once a second of packet time and
// at Flush), so the hot path touches no atomics, and several assemblers
// sharing one registerer add up.
type metrics struct {
	counters  []counterMetric
	open      prometheus.Gauge
	buffered  prometheus.Gauge
	published Stats
}

type counterMetric struct {
	c   prometheus.Counter
	get func(*Stats) uint64
}

const (
	metricNamespace = "apitap"
	metricSubsystem = "reassembly"
)

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{}
	simple := []struct {
		name, help string
		get        func(*Stats) uint64
	}{
		{"packets_total", "TCP segments processed.", func(s *Stats) uint64 { return s.Packets }},
		{"payload_bytes_total", "TCP payload bytes processed.", func(s *Stats) uint64 { return s.PayloadBytes }},
		{"delivered_bytes_total", "Bytes delivered in order to stream handlers.", func(s *Stats) uint64 { return s.DeliveredBytes }},
		{"connections_opened_total", "TCP connections tracked.", func(s *Stats) uint64 { return s.ConnectionsOpened }},
		{"streams_total", "Connections that carried payload (stream handlers created).", func(s *Stats) uint64 { return s.Streams }},
		{"port_reuses_total", "New connections started by a SYN on a known 4-tuple.", func(s *Stats) uint64 { return s.PortReuses }},
		{"out_of_order_segments_total", "Segments buffered because they arrived ahead of a hole.", func(s *Stats) uint64 { return s.OutOfOrder }},
		{"duplicate_segments_total", "Segments carrying only bytes already seen.", func(s *Stats) uint64 { return s.Duplicates }},
		{"overlap_segments_total", "Segments partly overlapping bytes already seen.", func(s *Stats) uint64 { return s.Overlaps }},
		{"overlap_conflicts_total", "Overlaps whose bytes differ from the bytes seen first.", func(s *Stats) uint64 { return s.OverlapConflicts }},
		{"bytes_lost_total", "Bytes skipped by gaps.", func(s *Stats) uint64 { return s.BytesLost }},
		{"ignored_packets_total", "Packets that started nothing (RST of an unknown connection, stray packets of a closed one).", func(s *Stats) uint64 { return s.IgnoredPackets }},
		{"ignored_bytes_total", "Payload bytes not delivered because the handler declined them or they followed the FIN.", func(s *Stats) uint64 { return s.IgnoredBytes }},
	}
	for _, d := range simple {
		c, err := registerCounter(reg, prometheus.CounterOpts{
			Namespace: metricNamespace, Subsystem: metricSubsystem, Name: d.name, Help: d.help,
		})
		if err != nil {
			return nil, err
		}
		m.counters = append(m.counters, counterMetric{c, d.get})
	}

	labelled := []struct {
		name, help, label string
		values            []string
		gets              []func(*Stats) uint64
	}{
		{"connections_closed_total", "TCP connections closed, by reason.", "reason",
			[]string{CloseFIN.String(), CloseRST.String(), CloseIdle.String(), CloseEvicted.String(), CloseEndOfInput.String()},
			[]func(*Stats) uint64{
				func(s *Stats) uint64 { return s.ClosedFIN },
				func(s *Stats) uint64 { return s.ClosedRST },
				func(s *Stats) uint64 { return s.ClosedIdle },
				func(s *Stats) uint64 { return s.ClosedEvicted },
				func(s *Stats) uint64 { return s.ClosedEndOfInput },
			}},
		{"evictions_total", "Live connections evicted to stay within MaxConnections, by state.", "state",
			[]string{"half_open", "established"},
			[]func(*Stats) uint64{
				func(s *Stats) uint64 { return s.EvictedHalfOpen },
				func(s *Stats) uint64 { return s.ClosedEvicted - s.EvictedHalfOpen },
			}},
		{"gaps_total", "Gaps reported to stream handlers, by cause.", "cause",
			[]string{"ack", "limit", "close"},
			[]func(*Stats) uint64{
				func(s *Stats) uint64 { return s.GapsAck },
				func(s *Stats) uint64 { return s.GapsLimit },
				func(s *Stats) uint64 { return s.GapsClose },
			}},
		{"buffer_limit_hits_total", "Out-of-order buffer caps reached, by limit.", "limit",
			[]string{"connection", "total"},
			[]func(*Stats) uint64{
				func(s *Stats) uint64 { return s.ConnBufferLimitHits },
				func(s *Stats) uint64 { return s.TotalBufferLimitHits },
			}},
	}
	for _, d := range labelled {
		vec := prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricNamespace, Subsystem: metricSubsystem, Name: d.name, Help: d.help,
		}, []string{d.label})
		if err := reg.Register(vec); err != nil {
			are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err)
			if !ok {
				return nil, fmt.Errorf("reassembly: registering metric %s: %w", d.name, err)
			}
			if vec, ok = are.ExistingCollector.(*prometheus.CounterVec); !ok {
				return nil, fmt.Errorf("reassembly: registering metric %s: %w", d.name, err)
			}
		}
		for k, v := range d.values {
			m.counters = append(m.counters, counterMetric{vec.WithLabelValues(v), d.gets[k]})
		}
	}

	var err error
	if m.open, err = registerGauge(reg, prometheus.GaugeOpts{
		Namespace: metricNamespace, Subsystem: metricSubsystem, Name: "open_connections",
		Help: "TCP connections currently open.",
	}); err != nil {
		return nil, err
	}
	if m.buffered, err = registerGauge(reg, prometheus.GaugeOpts{
		Namespace: metricNamespace, Subsystem: metricSubsystem, Name: "buffered_bytes",
		Help: "Out-of-order bytes currently held.",
	}); err != nil {
		return nil, err
	}
	return m, nil
}

// publish adds the change since the last call to the metrics. s must not
// point to a local variable of the caller: it escapes (see
// Assembler.publish).
func (m *metrics) publish(s *Stats) {
	for _, c := range m.counters {
		if d := c.get(s) - c.get(&m.published); d > 0 {
			c.c.Add(float64(d))
		}
	}
	m.open.Add(float64(s.OpenConnections - m.published.OpenConnections))
	m.buffered.Add(float64(s.BufferedBytes - m.published.BufferedBytes))
	m.published = *s
}

func registerCounter(reg prometheus.Registerer, opts prometheus.CounterOpts) (prometheus.Counter, error) {
	c := prometheus.NewCounter(opts)
	if err := reg.Register(c); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if existing, ok := are.ExistingCollector.(prometheus.Counter); ok {
				return existing, nil
			}
		}
		return nil, fmt.Errorf("reassembly: registering metric %s: %w", opts.Name, err)
	}
	return c, nil
}

func registerGauge(reg prometheus.Registerer, opts prometheus.GaugeOpts) (prometheus.Gauge, error) {
	g := prometheus.NewGauge(opts)
	if err := reg.Register(g); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if existing, ok := are.ExistingCollector.(prometheus.Gauge); ok {
				return existing, nil
			}
		}
		return nil, fmt.Errorf("reassembly: registering metric %s: %w", opts.Name, err)
	}
	return g, nil
}
