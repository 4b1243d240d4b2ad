package metrics

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/kernel/lwkabi"
	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/perf/stat"
	"github.com/gomck/gomck/web/source"
)

// Collector exports the instances of a source.Source, read at each
// scrape.
type Collector struct {
	src source.Source
	mu  sync.Mutex // scrapes may run concurrently; one updates the state at a time
	// instances are the counters' state per instance index (doc.go).
	instances map[int]*instanceState
}

// NewCollector is a collector of src's instances.
func NewCollector(src source.Source) *Collector {
	return &Collector{src: src, instances: map[int]*instanceState{}}
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range descs {
		ch <- d
	}
}

// Collect sends the metrics of every instance of the source.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, in := range c.src.Instances() {
		st := c.instances[in.Index]
		if st == nil || in.Snap != nil && st.boot != in.Snap.BootTime {
			st = newInstanceState(in.Snap)
			c.instances[in.Index] = st
		}
		e := &emitter{ch: ch, st: st, os: strconv.Itoa(in.Index)}
		e.instance(in)
	}
}

// emitter sends one instance's metrics, its counters through the
// instance's high-water marks.
type emitter struct {
	ch chan<- prometheus.Metric
	st *instanceState
	os string
}

func (e *emitter) gauge(d *prometheus.Desc, v float64, labels ...string) {
	e.send(d, prometheus.GaugeValue, v, labels)
}

func (e *emitter) counter(d *prometheus.Desc, v float64, labels ...string) {
	e.send(d, prometheus.CounterValue, e.st.mark(d, labels, v), labels)
}

// send sends one series; a label the registry would refuse (read from
// corrupt memory) fails that series in the scrape, never the collector.
func (e *emitter) send(d *prometheus.Desc, t prometheus.ValueType, v float64, labels []string) {
	m, err := prometheus.NewConstMetric(d, t, v, append([]string{e.os}, labels...)...)
	if err != nil {
		m = prometheus.NewInvalidMetric(d, err)
	}
	e.ch <- m
}

// kinds sends a counter's local and offload series.
func (e *emitter) kinds(d *prometheus.Desc, local, offload float64, labels ...string) {
	e.counter(d, local, append(labels, kindLocal)...)
	e.counter(d, offload, append(labels, kindOffload)...)
}

func seconds(ns uint64) float64 { return float64(ns) / 1e9 }

// unixSeconds is a time of the kernel's (unix ns) in Prometheus's unit.
func unixSeconds(ns int64) float64 { return float64(ns) / 1e9 }

func bytes(pages uint64) float64 { return float64(pages * lwkabi.PageSize) }

func (e *emitter) instance(in source.Instance) {
	all := statuses
	if !slices.Contains(all, in.Status) { // the daemon's own, as BOOTING
		all = append(slices.Clip(all), in.Status)
	}
	for _, s := range all {
		v := 0.0
		if s == in.Status {
			v = 1
		}
		e.gauge(instanceStatus, v, s)
	}
	s := in.Snap
	if s == nil {
		e.gauge(instanceUp, 0)
		return
	}
	e.gauge(instanceUp, 1)
	e.gauge(instanceBoot, unixSeconds(s.BootTime))
	e.st.scrape++
	e.cpus(s)
	e.memory(s.Alloc)
	e.totals(s, in.Totals)
	e.processes(s)
	e.st.forgetStale()
}

func (e *emitter) cpus(s *lwk.Snapshot) {
	idle := stat.CPUIdleNs(s)
	seen := map[int]bool{}
	for i, c := range s.CPUs {
		if c.Changing || seen[c.Index] { // a changing record's fields are empty
			continue
		}
		seen[c.Index] = true
		cpu := strconv.Itoa(c.Index)
		e.gauge(cpuInfo, 1, cpu, strconv.Itoa(c.Host))
		e.gauge(cpuRunnable, float64(len(c.Runnable)), cpu)
		e.counter(cpuIdle, seconds(idle[i]), cpu)
		e.counter(cpuSwitches, float64(c.Switches), cpu)
		e.counter(cpuFaults, float64(c.PageFaults), cpu)
		e.kinds(cpuSyscalls, float64(c.LocalCalls), float64(c.OffloadCalls), cpu)
	}
}

func (e *emitter) memory(a lwk.Alloc) {
	if a.Changing {
		return
	}
	seen := map[int]bool{}
	for _, n := range a.Nodes {
		if seen[n.Node] {
			continue
		}
		seen[n.Node] = true
		node := strconv.Itoa(n.Node)
		e.gauge(memBytes, bytes(n.Pages), node)
		e.gauge(memFree, bytes(n.Free), node)
	}
	e.gauge(memLargest, bytes(a.Largest))
	e.counter(memAllocs, float64(a.Allocs))
	e.counter(memAllocFail, float64(a.Fails))
}

// totals sends the instance-wide counters: t are stat.InstanceTotals(s).
func (e *emitter) totals(s *lwk.Snapshot, t stat.Sample) {
	st := s.Stats
	e.counter(processesCreated, float64(st.Processes))
	e.counter(threadsCreated, float64(st.Threads))
	e.counter(forks, float64(st.Forks))
	e.counter(execs, float64(st.Execs))
	e.counter(runSeconds, seconds(t.RunNs))
	e.counter(migrations, float64(t.Migrations))
	e.counter(futexWaits, float64(t.FutexWaits))
	e.counter(signals, float64(t.Signals))
	for nr, c := range t.Syscalls {
		name := c.Name
		if name == "" {
			name = strconv.Itoa(nr)
		}
		e.kinds(syscalls, float64(c.Local.Calls), float64(c.Offloaded.Calls), name)
		e.kinds(syscallTime, seconds(c.Local.Ns), seconds(c.Offloaded.Ns), name)
	}
}

func (e *emitter) processes(s *lwk.Snapshot) {
	nthreads := 0
	seen := map[int]bool{}
	for _, p := range s.Procs {
		nthreads += len(p.Threads)
		if p.Changing || seen[p.PID] { // a changing record's fields are empty
			continue
		}
		seen[p.PID] = true
		pid := strconv.Itoa(p.PID)
		e.gauge(procInfo, 1, pid, strings.ToValidUTF8(p.Exe, "\uFFFD"))
		e.gauge(procStart, unixSeconds(p.Start), pid)
		e.gauge(procThreads, float64(len(p.Threads)), pid)
		if !p.MMChanging {
			e.gauge(procRSS, float64(p.RSS), pid)
			e.gauge(procVSZ, float64(p.VSZ), pid)
		}
		c := e.st.process(p)
		e.counter(procRun, seconds(c.RunNs), pid)
		e.kinds(procSyscalls, float64(c.LocalCalls), float64(c.OffloadCalls), pid)
		e.kinds(procSysTime, seconds(c.LocalNs), seconds(c.OffloadNs), pid)
	}
	e.gauge(processes, float64(len(s.Procs)))
	e.gauge(threads, float64(nthreads))
}

// threadCounters are the counters of t that its process's series sum.
func threadCounters(t lwk.Thread) stats.Counters {
	return stats.Counters{RunNs: t.RunNs, LocalCalls: t.LocalCalls, LocalNs: t.LocalNs,
		OffloadCalls: t.OffloadCalls, OffloadNs: t.OffloadNs}
}
