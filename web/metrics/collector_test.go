package metrics

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/perf/stat"
	"github.com/gomck/gomck/web/metrics/metricstest"
	"github.com/gomck/gomck/web/source"
)

// fixed is a source.Source of instances set by the test.
type fixed struct{ instances []source.Instance }

func (f *fixed) Instances() []source.Instance { return f.instances }
func (f *fixed) Instance(n int) (source.Instance, bool) {
	for _, in := range f.instances {
		if in.Index == n {
			return in, true
		}
	}
	return source.Instance{}, false
}
func (f *fixed) Updates(ctx context.Context) <-chan struct{} { return ctx.Done() }
func (f *fixed) ReadOnly() bool                              { return false }

// set makes snaps the source's instances, 0 first, with their totals.
func (f *fixed) set(snaps ...*lwk.Snapshot) {
	f.instances = nil
	for i, s := range snaps {
		in := source.Instance{Index: i, Status: source.StatusDown, Snap: s}
		if s != nil {
			in.Status, in.Totals = source.StatusRunning, stat.InstanceTotals(s)
		}
		f.instances = append(f.instances, in)
	}
}

const (
	nrWrite  = 1
	nrGetpid = 39
)

// thread is a thread of pid 100 that made local getpid and offloaded
// write calls.
func thread(tid int, getpids, writes uint64) lwk.Thread {
	return lwk.Thread{TID: tid, PID: 100, State: "S", Syscall: -1,
		LocalCalls: getpids, LocalNs: getpids * 100, OffloadCalls: writes, OffloadNs: writes * 5000, RunNs: getpids * 1000,
		Syscalls: []stats.SyscallCount{
			{Nr: nrWrite, Name: "write", Offloaded: stats.Syscall{Calls: writes, Ns: writes * 5000}},
			{Nr: nrGetpid, Name: "getpid", Local: stats.Syscall{Calls: getpids, Ns: getpids * 100}}}}
}

// snapshot is an instance of two CPUs and two NUMA nodes running pid 100
// with threads; ended are the counts of the threads that have ended.
func snapshot(ended lwk.Thread, threads ...lwk.Thread) *lwk.Snapshot {
	var local, offload uint64
	for _, t := range append(threads, ended) {
		local, offload = local+t.LocalCalls, offload+t.OffloadCalls
	}
	return &lwk.Snapshot{Index: 0, State: "running", BootTime: 1_700_000_000_000_000_000, MemTotal: 512 << 20,
		CPUs: []lwk.CPU{
			{Index: 0, Host: 2, State: "running", Current: threads[0].TID, Switches: 10 + local, IdleNs: 5e9,
				LocalCalls: local, OffloadCalls: offload, PageFaults: 7, Runnable: []int{threads[0].TID}},
			{Index: 1, Host: 3, State: "idle", Switches: 3, IdleNs: 9e9},
		},
		Procs: []lwk.Process{{PID: 100, PPID: 1, Exe: "/usr/bin/app", Start: 1_700_000_001_000_000_000,
			RSS: 8 << 20, VSZ: 64 << 20, Threads: threads}},
		Alloc: lwk.Alloc{Pages: 131072, Free: 100000, Largest: 90000, Runs: 3, Allocs: 40, Fails: 1,
			Nodes: []lwk.Node{{Node: 0, Pages: 65536, Free: 50000}, {Node: 1, Start: 65536, Pages: 65536, Free: 50000}}},
		Stats: lwk.Stats{Processes: 1, Threads: 3, EndedLocalCalls: ended.LocalCalls, EndedOffloadCalls: ended.OffloadCalls,
			EndedLocalNs: ended.LocalNs, EndedOffloadNs: ended.OffloadNs, EndedRunNs: ended.RunNs, EndedSyscalls: ended.Syscalls},
	}
}

// scrape is what promhttp serves of c, in the text format.
func scrape(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}).
		ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: HTTP %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestPromtool(t *testing.T) {
	src := &fixed{}
	live := snapshot(thread(0, 0, 0), thread(101, 1000, 50), thread(102, 10, 5))
	// corrupt has what memory read as changing or garbage gives: records
	// with their fields empty, a pid twice, an executable's name that is
	// not UTF-8.
	corrupt := snapshot(thread(0, 0, 0), thread(101, 1000, 50))
	corrupt.CPUs = append(corrupt.CPUs, lwk.CPU{Changing: true})
	corrupt.Procs[0].Exe = "/bin/\xff"
	corrupt.Procs = append(corrupt.Procs, lwk.Process{Changing: true}, corrupt.Procs[0])
	corrupt.Alloc.Nodes = append(corrupt.Alloc.Nodes, corrupt.Alloc.Nodes[0])
	for _, tc := range []struct {
		name   string
		snaps  []*lwk.Snapshot
		status string   // instance 0's, if not RUNNING
		want   []string // lines of the exposition
	}{
		{"one instance", []*lwk.Snapshot{live}, "", []string{
			`mck_instance_up{os="0"} 1`,
			`mck_instance_status{os="0",status="RUNNING"} 1`,
			`mck_syscalls_total{kind="local",os="0",syscall="getpid"} 1010`,
			`mck_syscalls_total{kind="offload",os="0",syscall="write"} 55`,
			`mck_syscall_seconds_total{kind="offload",os="0",syscall="write"} 0.000275`,
			`mck_process_syscalls_total{kind="local",os="0",pid="100"} 1010`,
			`mck_process_threads{os="0",pid="100"} 2`,
			`mck_cpu_idle_seconds_total{cpu="1",os="0"} 9`,
			`mck_memory_bytes{node="1",os="0"} 2.68435456e+08`,
			`mck_threads{os="0"} 2`,
		}},
		{"one down", []*lwk.Snapshot{live, nil}, "", []string{
			`mck_instance_up{os="1"} 0`,
			`mck_instance_status{os="1",status="DOWN"} 1`,
		}},
		{"corrupt", []*lwk.Snapshot{corrupt}, "BOOTING", []string{
			`mck_instance_status{os="0",status="BOOTING"} 1`,
			`mck_instance_status{os="0",status="RUNNING"} 0`,
			"mck_process_info{exe=\"/bin/\uFFFD\",os=\"0\",pid=\"100\"} 1",
			`mck_cpu_info{cpu="0",host_cpu="2",os="0"} 1`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src.set(tc.snaps...)
			if tc.status != "" {
				src.instances[0].Status = tc.status
			}
			text := scrape(t, NewCollector(src))
			lines := strings.Split(text, "\n")
			for _, w := range tc.want {
				if !slices.Contains(lines, w) {
					t.Errorf("no line %q in:\n%s", w, text)
				}
			}
			metricstest.Promtool(t, text)
		})
	}
}

// TestCountersGrow scrapes before and after a thread ends, and in a read
// where the ended thread is in neither the threads nor the ended sums:
// no counter goes back, and the process's keep the ended thread's counts.
func TestCountersGrow(t *testing.T) {
	a, b := thread(101, 1000, 50), thread(102, 10, 5)
	bLater := thread(102, 20, 6)
	none := thread(0, 0, 0)
	none.Syscalls = nil
	for _, tc := range []struct {
		name  string
		after *lwk.Snapshot
		// procLocal is pid 100's local calls after.
		procLocal float64
	}{
		{"ended", snapshot(a, bLater), 1020},
		{"short read", snapshot(none, bLater), 1020},
		{"tid reused", snapshot(a, thread(101, 3, 0), bLater), 1023},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &fixed{}
			c := NewCollector(src)
			src.set(snapshot(none, a, b))
			before := metricstest.Series(t, scrape(t, c), dto.MetricType_COUNTER)
			src.set(tc.after)
			after := metricstest.Series(t, scrape(t, c), dto.MetricType_COUNTER)
			for k, v := range before {
				if after[k] < v {
					t.Errorf("%s went from %v to %v", k, v, after[k])
				}
			}
			k := "mck_process_syscalls_total{kind=local,os=0,pid=100}"
			if after[k] != tc.procLocal {
				t.Errorf("%s = %v, want %v", k, after[k], tc.procLocal)
			}
		})
	}
}

// BenchmarkScrape is a scrape's gather and encode, without the read, of
// an instance of 4 processes of 250 threads each (lwkbench's figure
// metrics_scrape_ms adds the read).
func BenchmarkScrape(b *testing.B) {
	var threads []lwk.Thread
	for i := range 250 {
		threads = append(threads, thread(101+i, 1000, 50))
	}
	s := snapshot(thread(0, 0, 0), threads...)
	for pid := 101; pid < 104; pid++ {
		p := s.Procs[0]
		p.PID = pid
		s.Procs = append(s.Procs, p)
	}
	src := &fixed{}
	src.set(s)
	c := NewCollector(src)
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != 200 {
			b.Fatal(rec.Body)
		}
	}
}

// TestReboot scrapes an instance, then the same index booted again with
// fewer calls: the counters start over (a reset, to Prometheus) rather
// than hold the old boot's values.
func TestReboot(t *testing.T) {
	src := &fixed{}
	c := NewCollector(src)
	src.set(snapshot(thread(0, 0, 0), thread(101, 1000, 50)))
	metricstest.Series(t, scrape(t, c), dto.MetricType_COUNTER)
	again := snapshot(thread(0, 0, 0), thread(101, 3, 1))
	again.BootTime++
	src.set(again)
	after := metricstest.Series(t, scrape(t, c), dto.MetricType_COUNTER)
	for k, want := range map[string]float64{
		"mck_syscalls_total{kind=local,os=0,syscall=getpid}":    3,
		"mck_process_syscalls_total{kind=offload,os=0,pid=100}": 1,
	} {
		if after[k] != want {
			t.Errorf("after the reboot %s = %v, want %v", k, after[k], want)
		}
	}
}
