package stat

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/kernel/stats"
)

var run = Sample{Counters: stats.Counters{RunNs: 20e6, Switches: 3, PageFaults: 2000, LocalCalls: 1739, OffloadCalls: 83, OffloadNs: 1.5e6},
	Syscalls: map[int]stats.SyscallCount{39: {Nr: 39, Local: stats.Syscall{Calls: 1707}}}}

func TestLookup(t *testing.T) {
	for _, tt := range []struct {
		name string
		want float64 // in run; -1: <not supported>
		unit string
	}{
		{"task-clock", 20, "msec"},
		{"cpu-clock", 20, "msec"},
		{"page-faults", 2000, ""},
		{"major-faults", 0, ""},
		{"cycles", -1, ""},
		{"branches", -1, ""},
		{"lwk/syscalls_local/", 1739, ""},
		{"sde:::lwk::syscalls_offloaded", 83, ""},
		{"lwk/offload_wait_ns/", 1.5e6, "ns"},
		{"lwk/idle_ns/", -1, "ns"}, // a CPU's, not a process's
		{"lwk/syscall_local_calls,syscall=39/", 1707, ""},
		{"lwk/syscall_local_calls,syscall=0x27/", 1707, ""},
		{"lwk/syscall_offloaded_calls,syscall=1/", 0, ""},
	} {
		e, err := Lookup(tt.name)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		v, ok := e.Value(&run)
		if !ok {
			v = -1
		}
		if v != tt.want || e.Unit != tt.unit {
			t.Errorf("%s: %v %q, want %v %q", tt.name, v, e.Unit, tt.want, tt.unit)
		}
	}
	for _, bad := range []string{"", "nosuch", "lwk/nosuch/", "lwk/syscalls_local", "lwk/syscalls_local,syscall=1/",
		"lwk/syscall_local_calls/", "lwk/syscall_local_calls,syscall=4096/", "lwk/syscall_local_calls,foo=1/",
		"sde:::lwk::", "sde:::lwk::syscall_local_calls", "lwk//", "syscalls_local/"} {
		var unknown ErrUnknown
		if _, err := Lookup(bad); !errors.As(err, &unknown) {
			t.Errorf("%q: %v, want ErrUnknown", bad, err)
		}
	}
}

func TestParse(t *testing.T) {
	evs, err := Parse("task-clock,lwk/syscall_local_calls,syscall=39/,sde:::lwk::futex_waits")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range evs {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, " "); got != "task-clock lwk/syscall_local_calls,syscall=39/ sde:::lwk::futex_waits" {
		t.Errorf("parsed %q", got)
	}
	_, err = Parse("task-clock,bogus")
	if want := "event syntax error: 'bogus'\n                     \\___ parser error\nRun 'mcperf list' for a list of valid events"; err == nil || err.Error() != want {
		t.Errorf("error %q, want perf's %q", err, want)
	}
}

func TestPrint(t *testing.T) {
	evs, err := Parse("task-clock,page-faults,lwk/offload_wait_ns/,cycles")
	if err != nil {
		t.Fatal(err)
	}
	r := Runs{Target: "./a.out 1", Events: evs, Samples: []Sample{run}, Elapsed: []time.Duration{40 * time.Millisecond}}
	var b strings.Builder
	if err := PrintTable(&b, r); err != nil {
		t.Fatal(err)
	}
	want := `
 Performance counter stats for './a.out 1':

             20.00 msec task-clock                       #    0.500 CPUs utilized
              2000      page-faults                      #  100.000 K/sec
           1500000      lwk/offload_wait_ns/             #    1.500 msec
   <not supported>      cycles

       0.040000000 seconds time elapsed

       0.020000000 seconds user
       0.000000000 seconds sys

`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	second := run
	second.PageFaults = 3000
	r.Samples, r.Elapsed = append(r.Samples, second), append(r.Elapsed, 60*time.Millisecond)
	if err := PrintCSV(&b, r, ","); err != nil {
		t.Fatal(err)
	}
	want = `20.00,msec,task-clock,0.00%,50000000,100.00,0.400,CPUs utilized
2500,,page-faults,20.00%,50000000,100.00,125.000,K/sec
1500000,ns,lwk/offload_wait_ns/,0.00%,50000000,100.00,1.500,msec
<not supported>,,cycles,0.00%,0,100.00,,
`
	if b.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestReadProfiles(t *testing.T) {
	parent := `{"pid":10,"process":{"tid":10,"syscalls":[{"nr":39,"name":"getpid","local":{"calls":5,"ns":50}}],"counters":{"run_ns":1000,"syscalls_local":9}}}`
	child := `{"pid":11,"process":{"tid":11,"syscalls":[{"nr":39,"name":"getpid","local":{"calls":7,"ns":70}}],"counters":{"run_ns":500,"syscalls_local":7,"migrations":1}}}`
	s, err := ReadProfiles(strings.NewReader(parent + "\n" + child + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.RunNs != 1500 || s.LocalCalls != 16 || s.Migrations != 1 || s.Syscalls[39].Local.Calls != 12 {
		t.Errorf("summed %+v", s)
	}
	for _, bad := range []string{"", "\n", "{", parent + "\n[1]\n"} {
		if _, err := ReadProfiles(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestDelta(t *testing.T) {
	snap := func(idle, switches, endedRun, liveRun uint64) *lwk.Snapshot {
		return &lwk.Snapshot{
			CPUs:  []lwk.CPU{{IdleNs: idle, Switches: switches}, {IdleNs: idle}},
			Procs: []lwk.Process{{Threads: []lwk.Thread{{RunNs: liveRun}}}},
			Stats: lwk.Stats{EndedRunNs: endedRun},
		}
	}
	a := InstanceTotals(snap(100e6, 10, 5e6, 1e6))
	// A thread ended in between (its run moves to the ended counts);
	// another, read as changing, counts nothing.
	b := InstanceTotals(snap(400e6, 25, 8e6, 0))
	d := Delta(a, b, time.Second)
	if d.IdleNs != 600e6 || d.BusyNs != 1400e6 || d.Switches != 15 || d.RunNs != 2e6 || !d.CPUWide {
		t.Errorf("delta %+v", d)
	}
	if d := Delta(b, a, time.Second); d.Switches != 0 || d.RunNs != 0 {
		t.Errorf("counters that went back: %+v, want 0", d)
	}
}
