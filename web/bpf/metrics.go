package bpf

import (
	"math"
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gomck/gomck/inspect/lwk"
)

var (
	offloadDesc = prometheus.NewDesc("mck_offload_exec_seconds",
		"Time the mcexec proxies spent executing offloaded system calls in Linux, per call.",
		[]string{"os", "syscall"}, nil)
	interferenceDesc = prometheus.NewDesc("mck_lwk_cpu_interference_seconds_total",
		"Time on an LWK CPU taken by anything but the LWK: another Linux task, an interrupt or a softirq.",
		[]string{"os", "cpu", "source"}, nil)
)

// firstBound is the first histogram bucket exposed: calls under 2^10 ns
// (about 1 µs) are all counted there; the BPF side's finer buckets below
// it would be noise in a dashboard.
const firstBound = 9

// Describe implements prometheus.Collector.
func (c *Collectors) Describe(ch chan<- *prometheus.Desc) {
	ch <- offloadDesc
	ch <- interferenceDesc
}

// Collect implements prometheus.Collector.
func (c *Collectors) Collect(ch chan<- prometheus.Metric) {
	hist, err := c.histograms()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(offloadDesc, err)
	}
	for _, h := range hist {
		bounds, count := h.cumulative()
		ch <- prometheus.MustNewConstHistogram(offloadDesc, count, float64(h.sumNs)/1e9, bounds,
			strconv.Itoa(h.os), lwk.SyscallName(int64(h.nr)))
	}
	c.mu.Lock()
	watched := make([]int, 0, len(c.lwkCPUs))
	for os := range c.lwkCPUs {
		watched = append(watched, os)
	}
	c.mu.Unlock()
	slices.Sort(watched)
	for _, os := range watched {
		for _, in := range c.Interference(os) {
			ch <- prometheus.MustNewConstMetric(interferenceDesc, prometheus.CounterValue, in.Seconds,
				strconv.Itoa(os), strconv.Itoa(in.CPU), in.Source)
		}
	}
}

// cumulative is h's buckets as Prometheus has them, by upper bound in
// seconds, and their count. The BPF side's last bucket is open-ended: only
// +Inf (the count) holds it. The count is the buckets' sum, not h.count:
// the two are added to one after the other, and a read between them must
// not show a histogram whose buckets hold more than its count.
func (h offloadHist) cumulative() (bounds map[float64]uint64, count uint64) {
	bounds = make(map[float64]uint64, histBuckets-firstBound)
	for i, b := range h.buckets {
		count += b
		if i >= firstBound && i < histBuckets-1 {
			bounds[math.Ldexp(1, i+1)/1e9] = count
		}
	}
	return bounds, count
}
