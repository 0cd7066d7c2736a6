package capture

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// engineCollector exports an Engine's statistics as Prometheus metrics. It
// reads Engine.Stats at scrape time, so the packet path pays nothing for
// metrics.
type engineCollector struct {
	e                              *Engine
	frames, bytes, packets         *prometheus.Desc
	workerPackets                  *prometheus.Desc
	droppedBatches, droppedPackets *prometheus.Desc
	queueLength, queueCapacity     *prometheus.Desc
}

func newEngineCollector(e *Engine) *engineCollector {
	name := func(n string) string { return prometheus.BuildFQName("apitap", "capture", n) }
	return &engineCollector{
		e:              e,
		frames:         prometheus.NewDesc(name("frames_total"), "Frames read from all sources.", nil, nil),
		bytes:          prometheus.NewDesc(name("bytes_total"), "Captured bytes of the frames read.", nil, nil),
		packets:        prometheus.NewDesc(name("packets_total"), "TCP packets decoded from the frames.", nil, nil),
		workerPackets:  prometheus.NewDesc(name("worker_packets_total"), "TCP packets handed to each worker.", []string{"worker"}, nil),
		droppedBatches: prometheus.NewDesc(name("dropped_batches_total"), "Batches of packets dropped because a worker queue was full.", nil, nil),
		droppedPackets: prometheus.NewDesc(name("dropped_packets_total"), "Packets dropped because a worker queue was full.", nil, nil),
		queueLength:    prometheus.NewDesc(name("queue_length"), "Batches waiting in each worker's queue.", []string{"worker"}, nil),
		queueCapacity:  prometheus.NewDesc(name("queue_capacity"), "Capacity of each worker's queue in batches.", nil, nil),
	}
}

func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.frames, c.bytes, c.packets, c.workerPackets,
		c.droppedBatches, c.droppedPackets, c.queueLength, c.queueCapacity,
	} {
		ch <- d
	}
}

func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.e.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(c.frames, s.Frames)
	counter(c.bytes, s.Bytes)
	counter(c.packets, s.Packets)
	counter(c.droppedBatches, s.DroppedBatches)
	counter(c.droppedPackets, s.DroppedPackets)
	for w, n := range s.WorkerPackets {
		counter(c.workerPackets, n, strconv.Itoa(w))
	}
	for w, n := range s.QueueLen {
		ch <- prometheus.MustNewConstMetric(c.queueLength, prometheus.GaugeValue, float64(n), strconv.Itoa(w))
	}
	ch <- prometheus.MustNewConstMetric(c.queueCapacity, prometheus.GaugeValue, float64(c.e.cfg.QueueBatches))
}
